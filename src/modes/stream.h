/* SPDX-License-Identifier: ISC */
/*
 * Sending a message while it is still being read (mailsub(1), STREAMING):
 * the input goes into the spool as always, and what the spool holds goes
 * to the server as soon as the link takes it, so reading and sending
 * overlap.  The final dot goes only after the end of the input, once the
 * spool holds the whole message: whatever the server then says, the
 * message can still be queued.  Knows the reader, the spool and the link;
 * what to do with the outcome is delivery.c's.
 */
#ifndef MAILSUB_STREAM_H
#define MAILSUB_STREAM_H

#include <stdbool.h>

#include "error.h"

struct conn;
struct message;
struct message_reader;

/*
 * When to start: the input must be fast.  A window of STREAM_START_BYTES
 * read within STREAM_START_MS (10 MiB/s) after the header block; a window
 * that took longer starts a new one, so a slow producer never holds a
 * connection open.  Once streaming, the input may leave the link idle for
 * at most STREAM_GAP_MS at a time and, in all, STREAM_GAP_MS plus one
 * millisecond per KiB read since (1 MiB/s); past that the stream is given
 * up and the message read to its end before it is sent.
 */
#define STREAM_START_BYTES (1024 * 1024)
#define STREAM_START_MS	   100
#define STREAM_GAP_MS	   1000

/* Why a stream stopped before its final dot. */
enum stream_stop {
	STREAM_RUNNING,	 /* not stopped (or not started) */
	STREAM_FALLBACK, /* the input slowed down, or 8-bit data came for a
			    server without 8BITMIME: send it as usual, once
			    read */
	STREAM_OVERSIZE, /* larger than the server's SIZE limit */
	STREAM_CONTENT,	 /* a content error (NUL bytes): the reader's
			    error at the end says which */
	STREAM_HARD,	 /* the input failed (read or spool error, over
			    max_message_size): nothing can be kept */
	STREAM_LINK,	 /* the link failed while sending */
	STREAM_SIGNAL,	 /* a signal of interrupt.h was caught */
};

struct stream_rate {
	long long start_ms; /* -1 before the first byte */
	unsigned long long start_bytes;
};

struct stream {
	/* Set by the caller. */
	struct message_reader *mr;
	struct message *m;
	int in_fd;
	bool may_8bit;		       /* 8-bit data was announced (or
					  the user chose the body type) */
	unsigned long long size_limit; /* the server's SIZE, 0 none */
	bool in_file;		       /* the input is a regular file, which
					  can be read again: once the
					  stream runs, what is read goes
					  straight to the link and no
					  longer to the spool (the caller
					  reads the file again when the
					  message must be kept) */
	/* The outcome. */
	enum stream_stop stop;
	struct error why;	 /* for every stop but RUNNING */
	bool ended;		 /* the input ended and the spool
				    holds the message */
	unsigned long long sent; /* spool bytes on the link */
	long long waited_ms;
	unsigned long long read_at_start;
	/* Private to stream.c. */
	struct conn *link;
	bool link_down; /* the sink of a direct stream failed */
	char tail[2];	/* its last two bytes sent */
};

void stream_rate_init(struct stream_rate *sr);
/* After a block was read: whether the input is fast enough to stream. */
bool stream_rate_fast(struct stream_rate *sr, unsigned long long input_bytes);

/* The message_source stream() callback (submit.h): arg is the stream. */
int stream_send(void *arg, struct conn *c, unsigned long long *size,
    char tail[2], struct error *err);

/*
 * Read the rest of the input into the spool, as message_read() would, and
 * finish it; returns what message_reader_finish() returns (a content
 * error keeps m->fd; a hard one removes the spool).  Once a signal was
 * caught, only what the input has ready at once (message_reader_drain).
 * Without effect after a stream that reached the end.
 */
int stream_read_rest(struct stream *st, struct error *err);

#endif
