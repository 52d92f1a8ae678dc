/* SPDX-License-Identifier: ISC */
/*
 * The streaming loop: one thread, poll(2) on the input and (on a plain
 * link) the socket.  The spool is the buffer between them: a block read
 * is spooled at once, and the link takes the spool's bytes by sendfile(2)
 * whenever it has room, so neither side waits for the other.  Over TLS
 * the link cannot say when it has room: the loop reads what the input
 * has ready, then sends one large block.  A regular file as input is its
 * own copy: its blocks go from the reader straight to the link, and the
 * spool holds only what was read before the stream began.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "conn.h"
#include "error.h"
#include "fdio.h"
#include "interrupt.h"
#include "message.h"
#include "smtp.h"
#include "stream.h"

/* Blocks read in a row while the input has more ready, over TLS (where
 * each turn of the loop sends one block of conn_send_file). */
#define READS_PER_TURN 4

void
stream_rate_init(struct stream_rate *sr)
{
	sr->start_ms = -1;
	sr->start_bytes = 0;
}

bool
stream_rate_fast(struct stream_rate *sr, unsigned long long input_bytes)
{
	long long now;

	if (sr->start_ms < 0) {
		/* The window opens with the first block. */
		sr->start_ms = fdio_now_ms();
		sr->start_bytes = 0;
	}
	if (input_bytes - sr->start_bytes < STREAM_START_BYTES)
		return false;
	now = fdio_now_ms();
	if (now - sr->start_ms <= STREAM_START_MS)
		return true;
	sr->start_ms = now;
	sr->start_bytes = input_bytes;
	return false;
}

static int
stop(struct stream *st, enum stream_stop why, const struct error *e,
    struct error *err)
{
	st->stop = why;
	st->why = *e;
	*err = *e;
	return -1;
}

/* The link failed: the error as the transport said it. */
static int
link_failed(struct stream *st, struct error *err)
{
	st->stop = STREAM_LINK;
	st->why = *err;
	return -1;
}

/* After a block: what the spool holds may go to the server as it is. */
static int
check(struct stream *st, struct error *err)
{
	struct message *m = st->m;
	struct error e;

	if (!message_reader_clean(st->mr)) {
		error_set(&e, EX_DATAERR, "the message has a content error");
		return stop(st, STREAM_CONTENT, &e, err);
	}
	/* RFC 6152: 8-bit data only where BODY=8BITMIME was declared (or
	 * the user said what the body is, as without streaming). */
	if (m->has_8bit && !st->may_8bit) {
		error_set(&e, EX_TEMPFAIL,
		    "8-bit data, and the server does not offer 8BITMIME");
		return stop(st, STREAM_FALLBACK, &e, err);
	}
	if (st->size_limit > 0 && m->size > st->size_limit) {
		error_set(&e, EX_DATAERR, "larger than the server's limit");
		return stop(st, STREAM_OVERSIZE, &e, err);
	}
	return 0;
}

/* One block from the input into the spool (or, in a direct stream, to the
 * link once checked): 1 more may come, 0 the end (the message is
 * finished), -1 stopped. */
static int
read_one(struct stream *st, struct error *err)
{
	struct error e;
	int rc;

	error_clear(&e);
	rc = message_reader_step(st->mr, &e);
	if (rc == 0) {
		st->ended = true;
		if (message_reader_finish(st->mr, &e) == -1)
			rc = -1;
	}
	if (rc == -1 && st->link_down) {
		*err = e;
		return link_failed(st, err);
	}
	if (rc == -1 && st->ended && st->m->fd >= 0)
		return stop(st, STREAM_CONTENT, &e, err);
	if (rc == -1)
		return stop(st, STREAM_HARD, &e, err);
	if (check(st, err) == -1)
		return -1;
	if (rc == 1 && message_reader_flush(st->mr, &e) == -1) {
		if (st->link_down) {
			*err = e;
			return link_failed(st, err);
		}
		return stop(st, STREAM_HARD, &e, err);
	}
	return rc;
}

/* The reader's sink in a direct stream: the checked block to the link. */
static int
to_link(void *arg, const char *p, size_t n, struct error *err)
{
	struct stream *st = arg;

	if (conn_write_direct(st->link, p, n, err) == -1) {
		st->link_down = true;
		return -1;
	}
	st->sent += n;
	if (n >= 2) {
		st->tail[0] = p[n - 2];
		st->tail[1] = p[n - 1];
	} else if (n == 1) {
		st->tail[0] = st->tail[1];
		st->tail[1] = p[0];
	}
	return 0;
}

/* A regular file as input: what the spool holds, then block by block from
 * the reader to the link.  The file does not wait like a pipe, so there is
 * nothing to poll; the link's own timeouts apply to each write. */
