/* SPDX-License-Identifier: ISC */
/*
 * SIGTERM, SIGHUP and SIGINT while mailsub holds a message: the handler
 * only records the signal, and the code that waits (net.c, tls.c, conn.c,
 * the message reader, -bs, password_command) sees it and fails with
 * "interrupted by SIGTERM" like any other error, so the message read so
 * far is queued, or dropped when its input had not ended (mailsub(1),
 * EXIT STATUS).
 */
#ifndef MAILSUB_INTERRUPT_H
#define MAILSUB_INTERRUPT_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>

struct error;

/* Catch SIGTERM, SIGHUP and SIGINT, without SA_RESTART: a blocking
 * read() or poll() then returns EINTR.  One the caller ignores stays
 * ignored.  Handlers are reset by exec, so a child that runs a command
 * gets the defaults. */
void interrupt_install(void);
/* Add the three signals to set (for a thread that leaves them to
 * another). */
void interrupt_sigset(sigset_t *set);
/* Whether interrupt_install() has been called. */
bool interrupt_installed(void);

/* The signal caught, or 0. */
int interrupt_caught(void);

/* Record sig as caught, for code that had its own handler for a while
 * (the password prompt); a no-op for other signals, or unless
 * interrupt_install() was called. */
void interrupt_raise(int sig);

/*
 * poll(2) that ends with -1 and errno EINTR once a signal was caught, and
 * otherwise as poll does (timeout_ms < 0: none); other EINTRs are waited
 * through.  It looks at the flag every INTERRUPT_POLL_MS, so a signal that
 * lands between a look and the poll() is seen all the same.
 */
#define INTERRUPT_POLL_MS 250
int interrupt_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* When a signal was caught: err = exit_code "interrupted by SIGTERM" and
 * -1; else 0. */
int interrupt_check(struct error *err, int exit_code);

/* The message reader's words for a signal before the end of its input:
 * EX_IOERR, nothing was kept (the caller still holds the message); -1. */
int interrupt_input_error(struct error *err);

/* "SIGTERM", "SIGHUP", "SIGINT", or "a signal". */
const char *interrupt_name(int sig);

#endif
