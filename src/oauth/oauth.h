/* SPDX-License-Identifier: ISC */
/*
 * OAuth2 tokens for XOAUTH2 and OAUTHBEARER (RFC 6749, RFC 7628), kept by
 * mailsub itself when the account sets oauth2_client_id: the provider's
 * endpoints, the account's token file, whether its access token is still
 * good, and when to ask the token endpoint for another.  The HTTPS and
 * the JSON are mailsub-oauth.so's (oauth_module.h), loaded only then: a
 * run with a good token maps neither libcurl nor jansson.
 */
#ifndef MAILSUB_OAUTH_H
#define MAILSUB_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "oauth_module.h"

struct account;
struct error;

/* An access token is used until this many seconds before it expires. */
#define OAUTH_EXPIRY_MARGIN 300
/* The lifetime assumed when the server names none (RFC 6749 5.1 leaves
 * it to the server; Google's and Microsoft's are an hour). */
#define OAUTH_DEFAULT_LIFETIME 3600
#define OAUTH_URL_MAX	       1024
#define OAUTH_FIELD_MAX	       1024
/* The token file: a few lines and two tokens. */
#define OAUTH_FILE_MAX (2 * OAUTH_TOKEN_MAX + 8 * OAUTH_FIELD_MAX)

/* The endpoints and scope of an account's provider, its keys applied. */
struct oauth_endpoints {
	const char *provider;	      /* "google", "microsoft", "custom" */
	char auth_url[OAUTH_URL_MAX]; /* "" when not known */
	char token_url[OAUTH_URL_MAX];
	char device_url[OAUTH_URL_MAX]; /* "" when not known */
	char scope[OAUTH_FIELD_MAX];	/* "" when none */
};

/*
 * What a token file holds (mailsub.conf(5) FILES): the client and the
 * endpoint the tokens are from, the user they were obtained for, and the
 * tokens.  The buffers are secrets: oauth_tokens_free() wipes them.
 */
struct oauth_tokens {
	char client_id[OAUTH_FIELD_MAX];
	char token_url[OAUTH_URL_MAX];
	char user[OAUTH_FIELD_MAX];
	char scope[OAUTH_FIELD_MAX];
	struct buf access_token;
	struct buf refresh_token;
	long long expires; /* time(2) at which the access token ends; 0 none */
	long long updated; /* time(2) of the last change */
};

/* Whether the account takes its XOAUTH2 or OAUTHBEARER token from
 * mailsub's own store (oauth2_client_id set) rather than a password
 * source. */
bool oauth_enabled(const struct account *acct);

/* The account's endpoints (pure; for tests).  EX_CONFIG when the provider
 * is custom and lacks the token URL. */
int oauth_endpoints(
    const struct account *acct, struct oauth_endpoints *e, struct error *err);

void oauth_tokens_init(struct oauth_tokens *t);
void oauth_tokens_free(struct oauth_tokens *t);
/* Parse a token file's contents (pure).  EX_CONFIG naming the line when it
 * is not one; a value is never quoted. */
int oauth_tokens_parse(
    const char *data, size_t len, struct oauth_tokens *t, struct error *err);
/* The file's contents for t (pure); out is a secret. */
int oauth_tokens_format(
    const struct oauth_tokens *t, struct buf *out, struct error *err);
/* Whether the access token is good at time now: present and more than
 * OAUTH_EXPIRY_MARGIN seconds from its end (pure). */
bool oauth_tokens_fresh(const struct oauth_tokens *t, long long now);

/* The token file of the account, for messages and --check-config. */
int oauth_token_path(
    const struct account *acct, char *out, size_t size, struct error *err);

/*
 * The access token for XOAUTH2 or OAUTHBEARER into access (wiped by the
 * caller).  The stored one while it is fresh; otherwise, under the token
 * file's lock, a new one from the token endpoint (through the module),
 * stored with any new refresh token before it is returned.  rejected,
 * when not NULL, is a token the server refused: a different one is
 * wanted.  *fetched says whether this call asked the endpoint.  Errors:
 * no token yet or a refused refresh token EX_NOPERM with the login
 * command; the endpoint unreachable EX_TEMPFAIL; see oauth_module.h.
 */
int oauth_get_token(const struct account *acct, const struct buf *rejected,
    struct buf *access, bool *fetched, struct error *err);

/* Before connecting: make sure a fresh token is stored, so that no HTTPS
 * request waits in the middle of an SMTP session.  A no-op for accounts
 * without OAuth2 or with auth = off. */
int oauth_prepare(const struct account *acct, struct error *err);

/* For --check-config: the token file's state in one line into out, read
 * without the network; 0 when the account can send, 1 when it needs a
 * login (or its file is unusable). */
int oauth_status(const struct account *acct, char *out, size_t size);

/*
 * mailsub --oauth2-login: the user's consent in the given mode, then the
 * tokens stored in the account's token file.  Instructions go to out, a
 * pasted address is read from in_fd.
 */
int oauth_login(const struct account *acct, enum oauth_login_mode mode,
    FILE *out, int in_fd, struct error *err);

/* For tests: use m instead of loading mailsub-oauth.so (NULL: load it). */
void oauth_use_module(const struct oauth_module *m);

#endif
