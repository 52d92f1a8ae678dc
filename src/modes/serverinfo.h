/* SPDX-License-Identifier: ISC */
/*
 * --serverinfo: what the account's relay is and what it offers.  Connects
 * exactly as a delivery would (the same TLS verification, no fallback) but
 * never logs in, then describes the greeting, the capabilities before and
 * after TLS, the TLS version and cipher, the certificate chain and the AUTH
 * mechanisms, as text or as one JSON object.
 */
#ifndef MAILSUB_SERVERINFO_H
#define MAILSUB_SERVERINFO_H

#include <stdbool.h>
#include <stdio.h>

struct buf;
struct error;
struct options;
struct smtp_caps;

/* What one session learnt.  Every string but tls_mode and the names may
 * hold whatever the server sent: the formatter escapes them. */
struct serverinfo {
	const char *account;
	const char *host;
	unsigned port;
	const char *tls_mode; /* "starttls", "implicit" or "off" */
	const char *greeting; /* the greeting reply, one line */
	bool helo_only;	      /* the server refused EHLO */
	/* The EHLO before STARTTLS, or NULL when none was sent in clear
	 * (implicit TLS, or no TLS at all: then caps is that list). */
	const struct smtp_caps *caps_before_tls;
	const struct smtp_caps *caps; /* the list the session goes on with */
	const char *tls_version;      /* NULL: no TLS */
	const char *tls_cipher;
	bool tls_resumed;
	/* tls_describe_chain() output in the same format (text, or a JSON
	 * array), or NULL without TLS. */
	const char *chain;
};

/* Format si as text (one "name: value" per line) or as one JSON object,
 * appending to out.  Pure; exported for tests. */
int serverinfo_format(
    const struct serverinfo *si, bool json, struct buf *out, struct error *err);

/*
 * Choose the account as a delivery does (-a, -f, the default), connect to
 * its relay with authentication turned off, describe the session to out
 * (opts->json selects JSON) and QUIT.  Nothing is printed on failure:
 * err says "ACCOUNT: HOST:PORT: PHASE: reason" (a certificate that does
 * not verify is EX_UNAVAILABLE, as for a delivery).
 */
int serverinfo_run(const struct options *opts, FILE *out, struct error *err);

#endif
