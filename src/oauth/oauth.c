/* SPDX-License-Identifier: ISC */
/*
 * OAuth2 tokens (oauth.h): the provider endpoints and the choice between
 * the stored access token and a new one.  Runs that find the token stale
 * take the file's lock and read it again before refreshing, so parallel
 * runs ask the endpoint once.  The token file itself, its format and its
 * lock are oauth_store.c's; the HTTP exchanges the OAuth2 module's.
 */
/*
 * OAuth2 tokens (oauth.h): the provider endpoints, the token file and its
 * lock, and the choice between the stored access token and a new one.
 * The token file is written as the queue writes a message: a temporary
 * file, fsync, rename, fsync of the directory, so a crash leaves the old
 * file or the new one, never half of either.  Runs that find the token
 * stale take the file's lock and read it again before refreshing, so
 * parallel runs ask the endpoint once.
 *
 * The system accounts' tokens (mailsub(1), SECURITY CONSIDERATIONS) live
 * in the system state directory, root's with the group mailsub, and are
 * rewritten by every caller of the setgid program.  A file that caller
 * created would be the caller's own, to read outside mailsub, so those
 * files are made by root alone (at --oauth2-login) and rewritten in place:
 * two slots, STEM.token and STEM.token.2, the older one overwritten, each
 * ending in an "end" line so that a torn write is seen, the newest whole
 * one read.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "error.h"
#include "fdio.h"
#include "log.h"
#include "oauth.h"
#include "oauth_module.h"
#include "oauth_store.h"
#include "secret.h"
#include "tlsmod.h"

/* Google: developers.google.com/identity/protocols/oauth2/native-app and
 * .../limited-input-device; the scope of SMTP (XOAUTH2). */
#define GOOGLE_AUTH_URL	  "https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_TOKEN_URL  "https://oauth2.googleapis.com/token"
#define GOOGLE_DEVICE_URL "https://oauth2.googleapis.com/device/code"
#define GOOGLE_SCOPE	  "https://mail.google.com/"
/* Microsoft identity platform v2.0 endpoints, per tenant; SMTP AUTH's
 * scope and offline_access for a refresh token. */
#define MICROSOFT_BASE	 "https://login.microsoftonline.com/"
#define MICROSOFT_TENANT "common"
#define MICROSOFT_SCOPE	 "https://outlook.office.com/SMTP.Send offline_access"

/* How long a run waits for another one's refresh beyond the time that
 * refresh may take itself. */
#define OAUTH_LOCK_SLACK_SECONDS 5

/* The module, once loaded (or the unit tests' stand-in). */
static const struct oauth_module *module;

/* The token this process fetched last: its account and the "updated"
 * stamp it was stored with (no secret kept).  A token fetched in this run
 * is used until it actually expires, even within the margin, and the
 * server refusing it is not retried (oauth_get_token's *fetched). */
static char fetched_account[256];
static long long fetched_updated;

static bool
fetched_here(const struct account *acct, const struct oauth_tokens *t)
{
	return fetched_updated != 0 && t->updated == fetched_updated &&
	       strcmp(fetched_account, acct->name) == 0;
}

void
oauth_use_module(const struct oauth_module *m)
{
	module = m;
}

static int
load_module(struct error *err)
{
	if (module == NULL)
		module = tlsmod_oauth(err);
	return module != NULL ? 0 : -1;
}

/* --- configuration ----------------------------------------------------- */

bool
oauth_enabled(const struct account *acct)
{
	return acct->oauth2_client_id != NULL;
}

static int
copy(char *dst, size_t size, const char *s, const char *what, struct error *err)
{
	if ((size_t)snprintf(dst, size, "%s", s) >= size)
		return error_set(err, EX_CONFIG, "%s is too long", what);
	return 0;
}

