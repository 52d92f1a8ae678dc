/*
 * SMTP AUTH (RFC 4954) with libgsasl, plus XOAUTH2 and OAUTHBEARER done
 * here because Debian's libgsasl lacks them.  Chooses the mechanism from the
 * (post-TLS) capability list and runs the challenge loop.  The only gsasl
 * user.
 */
#ifndef MAILSUB_AUTH_H
#define MAILSUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct account;
struct conn;
struct error;
struct smtp_caps;

/* Upper bound on 334 rounds before the server is called broken. */
#define AUTH_ROUNDS_MAX 16

/*
 * Choose the mechanism (pure; exported for tests): the account's list
 * honoured strictly, else the preference order SCRAM-SHA-256-PLUS ...
 * CRAM-MD5 restricted to what the server offers and what may run on this
 * link (no password over plaintext unless allow_plaintext_auth; -PLUS only
 * with channel binding).  Fails with EX_UNAVAILABLE naming what is missing.
 */
int auth_choose(const struct account *acct, const char *server_mechs,
    bool tls_active, bool have_channel_binding, char *mech, size_t mech_size,
    struct error *err);

/* Authenticate over c.  535 -> EX_NOPERM, 454 -> EX_TEMPFAIL, malformed
 * challenge or too many rounds -> EX_PROTOCOL.  Secrets are wiped.  Does
 * nothing (returns 0) when auth = off, or auth is the default and no user is
 * set. */
int auth_login(struct conn *c, const struct account *acct,
    const struct smtp_caps *caps, bool tls_active, struct error *err);

#endif
