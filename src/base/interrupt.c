/* SPDX-License-Identifier: ISC */
/*
 * The one flag a termination signal sets.  Everything else happens in the
 * code that was waiting: it returns EINTR or looks at the flag before its
 * next step.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fdio.h"
#include "interrupt.h"

static volatile sig_atomic_t caught;
static bool installed;
static sigset_t handled; /* the signals not ignored by our caller */

static const int signals[] = {SIGTERM, SIGHUP, SIGINT};

static void
on_signal(int sig)
{
	/* The first one names the interruption. */
	if (caught == 0)
		caught = sig;
}

void
interrupt_install(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	interrupt_sigset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the wait must end */
	sigemptyset(&handled);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct sigaction old;

		/* A signal the caller ignores stays ignored: nohup, and sh
		 * for SIGINT of an asynchronous command. */
		if (sigaction(signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(signals[i], &sa, NULL) == 0)
			sigaddset(&handled, signals[i]);
	}
	installed = true;
}

void
interrupt_sigset(sigset_t *set)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaddset(set, signals[i]);
}

bool
interrupt_installed(void)
{
	return installed;
}

int
interrupt_caught(void)
{
	return caught;
}

void
interrupt_raise(int sig)
{
	size_t i;

	if (!installed || caught != 0)
		return;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i] == sig && sigismember(&handled, sig) == 1)
			caught = sig;
}

const char *
interrupt_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGINT:
		return "SIGINT";
	}
	return "a signal";
}

int
interrupt_check(struct error *err, int exit_code)
{
	int sig = caught;

	if (sig == 0)
		return 0;
	return error_set(
	    err, exit_code, "interrupted by %s", interrupt_name(sig));
}

int
interrupt_input_error(struct error *err)
{
	return error_set(err, EX_IOERR,
	    "interrupted by %s before the end of the message; nothing was "
	    "queued or saved",
	    interrupt_name(caught));
}

int
interrupt_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	long long end = timeout_ms >= 0 ? fdio_now_ms() + timeout_ms : -1;
	long long left;
	int rc, slice;

	for (;;) {
		if (caught) {
			errno = EINTR;
			return -1;
		}
		slice = INTERRUPT_POLL_MS;
		if (end >= 0) {
			left = end - fdio_now_ms();
			if (left < 0)
				left = 0;
			if (left < slice)
				slice = (int)left;
		}
		rc = poll(fds, n, slice);
		if (rc > 0 || (rc == -1 && errno != EINTR))
			return rc;
		if (rc == 0 && end >= 0 && fdio_now_ms() >= end)
			return 0;
	}
}
