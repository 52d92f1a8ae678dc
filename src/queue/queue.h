/* SPDX-License-Identifier: ISC */
/*
 * The durable queue under queue_dir: tmp/ (being written), new/ (waiting
 * to be sent), failed/ (given up; kept for the user).  Every write is
 * tmp -> fsync -> rename -> fsync(dir), so an exit status is only decided
 * once the message is safe on disk.
 */
#ifndef MAILSUB_QUEUE_H
#define MAILSUB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "envelope.h"

struct error;

#define QUEUE_ID_MAX 64

/*
 * A queue file is text lines, a blank line, then the message in wire form
 * (CRLF line endings, dot-stuffed, without the final "."):
 *
 *   mailsub-queue 1
 *   account: NAME
 *   submitter: UID NAME     (who queued it: the real user ID and its
 *                            login; optional, absent in older files)
 *   sender: ADDR            (empty for the null sender; this line
 *                            to body: the envelope, envelope.h)
 *   rcpt: ADDR              (one line per recipient)
 *   dsn-notify: VALUE       (optional)
 *   dsn-return: VALUE       (optional)
 *   dsn-envid: VALUE        (optional)
 *   body: 8bitmime | 7bit
 *   attempts: N
 *   first-attempt: EPOCH    (while attempts is 0: when it was queued)
 *   last-attempt: EPOCH
 *   last-error: TEXT        (one line, control characters escaped)
 *   <empty line>
 *   message...
 *
 * Files live in queue_dir/new/ID and queue_dir/failed/ID; the private spool
 * of a message being read is queue_dir/tmp/spool-ID.
 */

enum queue_area {
	QUEUE_AREA_NEW,	   /* waiting for delivery */
	QUEUE_AREA_FAILED, /* saved after a permanent failure */
};

/* What a queue file holds besides the envelope: whose message it is and
 * how its attempts went.  Borrowed strings. */
struct queue_meta {
	const char *account;
	const char *submitter; /* login name, NULL: no submitter line */
	uid_t submitter_uid;
	unsigned attempts;
	time_t first_attempt;
	time_t last_attempt;
	const char *last_error; /* one line, escaped */
};

/* Create queue_dir and its tmp/, new/ and failed/ (mode 0700).  Each must
 * be trusted (fsperm.h; tmp/, new/ and failed/ no symlinks), before and
 * after: EX_CONFIG otherwise. */
int queue_prepare(const char *queue_dir, struct error *err);

/* The same check without making anything: what exists of queue_dir and
 * its subdirectories is trusted (0), or EX_CONFIG naming the path. */
int queue_check(const char *queue_dir, struct error *err);

/*
 * Write a queue file holding env, meta and size bytes of wire-form message read
 * from msg_fd at offset 0, durably, into area.  The new ID goes to id (at
 * least QUEUE_ID_MAX bytes) and the final path, malloc'd, to *path.  A
 * failure is EX_CANTCREAT (cannot create) or EX_IOERR (write, fsync) and
 * leaves no partial file.
 */
int queue_store(const char *queue_dir, enum queue_area area,
    const struct envelope *env, const struct queue_meta *meta, int msg_fd,
    unsigned long long size, char *id, char **path, struct error *err);

/* The queue file header is bounded (100 000 recipients fit). */
#define QUEUE_HEADER_MAX (32 * 1024 * 1024)
/* One header line; longer last-error text is cut when stored. */
#define QUEUE_LINE_MAX 4096

/* A parsed queue file header; every string is owned. */
struct queue_file {
	char *account;
	char *submitter; /* NULL when the file has none */
	uid_t submitter_uid;
	struct envelope env;
	unsigned attempts;
	time_t first_attempt;
	time_t last_attempt;
	char *last_error;	     /* NULL when absent */
	off_t msg_offset;	     /* where the wire-form message starts */
	unsigned long long msg_size; /* its length (file size - offset) */
};

void queue_file_init(struct queue_file *qf);
void queue_file_free(struct queue_file *qf);

