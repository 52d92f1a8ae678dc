/* SPDX-License-Identifier: ISC */
/*
 * Buffered line I/O over a struct transport.  Reads fill rbuf with whatever
 * the transport has; writes are gathered in wbuf and leave in one transport
 * write per flush, so a pipelined command group is one TCP segment.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "error.h"
#include "fdio.h"
#include "interrupt.h"
#include "net.h"

void
conn_init(struct conn *c, const struct transport *t, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->t = *t;
	buf_init(&c->wbuf, CONN_WRITE_BUFFER);
	c->timeout_ms = timeout_ms;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->t.close != NULL)
		c->t.close(c->t.ctx);
	memset(&c->t, 0, sizeof(c->t));
	/* The write buffer may have held an AUTH line; replies may have held
	 * a server challenge. */
	buf_wipe(&c->wbuf);
	secure_wipe(c->rbuf, sizeof(c->rbuf));
	c->rpos = c->rlen = 0;
	free(c->fbuf);
	c->fbuf = NULL;
}

void
conn_set_deadline(struct conn *c, long long ms)
{
	c->deadline_ms = ms > 0 ? fdio_now_ms() + ms : 0;
	c->deadline_total = ms > 0 ? ms : 0;
	c->deadline_bytes = c->bytes_out;
}

/* Milliseconds left before the deadline (LLONG_MAX without one). */
static long long
time_left(const struct conn *c)
{
	if (c->deadline_ms == 0)
		return LLONG_MAX;
	return c->deadline_ms +
	       (long long)((c->bytes_out - c->deadline_bytes) /
			   CONN_DEADLINE_RATE) -
	       fdio_now_ms();
}

static int
deadline_error(struct conn *c, struct error *err)
{
	c->io_failed = true;
	return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
	    "time limit of %lld s for the session exceeded",
	    (c->deadline_total + 999) / 1000);
}

/* The timeout of the next step: the per-step one, cut to the time left. */
static int
step_timeout(struct conn *c, int *ms, struct error *err)
{
	long long left = time_left(c);

	/* After SIGTERM and the like the link is given up: not one more
	 * byte, not even QUIT (mid-DATA it would be message text). */
	if (interrupt_check(err, EX_TEMPFAIL) == -1) {
		c->io_failed = true;
		return -1;
	}
	*ms = c->timeout_ms;
	if (left == LLONG_MAX)
		return 0;
	if (left <= 0)
		return deadline_error(c, err);
	if (*ms <= 0 || left < *ms)
		*ms = left > INT_MAX ? INT_MAX : (int)left;
	return 0;
}

/* After a failed step: if the deadline cut it, say so. */
static void
step_failed(struct conn *c, struct error *err)
{
	c->io_failed = true;
	if (c->deadline_ms != 0 && time_left(c) <= 0 && err != NULL &&
	    err->exit_code == EX_TEMPFAIL && !interrupt_caught())
		deadline_error(c, err);
}

static int
fill(struct conn *c, struct error *err)
{
	ssize_t n;
	int ms;

	if (c->eof)
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "connection closed by server");
	if (c->t.read == NULL)
		return error_set(err, EX_SOFTWARE, "connection is closed");
	c->rpos = c->rlen = 0;
	if (step_timeout(c, &ms, err) == -1)
		return -1;
	n = c->t.read(c->t.ctx, c->rbuf, sizeof(c->rbuf), ms, err);
	if (n < 0) {
		step_failed(c, err);
		return -1;
	}
	if (n == 0) {
		c->eof = true;
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "connection closed by server");
	}
	c->rlen = (size_t)n;
	return 0;
}