int
oauth_endpoints(
    const struct account *acct, struct oauth_endpoints *e, struct error *err)
{
	const char *tenant = acct->oauth2_tenant != NULL ? acct->oauth2_tenant
							 : MICROSOFT_TENANT;

	memset(e, 0, sizeof(*e));
	switch (acct->oauth2_provider) {
	case ACCOUNT_OAUTH2_GOOGLE:
		e->provider = "google";
		snprintf(e->auth_url, sizeof(e->auth_url), GOOGLE_AUTH_URL);
		snprintf(e->token_url, sizeof(e->token_url), GOOGLE_TOKEN_URL);
		snprintf(
		    e->device_url, sizeof(e->device_url), GOOGLE_DEVICE_URL);
		snprintf(e->scope, sizeof(e->scope), GOOGLE_SCOPE);
		break;
	case ACCOUNT_OAUTH2_MICROSOFT:
		e->provider = "microsoft";
		if ((size_t)snprintf(e->auth_url, sizeof(e->auth_url),
			"%s%s/oauth2/v2.0/authorize", MICROSOFT_BASE,
			tenant) >= sizeof(e->auth_url))
			return error_set(err, EX_CONFIG, "tenant too long");
		snprintf(e->token_url, sizeof(e->token_url),
		    "%s%s/oauth2/v2.0/token", MICROSOFT_BASE, tenant);
		snprintf(e->device_url, sizeof(e->device_url),
		    "%s%s/oauth2/v2.0/devicecode", MICROSOFT_BASE, tenant);
		snprintf(e->scope, sizeof(e->scope), MICROSOFT_SCOPE);
		break;
	case ACCOUNT_OAUTH2_CUSTOM:
		e->provider = "custom";
		break;
	case ACCOUNT_OAUTH2_NONE:
		return error_set(
		    err, EX_CONFIG, "no OAuth2 provider: set oauth2_provider");
	}
	if ((acct->oauth2_auth_url != NULL &&
		copy(e->auth_url, sizeof(e->auth_url), acct->oauth2_auth_url,
		    "oauth2_auth_url", err) == -1) ||
	    (acct->oauth2_token_url != NULL &&
		copy(e->token_url, sizeof(e->token_url), acct->oauth2_token_url,
		    "oauth2_token_url", err) == -1) ||
	    (acct->oauth2_device_url != NULL &&
		copy(e->device_url, sizeof(e->device_url),
		    acct->oauth2_device_url, "oauth2_device_url", err) == -1) ||
	    (acct->oauth2_scope != NULL &&
		copy(e->scope, sizeof(e->scope), acct->oauth2_scope,
		    "oauth2_scope", err) == -1))
		return -1;
	if (e->token_url[0] == '\0')
		return error_set(err, EX_CONFIG,
		    "oauth2_provider = custom needs oauth2_token_url");
	return 0;
}

/* --- getting a token ---------------------------------------------------- */

/* Whether the file's tokens belong to this account as configured now. */
static const char *
mismatch(const struct account *acct, const struct oauth_endpoints *e,
    const struct oauth_tokens *t)
{
	if (strcmp(t->client_id, acct->oauth2_client_id) != 0)
		return "another oauth2_client_id";
	if (strcmp(t->token_url, e->token_url) != 0)
		return "another token endpoint";
	if (t->user[0] != '\0' && acct->user != NULL &&
	    strcmp(t->user, acct->user) != 0)
		return "another user";
	return NULL;
}

static int
need_login(const struct account *acct, const char *why, struct error *err)
{
	return error_set(err, EX_NOPERM,
	    "OAuth2: %s; run mailsub --oauth2-login %s to sign in", why,
	    acct->name);
}

/* The module's request for the account; secret holds the client secret
 * (wiped by the caller). */
static int
fill_request(const struct account *acct, const struct oauth_endpoints *e,
    struct oauth_request *req, struct buf *secret, struct error *err)
{
	memset(req, 0, sizeof(*req));
	if (secret_get_client_secret(acct, secret, err) == -1)
		return -1;
	req->account = acct->name;
	req->provider = e->provider;
	req->client_id = acct->oauth2_client_id;
	req->client_secret = secret->len > 0 ? buf_str(secret) : NULL;
	req->auth_url = e->auth_url[0] != '\0' ? e->auth_url : NULL;
	req->token_url = e->token_url;
	req->device_url = e->device_url[0] != '\0' ? e->device_url : NULL;
	req->scope = e->scope[0] != '\0' ? e->scope : NULL;
	req->trust_file = acct->oauth2_trust_file;
	req->login_hint = acct->user;
	req->connect_timeout = acct->connect_timeout;
	req->timeout = acct->timeout;
	return 0;
}

static void
grant_init(struct oauth_grant *g)
{
	buf_init(&g->access_token, OAUTH_TOKEN_MAX);
	buf_init(&g->refresh_token, OAUTH_TOKEN_MAX);
	g->expires_in = -1;
}

static void
grant_wipe(struct oauth_grant *g)
{
	buf_wipe(&g->access_token);
	buf_wipe(&g->refresh_token);
}

