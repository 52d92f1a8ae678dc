/* SPDX-License-Identifier: ISC */
/*
 * SMTP AUTH (RFC 4954) with libgsasl, plus XOAUTH2 and OAUTHBEARER done
 * here because Debian's libgsasl lacks them.  Chooses the mechanism from the
 * (post-TLS) capability list and runs the challenge loop.  The only gsasl
 * user.  The mechanisms and what each needs are sasl_mechs.h.  Built into
 * the module mailsub-sasl.so, whose one export is mailsub_sasl_module: the
 * core gets it from tlsmod_sasl() (tlsmod.h) and calls through it; the
 * unit tests link auth.c and may call the functions themselves.
 */
#ifndef MAILSUB_AUTH_H
#define MAILSUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "tlsmod.h"

struct account;
struct conn;
struct error;
struct peer;
struct smtp_caps;

/* Upper bound on 334 rounds before the server is called broken. */
#define AUTH_ROUNDS_MAX 16

/*
 * The version of struct sasl_module and of everything passed through it.
 * Bump it whenever struct sasl_module, a type it passes or reaches (struct
 * conn, transport, tls_info, account, peer, smtp_caps, smtp_reply, error,
 * buf), the mechanism table (struct sasl_mech), or a function of the
 * binary that auth.c calls changes (tlsmod.h).  5: login() takes the peer,
 * secret_get_password() the host.
 */
#define SASL_MODULE_ABI 5

struct sasl_module {
	struct module_head head; /* {SASL_MODULE_ABI, PACKAGE_VERSION} */

	/*
	 * Authenticate over c to peer with acct's credentials.  535 ->
	 * EX_NOPERM, 454 -> EX_TEMPFAIL, malformed challenge or too many
	 * rounds -> EX_PROTOCOL.  Secrets are wiped.  Does nothing (returns
	 * 0) when the account does not authenticate (sasl_auth_needed()).
	 * auth_login().
	 *
	 * The peer, not just its host: what the mechanisms say about the
	 * server (GSSAPI's smtp/HOST, OAUTHBEARER's host and port, the
	 * SCRAM cache entry's host and port) then comes from the one struct
	 * the link was made with, as for TLS.  peer->host may be NULL.
	 */
	int (*login)(struct conn *c, const struct account *acct,
	    const struct peer *peer, const struct smtp_caps *caps,
	    bool tls_active, struct error *err);

	/* For --version: the libgsasl version the module was built with and
	 * the one it runs with.  auth_versions(). */
	void (*versions)(const char **built, const char **loaded);
};

extern TLSMOD_EXPORT const struct sasl_module mailsub_sasl_module;

/*
 * Choose the mechanism (pure; for the tests): the account's list
 * honoured strictly, else the preference order SCRAM-SHA-256-PLUS ...
 * CRAM-MD5 (sasl_mechs.h) restricted to what the server offers and what
 * may run on this link (no password over plaintext unless
 * allow_plaintext_auth; -PLUS only with channel binding).  Fails with
 * EX_UNAVAILABLE naming what is missing.
 */
int auth_choose(const struct account *acct, const char *server_mechs,
    bool tls_active, bool have_channel_binding, char *mech, size_t mech_size,
    struct error *err);

/* The login entry point itself (for the unit tests). */
int auth_login(struct conn *c, const struct account *acct,
    const struct peer *peer, const struct smtp_caps *caps, bool tls_active,
    struct error *err);
void auth_versions(const char **built, const char **loaded);

#endif
