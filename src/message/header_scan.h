/* SPDX-License-Identifier: ISC */
/*
 * Where the mailboxes of an address list are in raw header text (folding
 * included), so that header.c can rewrite a field keeping everything
 * else.  address_parse_list() (address.h) judges validity; this only finds
 * where things are.
 */
#ifndef MAILSUB_HEADER_SCAN_H
#define MAILSUB_HEADER_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* One mailbox: offsets into the text the scan was given. */
struct header_mailbox {
	bool have_tok;
	size_t tok_start, tok_end; /* words outside <> and comments */
	bool tok_at;
	bool angle;
	size_t angle_start, angle_end; /* inside <> */
	bool angle_at;
	bool have_comment;
	size_t comment_start, comment_end; /* first comment's contents */
};

/* Called for each mailbox found; -1 stops the scan. */
typedef int (*header_mailbox_fn)(void *arg, const struct header_mailbox *mb);

/* Call fn for each mailbox of the address list v (n bytes), group names
 * skipped.  Returns what the last call returned, or -1 if one stopped. */
int header_scan_mailboxes(
    const char *v, size_t n, header_mailbox_fn fn, void *arg);

#endif
