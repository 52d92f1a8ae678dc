/* SPDX-License-Identifier: ISC */
/*
 * The header block of a message: -t recipients (To, Cc, Bcc, or the
 * Resent-* set), Bcc and Resent-Bcc removal, From fix/force, bare To/Cc
 * completion, and the missing From, Date and Message-ID.  Pure: it gets
 * the block in memory and hands back the lines to write; reading, bounds
 * and the wire form are message.c's.
 */
#ifndef MAILSUB_HEADER_H
#define MAILSUB_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

struct message;
struct message_options;

/* Receives one line to write, without its line ending; -1 stops. */
typedef int (*header_put_fn)(void *arg, const char *line, size_t len);

/* What header_process() found besides the lines. */
struct header_status {
	bool failed; /* a content error (bad -t address): in error */
	struct error error;
	size_t lines; /* lines handed to put */
};

/*
 * Process a header block: text holds lines separated by '\n' (no CR; a
 * line starting with a space or tab continues the field before it).
 * Emits the lines to write through put: the missing From, Date and
 * Message-ID first (when mo->acct->add_headers), then the fields in order
 * without Bcc/Resent-Bcc, with From (from_header) and To/Cc
 * (default_domain) rewritten.  With mo->read_recipients the recipients
 * are added to m->header_rcpts; the Message-ID (kept or generated, with
 * <>) goes to m->message_id.  A bad address in a -t field is recorded in
 * st (EX_DATAERR naming the field) and processing goes on; -1 (err set)
 * means put failed or memory ran out.
 */
int header_process(const char *text, size_t len,
    const struct message_options *mo, header_put_fn put, void *arg,
    struct message *m, struct header_status *st, struct error *err);

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

/* RFC 5322 3.3 date-time of t in the local time zone with a numeric
 * offset and C-locale names ("Tue, 5 Mar 2024 14:03:22 +0100"), for Date
 * headers; dst should hold at least 40 bytes. */
void header_format_date(time_t t, char *dst, size_t size);

#endif