/* Put the grant into t: the access token, its end, and the refresh token
 * when the server sent one (RFC 6749 6: it may rotate it). */
static int
take_grant(struct oauth_tokens *t, const struct oauth_grant *g, long long now,
    struct error *err)
{
	buf_reset(&t->access_token);
	if (buf_append(&t->access_token, buf_str(&g->access_token),
		g->access_token.len, err) == -1)
		return -1;
	if (g->refresh_token.len > 0) {
		buf_reset(&t->refresh_token);
		if (buf_append(&t->refresh_token, buf_str(&g->refresh_token),
			g->refresh_token.len, err) == -1)
			return -1;
	}
	t->expires =
	    now + (g->expires_in >= 0 ? g->expires_in : OAUTH_DEFAULT_LIFETIME);
	t->updated = now;
	return 0;
}

static bool
same_token(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(buf_str(a), buf_str(b), a->len) == 0;
}

static int
give(const struct oauth_tokens *t, struct buf *access, struct error *err)
{
	buf_reset(access);
	return buf_append(
	    access, buf_str(&t->access_token), t->access_token.len, err);
}

/* Under the lock: the file again (another run may have renewed it), else
 * the token endpoint. */
static int
renew(const struct account *acct, const struct oauth_endpoints *e,
    struct oauth_store *s, const struct buf *rejected, struct buf *access,
    bool *fetched, struct error *err)
{
	struct oauth_tokens t;
	struct oauth_request req;
	struct oauth_grant g;
	struct buf secret;
	const char *why;
	long long now;
	int r, rc = -1;

	oauth_tokens_init(&t);
	grant_init(&g);
	buf_init(&secret, OAUTH_FIELD_MAX * 4);
	r = oauth_store_read(s, &t, err);
	if (r == -1)
		goto out;
	if (r == 1) {
		need_login(acct, "no token yet", err);
		goto out;
	}
	if ((why = mismatch(acct, e, &t)) != NULL) {
		char what[80];

		snprintf(what, sizeof(what), "the stored token is for %s", why);
		need_login(acct, what, err);
		goto out;
	}
	now = (long long)time(NULL);
	if (oauth_tokens_fresh(&t, now) &&
	    (rejected == NULL || !same_token(&t.access_token, rejected))) {
		log_verbose("OAuth2: another mailsub renewed the token");
		rc = give(&t, access, err);
		goto out;
	}
	if (t.refresh_token.len == 0) {
		need_login(acct,
		    "the stored token cannot be renewed (no "
		    "refresh token)",
		    err);
		goto out;
	}
	if (load_module(err) == -1 ||
	    fill_request(acct, e, &req, &secret, err) == -1)
		goto out;
	log_verbose("OAuth2: asking %s for a new access token", e->token_url);
	if (module->refresh(&req, buf_str(&t.refresh_token), &g, err) == -1)
		goto out;
	*fetched = true;
	now = (long long)time(NULL);
	if (take_grant(&t, &g, now, err) == -1)
		goto out;
	oauth_store_stamp(s, &t);
	snprintf(fetched_account, sizeof(fetched_account), "%s", acct->name);
	fetched_updated = t.updated;
	/* Stored before it is used: a rotated refresh token (Microsoft's)
	 * must survive whatever happens to this run next. */
	if (oauth_store_write(s, &t, err) == -1) {
		err->exit_code = EX_TEMPFAIL;
		error_prefix(err, "OAuth2: cannot store the new token");
		goto out;
	}
	log_verbose("OAuth2: new access token stored, valid for %lld s%s",
	    t.expires - now,
	    g.refresh_token.len > 0 ? "; the refresh token was renewed too"
				    : "");
	rc = give(&t, access, err);
out:
	buf_wipe(&secret);
	grant_wipe(&g);
	oauth_tokens_free(&t);
	return rc;
}

int
oauth_get_token(const struct account *acct, const struct buf *rejected,
    struct buf *access, bool *fetched, struct error *err)
{
	struct oauth_endpoints e;
	struct oauth_tokens t;
	struct oauth_store s;
	const char *why = NULL;
	int r, rc = -1;

