/* SPDX-License-Identifier: ISC */
/*
 * The header block of a message: -t recipients (To, Cc, Bcc, or the
 * Resent-* set), Bcc and Resent-Bcc removal, From fix/force, bare To/Cc
 * completion, and the missing From, Date and Message-ID.  Pure: it gets
 * the block in memory and hands back the lines to write; reading, bounds
 * and the wire form are message.c's.  Every field mailsub generates, in a
 * message read or composed (compose_head.h), is written here.
 */
#ifndef MAILSUB_HEADER_H
#define MAILSUB_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "address.h"
#include "error.h"

struct account;
struct aliases;
struct buf;

/* The most a header block may hold: it is processed in memory. */
#define HEADER_BLOCK_MAX (1024 * 1024)

/* What the header block gets and how it is rewritten. */
struct header_options {
	bool read_recipients;	   /* -t */
	const char *envelope_from; /* the decided envelope sender */
	const char *full_name;	   /* -F */
	bool passwd_name;	   /* else the password database's */
	const char *hostname;	   /* for Message-ID */
	/* A second reading of the same input (delivery.c, a file read
	 * again to keep it) generates what the first one did: the Date of
	 * this time when non-zero, this Message-ID when set. */
	time_t date;
	const char *message_id;
	const struct account *acct; /* add_headers, from_header,
				       default_domain */
	const struct aliases *aliases;
	/* When set (sysmode.h: a restricted caller), the From, Sender,
	 * Resent-From and Resent-Sender addresses are checked with it:
	 * a From naming another address becomes the envelope sender (or
	 * own_address for the null sender), the others are removed. */
	bool (*sender_ok)(void *arg, const char *addr);
	void *sender_ok_arg;
	const char *own_address;
};

/* What header_process() found besides the lines. */
struct header_result {
	bool failed; /* a content error (bad -t address): in
			error */
	struct error error;
	size_t lines;		    /* lines handed to put */
	struct address_list rcpts;  /* -t recipients (To, Cc, Bcc or the
				       Resent-* set), completed */
	char *message_id;	    /* kept or generated, with <> */
	time_t date;		    /* the time of a generated Date, or 0 */
	const char *alias_warning;  /* an alias used by -t had targets
				       skipped (aliases.h), or NULL */
	const char *sender_warning; /* a From or Sender header was replaced
				       or removed, or NULL */
};

void header_result_init(struct header_result *res);
void header_result_free(struct header_result *res);

/* Receives one line to write, without its line ending; -1 stops. */
typedef int (*header_put_fn)(void *arg, const char *line, size_t len);

/*
 * Process a header block: text holds lines separated by '\n' (no CR; a
 * line starting with a space or tab continues the field before it).
 * Emits the lines to write through put: the missing From, Date and
 * Message-ID first (when ho->acct->add_headers), then the fields in order
 * without Bcc/Resent-Bcc, with From (from_header) and To/Cc
 * (default_domain) rewritten.  res (header_result_init()) gets the -t
 * recipients (with ho->read_recipients), the Message-ID and the warnings.
 * A bad address in a -t field is recorded in res (EX_DATAERR naming the
 * field) and processing goes on; -1 (err set) means put failed or memory
 * ran out.
 */
int header_process(const char *text, size_t len,
    const struct header_options *ho, header_put_fn put, void *arg,
    struct header_result *res, struct error *err);

/*
 * Whether the header line (len bytes, without its line ending) is the
 * field called name, compared without case: name ":" (RFC 5322 3.6.8),
 * or name, white space, ":" (the obsolete syntax of RFC 5322 4.5.3, which
 * a reader must accept).  Returns the offset just after the colon, or 0.
 * Every match of a field by its name goes through here.
 */
size_t header_field_is(const char *line, size_t len, const char *name);

/*
 * The address of the first mailbox of the first From field of a header
 * block (as for header_process), malloc'd into *out; NULL when there is no
 * From or it does not parse.  -1 only when memory runs out.
 */
int header_from_address(
    const char *text, size_t len, char **out, struct error *err);

/*
 * Append a display name as an RFC 5322 phrase: as it is when it is atoms
 * and spaces, a quoted-string when it holds specials, RFC 2047
 * encoded-words (mime_encode_words()) when it is not ASCII, holds a
 * control character or "=?", or has a word too long to fold.
 */
int header_phrase(
    struct buf *b, const char *name, size_t len, struct error *err);

/* Append the From field mailsub generates: "name <address>", or the bare
 * address when name is NULL or empty, folded (mime_fold()), each line
 * ending '\n'. */
int header_from_field(
    struct buf *out, const char *name, const char *address, struct error *err);

/*
 * A new Message-ID with its <> (RFC 5322 3.6.4), malloc'd into *out:
 * UTC time, pid and random hex, at the domain of sender, else hostname,
 * else "localhost".  A domain too long is EX_DATAERR.
 */
int header_message_id(
    const char *sender, const char *hostname, char **out, struct error *err);

/* The name for a generated From: -F, else (passwd_name) the GECOS field
 * of the password database up to its first comma (the rest is office and
 * phone), looked up only when a From is made; NULL when there is none. */
const char *header_full_name(
    const struct header_options *ho, char *buf, size_t size);

/* RFC 5322 3.3 date-time of t in the local time zone with a numeric
 * offset and C-locale names ("Tue, 5 Mar 2024 14:03:22 +0100"), for Date
 * headers; dst should hold at least 40 bytes. */
void header_format_date(time_t t, char *dst, size_t size);

#endif
