/* SPDX-License-Identifier: ISC */
/*
 * auth.c: the mechanism choice rule by rule, and whole exchanges over a
 * fake transport that either follows a script (known vectors, hostile
 * servers) or runs libgsasl's server side (SCRAM end to end, with and
 * without channel binding).  Every traced line and error is searched for
 * the password, its base64 and base64 of \0user\0password.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "account.h"
#include "auth.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "peer.h"
#include "sasl_mechs.h"
#include "smtp.h"
#include "tlsmod.h"

#define PASSWORD "s3cr3t-canary"
/* base64 of "\0user\0" PASSWORD and of PASSWORD */
#define PLAIN_B64 "AHVzZXIAczNjcjN0LWNhbmFyeQ=="
#define PASS_B64  "czNjcjN0LWNhbmFyeQ=="

/* --- the fake server ---------------------------------------------------- */

enum fake_mode {
	FAKE_SCRIPT,  /* "C: line" expected, "S: line" replies */
	FAKE_GSASL,   /* libgsasl server side */
	FAKE_ENDLESS, /* answers every line with the same 334 */
};

struct fake {
	enum fake_mode mode;
	const char *const *script;
	size_t pos;
	/* FAKE_GSASL */
	Gsasl *gs;
	Gsasl_session *ss;
	const char *server_password;
	const char *server_cb; /* base64 binding the server sees */
	bool tamper_final;
	bool final_sent; /* waiting for the empty line */
	/* FAKE_ENDLESS */
	const char *endless_reply;
	/* I/O */
	char in[80000];
	size_t in_len;
	char out[80000];
	size_t out_len, out_pos;
	size_t client_lines;
	char last_line[80000];
	/* TLS as the client sees it */
	bool tls;
	struct tls_info info;
};

static void
queue_reply(struct fake *f, const char *line)
{
	size_t n = strlen(line);

	assert_true(f->out_len + n + 2 < sizeof(f->out));
	memcpy(f->out + f->out_len, line, n);
	memcpy(f->out + f->out_len + n, "\r\n", 2);
	f->out_len += n + 2;
}

static bool
matches(const char *pattern, const char *line)
{
	size_t n = strlen(pattern);

	/* A trailing '*' matches any rest of the line. */
	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, line, n - 1) == 0;
	return strcmp(pattern, line) == 0;
}

static void
script_line(struct fake *f, const char *line)
{
	const char *want;

	if (f->script == NULL || f->script[f->pos] == NULL)
		fail_msg("client sent \"%s\" after the script ended", line);
	want = f->script[f->pos];
	assert_true(strncmp(want, "C: ", 3) == 0);
	if (!matches(want + 3, line))
		fail_msg(
		    "client sent \"%s\", script wants \"%s\"", line, want + 3);
	f->pos++;
	while (f->script[f->pos] != NULL &&
	       strncmp(f->script[f->pos], "S: ", 3) == 0)
		queue_reply(f, f->script[f->pos++] + 3);
}

static void
gsasl_reply(struct fake *f, int rc, char *out, size_t out_len)
{
	char *b64 = NULL;
	size_t b64_len;
	char line[80000];

	if (rc == GSASL_NEEDS_MORE || (rc == GSASL_OK && out_len > 0)) {
		/* Server-final data goes in a 334 (RFC 4954 4). */
		if (rc == GSASL_OK && f->tamper_final)
			out[out_len - 2] ^= 1;
		if (out_len > 0)
			assert_int_equal(
			    gsasl_base64_to(out, out_len, &b64, &b64_len),
			    GSASL_OK);
		snprintf(line, sizeof(line), "334 %s", b64 ? b64 : "");
		queue_reply(f, line);
		f->final_sent = rc == GSASL_OK;
	} else if (rc == GSASL_OK) {
		queue_reply(f, "235 2.7.0 Authentication successful");
	} else {
		queue_reply(f, "535 5.7.8 Authentication credentials invalid");
	}
	gsasl_free(b64);
	gsasl_free(out);
}

static void
gsasl_line(struct fake *f, const char *line)
{
	char *in = NULL, *out = NULL, mech[64];
	size_t in_len = 0, out_len = 0;
	const char *ir;
	int rc;

	if (f->ss == NULL) {
		assert_true(strncmp(line, "AUTH ", 5) == 0);
		snprintf(mech, sizeof(mech), "%.*s",
		    (int)strcspn(line + 5, " "), line + 5);
		assert_int_equal(
		    gsasl_server_start(f->gs, mech, &f->ss), GSASL_OK);
		gsasl_property_set(f->ss, GSASL_PASSWORD, f->server_password);
		if (f->server_cb != NULL) {
			gsasl_property_set(
			    f->ss, GSASL_CB_TLS_EXPORTER, f->server_cb);
			gsasl_property_set(
			    f->ss, GSASL_CB_TLS_UNIQUE, f->server_cb);
		}
		ir = line + 5 + strlen(mech);
		if (*ir == '\0') {
			queue_reply(f, "334 ");
			return;
		}
		ir++;
		if (strcmp(ir, "=") != 0)
			assert_int_equal(
			    gsasl_base64_from(ir, strlen(ir), &in, &in_len),
			    GSASL_OK);
	} else if (strcmp(line, "*") == 0) {
		queue_reply(f, "501 5.7.0 Authentication cancelled");
		return;
	} else if (f->final_sent) {
		assert_string_equal(line, "");
		queue_reply(f, "235 2.7.0 Authentication successful");
		return;
	} else if (line[0] != '\0') {
		assert_int_equal(
		    gsasl_base64_from(line, strlen(line), &in, &in_len),
		    GSASL_OK);
	}
	rc = gsasl_step(f->ss, in, in_len, &out, &out_len);
	gsasl_free(in);
	gsasl_reply(f, rc, out, out_len);
}

