/* SPDX-License-Identifier: ISC */
/*
 * RFC 5322 address lists (groups, comments, quoted local parts, display
 * names with encoded words) and envelope address checks.  Pure.
 */
#ifndef MAILSUB_ADDRESS_H
#define MAILSUB_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

/* RFC 5321 4.5.3.1.3: 256 octets for a path; 64 local, 255 domain. */
#define ADDRESS_MAX 256

struct address_list {
	char **addrs; /* addr-specs, no angle brackets */
	size_t n;
	size_t cap;
	/* Private to address.c: a hash index over addrs so the duplicate
	 * check stays O(1) for 100 000 recipients.
	 * Change the list only through address_list_add. */
	struct address_slot {
		uint32_t idx1; /* index into addrs + 1; 0: empty */
		uint32_t hash;
	} * slots;
	size_t n_slots;
	size_t n_indexed;
};

void address_list_init(struct address_list *l);
void address_list_free(struct address_list *l);
/* Append unless an equal address (domain case-insensitive, local part
 * exact) is already there. */
int address_list_add(
    struct address_list *l, const char *addr, struct error *err);
/* Make room for n more addresses at once (a caller that knows how many
 * are coming saves the growing). */
int address_list_reserve(struct address_list *l, size_t n, struct error *err);

/*
 * Whether text is one dot-atom "@" dot-atom (ASCII atext) and nothing
 * else, the form of nearly every recipient on a command line: parsed, it
 * gives back the same bytes, so callers may take it as it is.
 */
bool address_is_plain(const char *text, size_t len);

/*
 * Parse an RFC 5322 address list ("a@x, Name <b@y>, grp: c@z;", comments,
 * quoted strings, obsolete routes) and append each addr-spec to out.  Empty
 * groups such as "undisclosed-recipients:;" add nothing.  Bad syntax is
 * EX_DATAERR (header) -- callers parsing argv turn it into EX_USAGE.
 */
int address_parse_list(
    const char *text, size_t len, struct address_list *out, struct error *err);

/*
 * Check an envelope address (from -f or a recipient after parsing): no
 * CR, LF, NUL or other control characters, no unbalanced quotes or angle
 * brackets, at most ADDRESS_MAX bytes, at most one unquoted '@'.
 * EX_USAGE naming the (escaped) address.
 */
int address_check_envelope(const char *addr, struct error *err);

/* True if the address has no '@' (a local name such as "root"). */
bool address_is_bare(const char *addr);
/* True if every byte is ASCII (otherwise SMTPUTF8 is needed). */
bool address_is_ascii(const char *addr);

/* Alias completion is part of the address API for callers. */
#include "aliases.h"

#endif