	*fetched = false;
	if (oauth_endpoints(acct, &e, err) == -1)
		return -1;
	if (oauth_store_locate(acct, &s, true, err) == -1) {
		error_prefix(err, "OAuth2");
		return -1;
	}
	oauth_tokens_init(&t);
	/* The common case: a fresh token, read without the lock (the file
	 * is replaced by rename, never rewritten in place). */
	r = oauth_store_read(&s, &t, err);
	if (r == -1) {
		error_prefix(err, "OAuth2");
		goto out;
	}
	if (r == 0)
		why = mismatch(acct, &e, &t);
	if (r == 0 && why == NULL && rejected == NULL &&
	    (oauth_tokens_fresh(&t, (long long)time(NULL)) ||
		(fetched_here(acct, &t) &&
		    t.expires > (long long)time(NULL)))) {
		*fetched = fetched_here(acct, &t);
		if (!*fetched)
			log_verbose("OAuth2: using the stored access token "
				    "(valid for %lld s more)",
			    t.expires - (long long)time(NULL));
		rc = give(&t, access, err);
		goto out;
	}
	if (r == 1 || why != NULL) {
		/* Nothing the endpoint could fix: say so without waiting
		 * for the lock. */
		rc = renew(acct, &e, &s, rejected, access, fetched, err);
		goto out;
	}
	if (oauth_store_lock(&s,
		acct->connect_timeout + acct->timeout +
		    OAUTH_LOCK_SLACK_SECONDS,
		err) == -1) {
		error_prefix(err, "OAuth2");
		goto out;
	}
	rc = renew(acct, &e, &s, rejected, access, fetched, err);
out:
	oauth_tokens_free(&t);
	oauth_store_close(&s);
	if (rc == -1)
		buf_wipe(access);
	return rc;
}

int
oauth_prepare(const struct account *acct, struct error *err)
{
	struct buf token;
	bool fetched;
	size_t i;
	int rc;

	if (!oauth_enabled(acct) || acct->auth != ACCOUNT_AUTH_LIST)
		return 0;
	for (i = 0; i < acct->n_auth_mechs; i++)
		if (strcmp(acct->auth_mechs[i], "XOAUTH2") == 0 ||
		    strcmp(acct->auth_mechs[i], "OAUTHBEARER") == 0)
			break;
	if (i == acct->n_auth_mechs)
		return 0;
	buf_init(&token, OAUTH_TOKEN_MAX);
	rc = oauth_get_token(acct, NULL, &token, &fetched, err);
	buf_wipe(&token);
	return rc;
}

int
oauth_status(const struct account *acct, char *out, size_t size)
{
	struct oauth_endpoints e;
	struct oauth_tokens t;
	struct error err;
	struct oauth_store s;
	const char *why;
	long long now = (long long)time(NULL);
	int r, rc = 1;

	error_clear(&err);
	if (oauth_endpoints(acct, &e, &err) == -1 ||
	    oauth_store_locate(acct, &s, true, &err) == -1) {
		snprintf(out, size, "%s", err.message);
		return 1;
	}
	oauth_tokens_init(&t);
	r = oauth_store_read(&s, &t, &err);
	if (r == -1)
		snprintf(out, size, "%s", err.message);
	else if (r == 1)
		snprintf(out, size,
		    "no token yet: run mailsub --oauth2-login %s", acct->name);
	else if ((why = mismatch(acct, &e, &t)) != NULL)
		snprintf(out, size,
		    "the stored token is for %s: run mailsub --oauth2-login %s",
		    why, acct->name);
	else if (t.refresh_token.len == 0 && !oauth_tokens_fresh(&t, now))
		snprintf(out, size,
		    "the token has expired and cannot be renewed: run mailsub "
		    "--oauth2-login %s",
		    acct->name);
	else {
		if (oauth_tokens_fresh(&t, now))
			snprintf(out, size,
			    "signed in; the access token is good for %lld "
			    "min more%s",
			    (t.expires - now) / 60,
			    t.refresh_token.len > 0 ? ", then renewed" : "");
		else
			snprintf(out, size,
			    "signed in; the access token is renewed on the "
			    "next send");
		rc = 0;
	}
	oauth_tokens_free(&t);
	oauth_store_close(&s);
	return rc;
}

/* --- logging in --------------------------------------------------------- */

