/* SPDX-License-Identifier: ISC */
/*
 * The entry points of mailsub-oauth.so, the OAuth2 module: libcurl and
 * jansson talking to the token, authorization and device endpoints
 * (oauth_http.c, oauth_flow.c).  The module exports one struct
 * oauth_module, mailsub_oauth_module (tlsmod.h); oauth.c asks the loader
 * for it (tlsmod_oauth()) only when a token must be fetched.  The token
 * file, and when to fetch, are oauth.c's.
 */
#ifndef MAILSUB_OAUTH_MODULE_H
#define MAILSUB_OAUTH_MODULE_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "tlsmod.h"

struct error;

/* The module's ABI (tlsmod.h, struct module_head): raised whenever
 * anything in this header, or a function of the binary the module calls,
 * changes.  3: the PKCE hash through the TLS module (tlsmod_tls()). */
#define OAUTH_MODULE_ABI 3

/* A response from the token endpoint is small (RFC 6749 5.1); anything
 * past this is refused. */
#define OAUTH_RESPONSE_MAX (64 * 1024)
/* An access or refresh token: Microsoft's reach a few KiB. */
#define OAUTH_TOKEN_MAX 16384

/* Where and who: the account's endpoints and client (oauth.c fills it
 * from the configuration, oauth_endpoints()). */
struct oauth_request {
	const char *account;  /* for messages and the login hint */
	const char *provider; /* "google", "microsoft" or "custom" */
	const char *client_id;
	const char *client_secret; /* NULL for a public client */
	const char *auth_url;	   /* NULL when not known */
	const char *token_url;
	const char *device_url;	  /* NULL when not known */
	const char *scope;	  /* NULL: none sent */
	const char *trust_file;	  /* CA file; NULL: the system store */
	const char *login_hint;	  /* the account's user, or NULL */
	unsigned connect_timeout; /* seconds */
	unsigned timeout;	  /* seconds per request */
};

/* What the token endpoint gave (RFC 6749 5.1).  Buffers capped at
 * OAUTH_TOKEN_MAX, wiped by the caller. */
struct oauth_grant {
	struct buf access_token;
	struct buf refresh_token; /* empty: none returned, keep the old one */
	long long expires_in;	  /* seconds; -1 when the server gave none */
};

enum oauth_login_mode {
	OAUTH_LOGIN_LOOPBACK, /* RFC 8252 7.3: a listener on 127.0.0.1 */
	OAUTH_LOGIN_PASTE,    /* the same URL; the user pastes the redirect */
	OAUTH_LOGIN_DEVICE,   /* RFC 8628 */
};

/* The login's terminal: instructions to out, a pasted address from in_fd
 * (-1: none), and whether to start a browser. */
struct oauth_login_io {
	FILE *out;
	int in_fd;
	bool open_browser;
	unsigned wait_seconds; /* how long to wait for the user */
};

struct oauth_module {
	struct module_head head; /* OAUTH_MODULE_ABI */
	/*
	 * RFC 6749 6: a new access token for refresh_token.  Errors: the
	 * endpoint unreachable, 5xx or 429 -> EX_TEMPFAIL; invalid_grant
	 * -> EX_NOPERM; invalid_client, invalid_scope and the like ->
	 * EX_CONFIG; a malformed answer -> EX_PROTOCOL; an untrusted
	 * certificate -> EX_UNAVAILABLE.  No message quotes a token.
	 */
	int (*refresh)(const struct oauth_request *req,
	    const char *refresh_token, struct oauth_grant *out,
	    struct error *err);
	/* The user's consent (RFC 6749 4.1 with RFC 7636 PKCE, or RFC
	 * 8628), then the first grant.  A refusal or an expired code is
	 * EX_NOPERM. */
	int (*login)(const struct oauth_request *req,
	    enum oauth_login_mode mode, const struct oauth_login_io *io,
	    struct oauth_grant *out, struct error *err);
};

/* The module's one export (oauth_http.c). */
extern const struct oauth_module mailsub_oauth_module;

#endif