int
conn_read_line(struct conn *c, char *line, size_t max, size_t *len,
    bool *bare_lf, struct error *err)
{
	size_t n = 0;
	bool held_cr = false; /* a CR that did not fit, if LF follows */

	if (max == 0)
		return error_set(err, EX_SOFTWARE, "line buffer of size 0");
	for (;;) {
		const char *p, *nl;
		size_t avail, take;

		if (c->rpos == c->rlen && fill(c, err) == -1)
			return -1;
		p = c->rbuf + c->rpos;
		avail = c->rlen - c->rpos;
		if (held_cr) {
			if (*p != '\n')
				goto too_long;
			c->rpos++;
			*bare_lf = false;
			break;
		}
		nl = memchr(p, '\n', avail);
		take = nl != NULL ? (size_t)(nl - p) : avail;
		if (take > max - 1 - n) {
			/* Only a CR right before the LF may pass the limit:
			 * it is part of the terminator, not of the line. */
			if (take == max - n && p[take - 1] == '\r') {
				memcpy(line + n, p, take - 1);
				n += take - 1;
				c->rpos += take;
				if (nl == NULL) {
					held_cr = true;
					continue;
				}
				c->rpos++;
				*bare_lf = false;
				break;
			}
			goto too_long;
		}
		memcpy(line + n, p, take);
		n += take;
		c->rpos += take;
		if (nl != NULL) {
			c->rpos++; /* the LF */
			*bare_lf = true;
			if (n > 0 && line[n - 1] == '\r') {
				n--;
				*bare_lf = false;
			}
			break;
		}
	}
	line[n] = '\0';
	*len = n;
	if (c->trace != NULL)
		c->trace(c->trace_arg, 'S', line, n, false);
	return 0;
too_long:
	return error_set(err, EX_PROTOCOL,
	    "server sent a line longer than %zu bytes", max - 1);
}

size_t
conn_pending(const struct conn *c)
{
	return c->rlen - c->rpos;
}

static int
send_bytes(struct conn *c, const void *p, size_t n, struct error *err)
{
	int ms;

	if (n == 0)
		return 0;
	if (c->t.write == NULL)
		return error_set(err, EX_SOFTWARE, "connection is closed");
	if (step_timeout(c, &ms, err) == -1)
		return -1;
	if (c->t.write(c->t.ctx, p, n, ms, err) == -1) {
		step_failed(c, err);
		return -1;
	}
	c->bytes_out += n;
	return 0;
}

int
conn_flush(struct conn *c, struct error *err)
{
	int rc;

	if (c->wbuf.len == 0)
		return 0;
	rc = send_bytes(c, c->wbuf.data, c->wbuf.len, err);
	/* Commands may carry AUTH data: never leave them behind. */
	secure_wipe(c->wbuf.data, c->wbuf.len);
	buf_reset(&c->wbuf);
	return rc;
}

int
conn_write(struct conn *c, const void *p, size_t n, struct error *err)
{
	if (n > CONN_WRITE_BUFFER - c->wbuf.len && conn_flush(c, err) == -1)
		return -1;
	/* A block as large as the buffer gains nothing from a copy. */
	if (n >= CONN_WRITE_BUFFER)
		return send_bytes(c, p, n, err);
	return buf_append(&c->wbuf, p, n, err);
}

int
conn_write_direct(struct conn *c, const void *p, size_t n, struct error *err)
{
	if (conn_flush(c, err) == -1)
		return -1;
	return send_bytes(c, p, n, err);
}

/* The blocks conn_send_file reads where it must copy: large, so that a
 * TLS link gets full records, few at a time. */
#define FILE_BLOCK (256 * 1024)

int
conn_read_spool(int fd, char *p, size_t n, off_t off, struct error *err)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return error_set(err, EX_IOERR,
			    "reading the spool file: %s", strerror(errno));
		if (r == 0)
			return error_set(err, EX_IOERR,
			    "the spool file is %zu bytes shorter than recorded",
			    n);
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

ssize_t
conn_send_file(
    struct conn *c, int fd, off_t off, size_t n, bool wait, struct error *err)
{
	size_t done = 0;
	int ms;

