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

struct error;

#define QUEUE_ID_MAX 64

/*
 * A queue file is text lines, a blank line, then the message in wire form
 * (CRLF line endings, dot-stuffed, without the final "."):
 *
 *   mailsub-queue 1
 *   account: NAME
 *   sender: ADDR            (empty for the null sender)
 *   rcpt: ADDR              (one line per recipient)
 *   dsn-notify: VALUE       (optional)
 *   dsn-return: VALUE       (optional)
 *   dsn-envid: VALUE        (optional)
 *   body: 8bitmime | 7bit
 *   attempts: N
 *   first-attempt: EPOCH
 *   last-attempt: EPOCH
 *   last-error: TEXT        (one line, control characters escaped)
 *   <empty line>
 *   message...
 *
 * Files live in queue_dir/new/ID and queue_dir/failed/ID; the private spool
 * of a message being read is queue_dir/tmp/spool-ID.
 */

enum queue_area {
	QUEUE_AREA_NEW,    /* waiting for delivery */
	QUEUE_AREA_FAILED, /* saved after a permanent failure */
};

/* Everything needed to send a queued message later. */
struct queue_envelope {
	const char  *account;
	const char  *sender;
	const char *const *rcpts;
	size_t       n_rcpts;
	const char  *dsn_notify;
	const char  *dsn_return;
	const char  *dsn_envid;
	bool         body_8bit;
	unsigned     attempts;
	time_t       first_attempt;
	time_t       last_attempt;
	const char  *last_error;   /* one line, escaped */
};

/* Create queue_dir and its tmp/, new/ and failed/ (mode 0700). */
int queue_prepare(const char *queue_dir, struct error *err);

/*
 * Write a queue file holding env and size bytes of wire-form message read
 * from msg_fd at offset 0, durably, into area.  The new ID goes to id (at
 * least QUEUE_ID_MAX bytes) and the final path, malloc'd, to *path.  A
 * failure is EX_CANTCREAT (cannot create) or EX_IOERR (write, fsync) and
 * leaves no partial file.
 */
int queue_store(const char *queue_dir, enum queue_area area,
    const struct queue_envelope *env, int msg_fd, unsigned long long size,
    char *id, char **path, struct error *err);

/* A fresh unique name: time, pid, counter and random bits. */
void queue_make_id(char *id, size_t size);

/* The queue file header is bounded (100 000 recipients fit). */
#define QUEUE_HEADER_MAX (32 * 1024 * 1024)
/* One header line; longer last-error text is cut when stored. */
#define QUEUE_LINE_MAX 4096

/* A parsed queue file header; every string is owned. */
struct queue_file {
	char              *account;
	char              *sender;     /* "" for the null sender */
	char             **rcpts;
	size_t             n_rcpts;
	char              *dsn_notify; /* NULL when absent */
	char              *dsn_return;
	char              *dsn_envid;
	bool               body_8bit;
	unsigned           attempts;
	time_t             first_attempt;
	time_t             last_attempt;
	char              *last_error; /* NULL when absent */
	off_t              msg_offset; /* where the wire-form message starts */
	unsigned long long msg_size;   /* its length (file size - offset) */
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

/* A borrowed view of qf as an envelope (for storing it again). */
void queue_file_envelope(const struct queue_file *qf,
    struct queue_envelope *env);

#endif