int
oauth_login(const struct account *acct, enum oauth_login_mode mode, FILE *out,
    int in_fd, struct error *err)
{
	struct oauth_endpoints e;
	struct oauth_login_io io;
	struct oauth_request req;
	struct oauth_tokens t;
	struct oauth_grant g;
	struct buf secret;
	struct oauth_store s;
	char path[PATH_MAX + OAUTH_NAME_MAX];
	const char *display;
	int rc = -1;

	if (!oauth_enabled(acct))
		return error_set(err, EX_CONFIG,
		    "%s: no oauth2_client_id: register an application with "
		    "your provider and set it (mailsub.conf(5), OAUTH2)",
		    acct->name);
	if (oauth_endpoints(acct, &e, err) == -1) {
		error_prefix(err, "%s", acct->name);
		return -1;
	}
	/* Whoever signs in chooses whose mailbox the system account sends
	 * from (mailsub(1), SECURITY CONSIDERATIONS). */
	if (acct->system && getuid() != 0)
		return error_set(err, EX_NOPERM,
		    "%s: only root signs a system account in", acct->name);
	if (mode == OAUTH_LOGIN_DEVICE && e.device_url[0] == '\0')
		return error_set(err, EX_CONFIG,
		    "%s: --device needs oauth2_device_url", acct->name);
	if (mode == OAUTH_LOGIN_DEVICE &&
	    acct->oauth2_provider == ACCOUNT_OAUTH2_GOOGLE)
		return error_set(err, EX_CONFIG,
		    "%s: Google refuses the device flow for Gmail's scope; "
		    "use the browser (or --paste on a machine without one)",
		    acct->name);
	if (mode != OAUTH_LOGIN_DEVICE && e.auth_url[0] == '\0')
		return error_set(err, EX_CONFIG,
		    "%s: the browser login needs oauth2_auth_url (or "
		    "--device with oauth2_device_url)",
		    acct->name);
	/* Fail before the user signs in, not after. */
	if (oauth_store_locate(acct, &s, true, err) == -1) {
		error_prefix(err, "%s: OAuth2", acct->name);
		return -1;
	}
	oauth_tokens_init(&t);
	grant_init(&g);
	buf_init(&secret, OAUTH_FIELD_MAX * 4);
	if (load_module(err) == -1 ||
	    fill_request(acct, &e, &req, &secret, err) == -1)
		goto out;
	memset(&io, 0, sizeof(io));
	io.out = out;
	io.in_fd = in_fd;
	display = getenv("WAYLAND_DISPLAY");
	if (display == NULL || *display == '\0')
		display = getenv("DISPLAY");
	io.open_browser =
	    mode == OAUTH_LOGIN_LOOPBACK && display != NULL && *display != '\0';
	/* A person reads, signs in and maybe types a second factor. */
	io.wait_seconds = 600;
	if (module->login(&req, mode, &io, &g, err) == -1)
		goto out;
	snprintf(
	    t.client_id, sizeof(t.client_id), "%s", acct->oauth2_client_id);
	snprintf(t.token_url, sizeof(t.token_url), "%s", e.token_url);
	snprintf(
	    t.user, sizeof(t.user), "%s", acct->user != NULL ? acct->user : "");
	snprintf(t.scope, sizeof(t.scope), "%s", e.scope);
	if (take_grant(&t, &g, (long long)time(NULL), err) == -1)
		goto out;
	if (oauth_store_lock(&s,
		acct->connect_timeout + acct->timeout +
		    OAUTH_LOCK_SLACK_SECONDS,
		err) == -1)
		goto out;
	if (s.system) {
		/* The stamp follows the slots' (oauth_store_stamp). */
		struct oauth_tokens old;
		struct error ignored;

		oauth_tokens_init(&old);
		error_clear(&ignored);
		(void)oauth_store_read(&s, &old, &ignored);
		oauth_tokens_free(&old);
		oauth_store_stamp(&s, &t);
	}
	if (oauth_store_write(&s, &t, err) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", s.dir, s.token);
	fprintf(out, "mailsub: %s: signed in; the token is in %s\n", acct->name,
	    path);
	if (t.refresh_token.len == 0)
		fprintf(out,
		    "mailsub: %s: warning: the server sent no refresh "
		    "token, so this lasts until the access token expires%s\n",
		    acct->name,
		    acct->oauth2_provider == ACCOUNT_OAUTH2_MICROSOFT
			? " (the scope needs offline_access)"
			: "");
	rc = 0;
out:
	if (rc == -1)
		error_prefix(err, "%s", acct->name);
	buf_wipe(&secret);
	grant_wipe(&g);
	oauth_tokens_free(&t);
	oauth_store_close(&s);
	return rc;
}
