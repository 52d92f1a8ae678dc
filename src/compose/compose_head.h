/* SPDX-License-Identifier: ISC */
/*
 * The header block of a composed message (compose.h): From, To, Cc,
 * Reply-To, Subject, Date, Message-ID, the --header fields and
 * MIME-Version, with display names and text that are not ASCII as RFC 2047
 * encoded-words, every line folded within 76 characters where it can be.
 * Pure but for the clock and the random part of the Message-ID.
 */
#ifndef MAILSUB_COMPOSE_HEAD_H
#define MAILSUB_COMPOSE_HEAD_H

#include <stddef.h>

struct buf;
struct compose_options;
struct error;
struct header_options;

/*
 * Initialise head and write the fields into it, each line ending '\n'.
 * From is --from, else the full name <ho->envelope_from> (EX_USAGE when
 * the envelope sender is null); an address argument that does not parse,
 * or text too long to fold, is EX_USAGE.
 */
int compose_head_build(struct buf *head, const struct compose_options *co,
    const struct header_options *ho, struct error *err);

#endif
