/* SPDX-License-Identifier: ISC */
/*
 * The token and device endpoints over HTTPS (libcurl, GnuTLS flavour) with
 * JSON answers (jansson); the one object mailsub-oauth.so exports.  Only
 * https is spoken, certificates are verified (the system store or
 * oauth2_trust_file), HTTPS_PROXY and NO_PROXY are libcurl's own, every
 * request has a deadline and every answer a size cap.  Every buffer that
 * held a token is wiped, jansson's included (its free wipes).
 */
#include "autoconfig.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "oauth_flow.h"
#include "oauth_module.h"

/* RFC 6749 5.1: the token type mailsub can use (RFC 6750). */
#define BEARER "bearer"

/* jansson keeps tokens in memory it frees itself: wipe it first. */
static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	secure_wipe(p, malloc_usable_size(p));
	free(p);
}

static int
init_libraries(struct error *err)
{
	static bool done;

	if (done)
		return 0;
	json_set_alloc_funcs(malloc, wiping_free);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return error_set(err, EX_SOFTWARE, "libcurl did not start");
	done = true;
	return 0;
}

void
oauth_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	error_escape(out, size, p, n);
}

/* RFC 3986 2.3 unreserved characters stay; a space is "+" (Appendix B of
 * RFC 6749, the HTML form encoding), the rest %XX. */
int
oauth_form_add(
    struct buf *form, const char *key, const char *value, struct error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *parts[2] = {key, value};
	int i, r = 0;

	if (form->len > 0)
		r = buf_addch(form, '&', err);
	for (i = 0; i < 2 && r == 0; i++) {
		const unsigned char *p = (const unsigned char *)parts[i];

		for (; *p != '\0' && r == 0; p++) {
			if ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '.' || *p == '_' || *p == '~')
				r = buf_addch(form, (char)*p, err);
			else if (*p == ' ')
				r = buf_addch(form, '+', err);
			else if ((r = buf_addch(form, '%', err)) == 0 &&
				 (r = buf_addch(form, hex[*p >> 4], err)) == 0)
				r = buf_addch(form, hex[*p & 15], err);
		}
		if (i == 0 && r == 0)
			r = buf_addch(form, '=', err);
	}
	return r;
}

/* The answer, capped: past the cap the transfer stops (CURLE_WRITE_ERROR).
 */
static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *body = arg;
	size_t len = size * n;

	if (len > OAUTH_RESPONSE_MAX - body->len ||
	    buf_append(body, p, len, NULL) == -1)
		return 0;
	return len;
}

/* libcurl's failure as an exit code: what could pass by itself is
 * temporary (the message is queued), a refused certificate is not. */
static int
curl_failure(
    CURLcode rc, const char *host, const char *detail, struct error *err)
{
	const char *why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return error_set(err, EX_UNAVAILABLE,
		    "OAuth2: %s: certificate not trusted: %s "
		    "(oauth2_trust_file "
		    "names the CA file)",
		    host, why);
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return error_set(err, EX_PROTOCOL,
		    "OAuth2: %s: answer larger than %d KiB", host,
		    OAUTH_RESPONSE_MAX / 1024);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return error_set(err, EX_CONFIG, "OAuth2: %s: %s", host, why);
	case CURLE_OUT_OF_MEMORY:
		return error_set(err, EX_OSERR, "out of memory");
	default:
		break;
	}
	return error_set(
	    err, EX_TEMPFAIL, "OAuth2: cannot reach %s: %s", host, why);
}

/* oauth2_trust_file, else the system's CA bundle where distributions
 * keep it, else NULL (libcurl's own default). */
static const char *
trust_file(const struct oauth_request *req)
{
	static const char *const bundles[] = {
	    "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Arch */
	    "/etc/pki/tls/certs/ca-bundle.crt",	  /* Fedora, RHEL */
	    "/etc/ssl/ca-bundle.pem",		  /* openSUSE */
	    "/etc/ssl/cert.pem",		  /* Alpine */
	};
	size_t i;

	if (req->trust_file != NULL)
		return req->trust_file;
	for (i = 0; i < sizeof(bundles) / sizeof(bundles[0]); i++)
		if (access(bundles[i], R_OK) == 0)
			return bundles[i];
	return NULL;
}

