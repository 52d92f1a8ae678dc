/* SPDX-License-Identifier: ISC */
/*
 * The queue as the user sees it: -bp/mailq/--queue (Postfix's layout,
 * -v the detailed one, or --json),
 * --queue-delete ID and --requeue ID, and the dispatch of the four queue
 * modes (-q itself is flush.c's runner).
 */
#ifndef MAILSUB_MAILQ_H
#define MAILSUB_MAILQ_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct options;

/* A listing is built in memory up to this size (100 000 recipients of
 * 300 bytes, JSON-escaped, fit). */
#define MAILQ_LIST_MAX (64 * 1024 * 1024)

/*
 * -bp/mailq/--queue, -q/--flush, --queue-delete ID and --requeue ID: load
 * the configuration and run opts->mode; -a limits it to one account and
 * its queue directory.  Output on out, one line per failure on errout.
 * Returns the exit status: -bp 0 or the configuration's or the queue's
 * error; -q as flush_run(); --queue-delete and --requeue 0, 64 for an
 * invalid ID, 66 when no queue holds it (--requeue: no failed/ one; 64
 * when it is already queued), 75 when it is being sent right now;
 * --queue-delete ALL 0, 77 for a caller other than root, 75 when some
 * stay because they are being sent.
 */
int mailq_command(const struct options *opts, FILE *out, FILE *errout);

/* The argument of --queue-delete that means every message. */
#define MAILQ_ALL "ALL"

/*
 * One message in Postfix's mailq layout (mailsub(1), QUEUE), appended to
 * out: the queue ID followed by mark (' ', or '!' for failed/), the size,
 * the arrival time (local time; "??" when 0), the sender (MAILER-DAEMON
 * for the null sender); the reason, when not NULL or empty, in
 * parentheses on a line of its own; each recipient on its own indented
 * line.  Control characters are escaped.  Pure but for the time zone,
 * exported for the tests.
 */
int mailq_postfix_entry(struct buf *out, const char *id, char mark,
    unsigned long long size, time_t arrival, const char *sender,
    const char *reason, const char *const *rcpts, size_t n_rcpts,
    struct error *err);

#endif