static int
send_direct(struct stream *st, struct conn *c, struct error *err)
{
	struct error e;

	if (message_reader_flush(st->mr, &e) == -1)
		return stop(st, STREAM_HARD, &e, err);
	/* From here on the spool is partial, whatever fails: the caller
	 * reads the file again to keep the message. */
	st->link = c;
	message_reader_divert(st->mr, to_link, st);
	if (st->m->size > st->sent &&
	    conn_send_file(c, st->m->fd, (off_t)st->sent,
		st->m->size - st->sent, true, err) == -1)
		return link_failed(st, err);
	st->sent = st->m->size;
	if (smtp_spool_tail(st->m->fd, 0, st->m->size, st->tail, err) == -1)
		return stop(st, STREAM_HARD, err, err);
	while (!st->ended) {
		if (interrupt_caught()) {
			interrupt_check(&e, EX_TEMPFAIL);
			return stop(st, STREAM_SIGNAL, &e, err);
		}
		if (read_one(st, err) == -1)
			return -1;
	}
	if (message_reader_flush(st->mr, err) == -1)
		return st->link_down ? link_failed(st, err)
				     : stop(st, STREAM_HARD, err, err);
	return 0;
}

int
stream_send(void *arg, struct conn *c, unsigned long long *size, char tail[2],
    struct error *err)
{
	struct stream *st = arg;
	int sock = conn_send_file_fd(c);
	struct error e;

	st->read_at_start = st->m->input_bytes;
	/* Only where nothing the check of a block refuses can be on the
	 * link before it is checked: 8-bit data may go (RFC 6152). */
	if (st->in_file && st->may_8bit) {
		if (send_direct(st, c, err) == -1)
			return -1;
		*size = st->m->size;
		memcpy(tail, st->tail, 2);
		return 0;
	}
	while (!st->ended) {
		unsigned long long pending = st->m->size - st->sent;
		bool to_link = pending > 0 && sock >= 0;
		struct pollfd pfd[2];
		long long t0;
		int n, ms, reads;

		pfd[0].fd = st->in_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = sock;
		pfd[1].events = POLLOUT;
		pfd[1].revents = 0;
		if (pending == 0)
			ms = STREAM_GAP_MS; /* nothing to do but wait */
		else if (sock >= 0)
			ms = c->timeout_ms > 0 ? c->timeout_ms : -1;
		else
			ms = 0; /* only whether the input has more ready */
		t0 = fdio_now_ms();
		n = interrupt_poll(pfd, to_link ? 2 : 1, ms);
		if (n == -1 && errno == EINTR) {
			/* A signal: no final dot; stream_read_rest() then
			 * says whether the input ended (mailsub(1), EXIT
			 * STATUS). */
			interrupt_check(&e, EX_TEMPFAIL);
			return stop(st, STREAM_SIGNAL, &e, err);
		}
		if (n == -1) {
			error_set(&e, EX_OSERR, "poll: %s", strerror(errno));
			return stop(st, STREAM_HARD, &e, err);
		}
		if (pending == 0) {
			/* The link is idle, waiting for the caller. */
			st->waited_ms += fdio_now_ms() - t0;
			if (n == 0 ||
			    st->waited_ms >
				STREAM_GAP_MS +
				    (long long)((st->m->input_bytes -
						    st->read_at_start) /
						1024)) {
				error_set(
				    &e, EX_TEMPFAIL, "the input slowed down");
				return stop(st, STREAM_FALLBACK, &e, err);
			}
		} else if (n == 0 && sock >= 0) {
			error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
			    "timed out after %d s sending to the server",
			    (c->timeout_ms + 999) / 1000);
			return link_failed(st, err);
		}
		for (reads = 0; pfd[0].revents != 0 && !st->ended;) {
			if (read_one(st, err) == -1)
				return -1;
			if (sock >= 0 || ++reads == READS_PER_TURN)
				break;
			/* Over TLS: more while more is ready. */
			if (interrupt_poll(pfd, 1, 0) != 1)
				break;
		}
		if (pending > 0 && (sock < 0 || pfd[1].revents != 0)) {
			ssize_t w = conn_send_file(
			    c, st->m->fd, (off_t)st->sent, pending, false, err);

			if (w < 0)
				return link_failed(st, err);
			st->sent += (unsigned long long)w;
		}
	}
	/* The input ended and the spool holds it all: the rest, then the
	 * caller's final dot. */
	if (st->m->size > st->sent &&
	    conn_send_file(c, st->m->fd, (off_t)st->sent,
		st->m->size - st->sent, true, err) == -1)
		return link_failed(st, err);
	st->sent = st->m->size;
	*size = st->m->size;
	if (smtp_spool_tail(st->m->fd, 0, st->m->size, tail, err) == -1)
		return stop(st, STREAM_HARD, err, err);
	return 0;
}

int
stream_read_rest(struct stream *st, struct error *err)
{
	int rc;

	if (st->stop == STREAM_HARD) {
		/* Nothing can be kept: the caller still holds the message.
		 * A stop before the end of the input (a poll failure) may
		 * leave a spool with part of it, which must not be saved. */
		if (!st->ended)
			message_drop_spool(st->m);
		*err = st->why;
		return -1;
	}
	if (st->ended) {
		/* Finished while streaming: its verdict again. */
		if (st->stop == STREAM_CONTENT || st->stop == STREAM_HARD) {
			*err = st->why;
			return -1;
		}
		return 0;
	}
	if (interrupt_caught()) {
		/* What the input holds already (a file, a producer that
		 * has finished) is read to its end and can be queued; a
		 * producer still at work is not waited for. */
		rc = message_reader_drain(st->mr, STREAM_GAP_MS, err);
	} else {
		while ((rc = message_reader_step(st->mr, err)) == 1)
			;
	}
	if (rc == -1)
		return -1;
	st->ended = true;
	return message_reader_finish(st->mr, err);
}
