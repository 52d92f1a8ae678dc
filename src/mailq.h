/* SPDX-License-Identifier: ISC */
/*
 * The queue as the user sees it: -bp/mailq/--queue (text or --json),
 * --queue-delete ID and --requeue ID, and the dispatch of the four queue
 * modes (-q itself is flush.c's runner).
 */
#ifndef MAILSUB_MAILQ_H
#define MAILSUB_MAILQ_H

#include <stdio.h>

struct buf;
struct error;
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
 * when it is already queued), 75 when it is being sent right now.
 */
int mailq_command(const struct options *opts, FILE *out, FILE *errout);

/* Append s to out as a JSON string literal (quotes included): controls
 * as \u00XX, invalid UTF-8 as \ufffd.  Pure, exported for the tests. */
int mailq_json_string(struct buf *out, const char *s, struct error *err);

#endif
