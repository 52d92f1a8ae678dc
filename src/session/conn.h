/* SPDX-License-Identifier: ISC */
/*
 * Buffered line I/O over a pluggable transport (socket, TLS, or the test
 * suite's script).  The protocol code (smtp.c, auth.c, submit.c) sees only
 * struct conn, so it runs unchanged over a socket, over TLS, and against a
 * scripted dialogue in the unit tests.
 */
#ifndef MAILSUB_CONN_H
#define MAILSUB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

struct error;
struct peer;

/* Facts about an established TLS layer, for AUTH channel binding, -v and
 * --serverinfo.  Filled by tls.c; strings are owned by the transport. */
struct tls_info {
	const char *version;	      /* "TLS1.3" */
	const char *cipher;	      /* "AES-256-GCM" */
	const unsigned char *cb_data; /* channel binding data, or NULL */
	size_t cb_len;
	const char *cb_type;	  /* "tls-exporter" or "tls-unique" */
	const char *peer_summary; /* certificate chain description */
	bool resumed;		  /* session resumption was used */
};

/*
 * A transport moves bytes.  read() returns the number of bytes read (> 0),
 * 0 at end of stream, -1 with err set (timeouts are EX_TEMPFAIL).
 * write() writes all n bytes or fails.  starttls() turns the transport into
 * a TLS one in place, replacing *t (the TLS module's upgrade for sockets;
 * the script transport pretends; NULL where TLS is impossible).  tls_info()
 * returns NULL until TLS is up.  close() releases ctx.
 */
struct transport {
	ssize_t (*read)(
	    void *ctx, void *p, size_t n, int timeout_ms, struct error *err);
	int (*write)(void *ctx, const void *p, size_t n, int timeout_ms,
	    struct error *err);
	int (*starttls)(
	    struct transport *t, const struct peer *peer, struct error *err);
	const struct tls_info *(*tls_info)(void *ctx);
	void (*close)(void *ctx);
	/*
	 * Optional: send up to n bytes of the file fd from *off (advanced)
	 * without copying them through user space (sendfile(2) on a
	 * socket).  Without wait it never blocks: 0 when the link is full.
	 * With wait it waits up to timeout_ms for room.  Returns the bytes
	 * sent, -1 with err set, or -2 (err untouched) when this file cannot
	 * be sent that way.  NULL where bytes must pass through the
	 * transport (TLS, the test scripts).
	 */
	ssize_t (*send_file)(void *ctx, int fd, off_t *off, size_t n, bool wait,
	    int timeout_ms, struct error *err);
	void *ctx;
};

/* Called with every line the client sends (dir 'C') or receives ('S'),
 * without the CRLF.  Lines are marked secret while AUTH runs. */
typedef void (*conn_trace_fn)(
    void *arg, char dir, const char *line, size_t len, bool secret);

#define CONN_READ_BUFFER 16384
/* Output is gathered up to this size before one write(). */
#define CONN_WRITE_BUFFER 65536

struct conn {
	struct transport t;
	char rbuf[CONN_READ_BUFFER];
	size_t rpos, rlen;
	struct buf wbuf;
	int timeout_ms; /* per read/write step */
	conn_trace_fn trace;
	void *trace_arg;
	bool trace_secret; /* current client lines hold a secret */
	bool eof;
	bool io_failed; /* a read or write failed: link unusable */
	unsigned long long bytes_out;
	/* The total deadline (conn_set_deadline); 0 = none. */
	long long deadline_ms;		   /* CLOCK_MONOTONIC milliseconds */
	long long deadline_total;	   /* the span it was set for, ms */
	unsigned long long deadline_bytes; /* bytes_out when it was set */
	char *fbuf; /* conn_send_file without send_file */
};

/* Take ownership of transport t. */
void conn_init(struct conn *c, const struct transport *t, int timeout_ms);

/* A link sending data earns this many bytes per millisecond of extra
 * time (8 KB/s): a large message over a slow link is progress, a server
 * reading one byte a second is not. */
#define CONN_DEADLINE_RATE 8
/*
 * Total run time bounded (mailsub(1), DESCRIPTION): from now on the
 * exchange must end within ms milliseconds, plus one for every
 * CONN_DEADLINE_RATE bytes sent after this call; ms <= 0 removes the deadline.
 * Every read and write step is cut to the time left (per-step timeouts alone
 * let a server that answers just in time, line by line, hold a run for hours),
 * and a step that starts after it fails with EX_TEMPFAIL.
 */
void conn_set_deadline(struct conn *c, long long ms);
/* Close the transport and release buffers (wiping the write buffer). */
void conn_free(struct conn *c);

/*
 * Read one line ending in LF (CRLF or bare LF) into line (NUL-terminated,
 * terminator stripped; *bare_lf tells which ending it had).  A line longer
 * than max-1 bytes fails with EX_PROTOCOL; end of stream before a full line
 * fails with EX_TEMPFAIL ("connection closed by server").
 */
int conn_read_line(struct conn *c, char *line, size_t max, size_t *len,
    bool *bare_lf, struct error *err) __attribute__((warn_unused_result));
/* Bytes received but not yet consumed (the STARTTLS injection check). */
size_t conn_pending(const struct conn *c);

/* Queue bytes for sending; flushes by itself when the buffer is full. */
int conn_write(struct conn *c, const void *p, size_t n, struct error *err)
    __attribute__((warn_unused_result));
/* Queue one command line: the text plus CRLF, traced (unless secret). */
int conn_command(struct conn *c, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));
/* Queue "verb<path>params" (MAIL FROM:, RCPT TO:) as conn_command does,
 * without printf. */
int conn_command_path(struct conn *c, struct error *err, const char *verb,
    const char *path, const char *params) __attribute__((warn_unused_result));
/* Send everything queued in one transport write. */
int conn_flush(struct conn *c, struct error *err)
    __attribute__((warn_unused_result));
/* Write a large block directly after flushing what is queued. */
int conn_write_direct(struct conn *c, const void *p, size_t n,
    struct error *err) __attribute__((warn_unused_result));

/*
 * Send n bytes of the file fd from offset off (the spool, in wire form)
 * after what is queued: with the transport's send_file where it has one,
 * else read and written in large blocks.  With wait, all n bytes or -1.
 * Without wait, what the link takes now (0 when it is full) where the
 * transport can tell, else one block; the bytes sent or -1.
 */
ssize_t conn_send_file(
    struct conn *c, int fd, off_t off, size_t n, bool wait, struct error *err);
/* Whether conn_send_file can go on without blocking (a socket that says
 * when it has room), and the descriptor to poll for POLLOUT, else -1. */
int conn_send_file_fd(const struct conn *c);

/* Upgrade to TLS with peer's settings (peer.h).  Fails with EX_PROTOCOL if
 * the server already sent bytes that were not read (STARTTLS response
 * injection, CVE-2011-0411). */
int conn_starttls(struct conn *c, const struct peer *peer, struct error *err)
    __attribute__((warn_unused_result));
const struct tls_info *conn_tls_info(const struct conn *c);

/* Exactly n bytes of the spool file fd from off (pread(2)); a short file
 * is EX_IOERR, since its size was recorded when it was written. */
int conn_read_spool(int fd, char *p, size_t n, off_t off, struct error *err);

#endif