/*
 * Parse the header of the queue file open on fd (read with pread from
 * offset 0; the file position is not used).  Strict: the version line,
 * known keys only, no duplicates, decimal numbers, LF-terminated lines,
 * at most QUEUE_HEADER_MAX bytes; anything else is EX_DATAERR.  A read
 * error is EX_IOERR.  On failure qf is left empty.
 */
int queue_read_envelope(int fd, struct queue_file *qf, struct error *err);

/*
 * Whether the caller may see and act on the message qf holds: always,
 * unless the run is restricted (sysmode.h: a caller other than root on
 * the system file); then only a message that names the caller as its
 * submitter (one without a submitter line is root's).
 */
bool queue_file_mine(const struct queue_file *qf);

/* A borrowed view of qf's meta lines (for storing it again). */
void queue_file_meta(const struct queue_file *qf, struct queue_meta *meta);

/* ---- the queue runner's primitives (flush.c) ---- */

/*
 * Whether id can name a queue file: what id_unique() makes, letters,
 * digits, '.', '_' and '-', not starting with '.', shorter than
 * QUEUE_ID_MAX.  A user-given ID (--queue-delete) can then never name a
 * path outside its area.
 */
bool queue_id_valid(const char *id);

/*
 * The IDs in queue_dir/AREA, sorted (IDs begin with the time in hex, so
 * oldest first; names that are not IDs are skipped).  *ids is malloc'd;
 * queue_ids_free() releases it.  A missing area is an empty list.
 */
int queue_list(const char *queue_dir, enum queue_area area, char ***ids,
    size_t *n, struct error *err);
void queue_ids_free(char **ids, size_t n);

/* queue_lock() results besides 0 and -1. */
#define QUEUE_LOCK_BUSY 1 /* another run holds it: it is being sent */
#define QUEUE_LOCK_GONE 2 /* removed or moved since it was listed */

/*
 * Open queue_dir/AREA/ID and take its lock: flock(LOCK_EX | LOCK_NB), so
 * parallel runs never send one message twice.  0: *fd is open (read-write)
 * and locked until it is closed; QUEUE_LOCK_BUSY or QUEUE_LOCK_GONE: *fd is
 * -1 and the caller skips the file; -1: err set (EX_IOERR).
 */
int queue_lock(const char *queue_dir, enum queue_area area, const char *id,
    int *fd, struct error *err);

/* Remove queue_dir/AREA/ID (locked by the caller) and fsync the
 * directory, so a sent message does not come back after a crash. */
int queue_remove(const char *queue_dir, enum queue_area area, const char *id,
    struct error *err);

/*
 * Store the locked file fd (queue_dir/FROM/ID, parsed into qf) again with
 * qf's envelope and meta, in area to under the same ID: a new file in tmp/,
 * locked, fsync'd, renamed over to/ID, directory fsync'd; then, when the
 * area changes, FROM/ID is removed and its directory fsync'd.  The message
 * is in one area or the other at every instant (both after a crash between
 * the two steps: a duplicate, never a loss).  On success *fd is the new,
 * locked file (the old one is closed); on failure nothing has changed and
 * *fd is still the old file.
 */
int queue_rewrite(const char *queue_dir, const char *id, enum queue_area from,
    enum queue_area to, const struct queue_meta *meta,
    const struct queue_file *qf, int *fd, struct error *err);

/*
 * Remove stale files from queue_dir/tmp: spools (spool-ID) and half-written
 * queue files older than max_age seconds whose writer is gone (not locked,
 * and the process named in the ID no longer exists).  A spool was never
 * acknowledged to any caller and a half-written queue file never renamed
 * into place, so nothing that was promised is lost.  *removed counts them.
 */
int queue_recover(
    const char *queue_dir, time_t max_age, size_t *removed, struct error *err);

/* Move the locked file queue_dir/FROM/ID to TO as it is (a damaged file
 * the parser refuses): rename, then fsync both directories. */
int queue_move(const char *queue_dir, const char *id, enum queue_area from,
    enum queue_area to, struct error *err);

/* The path of queue_dir/AREA/ID, malloc'd (NULL when out of memory). */
char *queue_path(const char *queue_dir, enum queue_area area, const char *id);

/* The name of an area's directory: "new" or "failed". */
const char *queue_area_name(enum queue_area area);

#endif
