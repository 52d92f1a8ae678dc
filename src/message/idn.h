/* SPDX-License-Identifier: ISC */
/*
 * IDN domains (RFC 5890) for servers without SMTPUTF8: the A-label form
 * (xn--...) of a domain, from libidn2 loaded on demand -- only a message
 * to a non-ASCII domain pays for it.  The only libidn2 user.
 */
#ifndef MAILSUB_IDN_H
#define MAILSUB_IDN_H

#include <stddef.h>

struct error;

/*
 * The A-label form of the UTF-8 domain (IDNA2008 with the UTS #46
 * non-transitional mapping, as browsers and libidn2's own tools use) into
 * out.  EX_DATAERR for a domain that is not a valid IDN, or when libidn2
 * is not available (then only an SMTPUTF8 server can take it).
 */
int idn_to_ascii(const char *domain, char *out, size_t size, struct error *err);

#endif