static void
client_line(struct fake *f, const char *line)
{
	f->client_lines++;
	snprintf(f->last_line, sizeof(f->last_line), "%s", line);
	switch (f->mode) {
	case FAKE_SCRIPT:
		script_line(f, line);
		break;
	case FAKE_GSASL:
		gsasl_line(f, line);
		break;
	case FAKE_ENDLESS:
		if (strcmp(line, "*") != 0)
			queue_reply(f, f->endless_reply);
		break;
	}
}

static ssize_t
fake_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct fake *f = ctx;
	size_t avail = f->out_len - f->out_pos;

	if (avail == 0)
		fail_msg("client waits for a reply that never comes "
			 "(last line \"%s\")",
		    f->last_line);
	if (n > avail)
		n = avail;
	memcpy(p, f->out + f->out_pos, n);
	f->out_pos += n;
	return (ssize_t)n;
}

static int
fake_write(
    void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	struct fake *f = ctx;
	char *crlf;

	assert_true(f->in_len + n < sizeof(f->in));
	memcpy(f->in + f->in_len, p, n);
	f->in_len += n;
	f->in[f->in_len] = '\0';
	while ((crlf = strstr(f->in, "\r\n")) != NULL) {
		*crlf = '\0';
		client_line(f, f->in);
		f->in_len -= (size_t)(crlf + 2 - f->in);
		memmove(f->in, crlf + 2, f->in_len + 1);
	}
	return 0;
}

static const struct tls_info *
fake_tls_info(void *ctx)
{
	struct fake *f = ctx;

	return f->tls ? &f->info : NULL;
}

static void
fake_close(void *ctx)
{
	struct fake *f = ctx;

	if (f->ss != NULL)
		gsasl_finish(f->ss);
	f->ss = NULL;
	if (f->gs != NULL)
		gsasl_done(f->gs);
	f->gs = NULL;
}

/* --- the transcript: no secret outside lines marked secret ------------- */

struct trace {
	size_t lines, secret_lines;
	char first_secret[512];
};

static struct trace trace;
static const char *canaries[8];

static void
assert_clean(const char *s)
{
	size_t i;

	for (i = 0; canaries[i] != NULL; i++)
		if (strstr(s, canaries[i]) != NULL)
			fail_msg(
			    "secret \"%s\" found in \"%s\"", canaries[i], s);
}

static void
record_trace(void *arg, char dir, const char *line, size_t len, bool secret)
{
	char copy[80000];

	(void)arg;
	snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
	trace.lines++;
	if (secret) {
		trace.secret_lines++;
		if (trace.secret_lines == 1)
			snprintf(trace.first_secret, sizeof(trace.first_secret),
			    "%.500s", copy);
		assert_int_equal(dir, 'C');
		return;
	}
	assert_clean(copy);
}

/* --- helpers ------------------------------------------------------------- */

struct session {
	struct account acct;
	struct peer peer; /* from acct at each login() */
	struct fake fake;
	struct conn conn;
	struct smtp_caps caps;
	struct error err;
	char *mechs[4];
};

static void
session_init(struct session *s, const char *server_mechs)
{
	struct transport t;
	struct error e;

	memset(s, 0, sizeof(*s));
	s->acct.name = "test";
	s->acct.user = "user";
	s->acct.port = 587;
	s->acct.auth = ACCOUNT_AUTH_DEFAULT;
	buf_init(&s->acct.password, 65536);
	assert_int_equal(buf_appends(&s->acct.password, PASSWORD, &e), 0);
	s->acct.has_password = true;
	snprintf(
	    s->caps.auth_mechs, sizeof(s->caps.auth_mechs), "%s", server_mechs);
	s->caps.flags = SMTP_CAP_AUTH;
	s->fake.mode = FAKE_SCRIPT;
	s->fake.tls = true;
	s->fake.info.version = "TLS1.3";
	s->fake.info.cipher = "AES-256-GCM";
	memset(&t, 0, sizeof(t));
	t.read = fake_read;
	t.write = fake_write;
	t.tls_info = fake_tls_info;
	t.close = fake_close;
	t.ctx = &s->fake;
	conn_init(&s->conn, &t, 5000);
	s->conn.trace = record_trace;
	memset(&trace, 0, sizeof(trace));
	canaries[0] = PASSWORD;
	canaries[1] = NULL;
	error_clear(&s->err);
}