	if (conn_flush(c, err) == -1)
		return -1;
	while (c->t.send_file != NULL && done < n) {
		off_t pos = off + (off_t)done;
		ssize_t w;

		if (step_timeout(c, &ms, err) == -1)
			return -1;
		w = c->t.send_file(c->t.ctx, fd, &pos, n - done, wait, ms, err);
		if (w == -2) {
			/* Not this file: the copying path from here on. */
			c->t.send_file = NULL;
			break;
		}
		if (w < 0) {
			step_failed(c, err);
			return -1;
		}
		c->bytes_out += (unsigned long long)w;
		done += (size_t)w;
		if (!wait)
			return (ssize_t)done;
	}
	if (done == n)
		return (ssize_t)done;
	if (c->fbuf == NULL && (c->fbuf = malloc(FILE_BLOCK)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	while (done < n) {
		size_t want = n - done < FILE_BLOCK ? n - done : FILE_BLOCK;

		if (conn_read_spool(
			fd, c->fbuf, want, off + (off_t)done, err) == -1 ||
		    send_bytes(c, c->fbuf, want, err) == -1)
			return -1;
		done += want;
		if (!wait)
			break;
	}
	return (ssize_t)done;
}

int
conn_send_file_fd(const struct conn *c)
{
	if (c->t.send_file == NULL)
		return -1;
	return net_transport_get_fd(&c->t);
}

/* Send the command line in small (len bytes, room for two more): the
 * last check, the transcript, CRLF, and the wipe. */
static int
send_small(struct conn *c, char *small, size_t len, struct error *err)
{
	int rc;

	/* Addresses were checked long before; this is the last line of
	 * defence against command injection (CR, LF, NUL). */
	if (strcspn(small, "\r\n") != len)
		rc = error_set(err, EX_SOFTWARE,
		    "refusing to send a command containing a line break");
	else {
		if (c->trace != NULL)
			c->trace(
			    c->trace_arg, 'C', small, len, c->trace_secret);
		small[len] = '\r';
		small[len + 1] = '\n';
		rc = conn_write(c, small, len + 2, err);
	}
	secure_wipe(small, len + 2);
	return rc;
}

int
conn_command_path(struct conn *c, struct error *err, const char *verb,
    const char *path, const char *params)
{
	char small[1024];
	size_t lv = strlen(verb), lp = strlen(path), lq = strlen(params);
	size_t len = lv + 1 + lp + 1 + lq;

	/* Without printf: one of these per recipient (bench S5). */
	if (len + 3 > sizeof(small))
		return conn_command(c, err, "%s<%s>%s", verb, path, params);
	memcpy(small, verb, lv);
	small[lv] = '<';
	memcpy(small + lv + 1, path, lp);
	small[lv + 1 + lp] = '>';
	memcpy(small + lv + 2 + lp, params, lq);
	small[len] = '\0';
	return send_small(c, small, len, err);
}

int
conn_command(struct conn *c, struct error *err, const char *fmt, ...)
{
	/* Every command but a long AUTH line fits here: no allocation and
	 * one formatting pass per command (10,000 RCPTs are 10,000 calls). */
	char small[1024];
	struct buf line;
	char *p = small;
	va_list ap;
	size_t len;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_set(err, EX_SOFTWARE, "bad command format");
	len = (size_t)n;
	/* RFC 4954 4: an AUTH line may reach 12288 octets with its initial
	 * response; XOAUTH2 tokens are a few KiB. */
	buf_init(&line, CONN_WRITE_BUFFER - 2);
	if (len >= sizeof(small) - 2) {
		secure_wipe(small, sizeof(small));
		va_start(ap, fmt);
		rc = buf_vprintf(&line, err, fmt, ap);
		va_end(ap);
		if (rc == -1) {
			buf_wipe(&line);
			if (err != NULL && err->exit_code == EX_DATAERR)
				error_set(
				    err, EX_SOFTWARE, "command line too long");
			return -1;
		}
		p = line.data;
		len = line.len;
	}
	if (p == small) {
		buf_wipe(&line);
		return send_small(c, small, len, err);
	}
	/* Addresses were checked long before; this is the last line of
	 * defence against command injection (CR, LF, NUL). */
	if (strcspn(p, "\r\n") != len) {
		rc = error_set(err, EX_SOFTWARE,
		    "refusing to send a command containing a line break");
		goto out;
	}
	if (c->trace != NULL)
		c->trace(c->trace_arg, 'C', p, len, c->trace_secret);
	rc = buf_append(&line, "\r\n", 2, err);
	if (rc == 0)
		rc = conn_write(c, line.data, line.len, err);
out:
	/* The line may have carried an AUTH secret. */
	buf_wipe(&line);
	return rc;
}

int
conn_starttls(struct conn *c, const struct peer *peer, struct error *err)
{
	if (conn_flush(c, err) == -1)
		return -1;
	/* RFC 3207 6 and CVE-2011-0411: anything after the 220 was sent in
	 * plaintext by someone, and must not be read as if it came over
	 * TLS. */
	if (conn_pending(c) > 0)
		return error_set(err, EX_PROTOCOL,
		    "server sent data before the TLS handshake "
		    "(STARTTLS injection)");
	if (c->t.starttls == NULL)
		return error_set(err, EX_SOFTWARE,
		    "TLS is not available on this connection");
	if (c->t.starttls(&c->t, peer, err) == -1)
		return -1;
	c->rpos = c->rlen = 0;
	c->eof = false;
	return 0;
}

const struct tls_info *
conn_tls_info(const struct conn *c)
{
	if (c->t.tls_info == NULL)
		return NULL;
	return c->t.tls_info(c->t.ctx);
}
