/* SPDX-License-Identifier: ISC */
/* Unit tests for interrupt.c and its use in conn.c: an ignored signal
 * stays ignored, a caught one ends a wait at once and names itself, and a
 * connection sends not one more byte after it.  The flag cannot be
 * cleared, so the tests run in this order. */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "error.h"
#include "interrupt.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_ignored_signal_stays_ignored(void **state)
{
	struct sigaction sa;

	signal(SIGHUP, SIG_IGN);
	interrupt_install();
	assert_true(interrupt_installed());
	assert_int_equal(sigaction(SIGHUP, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	raise(SIGHUP);
	interrupt_raise(SIGHUP);  /* the prompt's path */
	interrupt_raise(SIGQUIT); /* not one of ours */
	assert_int_equal(interrupt_caught(), 0);
	/* The others are caught, without SA_RESTART. */
	assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
	assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
	assert_int_equal(sa.sa_flags & SA_RESTART, 0);
}

static void
test_poll_times_out_in_slices(void **state)
{
	struct pollfd pfd;
	long long t0 = now_ms();
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	/* Longer than one slice: the timeout is the caller's. */
	assert_int_equal(
	    interrupt_poll(&pfd, 1, INTERRUPT_POLL_MS * 2 + 50), 0);
	assert_true(now_ms() - t0 >= INTERRUPT_POLL_MS * 2 + 50);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(interrupt_poll(&pfd, 1, -1), 1);
	close(fds[0]);
	close(fds[1]);
}

static void
test_signal_ends_poll(void **state)
{
	struct pollfd pfd;
	struct error err;
	long long t0;
	pid_t pid;
	int fds[2], rc, status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(200 * 1000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	t0 = now_ms();
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	rc = interrupt_poll(&pfd, 1, 10000);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EINTR);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(interrupt_caught(), SIGTERM);
	/* Every later wait ends at once. */
	assert_int_equal(interrupt_poll(&pfd, 1, 10000), -1);
	error_clear(&err);
	assert_int_equal(interrupt_check(&err, EX_TEMPFAIL), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_string_equal(err.message, "interrupted by SIGTERM");
	error_clear(&err);
	assert_int_equal(interrupt_input_error(&err), -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_non_null(strstr(err.message, "nothing was queued or saved"));
	/* The first signal names the interruption. */
	interrupt_raise(SIGINT);
	assert_int_equal(interrupt_caught(), SIGTERM);
	waitpid(pid, &status, 0);
	close(fds[0]);
	close(fds[1]);
}

static size_t written;

static int
count_write(
    void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	written += n;
	return 0;
}

static ssize_t
no_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	return error_set(err, EX_SOFTWARE, "read called");
}

static void
test_conn_sends_nothing_after(void **state)
{
	struct transport t;
	struct conn c;
	struct error err;
	char line[100];
	size_t len;
	bool bare;

	memset(&t, 0, sizeof(t));
	t.read = no_read;
	t.write = count_write;
	conn_init(&c, &t, 1000);
	error_clear(&err);
	/* Queued in the buffer, never sent: mid-DATA it would be text. */
	assert_int_equal(conn_command(&c, &err, "QUIT"), 0);
	assert_int_equal(conn_flush(&c, &err), -1);
	assert_string_equal(err.message, "interrupted by SIGTERM");
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_true(c.io_failed);
	assert_int_equal(written, 0);
	error_clear(&err);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), -1);
	assert_string_equal(err.message, "interrupted by SIGTERM");
	conn_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ignored_signal_stays_ignored),
	    cmocka_unit_test(test_poll_times_out_in_slices),
	    cmocka_unit_test(test_signal_ends_poll),
	    cmocka_unit_test(test_conn_sends_nothing_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
