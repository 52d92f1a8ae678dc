/* SPDX-License-Identifier: ISC */
/*
 * The queue runner: -q/--flush, expiry, the bounded flush after a
 * successful submission and the -odb background delivery.  Messages are
 * sent grouped per account over one connection each (RSET between them),
 * each queue file locked while it is being sent.  queue.c is the storage
 * underneath; this file decides what happens to each message; mailq.c has
 * the commands that look at the queue (-bp, --queue-delete, --requeue).
 */
#ifndef MAILSUB_FLUSH_H
#define MAILSUB_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct account;
struct config;
struct error;
struct options;

/* A tmp/ file untouched this long, whose writer is gone, is stale. */
#define FLUSH_STALE_TMP_SECONDS 3600
/* The flush after a successful submission is bounded: the caller is
 * waiting (cron, git send-email). */
#define FLUSH_AFTER_MESSAGES 20
#define FLUSH_AFTER_SECONDS  10
/* A connection that dies in the middle of a flush is opened again at most
 * this many times per account and run. */
#define FLUSH_RECONNECTS_MAX 3

/*
 * -q/--flush: send every message in the configuration's queue directories
 * (only's directory and messages when only is given), reporting on out
 * ("ID: sent via HOST:PORT: reply") and errout (one line per failure).
 * Returns the exit status: 0 when every message tried went out (or the
 * queue was empty); 75 when some stay queued for a temporary reason; the
 * code of the first permanent failure (a message moved to failed/, or a
 * refusal such as 77 at AUTH that leaves the messages queued) otherwise.
 * -1 with err set when a queue directory cannot be read.
 */
int flush_run(const struct config *cfg, const struct account *only,
    const struct options *opts, FILE *out, FILE *errout, struct error *err);

/*
 * After a message went out through acct: send what waits in acct's queue
 * for the same account, at most FLUSH_AFTER_MESSAGES messages or
 * FLUSH_AFTER_SECONDS.  Quiet but for what the user must learn: a message
 * that expired or failed permanently gets its line on errout.
 */
void flush_after_delivery(const struct config *cfg, const struct account *acct,
    const struct options *opts, FILE *errout);

/*
 * -odb: the message id is queued; deliver it in a detached child (fork,
 * setsid, stdio on /dev/null) and return at once in the parent (0).  The
 * child never returns: it sends the message (and then, bounded, the rest
 * of the account's queue) and ends with _exit().  -1 when fork fails: the
 * message simply stays queued.
 */
int flush_background(const struct config *cfg, const struct account *acct,
    const struct options *opts, const char *id, struct error *err);

/* The result of a flush, for the exit status and the tests. */
struct flush_stats {
	size_t sent;
	size_t deferred; /* still queued after a temporary failure */
	size_t failed;	 /* moved to failed/: permanent failure */
	size_t expired;	 /* moved to failed/: queue_lifetime passed */
	size_t busy;	 /* locked by another run: left to it */
	size_t untried;	 /* not tried (connection failed, limits) */
	size_t removed;	 /* removed from failed/: failed_lifetime passed */
	int permanent;	 /* exit code of the first permanent failure, or 0 */
};

/* The exit status of a flush with these results (see flush_command). */
int flush_exit_code(const struct flush_stats *st);

/* The time from first to now as "45s", "12m", "2h05m", "3d04h" (whole
 * hours and days without the smaller unit); first = 0 formats now as a
 * duration.  Pure, exported for the tests. */
void flush_format_age(time_t now, time_t first, char *buf, size_t size);

/* The Message-ID of a wire-form message (the header block in the first
 * bytes of text[0..len)), without surrounding space, or "" when absent;
 * pure, exported for the tests. */
void flush_find_message_id(
    const char *text, size_t len, char *out, size_t size);

/*
 * The queue directories of the configuration: only's, or every account's
 * once (accounts usually share the default queue_dir; the same directory
 * under two spellings counts once).  *dirs (malloc'd) holds borrowed
 * strings.  A directory that is not trusted (queue_check()) fails the
 * whole call with EX_CONFIG: nothing in it is listed or sent.
 */
int flush_queue_dirs(const struct config *cfg, const struct account *only,
    const char ***dirs, size_t *n, struct error *err);

#endif