/* Also its encodings, where the test knows the user is "user". */
static void
set_canaries(void)
{
	canaries[0] = PASSWORD;
	canaries[1] = PASS_B64;
	canaries[2] = PLAIN_B64;
	canaries[3] = NULL;
}

static void
set_list(struct session *s, const char *a, const char *b)
{
	s->acct.auth = ACCOUNT_AUTH_LIST;
	s->mechs[0] = (char *)a;
	s->mechs[1] = (char *)b;
	s->acct.auth_mechs = s->mechs;
	s->acct.n_auth_mechs = b != NULL ? 2 : 1;
}

static int
login(struct session *s, bool tls)
{
	int rc;

	s->fake.tls = tls;
	/* Through the module's struct, as the core calls it. */
	peer_from_account(&s->peer, &s->acct, "smtp.example.org");
	rc = mailsub_sasl_module.login(
	    &s->conn, &s->acct, &s->peer, &s->caps, tls, &s->err);
	assert_clean(s->err.message);
	assert_null(strstr(s->err.message, PASSWORD));
	return rc;
}

static void
session_free(struct session *s)
{
	/* Every scripted line was used. */
	if (s->fake.mode == FAKE_SCRIPT && s->fake.script != NULL)
		assert_null(s->fake.script[s->fake.pos]);
	conn_free(&s->conn);
	buf_wipe(&s->acct.password);
}

