/* SPDX-License-Identifier: ISC */
/*
 * --configure ADDRESS: a ready account section for an address, from the
 * provider presets (config_provider.h), else the provider that runs the
 * domain's MX hosts (a domain of its own at Microsoft 365, Google Workspace,
 * ...), else the RFC 6186 SRV records _submissions._tcp (implicit TLS, RFC
 * 8314) and _submission._tcp (STARTTLS).  The DNS answer parser is pure and
 * tested on canned answers; only discover_run() asks the resolver.
 */
#ifndef MAILSUB_DISCOVER_H
#define MAILSUB_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "account.h"

struct error;

/* RFC 1035 2.3.4: a name is at most 255 octets. */
#define DISCOVER_NAME_MAX 255
/* SRV records kept from one answer. */
#define DISCOVER_SRV_MAX 32

struct discover_srv {
	unsigned priority;
	unsigned weight;
	unsigned port;
	char target[DISCOVER_NAME_MAX + 1]; /* without the final dot;
					       "." = no service */
};

/*
 * Parse a DNS response (RFC 1035 4.1) and keep the SRV records (RFC 2782)
 * of its answer section, at most max, in out; *n is how many.  Names may
 * be compressed (bounded pointer chasing).  A target that is not a plain
 * host name (letters, digits, '-', '.') is skipped, so nothing a DNS
 * server says can inject text into the printed configuration.  Bad
 * packets are EX_PROTOCOL; a response with an error RCODE gives *n = 0.
 */
int discover_parse_srv(const unsigned char *msg, size_t len,
    struct discover_srv *out, size_t max, size_t *n, struct error *err);

/* MX records kept from one answer. */
#define DISCOVER_MX_MAX 16

struct discover_mx {
	unsigned preference;
	char host[DISCOVER_NAME_MAX + 1]; /* lower case, no final dot */
};

/*
 * The MX records (RFC 1035 3.3.9) of a DNS response, parsed with the
 * resolver library's ns_initparse()/ns_parserr(), sorted by preference
 * (the order RFC 5321 5.1 tries them), at most max; *n is how many.  A
 * host that is not a plain host name is skipped; a response with an error
 * RCODE gives *n = 0; a malformed one is EX_PROTOCOL.
 */
int discover_parse_mx(const unsigned char *msg, size_t len,
    struct discover_mx *out, size_t max, size_t *n, struct error *err);

/* The record to use: lowest priority, then highest weight, then the first
 * (deterministic, unlike RFC 2782's weighted random choice, so the printed
 * section does not change between runs); NULL when none or the only one
 * says "no service" (target "."). */
const struct discover_srv *discover_pick(
    const struct discover_srv *srv, size_t n);

/* What --configure prints. */
struct discover_result {
	char section[65];     /* account name: at most 64 bytes */
	const char *provider; /* a preset name, or NULL */
	const char *provider_note;
	char host[DISCOVER_NAME_MAX + 1];
	unsigned port;
	enum account_tls tls;
	char source[400]; /* how it was found, for a comment */
	bool guessed;	  /* nothing found: host is a guess */
};

/*
 * The section for address (local@domain) from r, in mailsub.conf(5)
 * syntax, with comments saying where the values came from.  The address
 * must already be checked (discover_check_address).
 */
void discover_format(
    const char *address, const struct discover_result *r, FILE *out);

/* Whether address can be written into an INI value unquoted: one '@',
 * a host name domain, none of ; # " = and no control characters.
 * EX_USAGE otherwise.  *domain points into address. */
int discover_check_address(
    const char *address, const char **domain, struct error *err);

/* The preset for the address's domain, else the MX hosts' provider, else
 * SRV records, else a guess;
 * printed to out.  Errors: EX_USAGE for a bad address. */
int discover_run(const char *address, FILE *out, struct error *err);

#endif
