/* SPDX-License-Identifier: ISC */
/*
 * Inside mailsub-oauth.so (oauth_module.h): the HTTPS requests with their
 * JSON answers (oauth_http.c, the only libcurl and jansson user), and the
 * authorization flows built on them (oauth_flow.c): PKCE, the
 * authorization URL, the loopback listener, the pasted redirect, the
 * device code.  The pure helpers are exported for the unit tests.
 */
#ifndef MAILSUB_OAUTH_FLOW_H
#define MAILSUB_OAUTH_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "oauth_module.h"

struct error;

/* RFC 7636 4.1: 32 random octets, base64url: 43 characters. */
#define OAUTH_VERIFIER_LEN 43
/* A request line, a pasted address: a few KiB at most. */
#define OAUTH_REDIRECT_MAX 8192
/* An OAuth error code (RFC 6749 5.2: %x20-21 / %x23-5B / %x5D-7E). */
#define OAUTH_ERROR_CODE_MAX 64

/* --- oauth_http.c ------------------------------------------------------ */

/* RFC 6749 Appendix B: key=value, application/x-www-form-urlencoded, with
 * "&" before all but the first pair. */
int oauth_form_add(
    struct buf *form, const char *key, const char *value, struct error *err);

/* What an endpoint answered besides a grant. */
struct oauth_answer {
	long status;			  /* HTTP status */
	char error[OAUTH_ERROR_CODE_MAX]; /* RFC 6749 5.2 "error", or "" */
	char description[160];		  /* its description, escaped */
};

/*
 * POST form to the token endpoint and take the grant (RFC 6749 5.1).  An
 * error answer (5.2) fills answer and sets err by its class: see
 * oauth_module.h; the flows look at answer->error for the device codes.
 */
int oauth_http_token(const struct oauth_request *req, const struct buf *form,
    struct oauth_grant *out, struct oauth_answer *answer, struct error *err);

/* RFC 8628 3.1, 3.2: the device authorization request. */
struct oauth_device {
	struct buf device_code; /* a secret: wiped by the caller */
	char user_code[64];
	char verification_uri[512];
	char message[512]; /* the server's instructions, or "" */
	long long expires_in;
	long long interval;
};
int oauth_http_device(
    const struct oauth_request *req, struct oauth_device *d, struct error *err);

/* "host[:port]" of an https URL, for messages. */
void oauth_url_host(const char *url, char *out, size_t size);

/* --- oauth_flow.c ------------------------------------------------------ */

/* RFC 4648 5 without padding. */
void oauth_base64url(const unsigned char *p, size_t n, char *out, size_t size);
/* RFC 7636 4.2: BASE64URL(SHA256(verifier)), 43 characters + NUL. */
int oauth_pkce_challenge(
    const char *verifier, char *out, size_t size, struct error *err);

/* The authorization request (RFC 6749 4.1.1, RFC 7636 4.3) into url. */
int oauth_authorization_url(const struct oauth_request *req,
    const char *redirect_uri, const char *state, const char *challenge,
    struct buf *url, struct error *err);

/* What came back to the redirect URI (RFC 6749 4.1.2, 4.1.2.1). */
struct oauth_redirect {
	struct buf code; /* a secret: wiped by the caller */
	char state[128];
	char error[OAUTH_ERROR_CODE_MAX];
	char description[160]; /* escaped */
};
void oauth_redirect_init(struct oauth_redirect *r);
void oauth_redirect_free(struct oauth_redirect *r);
/* Parse an address (http://127.0.0.1:PORT/?code=...&state=...) or a
 * request target (/?code=...) into r: EX_DATAERR when it carries neither
 * a code nor an error. */
int oauth_parse_redirect(
    const char *s, size_t len, struct oauth_redirect *r, struct error *err);

/* The module's login entry point (oauth_module.h). */
int oauth_flow_login(const struct oauth_request *req,
    enum oauth_login_mode mode, const struct oauth_login_io *io,
    struct oauth_grant *out, struct error *err);

#endif