static void
expect_error(struct session *s, int rc, int code, const char *part)
{
	assert_int_equal(rc, -1);
	print_message(
	    "  %s: %s\n", error_exit_name(s->err.exit_code), s->err.message);
	if (s->err.exit_code != code)
		fail_msg("exit %s, expected %s: %s",
		    error_exit_name(s->err.exit_code), error_exit_name(code),
		    s->err.message);
	if (strstr(s->err.message, part) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", s->err.message, part);
}

/* --- auth_choose --------------------------------------------------------- */

static void
choose_ok(const struct account *a, const char *server, bool tls, bool cb,
    const char *want)
{
	struct error err;
	char mech[64];

	error_clear(&err);
	if (auth_choose(a, server, tls, cb, mech, sizeof(mech), &err) != 0)
		fail_msg("%s: %s", server, err.message);
	assert_string_equal(mech, want);
}

static void
choose_fails(const struct account *a, const char *server, bool tls, bool cb,
    int code, const char *msg)
{
	struct error err;
	char mech[64];

	error_clear(&err);
	assert_int_equal(
	    auth_choose(a, server, tls, cb, mech, sizeof(mech), &err), -1);
	assert_int_equal(err.exit_code, code);
	if (strstr(err.message, msg) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.message, msg);
}

static void
test_choose_preference(void **state)
{
	struct account a;
	const char *all = "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 "
			  "SCRAM-SHA-1-PLUS SCRAM-SHA-256 "
			  "SCRAM-SHA-256-PLUS";

	(void)state;
	memset(&a, 0, sizeof(a));
	choose_ok(&a, all, true, true, "SCRAM-SHA-256-PLUS");
	/* -PLUS only with channel binding. */
	choose_ok(&a, all, true, false, "SCRAM-SHA-256");
	choose_ok(&a, "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", true, true,
	    "SCRAM-SHA-1-PLUS");
	choose_ok(&a, "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", true, false,
	    "SCRAM-SHA-1");
	choose_ok(&a, "LOGIN PLAIN CRAM-MD5", true, false, "PLAIN");
	choose_ok(&a, "CRAM-MD5 LOGIN", true, false, "LOGIN");
	choose_ok(&a, "CRAM-MD5", true, false, "CRAM-MD5");
	/* Case and extra spaces do not matter. */
	choose_ok(&a, "  plain  login ", true, false, "PLAIN");
	/* Mechanisms that must be named are never picked by default. */
	choose_fails(&a, "XOAUTH2 OAUTHBEARER GSSAPI EXTERNAL", true, true,
	    EX_UNAVAILABLE, "none of which mailsub uses");
	choose_fails(
	    &a, "", true, true, EX_UNAVAILABLE, "server does not offer AUTH");
	choose_fails(&a, "   ", true, true, EX_UNAVAILABLE,
	    "server does not offer AUTH");
}

static void
test_choose_plaintext(void **state)
{
	struct account a;

	(void)state;
	memset(&a, 0, sizeof(a));
	/* tests/FAULTS.md 38: no password on an unencrypted link. */
	choose_fails(&a, "PLAIN", false, false, EX_CONFIG,
	    "refusing to send the password over an unencrypted connection; "
	    "use TLS or set allow_plaintext_auth = on");
	choose_fails(
	    &a, "SCRAM-SHA-256 CRAM-MD5", false, false, EX_CONFIG, "refusing");
	a.allow_plaintext_auth = true;
	choose_ok(&a, "PLAIN LOGIN", false, false, "PLAIN");
	choose_ok(&a, "SCRAM-SHA-256 PLAIN", false, false, "SCRAM-SHA-256");

	a.allow_plaintext_auth = false;
	a.auth = ACCOUNT_AUTH_LIST;
	{
		char *list[] = {"PLAIN"};

		a.auth_mechs = list;
		a.n_auth_mechs = 1;
		choose_fails(&a, "PLAIN", false, false, EX_CONFIG, "refusing");
		choose_ok(&a, "PLAIN", true, false, "PLAIN");
	}
}

static void
test_choose_strict_list(void **state)
{
	struct account a;
	char *one[] = {"PLAIN"};
	char *two[] = {"XOAUTH2", "PLAIN"};
	char *plus[] = {"SCRAM-SHA-256-PLUS"};
	char *ext[] = {"EXTERNAL"};
	char *nosuch[] = {"NO-SUCH-MECH"};
	char *digest[] = {"DIGEST-MD5"};
	char *lower[] = {"cram-md5"};

	(void)state;
	memset(&a, 0, sizeof(a));
	a.auth = ACCOUNT_AUTH_LIST;
	a.auth_mechs = one;
	a.n_auth_mechs = 1;
	/* tests/FAULTS.md 34: never a silent downgrade or upgrade. */
	choose_fails(&a, "SCRAM-SHA-256 LOGIN", true, true, EX_UNAVAILABLE,
	    "server offers AUTH SCRAM-SHA-256 LOGIN; configured auth = PLAIN "
	    "is not among them");
	choose_ok(&a, "SCRAM-SHA-256 PLAIN", true, true, "PLAIN");

	/* The list's order wins over the server's and the default one. */
	a.auth_mechs = two;
	a.n_auth_mechs = 2;
	choose_ok(&a, "PLAIN XOAUTH2", true, false, "XOAUTH2");
	choose_ok(&a, "PLAIN LOGIN", true, false, "PLAIN");
	choose_fails(&a, "LOGIN", true, false, EX_UNAVAILABLE,
	    "configured auth = XOAUTH2,PLAIN is not among them");

	a.auth_mechs = plus;
	a.n_auth_mechs = 1;
	choose_ok(&a, "SCRAM-SHA-256-PLUS", true, true, "SCRAM-SHA-256-PLUS");
	choose_fails(&a, "SCRAM-SHA-256-PLUS SCRAM-SHA-256", true, false,
	    EX_UNAVAILABLE, "needs TLS channel binding");

	a.auth_mechs = ext;
	choose_fails(
	    &a, "EXTERNAL", true, false, EX_CONFIG, "client certificate");
	a.tls_cert_file = "client.crt";
	choose_ok(&a, "EXTERNAL PLAIN", true, false, "EXTERNAL");
	choose_fails(
	    &a, "EXTERNAL", false, false, EX_CONFIG, "client certificate");

	a.auth_mechs = nosuch;
	choose_fails(&a, "NO-SUCH-MECH", true, false, EX_CONFIG,
	    "not supported by mailsub");
	/* libgsasl knows more than the preference list. */
	a.auth_mechs = digest;
	choose_ok(&a, "DIGEST-MD5", true, false, "DIGEST-MD5");
	a.auth_mechs = lower;
	choose_ok(&a, "CRAM-MD5", true, false, "CRAM-MD5");
}

/* --- exchanges ------------------------------------------------------------ */

static void
test_plain(void **state)
{
	struct session s;
	const char *const script[] = {"C: AUTH PLAIN " PLAIN_B64,
	    "S: 235 2.7.0 Authentication successful", NULL};

	(void)state;
	session_init(&s, "LOGIN PLAIN");
	set_canaries();
	s.fake.script = script;
	assert_int_equal(login(&s, true), 0);
	/* The AUTH line was marked secret for the -v transcript. */
	assert_int_equal(trace.secret_lines, 1);
	assert_string_equal(trace.first_secret, "AUTH PLAIN " PLAIN_B64);
	assert_false(s.conn.trace_secret);
	session_free(&s);
}

static void
test_plain_long_password(void **state)
{
	struct session s;
	char pw[700], *b64, *raw;
	size_t len, n;
	char line[2000];
	const char *script[6];

	(void)state;
	/* An initial response past 512 octets goes after an empty 334. */
	session_init(&s, "PLAIN");
	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	buf_reset(&s.acct.password);
	assert_int_equal(buf_appends(&s.acct.password, pw, &s.err), 0);
	n = 6 + strlen(pw);
	raw = calloc(1, n);
	memcpy(raw + 1, "user", 4);
	memcpy(raw + 6, pw, strlen(pw));
	assert_int_equal(gsasl_base64_to(raw, n, &b64, &len), GSASL_OK);
	snprintf(line, sizeof(line), "C: %s", b64);
	script[0] = "C: AUTH PLAIN";
	script[1] = "S: 334 ";
	script[2] = line;
	script[3] = "S: 235 2.7.0 ok";
	script[4] = NULL;
	s.fake.script = script;
	assert_int_equal(login(&s, true), 0);
	free(raw);
	gsasl_free(b64);
	session_free(&s);
}

static void
test_login(void **state)
{
	struct session s;
	const char *const script[] = {"C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6",
	    "C: dXNlcg==", "S: 334 UGFzc3dvcmQ6", "C: " PASS_B64,
	    "S: 235 2.7.0 ok", NULL};

	(void)state;
	session_init(&s, "LOGIN");
	set_canaries();
	s.fake.script = script;
	assert_int_equal(login(&s, true), 0);
	/* "AUTH LOGIN" itself holds nothing; both answers do. */
	assert_int_equal(trace.secret_lines, 2);
	session_free(&s);
}

static void
test_cram_md5_rfc2195(void **state)
{
	struct session s;
	const char *const script[] = {"C: AUTH CRAM-MD5",
	    "S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZX"
	    "Q+",
	    "C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "S: 235 2.7.0 ok", NULL};

	(void)state;
	session_init(&s, "CRAM-MD5");
	s.acct.user = "tim";
	buf_reset(&s.acct.password);
	assert_int_equal(
	    buf_appends(&s.acct.password, "tanstaaftanstaaf", &s.err), 0);
	s.fake.script = script;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);
}

static void
gsasl_session(struct session *s, const char *mechs, const char *server_pw)
{
	session_init(s, mechs);
	s->fake.mode = FAKE_GSASL;
	s->fake.server_password = server_pw;
	assert_int_equal(gsasl_init(&s->fake.gs), GSASL_OK);
}

static void
test_scram_end_to_end(void **state)
{
	struct session s;

	(void)state;
	gsasl_session(&s, "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", PASSWORD);
	assert_int_equal(login(&s, true), 0);
	/* client-first, client-final, and the empty answer to server-final */
	assert_int_equal(s.fake.client_lines, 3);
	session_free(&s);

	gsasl_session(&s, "SCRAM-SHA-1", PASSWORD);
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* Wrong password: the server says 535. */
	gsasl_session(&s, "SCRAM-SHA-256", "something else");
	expect_error(
	    &s, login(&s, true), EX_NOPERM, "authentication failed: 535 5.7.8");
	session_free(&s);
}

static void
test_scram_plus(void **state)
{
	struct session s;
	unsigned char cb[32];
	char *b64;
	size_t len;

	(void)state;
	memset(cb, 0x5a, sizeof(cb));
	assert_int_equal(
	    gsasl_base64_to((char *)cb, sizeof(cb), &b64, &len), GSASL_OK);
	gsasl_session(&s, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", PASSWORD);
	s.fake.info.cb_data = cb;
	s.fake.info.cb_len = sizeof(cb);
	s.fake.info.cb_type = "tls-exporter";
	s.fake.server_cb = b64;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* tls-unique on TLS 1.2 */
	gsasl_session(&s, "SCRAM-SHA-1-PLUS", PASSWORD);
	s.fake.info.cb_data = cb;
	s.fake.info.cb_len = 12;
	s.fake.info.cb_type = "tls-unique";
	gsasl_free(b64);
	assert_int_equal(gsasl_base64_to((char *)cb, 12, &b64, &len), GSASL_OK);
	s.fake.server_cb = b64;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* A man in the middle sees another channel: the server refuses. */
	gsasl_session(&s, "SCRAM-SHA-256-PLUS", PASSWORD);
	s.fake.info.cb_data = cb;
	s.fake.info.cb_len = sizeof(cb);
	s.fake.info.cb_type = "tls-exporter";
	s.fake.server_cb = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	expect_error(&s, login(&s, true), EX_NOPERM, "535");
	session_free(&s);
	gsasl_free(b64);
}

static void
test_scram_bad_server_proof(void **state)
{
	struct session s;

	(void)state;
	/* A server-final whose signature does not verify: the server does
	 * not know the password.  Never accept, cancel with "*". */
	gsasl_session(&s, "SCRAM-SHA-256", PASSWORD);
	s.fake.tamper_final = true;
	expect_error(&s, login(&s, true), EX_PROTOCOL, "did not verify");
	assert_string_equal(s.fake.last_line, "*");
	session_free(&s);
}

static void
test_scram_early_235(void **state)
{
	struct session s;
	const char *const script[] = {
	    "C: AUTH SCRAM-SHA-256 *", "S: 235 2.7.0 ok", NULL};
	const char *const script2[] = {"C: AUTH SCRAM-SHA-256 *",
	    /* RFC 5802 5's server-first: its nonce is not ours */
	    "S: 334 cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2"
	    "V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==",
	    "C: *", NULL};

	(void)state;
	/* tests/FAULTS.md 39: 235 before the server proved itself. */
	session_init(&s, "SCRAM-SHA-256");
	s.fake.script = script;
	expect_error(&s, login(&s, true), EX_PROTOCOL,
	    "server accepted authentication before it was complete");
	session_free(&s);

	/* A server-first whose nonce is not ours is refused too. */
	session_init(&s, "SCRAM-SHA-256");
	s.fake.script = script2;
	expect_error(&s, login(&s, true), EX_PROTOCOL, "SCRAM-SHA-256");
	session_free(&s);
}

static void
test_failure_replies(void **state)
{
	static const struct {
		const char *reply;
		int code;
		const char *part;
	} cases[] = {
	    {"535 5.7.8 Username and Password not accepted", EX_NOPERM,
		"authentication failed: 535 5.7.8 Username and Password "
		"not accepted"},
	    {"454 4.7.0 Temporary authentication failure", EX_TEMPFAIL,
		"454 4.7.0"},
	    {"421 4.7.0 closing", EX_TEMPFAIL, "421"},
	    {"530 5.7.0 Authentication required", EX_NOPERM, "530"},
	    {"534 5.7.9 Authentication mechanism is too weak", EX_NOPERM,
		"534"},
	    {"538 5.7.11 Encryption required", EX_NOPERM, "538"},
	    {"550 5.7.1 no", EX_NOPERM, "550"},
	    {"250 2.0.0 what", EX_PROTOCOL, "unexpected reply"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct session s;
		char reply[200];
		const char *script[3];

		snprintf(reply, sizeof(reply), "S: %s", cases[i].reply);
		script[0] = "C: AUTH PLAIN " PLAIN_B64;
		script[1] = reply;
		script[2] = NULL;
		session_init(&s, "PLAIN");
		set_canaries();
		s.fake.script = script;
		expect_error(&s, login(&s, true), cases[i].code, cases[i].part);
		session_free(&s);
	}
}

static void
test_invalid_base64(void **state)
{
	struct session s;
	const char *const script[] = {
	    "C: AUTH LOGIN", "S: 334 !!notbase64", "C: *", NULL};
	const char *const script2[] = {
	    "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU", "C: *", NULL};

	(void)state;
	session_init(&s, "LOGIN");
	s.fake.script = script;
	expect_error(&s, login(&s, true), EX_PROTOCOL, "not base64");
	session_free(&s);
	/* Missing padding is not base64 either. */
	session_init(&s, "LOGIN");
	s.fake.script = script2;
	expect_error(&s, login(&s, true), EX_PROTOCOL, "not base64");
	session_free(&s);
}

static void
test_endless_334(void **state)
{
	struct session s;

	(void)state;
	/* tests/FAULTS.md 39: 10 000 rounds end after a bounded number. */
	session_init(&s, "LOGIN");
	s.fake.mode = FAKE_ENDLESS;
	s.fake.endless_reply = "334 VXNlcm5hbWU6";
	expect_error(&s, login(&s, true), EX_PROTOCOL, "LOGIN");
	assert_true(s.fake.client_lines <= AUTH_ROUNDS_MAX + 2);
	assert_string_equal(s.fake.last_line, "*");
	session_free(&s);

	/* A one-step mechanism: the extra challenge is refused at once. */
	session_init(&s, "PLAIN");
	s.fake.mode = FAKE_ENDLESS;
	s.fake.endless_reply = "334 ";
	expect_error(&s, login(&s, true), EX_PROTOCOL, "after the exchange");
	assert_int_equal(s.fake.client_lines, 2);
	session_free(&s);
}

static void
test_xoauth2(void **state)
{
	struct session s;
	char b64line[300], *b64;
	size_t len;
	const char *raw = "user=user\001auth=Bearer " PASSWORD "\001\001";
	const char *ok[3], *bad[6];

	(void)state;
	assert_int_equal(
	    gsasl_base64_to(raw, strlen(raw), &b64, &len), GSASL_OK);
	snprintf(b64line, sizeof(b64line), "C: AUTH XOAUTH2 %s", b64);
	ok[0] = b64line;
	ok[1] = "S: 235 2.7.0 Accepted";
	ok[2] = NULL;
	session_init(&s, "PLAIN XOAUTH2");
	set_list(&s, "XOAUTH2", NULL);
	s.fake.script = ok;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* The error arrives as a 334 with JSON; answer with an empty line,
	 * then the 535. */
	bad[0] = b64line;
	bad[1] = "S: 334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=";
	bad[2] = "C: ";
	bad[3] = "S: 535 5.7.8 Username and Password not accepted";
	bad[4] = NULL;
	session_init(&s, "XOAUTH2");
	set_list(&s, "XOAUTH2", NULL);
	s.fake.script = bad;
	expect_error(&s, login(&s, true), EX_NOPERM, "535 5.7.8");
	assert_non_null(strstr(s.err.message, "\"status\":\"401\""));
	session_free(&s);
	gsasl_free(b64);
}

/* XOAUTH2 without mailsub's own token store and without a password
 * source: a config error naming both ways, never a password prompt. */
static void
test_oauth_needs_a_token(void **state)
{
	struct session s;

	(void)state;
	session_init(&s, "XOAUTH2");
	set_list(&s, "XOAUTH2", NULL);
	buf_wipe(&s.acct.password);
	s.acct.has_password = false;
	s.fake.script = NULL;
	expect_error(&s, login(&s, true), EX_CONFIG,
	    "set oauth2_client_id and run mailsub --oauth2-login test");
	session_free(&s);
}

static void
test_oauthbearer(void **state)
{
	struct session s;
	char line[600], *b64, raw[300], big[3000];
	size_t len;
	const char *ok[3], *bad[6], *split[6];

	(void)state;
	/* RFC 7628 3.1, with "," and "=" escaped in the authzid. */
	snprintf(raw, sizeof(raw),
	    "n,a=us=2Cer=3D,\001host=smtp.example.org"
	    "\001port=587\001auth=Bearer " PASSWORD "\001\001");
	assert_int_equal(
	    gsasl_base64_to(raw, strlen(raw), &b64, &len), GSASL_OK);
	snprintf(line, sizeof(line), "C: AUTH OAUTHBEARER %s", b64);
	gsasl_free(b64);
	ok[0] = line;
	ok[1] = "S: 235 2.7.0 ok";
	ok[2] = NULL;
	session_init(&s, "OAUTHBEARER");
	s.acct.user = "us,er=";
	set_list(&s, "OAUTHBEARER", NULL);
	s.fake.script = ok;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* RFC 7628 3.2.3: the client answers the error with %x01. */
	bad[0] = line;
	bad[1] = "S: 334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=";
	bad[2] = "C: AQ==";
	bad[3] = "S: 535 5.7.8 bad token";
	bad[4] = NULL;
	session_init(&s, "OAUTHBEARER");
	s.acct.user = "us,er=";
	set_list(&s, "OAUTHBEARER", NULL);
	s.fake.script = bad;
	expect_error(&s, login(&s, true), EX_NOPERM, "invalid_token");
	session_free(&s);

	/* A long token goes after an empty 334, not on the AUTH line. */
	session_init(&s, "OAUTHBEARER");
	memset(big, 't', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_reset(&s.acct.password);
	assert_int_equal(buf_appends(&s.acct.password, big, &s.err), 0);
	set_list(&s, "OAUTHBEARER", NULL);
	split[0] = "C: AUTH OAUTHBEARER";
	split[1] = "S: 334 ";
	/* base64 of "n,a=user,\1host=smtp.example.org\1port=587\1auth=Bearer
	 * tttt", and the rest */
	split[2] = "C: bixhPXVzZXIsAWhvc3Q9c210cC5leGFtcGxlLm9yZwFwb3J0PTU4Nw"
		   "FhdXRoPUJlYXJlciB0dHR0*";
	split[3] = "S: 235 2.7.0 ok";
	split[4] = NULL;
	s.fake.script = split;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);
}

static void
test_nothing_sent_when_refused(void **state)
{
	struct session s;
	const char *const none[] = {NULL};

	(void)state;
	/* Plaintext link: refused before a byte is sent (tests/FAULTS.md
	 * 38). */
	session_init(&s, "PLAIN LOGIN");
	s.fake.script = none;
	expect_error(&s, login(&s, false), EX_CONFIG, "refusing");
	assert_int_equal(s.fake.client_lines, 0);
	session_free(&s);

	/* No AUTH offered but required. */
	session_init(&s, "");
	s.fake.script = none;
	expect_error(
	    &s, login(&s, true), EX_UNAVAILABLE, "server does not offer AUTH");
	session_free(&s);

	/* A password source that fails stops before AUTH. */
	session_init(&s, "PLAIN");
	s.acct.has_password = false;
	s.acct.password_command = "exit 3";
	s.fake.script = none;
	expect_error(&s, login(&s, true), EX_CONFIG, "exit 3");
	assert_int_equal(s.fake.client_lines, 0);
	session_free(&s);

	/* auth = on without a user. */
	session_init(&s, "PLAIN");
	s.acct.user = NULL;
	s.acct.auth = ACCOUNT_AUTH_ON;
	s.fake.script = none;
	expect_error(&s, login(&s, true), EX_CONFIG, "user");
	session_free(&s);
}

static void
test_auth_not_wanted(void **state)
{
	struct session s;
	const char *const none[] = {NULL};

	(void)state;
	session_init(&s, "PLAIN");
	s.acct.auth = ACCOUNT_AUTH_OFF;
	s.fake.script = none;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);

	/* Default: on only when a user is set. */
	session_init(&s, "PLAIN");
	s.acct.user = NULL;
	s.fake.script = none;
	assert_int_equal(login(&s, true), 0);
	assert_int_equal(s.fake.client_lines, 0);
	session_free(&s);
}

static void
test_password_command_source(void **state)
{
	struct session s;
	const char *const script[] = {
	    "C: AUTH PLAIN " PLAIN_B64, "S: 235 2.7.0 ok", NULL};

	(void)state;
	session_init(&s, "PLAIN");
	s.acct.has_password = false;
	s.acct.password_command = "echo " PASSWORD;
	s.fake.script = script;
	assert_int_equal(login(&s, true), 0);
	session_free(&s);
}

/* --- the mechanism table and the module's struct ----------------------- */

static void
test_mech_table(void **state)
{
	const struct sasl_mech *m, *n;
	char names[512], want[512];
	Gsasl *ctx;
	size_t count = 0, used;
	bool explicit_seen = false;

	(void)state;
	assert_int_equal(gsasl_init(&ctx), GSASL_OK);
	for (m = sasl_mechs; m->name != NULL; m++, count++) {
		char lower[64];
		size_t i;

		/* Upper case, unique, found whatever the case. */
		for (i = 0; m->name[i] != '\0'; i++) {
			assert_false(m->name[i] >= 'a' && m->name[i] <= 'z');
			lower[i] = (char)tolower((unsigned char)m->name[i]);
		}
		lower[i] = '\0';
		for (n = sasl_mechs; n < m; n++)
			assert_string_not_equal(n->name, m->name);
		assert_ptr_equal(sasl_mech_find(lower), m);
		/* The preference order first, then the ones auth = on
		 * never picks. */
		if (m->flags & SASL_MECH_EXPLICIT)
			explicit_seen = true;
		else
			assert_false(explicit_seen);
		/* auth.c builds the token ones; libgsasl runs the
		 * preference order. */
		if (m->flags & SASL_MECH_TOKEN)
			assert_true(m->flags & SASL_MECH_PASSWORD);
		else if (!(m->flags & SASL_MECH_EXPLICIT))
			assert_true(gsasl_client_support_p(ctx, m->name));
	}
	gsasl_done(ctx);
	assert_int_equal(sasl_mech_count(), count);
	assert_null(sasl_mech_find("DIGEST-MD5"));
	/* The names in the table's order, ", " between (config_keys.c's
	 * error text; test_config has the wording). */
	for (m = sasl_mechs, used = 0; m->name != NULL; m++)
		used += (size_t)snprintf(want + used, sizeof(want) - used,
		    "%s%s", m == sasl_mechs ? "" : ", ", m->name);
	sasl_mech_names(names, sizeof(names));
	assert_string_equal(names, want);
	/* Truncated, never overrun. */
	memset(names, 'x', sizeof(names));
	sasl_mech_names(names, 4);
	assert_memory_equal(names, sasl_mechs[0].name, 3);
	assert_int_equal(names[3], '\0');
	assert_int_equal(names[4], 'x');
}

static void
test_auth_needed(void **state)
{
	struct account a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.auth = ACCOUNT_AUTH_DEFAULT;
	assert_false(sasl_auth_needed(&a));
	a.user = "";
	assert_false(sasl_auth_needed(&a));
	a.user = "u";
	assert_true(sasl_auth_needed(&a));
	a.auth = ACCOUNT_AUTH_OFF;
	assert_false(sasl_auth_needed(&a));
	a.user = NULL;
	a.auth = ACCOUNT_AUTH_ON;
	assert_true(sasl_auth_needed(&a));
	a.auth = ACCOUNT_AUTH_LIST;
	assert_true(sasl_auth_needed(&a));
}

/* The module's one export: this build's ABI and version, the entry point
 * of auth.c, and what the loader hands out in the unit tests. */
static void
test_module_struct(void **state)
{
	struct error err;

	(void)state;
	assert_int_equal(mailsub_sasl_module.head.abi, SASL_MODULE_ABI);
	assert_string_equal(mailsub_sasl_module.head.version, PACKAGE_VERSION);
	assert_true(mailsub_sasl_module.login == auth_login);
	error_clear(&err);
	assert_ptr_equal(tlsmod_sasl(&err), &mailsub_sasl_module);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choose_preference),
	    cmocka_unit_test(test_choose_plaintext),
	    cmocka_unit_test(test_choose_strict_list),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_plain_long_password),
	    cmocka_unit_test(test_login),
	    cmocka_unit_test(test_cram_md5_rfc2195),
	    cmocka_unit_test(test_scram_end_to_end),
	    cmocka_unit_test(test_scram_plus),
	    cmocka_unit_test(test_scram_bad_server_proof),
	    cmocka_unit_test(test_scram_early_235),
	    cmocka_unit_test(test_failure_replies),
	    cmocka_unit_test(test_invalid_base64),
	    cmocka_unit_test(test_endless_334),
	    cmocka_unit_test(test_xoauth2),
	    cmocka_unit_test(test_oauthbearer),
	    cmocka_unit_test(test_oauth_needs_a_token),
	    cmocka_unit_test(test_nothing_sent_when_refused),
	    cmocka_unit_test(test_auth_not_wanted),
	    cmocka_unit_test(test_password_command_source),
	    cmocka_unit_test(test_mech_table),
	    cmocka_unit_test(test_auth_needed),
	    cmocka_unit_test(test_module_struct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