/* POST form to url; the HTTP status and the body (capped) back. */
static int
post(const struct oauth_request *req, const char *url, const struct buf *form,
    long *status, struct buf *body, struct error *err)
{
	char errbuf[CURL_ERROR_SIZE], host[256], agent[64];
	struct curl_slist *headers = NULL;
	const char *cafile;
	CURLcode rc;
	CURL *c;

	oauth_url_host(url, host, sizeof(host));
	if (init_libraries(err) == -1)
		return -1;
	if ((c = curl_easy_init()) == NULL)
		return error_set(err, EX_SOFTWARE, "libcurl: no handle");
	errbuf[0] = '\0';
	snprintf(agent, sizeof(agent), "mailsub/%s", PACKAGE_VERSION);
	headers = curl_slist_append(headers, "Accept: application/json");
	rc = curl_easy_setopt(c, CURLOPT_URL, url);
	/* https only, and no redirect to anything (RFC 6749 3.2: the token
	 * endpoint is used as it is). */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	/* One CA file, not also the CA directory libcurl was built with:
	 * Debian's reads every file of /etc/ssl/certs, four times the cost
	 * of the bundle holding the same anchors. */
	if (rc == CURLE_OK && (cafile = trust_file(req)) != NULL) {
		rc = curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(
		    c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* The account's timeouts: connect, then the whole request. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(
		    c, CURLOPT_CONNECTTIMEOUT, (long)req->connect_timeout);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_TIMEOUT,
		    (long)(req->connect_timeout + req->timeout));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(
		    c, CURLOPT_MAXFILESIZE, (long)OAUTH_RESPONSE_MAX);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	/* Our buffer, not a copy: it is wiped after the request. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, form->data);
	if (rc == CURLE_OK)
		rc =
		    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)form->len);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK)
		return curl_failure(rc, host, errbuf, err);
	return 0;
}

/* A string member, or NULL. */
static const char *
member(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	if (len != NULL)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* RFC 6750 2.1 b64token (what XOAUTH2 and OAUTHBEARER carry): visible
 * ASCII, no blank. */
static bool
token_chars_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > OAUTH_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

/* A number member: JSON number, or a string of digits (some servers). */
static long long
number(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	long long n = 0;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if (!json_is_string(v))
		return -1;
	for (s = json_string_value(v); *s >= '0' && *s <= '9'; s++)
		if (n < 100000000)
			n = n * 10 + (*s - '0');
	return *s == '\0' && s != json_string_value(v) ? n : -1;
}

static json_t *
parse_json(const struct buf *body)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(buf_str(body), body->len, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The description of an error answer: its first line, escaped. */
static void
describe(json_t *j, struct oauth_answer *a)
{
	const char *s;
	size_t n = 0;

	s = member(j, "error", &n);
	if (s != NULL)
		error_escape(a->error, sizeof(a->error), s,
		    n < sizeof(a->error) - 1 ? n : sizeof(a->error) - 1);
	s = member(j, "error_description", &n);
	if (s != NULL) {
		n = strcspn(s, "\r\n");
		error_escape(a->description, sizeof(a->description), s,
		    n < 120 ? n : 120);
	}
}

/* RFC 6749 5.2 error codes -> exit codes.  The refresh token refused is
 * the user's to fix (sign in again), a bad registration the config's. */
static int
oauth_error(const struct oauth_request *req, const char *host,
    const struct oauth_answer *a, struct error *err)
{
	const char *e = a->error;
	const char *sep = a->description[0] != '\0' ? ": " : "";

	if (strcmp(e, "invalid_grant") == 0)
		return error_set(err, EX_NOPERM,
		    "OAuth2: %s: the refresh token was refused "
		    "(invalid_grant%s%s)"
		    "; run mailsub --oauth2-login %s to sign in again%s",
		    host, sep, a->description, req->account,
		    strcmp(req->provider, "google") == 0
			? " (Google ends the tokens of an app in \"Testing\" "
			  "status after 7 days: publish the app)"
			: "");
	if (strcmp(e, "invalid_client") == 0 ||
	    strcmp(e, "unauthorized_client") == 0 ||
	    strcmp(e, "invalid_scope") == 0 ||
	    strcmp(e, "unsupported_grant_type") == 0 ||
	    strcmp(e, "invalid_request") == 0)
		return error_set(err, EX_CONFIG,
		    "OAuth2: %s: %s%s%s (check oauth2_client_id, the client "
		    "secret, oauth2_scope and the app registration: "
		    "mailsub.conf(5), OAUTH2)",
		    host, e, sep, a->description);
	if (strcmp(e, "temporarily_unavailable") == 0 ||
	    strcmp(e, "server_error") == 0)
		return error_set(err, EX_TEMPFAIL, "OAuth2: %s: %s%s%s", host,
		    e, sep, a->description);
	return error_set(
	    err, EX_NOPERM, "OAuth2: %s: %s%s%s", host, e, sep, a->description);
}

/* What a non-2xx answer means: 5xx and 429 pass (RFC 6585 4); an OAuth
 * error says itself; anything else is the server's fault. */
static int
failed_answer(const struct oauth_request *req, const char *host, json_t *j,
    struct oauth_answer *a, struct error *err)
{
	if (j != NULL)
		describe(j, a);
	if (a->status >= 500 || a->status == 429)
		return error_set(err, EX_TEMPFAIL,
		    "OAuth2: %s: HTTP %ld%s%s (try again later)", host,
		    a->status, a->error[0] != '\0' ? ", " : "", a->error);
	if (a->error[0] != '\0')
		return oauth_error(req, host, a, err);
	return error_set(err, EX_PROTOCOL,
	    "OAuth2: %s: HTTP %ld without an OAuth2 error", host, a->status);
}

int
oauth_http_token(const struct oauth_request *req, const struct buf *form,
    struct oauth_grant *out, struct oauth_answer *answer, struct error *err)
{
	char host[256];
	struct buf body;
	const char *s;
	size_t n = 0;
	json_t *j = NULL;
	int rc = -1;

	memset(answer, 0, sizeof(*answer));
	oauth_url_host(req->token_url, host, sizeof(host));
	buf_init(&body, OAUTH_RESPONSE_MAX);
	if (post(req, req->token_url, form, &answer->status, &body, err) == -1)
		goto out;
	j = parse_json(&body);
	if (answer->status < 200 || answer->status > 299) {
		failed_answer(req, host, j, answer, err);
		goto out;
	}
	if (j == NULL) {
		error_set(err, EX_PROTOCOL,
		    "OAuth2: %s: the answer is not a JSON object", host);
		goto out;
	}
	s = member(j, "token_type", NULL);
	if (s == NULL || strcasecmp(s, BEARER) != 0) {
		error_set(err, EX_PROTOCOL,
		    "OAuth2: %s: the answer has no Bearer token (RFC 6749 5.1)",
		    host);
		goto out;
	}
	s = member(j, "access_token", &n);
	if (s == NULL || !token_chars_ok(s, n)) {
		error_set(err, EX_PROTOCOL,
		    "OAuth2: %s: the answer has no usable access_token", host);
		goto out;
	}
	buf_reset(&out->access_token);
	if (buf_append(&out->access_token, s, n, err) == -1)
		goto out;
	s = member(j, "refresh_token", &n);
	buf_reset(&out->refresh_token);
	if (s != NULL && n > 0) {
		if (!token_chars_ok(s, n)) {
			error_set(err, EX_PROTOCOL,
			    "OAuth2: %s: the refresh_token holds characters no "
			    "token has",
			    host);
			goto out;
		}
		if (buf_append(&out->refresh_token, s, n, err) == -1)
			goto out;
	}
	out->expires_in = number(j, "expires_in");
	rc = 0;
out:
	if (j != NULL)
		json_decref(j);
	buf_wipe(&body);
	return rc;
}

int
oauth_http_device(
    const struct oauth_request *req, struct oauth_device *d, struct error *err)
{
	struct oauth_answer a;
	char host[256];
	struct buf form, body;
	const char *s;
	size_t n = 0;
	json_t *j = NULL;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	oauth_url_host(req->device_url, host, sizeof(host));
	buf_init(&form, 8192);
	buf_init(&body, OAUTH_RESPONSE_MAX);
	if (oauth_form_add(&form, "client_id", req->client_id, err) == -1 ||
	    (req->scope != NULL &&
		oauth_form_add(&form, "scope", req->scope, err) == -1) ||
	    post(req, req->device_url, &form, &a.status, &body, err) == -1)
		goto out;
	j = parse_json(&body);
	if (a.status < 200 || a.status > 299) {
		failed_answer(req, host, j, &a, err);
		goto out;
	}
	if (j == NULL) {
		error_set(err, EX_PROTOCOL,
		    "OAuth2: %s: the answer is not a JSON object", host);
		goto out;
	}
	s = member(j, "device_code", &n);
	if (s == NULL || !token_chars_ok(s, n) ||
	    buf_append(&d->device_code, s, n, NULL) == -1) {
		error_set(err, EX_PROTOCOL, "OAuth2: %s: no device_code", host);
		goto out;
	}
	s = member(j, "user_code", &n);
	if (s == NULL || n == 0 || n >= sizeof(d->user_code)) {
		error_set(err, EX_PROTOCOL, "OAuth2: %s: no user_code", host);
		goto out;
	}
	error_escape(d->user_code, sizeof(d->user_code), s, n);
	/* RFC 8628 3.2 verification_uri; Google says verification_url. */
	s = member(j, "verification_uri", &n);
	if (s == NULL)
		s = member(j, "verification_url", &n);
	if (s == NULL || n == 0 || n >= sizeof(d->verification_uri)) {
		error_set(
		    err, EX_PROTOCOL, "OAuth2: %s: no verification_uri", host);
		goto out;
	}
	error_escape(d->verification_uri, sizeof(d->verification_uri), s, n);
	s = member(j, "message", &n);
	if (s != NULL)
		error_escape(d->message, sizeof(d->message), s,
		    n < sizeof(d->message) / 4 ? n : sizeof(d->message) / 4);
	d->expires_in = number(j, "expires_in");
	d->interval = number(j, "interval");
	rc = 0;
out:
	if (j != NULL)
		json_decref(j);
	buf_wipe(&form);
	buf_wipe(&body);
	return rc;
}

/* RFC 6749 6: refreshing an access token. */
static int
refresh(const struct oauth_request *req, const char *refresh_token,
    struct oauth_grant *out, struct error *err)
{
	struct oauth_answer a;
	struct buf form;
	int rc = -1;

	buf_init(&form, 4 * OAUTH_TOKEN_MAX);
	if (oauth_form_add(&form, "grant_type", "refresh_token", err) == 0 &&
	    oauth_form_add(&form, "refresh_token", refresh_token, err) == 0 &&
	    oauth_form_add(&form, "client_id", req->client_id, err) == 0 &&
	    (req->client_secret == NULL ||
		oauth_form_add(
		    &form, "client_secret", req->client_secret, err) == 0) &&
	    (req->scope == NULL ||
		oauth_form_add(&form, "scope", req->scope, err) == 0))
		rc = oauth_http_token(req, &form, out, &a, err);
	buf_wipe(&form);
	return rc;
}

/* The module's one export (oauth_module.h, tlsmod.h). */
TLSMOD_EXPORT const struct oauth_module mailsub_oauth_module = {
    .head = {OAUTH_MODULE_ABI, PACKAGE_VERSION},
    .refresh = refresh,
    .login = oauth_flow_login,
};
