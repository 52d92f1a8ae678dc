/* SPDX-License-Identifier: ISC */
/*
 * The SASL mechanisms mailsub knows and what each needs, and whether an
 * account authenticates at all: the one list, without libgsasl, read by
 * config_keys.c (auth = and its error text), config_rules.c (does the
 * account send a secret), submit.c (is AUTH needed) and auth.c, the SASL
 * module, which runs the exchange (RFC 4954).  A new mechanism is one line
 * here, its exchange in auth.c when libgsasl does not do it, and
 * man/mailsub.conf.5.
 */
#ifndef MAILSUB_SASL_MECHS_H
#define MAILSUB_SASL_MECHS_H

#include <stdbool.h>
#include <stddef.h>

struct account;

/* What a mechanism needs.  A token mechanism's secret is an OAuth 2.0
 * bearer token (RFC 6750), and auth.c builds its message, not libgsasl. */
enum {
	SASL_MECH_PASSWORD = 1u << 0,	  /* sends the password or token */
	SASL_MECH_TOKEN = 1u << 1,	  /* XOAUTH2, OAUTHBEARER */
	SASL_MECH_PLUS = 1u << 2,	  /* needs TLS channel binding */
	SASL_MECH_CLIENT_FIRST = 1u << 3, /* sends an initial response */
	SASL_MECH_EXPLICIT = 1u << 4,	  /* only when named in auth = */
	SASL_MECH_CERT = 1u << 5,	  /* needs a TLS client certificate */
	SASL_MECH_NO_USER = 1u << 6,	  /* works without user */
};

struct sasl_mech {
	const char *name; /* upper case, as the SASL registry writes it */
	unsigned flags;
};

/*
 * Every mechanism, ended by {NULL, 0}.  The order is the preference order
 * of auth = on, strongest first (man/mailsub.conf.5); the mechanisms
 * marked SASL_MECH_EXPLICIT are never chosen by it.
 */
extern const struct sasl_mech sasl_mechs[];

/* The entry for name (case-insensitive, RFC 4422 3.1), or NULL. */
const struct sasl_mech *sasl_mech_find(const char *name);

/* How many there are. */
size_t sasl_mech_count(void);

/* Their names, ", " between, into out (truncated to size). */
void sasl_mech_names(char *out, size_t size);

/*
 * Whether the account authenticates: auth = on or a list, or the default
 * with a user set (man/mailsub.conf.5, auth).
 */
bool sasl_auth_needed(const struct account *acct);

#endif
