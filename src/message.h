/*
 * Reading the message: once, from a descriptor, into a private spool file
 * in wire form (CRLF line endings, no lone CR or LF, dot-stuffed), with
 * memory that does not depend on the message size.  The header block is
 * parsed (bounded) to find -t recipients, strip Bcc, and add From, Date and
 * Message-ID.
 */
#ifndef MAILSUB_MESSAGE_H
#define MAILSUB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "address.h"

struct account;
struct aliases;
struct error;

/* The header block is held in memory while it is processed. */
#define MESSAGE_HEADER_MAX (1024 * 1024)

struct message_options {
	bool        read_recipients;  /* -t */
	bool        stop_at_dot;      /* stdin is a terminal and no -i */
	const char *envelope_from;    /* the decided envelope sender */
	const char *full_name;        /* -F */
	bool        passwd_name;      /* else the password database's */
	const char *hostname;         /* for Message-ID */
	const struct account *acct;   /* add_headers, from_header,
	                                 default_domain */
	const struct aliases *aliases;
	/* --read-envelope-from: called once the header block is complete,
	 * with the first From address (NULL: none), before the block is
	 * processed; it may change envelope_from, acct and aliases in the
	 * options it is handed.  -1 stops the reading (err set). */
	int (*choose_sender)(void *arg, const char *from_address,
	    struct message_options *mo, struct error *err);
	void *choose_sender_arg;
};

struct message {
	int                fd;          /* spool, positioned anywhere */
	char              *spool_path;  /* removed by message_free() */
	unsigned long long size;        /* wire bytes, without the final dot */
	bool               has_8bit;    /* any byte >= 0x80 */
	bool               has_nul;
	bool               header_too_large;
	struct address_list header_rcpts; /* -t recipients (To, Cc, Bcc or the
	                                     Resent-* set), completed */
	char              *message_id;  /* as sent, with <> */
	unsigned long long input_bytes;
};

void message_init(struct message *m);
/* Close and remove the spool (unless it has been moved elsewhere). */
void message_free(struct message *m);
/* The name for a generated From: -F, else (passwd_name) the GECOS field
 * of the password database up to its first comma (the rest is office and
 * phone), looked up only when a From is made; NULL when there is none. */
const char *message_full_name(const struct message_options *mo, char *buf,
    size_t size);

/*
 * Read everything from in_fd into a new spool file in spool_dir (mode 0600,
 * created exclusively).  On a content error (NUL bytes: EX_DATAERR; header
 * block over MESSAGE_HEADER_MAX: EX_DATAERR; -t with no recipient is left to
 * the caller) the whole input is still spooled so it can be saved, and -1 is
 * returned with m->fd valid.  A read error is EX_IOERR, a spool write error
 * EX_CANTCREAT/EX_IOERR; m->fd is then -1.
 */
int message_read(int in_fd, const char *spool_dir,
    const struct message_options *mo, struct message *m, struct error *err);

#endif
