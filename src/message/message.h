/* SPDX-License-Identifier: ISC */
/*
 * Reading the message: once, from a descriptor, into a private spool file
 * in wire form (CRLF line endings, no lone CR or LF, dot-stuffed), with
 * memory that does not depend on the message size.  The header block is
 * bounded here and handed to header.h, which finds -t recipients, strips
 * Bcc, and adds From, Date and Message-ID.
 */
#ifndef MAILSUB_MESSAGE_H
#define MAILSUB_MESSAGE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "address.h"
#include "header.h"

struct error;

struct message_options {
	struct header_options header; /* what header.c adds and rewrites;
					 header.acct->max_message_size
					 bounds the read */
	bool stop_at_dot;	      /* stdin is a terminal and no -i */
	bool interruptible;	      /* a signal (interrupt.h) before the
					 end ends the read: EX_IOERR, nothing
					 kept */
	/* --read-envelope-from: called once the header block is complete,
	 * with the first From address (NULL: none), before the block is
	 * processed; it may change header.envelope_from, header.acct and
	 * header.aliases in the options it is handed.  -1 stops the
	 * reading (err set). */
	int (*choose_sender)(void *arg, const char *from_address,
	    struct message_options *mo, struct error *err);
	void *choose_sender_arg;
};

struct message {
	int fd;			 /* spool, positioned anywhere */
	char *spool_path;	 /* removed by message_free() */
	unsigned long long size; /* wire bytes, without the final dot */
	bool has_8bit;		 /* any byte >= 0x80 */
	bool has_nul;
	bool header_too_large;
	struct address_list header_rcpts; /* -t recipients (To, Cc, Bcc or the
					     Resent-* set), completed */
	char *message_id;		  /* as sent, with <> */
	time_t date;			  /* of the Date field generated, or
					     0 (header.h) */
	const char *alias_warning;	  /* an alias used by -t had targets
					     skipped (aliases.h), or NULL */
	const char *sender_warning;	  /* a From or Sender header was
					     replaced or removed, or NULL */
	unsigned long long input_bytes;
	bool spool_partial; /* some bytes went to the link only
			       (message_reader_divert): the spool does
			       not hold the message */
};

void message_init(struct message *m);
/* Close and remove the spool, which then holds nothing (m->fd -1). */
void message_drop_spool(struct message *m);
/* Close and remove the spool (unless it has been moved elsewhere). */
void message_free(struct message *m);

/*
 * Read everything from in_fd into a new spool file in spool_dir (mode 0600,
 * created exclusively).  On a content error (NUL bytes: EX_DATAERR; header
 * block over HEADER_BLOCK_MAX: EX_DATAERR; -t with no recipient is left to
 * the caller) the whole input is still spooled so it can be saved, and -1 is
 * returned with m->fd valid.  A read error (or, with mo->interruptible, a
 * signal before the end) is EX_IOERR, a spool write error
 * EX_CANTCREAT/EX_IOERR, a message larger than max_message_size
 * EX_DATAERR (reading stops there); m->fd is then -1 and the spool gone.
 */
int message_read(int in_fd, const char *spool_dir,
    const struct message_options *mo, struct message *m, struct error *err);

/*
 * message_read() a block at a time, for a caller that sends the message
 * while it is still arriving (mailsub(1), STREAMING).  open creates the
 * spool; step reads one block (one read(2)) and spools it: 1 more may
 * come, 0 the input ended, -1 a hard error (read or spool error, over
 * max_message_size: the spool is gone, m->fd -1).  flush writes what is
 * buffered, so that the spool file holds all m->size bytes read so far.
 * finish, after step returned 0, ends the last line and returns what
 * message_read() returns.  free releases the reader (not the spool).
 */
struct message_reader;

int message_reader_open(int in_fd, const char *spool_dir,
    const struct message_options *mo, struct message *m,
    struct message_reader **mr, struct error *err);
int message_reader_step(struct message_reader *mr, struct error *err);
int message_reader_flush(struct message_reader *mr, struct error *err);
int message_reader_finish(struct message_reader *mr, struct error *err);
void message_reader_free(struct message_reader *mr);
/* After a signal (interrupt.h): step on while the input has more ready at
 * once, for at most max_ms; 0 the input ended, -1 it would have to wait
 * (EX_IOERR as for a signal before the end) or failed, the spool gone. */
int message_reader_drain(
    struct message_reader *mr, int max_ms, struct error *err);
/* From now on what is read goes to sink instead of the spool, which keeps
 * what it holds and is marked partial (mailsub(1), STREAMING: a file given
 * as standard input is its own copy).  The bytes reach sink at each
 * message_reader_flush(), after the block that made them was checked, and
 * when a block would overfill the reader's buffer; a sink that fails
 * makes that step or flush fail as a spool write would. */
typedef int (*message_sink)(
    void *arg, const char *p, size_t n, struct error *err);
void message_reader_divert(
    struct message_reader *mr, message_sink sink, void *arg);
/* The header block is over (processed: -t recipients known, Bcc gone). */
bool message_reader_in_body(const struct message_reader *mr);
/* No content error so far (header, NUL bytes). */
bool message_reader_clean(const struct message_reader *mr);

/*
 * The line rule of every message mailsub reads, from stdin (message_read)
 * and in -bs DATA (smtpd.c) alike: LF and CRLF end a line, a lone CR is a
 * space, so nothing but CRLF can end a line on the wire.  The input comes
 * in blocks of any size; a CR that ends a block waits for the next byte.
 * How a line ended is told, for SMTP, where only CRLF ends a line
 * (RFC 5321 2.3.8).
 */
enum message_eol {
	MESSAGE_EOL_LF, /* a bare LF */
	MESSAGE_EOL_CRLF,
};

struct message_lines {
	/* Bytes of the current line, which may come in several pieces. */
	int (*data)(void *arg, const char *p, size_t n);
	/* The end of the current line: 0 go on, 1 stop after it, -1 fail. */
	int (*eol)(void *arg, enum message_eol how);
	void *arg;
	bool pending_cr; /* a CR ended the last block */
};

/* Cut p[0, n) into lines (lone CRs are replaced in place).  Returns the
 * bytes used: n, or fewer when eol asked to stop; -1 when a callback
 * failed. */
ssize_t message_lines_feed(struct message_lines *ml, char *p, size_t n);
/* The end of input: a lone CR held back is a space, like any other. */
int message_lines_finish(struct message_lines *ml);

#endif
