/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for OAuth2: the token file's format and store, when a token
 * is fresh, the providers' endpoints (oauth.c, with a fake module in place
 * of mailsub-oauth.so), and the module's pure parts: PKCE against RFC 7636
 * Appendix B, the authorization URL, the form encoding and the parsing of
 * the redirect (oauth_flow.c, oauth_http.c).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "error.h"
#include "oauth.h"
#include "oauth_flow.h"

static char base[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test_oauth.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	setenv("XDG_STATE_HOME", base, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	oauth_use_module(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- PKCE and base64url ---------------------------------------------- */

static void
test_pkce_rfc7636(void **state)
{
	/* RFC 7636 Appendix B: the octets, the verifier, the challenge. */
	static const unsigned char octets[32] = {116, 24, 223, 180, 151, 153,
	    224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105,
	    214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};
	char verifier[64], challenge[64];
	struct error err;

	(void)state;
	error_clear(&err);
	oauth_base64url(octets, sizeof(octets), verifier, sizeof(verifier));
	assert_string_equal(
	    verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	assert_int_equal(strlen(verifier), OAUTH_VERIFIER_LEN);
	assert_int_equal(
	    oauth_pkce_challenge(verifier, challenge, sizeof(challenge), &err),
	    0);
	assert_string_equal(
	    challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* RFC 4648 10 vectors, without padding, in the URL alphabet. */
	oauth_base64url(
	    (const unsigned char *)"f", 1, verifier, sizeof(verifier));
	assert_string_equal(verifier, "Zg");
	oauth_base64url(
	    (const unsigned char *)"fo", 2, verifier, sizeof(verifier));
	assert_string_equal(verifier, "Zm8");
	oauth_base64url(
	    (const unsigned char *)"foobar", 6, verifier, sizeof(verifier));
	assert_string_equal(verifier, "Zm9vYmFy");
	oauth_base64url(
	    (const unsigned char *)"\xfb\xff", 2, verifier, sizeof(verifier));
	assert_string_equal(verifier, "-_8");
}

/* --- the form and the authorization URL ------------------------------ */

static void
test_form(void **state)
{
	struct buf form;
	struct error err;

	(void)state;
	error_clear(&err);
	buf_init(&form, 4096);
	assert_int_equal(
	    oauth_form_add(&form, "grant_type", "refresh_token", &err), 0);
	assert_int_equal(oauth_form_add(&form, "scope",
			     "https://outlook.office.com/SMTP.Send "
			     "offline_access",
			     &err),
	    0);
	assert_int_equal(oauth_form_add(&form, "x", "a+b&c=d~_.-%", &err), 0);
	assert_string_equal(buf_str(&form),
	    "grant_type=refresh_token&scope=https%3A%2F%2Foutlook.office.com"
	    "%2FSMTP.Send+offline_access&x=a%2Bb%26c%3Dd~_.-%25");
	buf_wipe(&form);
}

static void
request(struct oauth_request *req, const char *provider)
{
	memset(req, 0, sizeof(*req));
	req->account = "work";
	req->provider = provider;
	req->client_id = "cid-123";
	req->auth_url = "https://login.example/authorize";
	req->token_url = "https://login.example/token";
	req->scope = "https://mail.google.com/";
	req->login_hint = "alice@example.com";
}

static void
test_authorization_url(void **state)
{
	struct oauth_request req;
	struct buf url;
	struct error err;

	(void)state;
	error_clear(&err);
	request(&req, "microsoft");
	buf_init(&url, 16384);
	assert_int_equal(oauth_authorization_url(&req, "http://localhost:4711/",
			     "st4te", "ch-al_lenge", &url, &err),
	    0);
	assert_string_equal(buf_str(&url),
	    "https://login.example/authorize?response_type=code&client_id="
	    "cid-123&redirect_uri=http%3A%2F%2Flocalhost%3A4711%2F&scope="
	    "https%3A%2F%2Fmail.google.com%2F&state=st4te&code_challenge="
	    "ch-al_lenge&code_challenge_method=S256&login_hint=alice%40"
	    "example.com");
	/* Google: offline access for a refresh token; an auth URL with a
	 * query of its own gets "&". */
	buf_reset(&url);
	request(&req, "google");
	req.auth_url = "https://login.example/auth?x=1";
	req.login_hint = NULL;
	assert_int_equal(oauth_authorization_url(
			     &req, "http://127.0.0.1:9/", "s", "c", &url, &err),
	    0);
	assert_string_equal(buf_str(&url),
	    "https://login.example/auth?x=1&response_type=code&client_id="
	    "cid-123&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F&scope="
	    "https%3A%2F%2Fmail.google.com%2F&state=s&code_challenge=c&"
	    "code_challenge_method=S256&access_type=offline");
	buf_free(&url);
}

/* --- the redirect ------------------------------------------------------ */

static void
parse_ok(
    const char *s, const char *code, const char *state_want, const char *error)
{
	struct oauth_redirect r;
	struct error err;

	error_clear(&err);
	oauth_redirect_init(&r);
	assert_int_equal(oauth_parse_redirect(s, strlen(s), &r, &err), 0);
	assert_string_equal(buf_str(&r.code), code);
	assert_string_equal(r.state, state_want);
	assert_string_equal(r.error, error);
	oauth_redirect_free(&r);
}

static void
parse_fails(const char *s, const char *why)
{
	struct oauth_redirect r;
	struct error err;

	error_clear(&err);
	oauth_redirect_init(&r);
	assert_int_equal(oauth_parse_redirect(s, strlen(s), &r, &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	assert_non_null(strstr(err.message, why));
	oauth_redirect_free(&r);
}

static void
test_parse_redirect(void **state)
{
	struct oauth_redirect r;
	struct error err;
	const char *s;

	(void)state;
	parse_ok("http://127.0.0.1:4711/?code=4%2F0Ab-x&state=Xy_z&scope="
		 "https%3A%2F%2Fmail.google.com%2F\n",
	    "4/0Ab-x", "Xy_z", "");
	/* A request target, as the listener sees it. */
	parse_ok("/?state=s1&code=M.C5+x", "M.C5 x", "s1", "");
	/* Pasted with blanks around it; a fragment is not the query. */
	parse_ok(
	    "  http://localhost:1/?code=c&state=s#frag=1 \r\n", "c", "s", "");
	parse_ok("http://localhost:1/?code=c&state=s&code=d", "d", "s", "");
	/* RFC 6749 4.1.2.1: an error instead of a code. */
	s = "http://127.0.0.1:5/?error=access_denied&error_description="
	    "The+user+said+no%0D%0ATrace&state=s";
	error_clear(&err);
	oauth_redirect_init(&r);
	assert_int_equal(oauth_parse_redirect(s, strlen(s), &r, &err), 0);
	assert_string_equal(r.error, "access_denied");
	assert_string_equal(r.description, "The user said no");
	assert_int_equal(r.code.len, 0);
	oauth_redirect_free(&r);
	parse_fails("http://127.0.0.1:5/", "no ?code=");
	parse_fails("http://127.0.0.1:5/?state=s", "neither a code");
	parse_fails("http://127.0.0.1:5/?code=%4", "escape");
	parse_fails("http://127.0.0.1:5/?code=%zz", "escape");
}

/* --- endpoints ----------------------------------------------------------- */

static void
test_endpoints(void **state)
{
	struct oauth_endpoints e;
	struct account a;
	struct error err;

	(void)state;
	error_clear(&err);
	memset(&a, 0, sizeof(a));
	a.oauth2_provider = ACCOUNT_OAUTH2_GOOGLE;
	assert_int_equal(oauth_endpoints(&a, &e, &err), 0);
	assert_string_equal(e.provider, "google");
	assert_string_equal(e.token_url, "https://oauth2.googleapis.com/token");
	assert_string_equal(e.scope, "https://mail.google.com/");
	a.oauth2_provider = ACCOUNT_OAUTH2_MICROSOFT;
	assert_int_equal(oauth_endpoints(&a, &e, &err), 0);
	assert_string_equal(e.auth_url, "https://login.microsoftonline.com/"
					"common/oauth2/v2.0/authorize");
	assert_string_equal(e.token_url,
	    "https://login.microsoftonline.com/common/oauth2/v2.0/token");
	assert_string_equal(e.device_url, "https://login.microsoftonline.com/"
					  "common/oauth2/v2.0/devicecode");
	assert_string_equal(
	    e.scope, "https://outlook.office.com/SMTP.Send offline_access");
	a.oauth2_tenant = "organizations";
	a.oauth2_scope = "a b";
	assert_int_equal(oauth_endpoints(&a, &e, &err), 0);
	assert_string_equal(e.token_url, "https://login.microsoftonline.com/"
					 "organizations/oauth2/v2.0/token");
	assert_string_equal(e.scope, "a b");
	a.oauth2_token_url = "https://127.0.0.1:1/token";
	assert_int_equal(oauth_endpoints(&a, &e, &err), 0);
	assert_string_equal(e.token_url, "https://127.0.0.1:1/token");
	memset(&a, 0, sizeof(a));
	a.oauth2_provider = ACCOUNT_OAUTH2_CUSTOM;
	assert_int_equal(oauth_endpoints(&a, &e, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	a.oauth2_token_url = "https://idp.example/token";
	assert_int_equal(oauth_endpoints(&a, &e, &err), 0);
	assert_string_equal(e.auth_url, "");
	assert_string_equal(e.scope, "");
}

/* --- the token file's format ------------------------------------------- */

static void
fill(struct oauth_tokens *t, const char *access, const char *refresh,
    long long expires)
{
	snprintf(t->client_id, sizeof(t->client_id), "cid-123");
	snprintf(t->token_url, sizeof(t->token_url), "%s",
	    "https://127.0.0.1:1/token");
	snprintf(t->user, sizeof(t->user), "alice@example.com");
	snprintf(t->scope, sizeof(t->scope), "a b");
	buf_reset(&t->access_token);
	buf_reset(&t->refresh_token);
	assert_int_equal(buf_appends(&t->access_token, access, NULL), 0);
	assert_int_equal(buf_appends(&t->refresh_token, refresh, NULL), 0);
	t->expires = expires;
	t->updated = 1700000000;
}

static void
test_tokens_format(void **state)
{
	struct oauth_tokens t, u;
	struct buf out;
	struct error err;
	static const char *const bad[] = {"", "mailsub-oauth2 2\n",
	    "mailsub-oauth2 1\nnospace\n", "mailsub-oauth2 1\nexpires 12x\n",
	    "mailsub-oauth2 1\naccess_token a\001b\n",
	    "mailsub-oauth2 1\nexpires 1234567890123456789\n"};
	size_t i;

	(void)state;
	error_clear(&err);
	oauth_tokens_init(&t);
	oauth_tokens_init(&u);
	buf_init(&out, OAUTH_FILE_MAX);
	fill(&t, "AT-canary.1", "RT-canary_1", 1700003600);
	assert_int_equal(oauth_tokens_format(&t, &out, &err), 0);
	assert_string_equal(buf_str(&out),
	    "mailsub-oauth2 1\nclient_id cid-123\ntoken_url "
	    "https://127.0.0.1:1/token\nuser alice@example.com\nscope a b\n"
	    "expires 1700003600\nupdated 1700000000\nrefresh_token "
	    "RT-canary_1\naccess_token AT-canary.1\nend 1\n");
	/* A key from a later mailsub is ignored. */
	assert_int_equal(buf_appends(&out, "future_key some value\n", NULL), 0);
	assert_int_equal(oauth_tokens_parse(out.data, out.len, &u, &err), 0);
	assert_string_equal(u.client_id, "cid-123");
	assert_string_equal(u.token_url, "https://127.0.0.1:1/token");
	assert_string_equal(u.user, "alice@example.com");
	assert_string_equal(u.scope, "a b");
	assert_string_equal(buf_str(&u.access_token), "AT-canary.1");
	assert_string_equal(buf_str(&u.refresh_token), "RT-canary_1");
	assert_int_equal(u.expires, 1700003600);
	assert_int_equal(u.updated, 1700000000);
	/* No final newline is fine too. */
	oauth_tokens_free(&u);
	oauth_tokens_init(&u);
	assert_int_equal(
	    oauth_tokens_parse("mailsub-oauth2 1\nexpires 5", 26, &u, &err), 0);
	assert_int_equal(u.expires, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		oauth_tokens_free(&u);
		oauth_tokens_init(&u);
		error_clear(&err);
		assert_int_equal(
		    oauth_tokens_parse(bad[i], strlen(bad[i]), &u, &err), -1);
		assert_int_equal(err.exit_code, EX_CONFIG);
		/* Never a value in the message. */
		assert_null(strstr(err.message, "12x"));
	}
	/* A token with a newline would break the file: refused. */
	buf_reset(&out);
	fill(&t, "AT\nexpires 9", "RT", 1);
	assert_int_equal(oauth_tokens_format(&t, &out, &err), -1);
	oauth_tokens_free(&t);
	oauth_tokens_free(&u);
	buf_wipe(&out);
}

static void
test_fresh(void **state)
{
	struct oauth_tokens t;
	long long now = 1700000000;

	(void)state;
	oauth_tokens_init(&t);
	fill(&t, "AT", "RT", now + OAUTH_EXPIRY_MARGIN + 1);
	assert_true(oauth_tokens_fresh(&t, now));
	t.expires = now + OAUTH_EXPIRY_MARGIN;
	assert_false(oauth_tokens_fresh(&t, now));
	t.expires = 0;
	assert_false(oauth_tokens_fresh(&t, now));
	t.expires = now + 3600;
	buf_reset(&t.access_token);
	assert_false(oauth_tokens_fresh(&t, now));
	oauth_tokens_free(&t);
}

/* --- the store, with a fake module ------------------------------------- */

static unsigned refreshes;
static char refreshed_with[64];
static int refresh_fails; /* an exit code, or 0 */
static char next_refresh[64];

static int
fake_refresh(const struct oauth_request *req, const char *refresh_token,
    struct oauth_grant *out, struct error *err)
{
	refreshes++;
	snprintf(refreshed_with, sizeof(refreshed_with), "%s", refresh_token);
	assert_string_equal(req->client_id, "cid-123");
	assert_string_equal(req->token_url, "https://127.0.0.1:1/token");
	if (refresh_fails != 0)
		return error_set(err, refresh_fails, "OAuth2: fake failure");
	buf_reset(&out->access_token);
	assert_int_equal(
	    buf_printf(&out->access_token, NULL, "AT-new-%u", refreshes), 0);
	buf_reset(&out->refresh_token);
	assert_int_equal(
	    buf_appends(&out->refresh_token, next_refresh, NULL), 0);
	out->expires_in = 3600;
	return 0;
}

static int
fake_login(const struct oauth_request *req, enum oauth_login_mode mode,
    const struct oauth_login_io *io, struct oauth_grant *out, struct error *err)
{
	(void)req;
	(void)mode;
	(void)io;
	assert_int_equal(buf_appends(&out->access_token, "AT-login", NULL), 0);
	assert_int_equal(buf_appends(&out->refresh_token, "RT-login", NULL), 0);
	out->expires_in = -1;
	return 0;
}

static const struct oauth_module fake = {
    .head = {OAUTH_MODULE_ABI, PACKAGE_VERSION},
    .refresh = fake_refresh,
    .login = fake_login};

static void
account(struct account *a)
{
	memset(a, 0, sizeof(*a));
	a->name = "work/1";
	a->user = "alice@example.com";
	a->oauth2_provider = ACCOUNT_OAUTH2_MICROSOFT;
	a->oauth2_client_id = "cid-123";
	a->oauth2_token_url = "https://127.0.0.1:1/token";
	a->timeout = 5;
	a->connect_timeout = 5;
	buf_init(&a->oauth2_client_secret, 1024);
}

static void
write_file(const char *path, const char *access, const char *refresh,
    long long expires, mode_t mode)
{
	struct oauth_tokens t;
	struct buf out;
	FILE *f;

	oauth_tokens_init(&t);
	buf_init(&out, OAUTH_FILE_MAX);
	fill(&t, access, refresh, expires);
	assert_int_equal(oauth_tokens_format(&t, &out, NULL), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	oauth_tokens_free(&t);
	buf_wipe(&out);
}

static void
read_file(const char *path, struct oauth_tokens *t)
{
	char data[OAUTH_FILE_MAX];
	struct stat st;
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(oauth_tokens_parse(data, n, t, NULL), 0);
}

static void
test_store(void **state)
{
	struct account a;
	struct oauth_tokens t;
	struct buf token, rejected;
	struct error err;
	struct stat st;
	char path[4200], dir[4200];
	bool fetched;

	(void)state;
	error_clear(&err);
	oauth_use_module(&fake);
	account(&a);
	buf_init(&token, OAUTH_TOKEN_MAX);
	buf_init(&rejected, OAUTH_TOKEN_MAX);
	assert_int_equal(oauth_token_path(&a, path, sizeof(path), &err), 0);
	snprintf(dir, sizeof(dir), "%s/mailsub/oauth2/work%%2F1.token", base);
	assert_string_equal(path, dir);
	snprintf(dir, sizeof(dir), "%s/mailsub/oauth2", base);

	/* No token yet: sign in first. */
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), -1);
	assert_int_equal(err.exit_code, EX_NOPERM);
	assert_non_null(strstr(err.message, "mailsub --oauth2-login work/1"));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(refreshes, 0);

	/* Fresh: used as it is, the endpoint never asked. */
	write_file(
	    path, "AT-cached", "RT-1", (long long)time(NULL) + 3600, 0600);
	error_clear(&err);
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), 0);
	assert_string_equal(buf_str(&token), "AT-cached");
	assert_false(fetched);
	assert_int_equal(refreshes, 0);

	/* Within the margin: refreshed, and the rotated refresh token is
	 * in the file. */
	write_file(path, "AT-old", "RT-1",
	    (long long)time(NULL) + OAUTH_EXPIRY_MARGIN - 1, 0600);
	snprintf(next_refresh, sizeof(next_refresh), "RT-2");
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), 0);
	assert_true(fetched);
	assert_int_equal(refreshes, 1);
	assert_string_equal(refreshed_with, "RT-1");
	assert_string_equal(buf_str(&token), "AT-new-1");
	oauth_tokens_init(&t);
	read_file(path, &t);
	assert_string_equal(buf_str(&t.access_token), "AT-new-1");
	assert_string_equal(buf_str(&t.refresh_token), "RT-2");
	assert_true(t.expires > (long long)time(NULL) + 3500);
	oauth_tokens_free(&t);

	/* The server refused the stored token: a new one although it is
	 * fresh; no new refresh token keeps the old. */
	next_refresh[0] = '\0';
	assert_int_equal(buf_appends(&rejected, "AT-new-1", NULL), 0);
	assert_int_equal(
	    oauth_get_token(&a, &rejected, &token, &fetched, &err), 0);
	assert_int_equal(refreshes, 2);
	assert_string_equal(refreshed_with, "RT-2");
	assert_string_equal(buf_str(&token), "AT-new-2");
	oauth_tokens_init(&t);
	read_file(path, &t);
	assert_string_equal(buf_str(&t.refresh_token), "RT-2");
	oauth_tokens_free(&t);

	/* The endpoint down: its error, the file as it was. */
	write_file(path, "AT-old", "RT-3", 1, 0600);
	refresh_fails = EX_TEMPFAIL;
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_int_equal(token.len, 0);
	oauth_tokens_init(&t);
	read_file(path, &t);
	assert_string_equal(buf_str(&t.refresh_token), "RT-3");
	oauth_tokens_free(&t);
	refresh_fails = 0;

	/* Another client id: the stored token is useless. */
	a.oauth2_client_id = "other";
	error_clear(&err);
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), -1);
	assert_int_equal(err.exit_code, EX_NOPERM);
	assert_non_null(strstr(err.message, "another oauth2_client_id"));
	a.oauth2_client_id = "cid-123";

	/* A file others can read is never used. */
	write_file(
	    path, "AT-cached", "RT-1", (long long)time(NULL) + 3600, 0644);
	error_clear(&err);
	assert_int_equal(oauth_get_token(&a, NULL, &token, &fetched, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "0600"));
	assert_null(strstr(err.message, "AT-cached"));
	assert_int_equal(refreshes, 3);

	/* Signing in replaces the file. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(
	    oauth_login(&a, OAUTH_LOGIN_PASTE, stderr, -1, &err), 0);
	oauth_tokens_init(&t);
	read_file(path, &t);
	assert_string_equal(buf_str(&t.access_token), "AT-login");
	assert_string_equal(buf_str(&t.refresh_token), "RT-login");
	assert_string_equal(t.user, "alice@example.com");
	assert_true(
	    t.expires >= (long long)time(NULL) + OAUTH_DEFAULT_LIFETIME - 5);
	oauth_tokens_free(&t);
	buf_wipe(&token);
	buf_wipe(&rejected);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkce_rfc7636),
	    cmocka_unit_test(test_form),
	    cmocka_unit_test(test_authorization_url),
	    cmocka_unit_test(test_parse_redirect),
	    cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_tokens_format),
	    cmocka_unit_test(test_fresh),
	    cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
