/* SPDX-License-Identifier: ISC */
/*
 * The wire layer: reply parsing, EHLO capabilities, dot-stuffing, xtext,
 * the data path, conn.c's buffering and line reading, and the socket
 * transport of net.c over socketpairs and 127.0.0.1.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "error.h"
#include "net.h"
#include "smtp.h"

/* ------------------------------------------------------------------ */
/* A memory transport: reads hand out chunks in order, writes are kept. */

struct chunk {
	const char *p;
	size_t len;
};

#define MEM_CHUNKS_MAX 1100

struct mem {
	struct chunk chunks[MEM_CHUNKS_MAX];
	size_t n, i, off;
	bool timeout_at_end; /* else EOF at the end */
	struct buf out;
	size_t writes;
	bool tls;
	bool closed;
	struct tls_info info;
};

static ssize_t
mem_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct mem *m = ctx;
	size_t left;

	if (m->i == m->n) {
		if (m->timeout_at_end)
			return error_set(err, EX_TEMPFAIL,
			    "timed out after 1 s waiting for the server");
		return 0;
	}
	left = m->chunks[m->i].len - m->off;
	if (n > left)
		n = left;
	memcpy(p, m->chunks[m->i].p + m->off, n);
	m->off += n;
	if (m->off == m->chunks[m->i].len) {
		m->i++;
		m->off = 0;
	}
	return (ssize_t)n;
}

static int
mem_write(void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	struct mem *m = ctx;

	m->writes++;
	return buf_append(&m->out, p, n, err);
}

static int
mem_starttls(struct transport *t, const struct peer *peer, struct error *err)
{
	struct mem *m = t->ctx;

	m->tls = true;
	return 0;
}

static const struct tls_info *
mem_tls_info(void *ctx)
{
	struct mem *m = ctx;

	return m->tls ? &m->info : NULL;
}

static void
mem_close(void *ctx)
{
	struct mem *m = ctx;

	m->closed = true;
}

static void
mem_add(struct mem *m, const char *p, size_t len)
{
	assert_true(m->n < MEM_CHUNKS_MAX);
	m->chunks[m->n].p = p;
	m->chunks[m->n].len = len;
	m->n++;
}

static void
mem_adds(struct mem *m, const char *s)
{
	mem_add(m, s, strlen(s));
}

static void
mem_conn(struct mem *m, struct conn *c)
{
	struct transport t;

	memset(&t, 0, sizeof(t));
	t.read = mem_read;
	t.write = mem_write;
	t.starttls = mem_starttls;
	t.tls_info = mem_tls_info;
	t.close = mem_close;
	t.ctx = m;
	buf_init(&m->out, 64 * 1024 * 1024);
	m->info.version = "TLS1.3";
	conn_init(c, &t, 1000);
}

static void
mem_free(struct mem *m, struct conn *c)
{
	conn_free(c);
	buf_free(&m->out);
}

/* Read one reply from chunks; returns smtp_read_reply's result. */
static int
reply_from(struct mem *m, struct smtp_reply *r, struct error *err)
{
	struct conn c;
	int rc;

	/* r is initialised by the caller; a reply it still holds is freed
	 * by smtp_read_reply. */
	mem_conn(m, &c);
	error_clear(err);
	rc = smtp_read_reply(&c, r, err);
	mem_free(m, &c);
	return rc;
}

static int
reply_of(const char *text, struct smtp_reply *r, struct error *err)
{
	static struct mem m;

	memset(&m, 0, sizeof(m));
	mem_adds(&m, text);
	return reply_from(&m, r, err);
}

/* ------------------------------------------------------------------ */
/* smtp_parse_reply_line */

static void
parse_ok(const char *line, int code, bool more, const char *text)
{
	const char *t;
	size_t tl;
	int c;
	bool m;
	struct error err;

	error_clear(&err);
	if (smtp_parse_reply_line(line, strlen(line), &c, &m, &t, &tl, &err) !=
	    0)
		fail_msg("\"%s\": %s", line, err.message);
	assert_int_equal(c, code);
	assert_int_equal(m, more);
	assert_int_equal(tl, strlen(text));
	assert_memory_equal(t, text, tl);
}

static void
parse_bad(const char *line, size_t len)
{
	const char *t;
	size_t tl;
	int c;
	bool m;
	struct error err;

	error_clear(&err);
	if (smtp_parse_reply_line(line, len, &c, &m, &t, &tl, &err) != -1)
		fail_msg("\"%s\" was accepted", line);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "malformed reply line"));
}

static void
test_parse_final_line(void **state)
{
	parse_ok("250 ok", 250, false, "ok");
	parse_ok("554 5.7.1 go away", 554, false, "5.7.1 go away");
	parse_ok("421 ", 421, false, "");
}

static void
test_parse_continuation(void **state)
{
	parse_ok("250-mx.example.net", 250, true, "mx.example.net");
	parse_ok("250-", 250, true, "");
}

static void
test_parse_bare_code(void **state)
{
	parse_ok("250", 250, false, "");
	parse_ok("354", 354, false, "");
}

static void
test_parse_two_digits(void **state)
{
	parse_bad("25 ok", 5);
	parse_bad("25", 2);
}

static void
test_parse_four_digits(void **state)
{
	parse_bad("2500 ok", 7);
	parse_bad("2500", 4);
}

static void
test_parse_letters(void **state)
{
	parse_bad("abc", 3);
	parse_bad("25a ok", 6);
	parse_bad("ok 250", 6);
}

static void
test_parse_code_range(void **state)
{
	parse_bad("199 x", 5);
	parse_bad("600 x", 5);
	parse_bad("099 x", 5);
	parse_ok("599 x", 599, false, "x");
	parse_ok("200 x", 200, false, "x");
}

static void
test_parse_bad_separator(void **state)
{
	parse_bad("250_ok", 6);
	parse_bad("250\tok", 6);
	parse_bad("", 0);
}

static void
test_parse_error_quotes_escaped(void **state)
{
	const char *t;
	size_t tl;
	int c;
	bool m;
	struct error err;

	error_clear(&err);
	assert_int_equal(
	    smtp_parse_reply_line("x\x1b[2J", 5, &c, &m, &t, &tl, &err), -1);
	assert_non_null(strstr(err.message, "\\x1b[2J"));
	assert_null(strchr(err.message, '\x1b'));
}

/* ------------------------------------------------------------------ */
/* smtp_read_reply */

static void
test_reply_single(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250 2.1.0 Ok\r\n", &r, &err), 0);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.esc, "2.1.0");
	assert_string_equal(r.text, "2.1.0 Ok");
	assert_int_equal(r.lines, 1);
	smtp_reply_free(&r);
}

static void
test_reply_multiline_joined(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250-mx.example.net\r\n250-PIPELINING\r\n"
				  "250 SIZE 100\r\n",
			     &r, &err),
	    0);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.lines, 3);
	assert_string_equal(r.text, "mx.example.net\nPIPELINING\nSIZE 100");
	assert_int_equal(r.text_len, strlen(r.text));
	smtp_reply_free(&r);
}

static void
test_reply_byte_by_byte(void **state)
{
	static const char text[] = "250-a\r\n250-b\r\n250 c\r\n";
	static struct mem m;
	struct smtp_reply r = {0};
	struct error err;
	size_t i;

	/* Every TCP segmentation must give the same reply (tests/FAULTS.md 27).
	 */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(text) - 1; i++)
		mem_add(&m, text + i, 1);
	assert_int_equal(reply_from(&m, &r, &err), 0);
	assert_string_equal(r.text, "a\nb\nc");
	smtp_reply_free(&r);
}

static void
test_reply_leaves_next_reply(void **state)
{
	static struct mem m;
	struct smtp_reply r = {0};
	struct conn c;
	struct error err;

	/* Pipelined replies in one segment are read one at a time. */
	memset(&m, 0, sizeof(m));
	mem_adds(&m, "250 one\r\n550-two\r\n550 two b\r\n354 three\r\n");
	mem_conn(&m, &c);
	smtp_reply_init(&r);
	assert_int_equal(smtp_read_reply(&c, &r, &err), 0);
	assert_int_equal(r.code, 250);
	assert_int_equal(smtp_read_reply(&c, &r, &err), 0);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.text, "two\ntwo b");
	assert_int_equal(smtp_read_reply(&c, &r, &err), 0);
	assert_int_equal(r.code, 354);
	assert_int_equal(conn_pending(&c), 0);
	smtp_reply_free(&r);
	mem_free(&m, &c);
}

static void
test_reply_code_mismatch(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250-x\r\n550 y\r\n", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "250 to 550"));
	assert_non_null(strstr(err.message, "\"550 y\""));
	assert_null(r.text);
}

static void
test_reply_bare_lf(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250 ok\n", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "bare LF"));
	assert_int_equal(reply_of("250-a\r\n250 ok\n", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
}

static void
test_reply_nul(void **state)
{
	static struct mem m;
	struct smtp_reply r = {0};
	struct error err;

	memset(&m, 0, sizeof(m));
	mem_add(&m, "250 o\0k\r\n", 9);
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "NUL"));
	assert_non_null(strstr(err.message, "o\\x00k"));
}

static void
test_reply_empty_line(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("\r\n", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
}

static void
test_reply_continuation_then_eof(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250-\r\n", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "connection closed by server"));
}

static void
test_reply_eof_mid_line(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("250 no end", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
}

static void
test_reply_eof_at_once(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("", &r, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
}

static void
test_reply_timeout_passes_through(void **state)
{
	static struct mem m;
	struct smtp_reply r = {0};
	struct error err;

	memset(&m, 0, sizeof(m));
	mem_adds(&m, "250-a\r\n");
	m.timeout_at_end = true;
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "timed out"));
}

static void
test_reply_line_cap(void **state)
{
	static struct mem m;
	static char big[SMTP_REPLY_LINE_MAX + 16];
	struct smtp_reply r = {0};
	struct error err;

	/* Exactly SMTP_REPLY_LINE_MAX bytes of line, CR and LF split over
	 * two reads: accepted. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "250 ", 4);
	memset(&m, 0, sizeof(m));
	mem_add(&m, big, SMTP_REPLY_LINE_MAX);
	mem_add(&m, "\r", 1);
	mem_add(&m, "\n", 1);
	assert_int_equal(reply_from(&m, &r, &err), 0);
	assert_int_equal(r.text_len, SMTP_REPLY_LINE_MAX - 4);
	smtp_reply_free(&r);
	/* One byte more: refused. */
	memset(&m, 0, sizeof(m));
	mem_add(&m, big, SMTP_REPLY_LINE_MAX + 1);
	mem_add(&m, "\r\n", 2);
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "longer than 4096"));
	/* A CR at the limit not followed by LF: refused too. */
	memset(&m, 0, sizeof(m));
	mem_add(&m, big, SMTP_REPLY_LINE_MAX);
	mem_add(&m, "\rx\r\n", 4);
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
}

static void
test_reply_megabyte_line(void **state)
{
	static struct mem m;
	struct smtp_reply r = {0};
	struct error err;
	char *big = malloc(1024 * 1024);

	assert_non_null(big);
	memset(big, 'x', 1024 * 1024);
	memcpy(big, "250 ", 4);
	memset(&m, 0, sizeof(m));
	mem_add(&m, big, 1024 * 1024);
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	/* Stopped at the cap, not after reading the whole megabyte. */
	assert_true(m.off < 64 * 1024);
	free(big);
}

static void
test_reply_endless_continuation(void **state)
{
	static struct mem m;
	struct smtp_reply r = {0};
	struct error err;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < 1000; i++)
		mem_adds(&m, "250-x\r\n");
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "more than 256 lines"));
	/* 256 lines are fine. */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		mem_adds(&m, "250-x\r\n");
	mem_adds(&m, "250 end\r\n");
	assert_int_equal(reply_from(&m, &r, &err), 0);
	assert_int_equal(r.lines, SMTP_REPLY_LINES_MAX);
	smtp_reply_free(&r);
}

static void
test_reply_total_cap(void **state)
{
	static struct mem m;
	static char line[4000];
	struct smtp_reply r = {0};
	struct error err;
	size_t i;

	memset(line, 'y', sizeof(line));
	memcpy(line, "250-", 4);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 20; i++)
		mem_add(&m, line, sizeof(line));
	mem_adds(&m, "250 end\r\n");
	assert_int_equal(reply_from(&m, &r, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "longer than 65536"));
}

static void
test_reply_enhanced_codes(void **state)
{
	struct smtp_reply r = {0};
	struct error err;

	assert_int_equal(reply_of("550 5.1.10 x\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "5.1.10");
	assert_int_equal(reply_of("550 5.1.1\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "5.1.1");
	/* The class must match the reply (RFC 3463 2). */
	assert_int_equal(reply_of("250 5.1.1 odd\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "");
	assert_int_equal(reply_of("550 5.1 x\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "");
	assert_int_equal(reply_of("550 5.1234.1 x\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "");
	assert_int_equal(reply_of("550 5.1.1x\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "");
	assert_int_equal(reply_of("550 user unknown\r\n", &r, &err), 0);
	assert_string_equal(r.esc, "");
	smtp_reply_free(&r);
}

/* ------------------------------------------------------------------ */
/* smtp_reply_summary */

static void
test_summary_one_line(void **state)
{
	struct smtp_reply r = {0};
	struct error err;
	char s[256];

	assert_int_equal(reply_of("550 5.1.1 user unknown\r\n", &r, &err), 0);
	assert_string_equal(
	    smtp_reply_summary(&r, s, sizeof(s)), "550 5.1.1 user unknown");
	smtp_reply_free(&r);
	assert_int_equal(reply_of("250\r\n", &r, &err), 0);
	assert_string_equal(smtp_reply_summary(&r, s, sizeof(s)), "250");
	smtp_reply_free(&r);
}

static void
test_summary_multiline(void **state)
{
	struct smtp_reply r = {0};
	struct error err;
	char s[256];

	assert_int_equal(
	    reply_of("550-5.1.1 The account does not exist.\r\n"
		     "550-5.1.1 Please try\r\n550 5.1.1 again.\r\n",
		&r, &err),
	    0);
	assert_string_equal(smtp_reply_summary(&r, s, sizeof(s)),
	    "550 5.1.1 The account does not exist. Please try again.");
	smtp_reply_free(&r);
}

static void
test_summary_escapes(void **state)
{
	struct smtp_reply r = {0};
	struct error err;
	char s[256];

	assert_int_equal(reply_of("554 \x1b[31mred\x7f\\\r\n", &r, &err), 0);
	assert_string_equal(
	    smtp_reply_summary(&r, s, sizeof(s)), "554 \\x1b[31mred\\x7f\\x5c");
	smtp_reply_free(&r);
}

static void
test_summary_truncates(void **state)
{
	struct smtp_reply r = {0};
	struct error err;
	char s[8];

	assert_int_equal(reply_of("250 a long text\r\n", &r, &err), 0);
	assert_string_equal(smtp_reply_summary(&r, s, sizeof(s)), "250 a l");
	smtp_reply_free(&r);
	smtp_reply_init(&r);
	assert_string_equal(smtp_reply_summary(&r, s, sizeof(s)), "");
}

/* ------------------------------------------------------------------ */
/* smtp_parse_ehlo */

static void
test_ehlo_all_keywords(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo(
	    "mx.example.net Hello client\nPIPELINING\nSIZE "
	    "35882577\n8BITMIME\nSMTPUTF8\nDSN\nSTARTTLS\nAUTH PLAIN LOGIN\n"
	    "CHUNKING\nENHANCEDSTATUSCODES\nBINARYMIME",
	    &c);
	assert_int_equal(
	    c.flags, SMTP_CAP_PIPELINING | SMTP_CAP_SIZE | SMTP_CAP_8BITMIME |
			 SMTP_CAP_SMTPUTF8 | SMTP_CAP_DSN | SMTP_CAP_STARTTLS |
			 SMTP_CAP_AUTH | SMTP_CAP_CHUNKING |
			 SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_BINARYMIME);
	assert_int_equal(c.size_limit, 35882577);
	assert_string_equal(c.auth_mechs, "PLAIN LOGIN");
	assert_string_equal(c.greeting_name, "mx.example.net");
}

static void
test_ehlo_case_insensitive(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo("mx\npipelining\nStartTLS\nauth plain cram-md5\n"
			"size 10",
	    &c);
	assert_true(c.flags & SMTP_CAP_PIPELINING);
	assert_true(c.flags & SMTP_CAP_STARTTLS);
	assert_string_equal(c.auth_mechs, "PLAIN CRAM-MD5");
	assert_int_equal(c.size_limit, 10);
}

static void
test_ehlo_auth_obsolete_form(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo("mx\nAUTH=LOGIN PLAIN\nAUTH PLAIN SCRAM-SHA-256", &c);
	assert_true(c.flags & SMTP_CAP_AUTH);
	/* both forms, each mechanism once */
	assert_string_equal(c.auth_mechs, "LOGIN PLAIN SCRAM-SHA-256");
	assert_true(smtp_caps_has_auth(&c, "scram-sha-256"));
	assert_true(smtp_caps_has_auth(&c, "LOGIN"));
	assert_false(smtp_caps_has_auth(&c, "SCRAM-SHA-1"));
	assert_false(smtp_caps_has_auth(&c, "PLAI"));
	assert_false(smtp_caps_has_auth(&c, ""));
}

static void
test_ehlo_bad_mechs_skipped(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo("mx\nAUTH PLAIN bad!mech THIS-NAME-IS-LONGER-THAN-20 "
			"X_OK",
	    &c);
	assert_string_equal(c.auth_mechs, "PLAIN X_OK");
}

static void
test_ehlo_many_mechs_bounded(void **state)
{
	struct smtp_caps c;
	struct buf b;
	int i;

	buf_init(&b, 100000);
	assert_int_equal(buf_appends(&b, "mx\nAUTH", NULL), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_printf(&b, NULL, " MECH-%d", i), 0);
	smtp_parse_ehlo(buf_str(&b), &c);
	assert_true(strlen(c.auth_mechs) < SMTP_AUTH_MECHS_MAX);
	assert_true(smtp_caps_has_auth(&c, "MECH-0"));
	assert_false(smtp_caps_has_auth(&c, "MECH-199"));
	buf_free(&b);
}

static void
test_ehlo_size_variants(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo("mx\nSIZE", &c);
	assert_true(c.flags & SMTP_CAP_SIZE);
	assert_int_equal(c.size_limit, 0);
	smtp_parse_ehlo("mx\nSIZE 0", &c);
	assert_int_equal(c.size_limit, 0);
	smtp_parse_ehlo("mx\nSIZE 12x", &c);
	assert_int_equal(c.size_limit, 0);
	smtp_parse_ehlo("mx\nSIZE 99999999999999999999999", &c);
	assert_int_equal(c.size_limit, 0);
	smtp_parse_ehlo("mx\nSIZE 52428800   ", &c);
	assert_int_equal(c.size_limit, 52428800);
}

static void
test_ehlo_unknown_and_lookalikes(void **state)
{
	struct smtp_caps c;

	smtp_parse_ehlo("mx\nXPIPELINING\nPIPELINING2\nSTARTTLSX\nX-EXPS "
			"GSSAPI\nVRFY\n\n",
	    &c);
	assert_int_equal(c.flags, 0);
	smtp_parse_ehlo("mx", &c);
	assert_int_equal(c.flags, 0);
	assert_string_equal(c.greeting_name, "mx");
	smtp_parse_ehlo(NULL, &c);
	assert_int_equal(c.flags, 0);
}

static void
test_ehlo_greeting_name_bounded(void **state)
{
	struct smtp_caps c;
	char name[600];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	smtp_parse_ehlo(name, &c);
	assert_int_equal(strlen(c.greeting_name), sizeof(c.greeting_name) - 1);
}

/* ------------------------------------------------------------------ */
/* smtp_dot_stuff_line, smtp_xtext */

static void
stuff(const char *in, const char *want)
{
	char out[64];
	size_t n = smtp_dot_stuff_line(in, strlen(in), out);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void
test_dot_stuffing(void **state)
{
	stuff(".", "..");
	stuff("..", "...");
	stuff(".x", "..x");
	stuff("a.b", "a.b");
	stuff("", "");
	stuff(" .", " .");
}

static void
xtext(const char *in, const char *want)
{
	char out[256];

	assert_int_equal(smtp_xtext(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_xtext_encoding(void **state)
{
	xtext("bob@example.org", "bob@example.org");
	xtext("a+b=c", "a+2Bb+3Dc");
	xtext("a b", "a+20b");
	xtext("\x7f\x01", "+7F+01");
	xtext("j\xc3\xb6rg", "j+C3+B6rg");
	xtext("!~", "!~");
	xtext("", "");
}

static void
test_xtext_overflow(void **state)
{
	char out[6];

	assert_int_equal(smtp_xtext("abcde", out, sizeof(out)), 0);
	assert_string_equal(out, "abcde");
	assert_int_equal(smtp_xtext("abcdef", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(smtp_xtext("ab+", out, sizeof(out)), 0);
	assert_int_equal(smtp_xtext("abc+", out, sizeof(out)), -1);
	assert_int_equal(smtp_xtext("a", out, 0), -1);
}

/* ------------------------------------------------------------------ */
/* The data path */

static int
spool(const void *p, size_t n)
{
	char path[] = "/tmp/test_smtp.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

static void
test_send_data_small_one_write(void **state)
{
	static struct mem m;
	static const char msg[] = "Subject: x\r\n\r\n..dot\r\nbody\r\n";
	struct conn c;
	struct error err;
	int fd = spool(msg, sizeof(msg) - 1);

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(smtp_send_data(&c, fd, 0, sizeof(msg) - 1, &err), 0);
	assert_string_equal(
	    buf_str(&m.out), "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n");
	/* The whole message and its dot in one write: no Nagle stall. */
	assert_int_equal(m.writes, 1);
	assert_int_equal(c.bytes_out, sizeof(msg) - 1 + 3);
	close(fd);
	mem_free(&m, &c);
}

static void
test_send_data_offset_and_large(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	size_t n = 300 * 1024 + 17, i;
	char *msg = malloc(n + 100);
	int fd;

	assert_non_null(msg);
	memcpy(msg, "HEADER-TO-SKIP", 14);
	for (i = 14; i < n + 14; i++)
		msg[i] = (i % 50 == 48) ? '\r' : (i % 50 == 49) ? '\n' : 'a';
	msg[n + 12] = '\r';
	msg[n + 13] = '\n';
	fd = spool(msg, n + 14);
	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(smtp_send_data(&c, fd, 14, n, &err), 0);
	assert_int_equal(m.out.len, n + 3);
	assert_memory_equal(m.out.data, msg + 14, n);
	assert_memory_equal(m.out.data + n, ".\r\n", 3);
	/* a few large writes, not one per line */
	assert_true(m.writes <= 6);
	close(fd);
	free(msg);
	mem_free(&m, &c);
}

static void
test_send_data_empty_and_unterminated(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	int fd = spool("abc", 3);

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(smtp_send_data(&c, fd, 0, 0, &err), 0);
	assert_string_equal(buf_str(&m.out), ".\r\n");
	buf_reset(&m.out);
	assert_int_equal(smtp_send_data(&c, fd, 0, 3, &err), 0);
	assert_string_equal(buf_str(&m.out), "abc\r\n.\r\n");
	buf_reset(&m.out);
	assert_int_equal(smtp_send_data(&c, fd, 2, 1, &err), 0);
	assert_string_equal(buf_str(&m.out), "c\r\n.\r\n");
	close(fd);
	mem_free(&m, &c);
}

static void
test_send_data_short_spool(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	int fd = spool("abc\r\n", 5);

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	error_clear(&err);
	assert_int_equal(smtp_send_data(&c, fd, 0, 100, &err), -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	/* no terminator went out */
	assert_null(strstr(buf_str(&m.out), ".\r\n"));
	assert_int_equal(smtp_send_data(&c, -1, 0, 1, &err), -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	close(fd);
	mem_free(&m, &c);
}

static void
test_send_bdat_unstuffs(void **state)
{
	static struct mem m;
	static const char msg[] = "..a\r\nb.\r\n..\r\n";
	struct conn c;
	struct error err;
	int fd = spool(msg, sizeof(msg) - 1);

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(smtp_send_bdat(&c, fd, 0, sizeof(msg) - 1, &err), 0);
	assert_string_equal(
	    buf_str(&m.out), "BDAT 11 LAST\r\n.a\r\nb.\r\n.\r\n");
	buf_reset(&m.out);
	assert_int_equal(smtp_send_bdat(&c, fd, 0, 0, &err), 0);
	assert_string_equal(buf_str(&m.out), "BDAT 0 LAST\r\n");
	close(fd);
	mem_free(&m, &c);
}

static void
test_send_bdat_chunk_refused(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	size_t n = 1536 * 1024;
	char *msg = malloc(n);
	int fd;

	assert_non_null(msg);
	memset(msg, 'z', n);
	msg[n - 2] = '\r';
	msg[n - 1] = '\n';
	fd = spool(msg, n);
	memset(&m, 0, sizeof(m));
	mem_adds(&m, "552 5.3.4 too big\r\n");
	mem_conn(&m, &c);
	error_clear(&err);
	assert_int_equal(smtp_send_bdat(&c, fd, 0, n, &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	assert_string_equal(err.message, "552 5.3.4 too big");
	/* the first chunk went, the second never did */
	assert_null(strstr(buf_str(&m.out), "LAST"));
	close(fd);
	free(msg);
	mem_free(&m, &c);
}

/* ------------------------------------------------------------------ */
/* conn.c */

static void
test_conn_command_buffers(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(conn_command(&c, &err, "MAIL FROM:<%s>", "a@b"), 0);
	assert_int_equal(conn_command(&c, &err, "RCPT TO:<%s>", "c@d"), 0);
	assert_int_equal(conn_command(&c, &err, "DATA"), 0);
	assert_int_equal(m.writes, 0);
	assert_int_equal(conn_flush(&c, &err), 0);
	assert_int_equal(m.writes, 1);
	assert_string_equal(
	    buf_str(&m.out), "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	assert_int_equal(conn_flush(&c, &err), 0);
	assert_int_equal(m.writes, 1);
	mem_free(&m, &c);
}

static void
test_conn_command_refuses_line_breaks(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	error_clear(&err);
	assert_int_equal(
	    conn_command(&c, &err, "MAIL FROM:<%s>", "a@b>\r\nRCPT TO:<evil@x"),
	    -1);
	assert_int_equal(err.exit_code, EX_SOFTWARE);
	assert_int_equal(conn_command(&c, &err, "X %s", "a\nb"), -1);
	assert_int_equal(conn_flush(&c, &err), 0);
	assert_int_equal(m.out.len, 0);
	mem_free(&m, &c);
}

static void
test_conn_write_flushes_when_full(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	char *block = malloc(CONN_WRITE_BUFFER);
	size_t i;

	assert_non_null(block);
	memset(block, 'b', CONN_WRITE_BUFFER);
	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	for (i = 0; i < 5; i++)
		assert_int_equal(conn_write(&c, block, 30000, &err), 0);
	/* 150000 bytes through a 64 KiB buffer: two full flushes so far */
	assert_int_equal(m.writes, 2);
	assert_int_equal(conn_write(&c, block, CONN_WRITE_BUFFER, &err), 0);
	assert_int_equal(conn_flush(&c, &err), 0);
	assert_int_equal(m.out.len, 150000 + CONN_WRITE_BUFFER);
	assert_int_equal(c.bytes_out, m.out.len);
	assert_int_equal(conn_write_direct(&c, "x", 1, &err), 0);
	assert_int_equal(m.out.len, 150001 + CONN_WRITE_BUFFER);
	free(block);
	mem_free(&m, &c);
}

static void
test_conn_read_line_endings(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	char line[16];
	size_t len;
	bool bare;

	memset(&m, 0, sizeof(m));
	mem_adds(&m, "one\r\ntwo\nthree\r");
	mem_adds(&m, "\nfour\r\r\n");
	mem_conn(&m, &c);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), 0);
	assert_string_equal(line, "one");
	assert_false(bare);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), 0);
	assert_string_equal(line, "two");
	assert_true(bare);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), 0);
	assert_string_equal(line, "three");
	assert_false(bare);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), 0);
	assert_string_equal(line, "four\r");
	assert_int_equal(len, 5);
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_true(c.eof);
	/* and it stays at EOF */
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), -1);
	mem_free(&m, &c);
	assert_true(m.closed);
}

static void
test_conn_starttls_injection(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	struct smtp_reply r = {0};

	memset(&m, 0, sizeof(m));
	mem_adds(&m, "220 ready\r\n250-evil\r\n250 AUTH PLAIN\r\n");
	mem_conn(&m, &c);
	smtp_reply_init(&r);
	assert_int_equal(smtp_read_reply(&c, &r, &err), 0);
	assert_int_equal(r.code, 220);
	assert_true(conn_pending(&c) > 0);
	error_clear(&err);
	assert_int_equal(conn_starttls(&c, NULL, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_non_null(strstr(err.message, "STARTTLS injection"));
	assert_false(m.tls);
	assert_null(conn_tls_info(&c));
	smtp_reply_free(&r);
	mem_free(&m, &c);
}

static void
test_conn_starttls_ok_and_unavailable(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;

	memset(&m, 0, sizeof(m));
	mem_conn(&m, &c);
	assert_int_equal(conn_command(&c, &err, "STARTTLS"), 0);
	assert_int_equal(conn_starttls(&c, NULL, &err), 0);
	/* what was queued went out before the handshake */
	assert_string_equal(buf_str(&m.out), "STARTTLS\r\n");
	assert_non_null(conn_tls_info(&c));
	assert_string_equal(conn_tls_info(&c)->version, "TLS1.3");
	c.t.starttls = NULL;
	error_clear(&err);
	assert_int_equal(conn_starttls(&c, NULL, &err), -1);
	assert_int_equal(err.exit_code, EX_SOFTWARE);
	mem_free(&m, &c);
}

struct traced {
	char dirs[16];
	bool secret[16];
	size_t n;
};

static void
trace_fn(void *arg, char dir, const char *line, size_t len, bool secret)
{
	struct traced *t = arg;

	if (t->n < 16) {
		t->dirs[t->n] = dir;
		t->secret[t->n] = secret;
		t->n++;
	}
}

static void
test_conn_trace_marks_secrets(void **state)
{
	static struct mem m;
	struct conn c;
	struct error err;
	struct traced t;
	char line[64];
	size_t len;
	bool bare;

	memset(&m, 0, sizeof(m));
	memset(&t, 0, sizeof(t));
	mem_adds(&m, "334 \r\n");
	mem_conn(&m, &c);
	c.trace = trace_fn;
	c.trace_arg = &t;
	assert_int_equal(conn_command(&c, &err, "AUTH LOGIN"), 0);
	c.trace_secret = true;
	assert_int_equal(conn_command(&c, &err, "c2VjcmV0"), 0);
	c.trace_secret = false;
	assert_int_equal(
	    conn_read_line(&c, line, sizeof(line), &len, &bare, &err), 0);
	assert_int_equal(t.n, 3);
	assert_memory_equal(t.dirs, "CCS", 3);
	assert_false(t.secret[0]);
	assert_true(t.secret[1]);
	assert_false(t.secret[2]);
	mem_free(&m, &c);
}

/* ------------------------------------------------------------------ */
/* net.c */

static void
test_net_fd_transport(void **state)
{
	struct transport t;
	struct error err;
	int sv[2];
	char b[16];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(net_transport_fd(sv[0], sv[0], &t, &err), 0);
	assert_int_equal(net_transport_get_fd(&t), sv[0]);
	assert_int_equal(t.write(t.ctx, "hello", 5, 1000, &err), 0);
	assert_int_equal(read(sv[1], b, sizeof(b)), 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(write(sv[1], "world", 5), 5);
	assert_int_equal(t.read(t.ctx, b, sizeof(b), 1000, &err), 5);
	assert_memory_equal(b, "world", 5);
	assert_null(t.tls_info(t.ctx));
	assert_null(t.starttls);
	/* timeout */
	error_clear(&err);
	assert_int_equal(t.read(t.ctx, b, sizeof(b), 50, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "timed out after 1 s"));
	/* EOF */
	close(sv[1]);
	assert_int_equal(t.read(t.ctx, b, sizeof(b), 1000, &err), 0);
	t.close(t.ctx);
}

static void
test_net_write_to_closed_peer(void **state)
{
	struct transport t;
	struct error err;
	int sv[2], rc = 0, i;
	static char big[256 * 1024];

	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the test. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(net_transport_fd(sv[0], sv[0], &t, &err), 0);
	close(sv[1]);
	error_clear(&err);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = t.write(t.ctx, big, sizeof(big), 1000, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	t.close(t.ctx);
}

static void
test_net_write_timeout(void **state)
{
	struct transport t;
	struct error err;
	int sv[2], rc = 0, i;
	static char big[256 * 1024];

	/* A peer that never reads: the write times out, it does not hang
	 * (the DATA-progress timer of tests/FAULTS.md 31). */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(net_transport_fd(sv[0], sv[0], &t, &err), 0);
	error_clear(&err);
	for (i = 0; i < 64 && rc == 0; i++)
		rc = t.write(t.ctx, big, sizeof(big), 100, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "timed out"));
	t.close(t.ctx);
	close(sv[1]);
}

static void
test_net_get_fd_other_transports(void **state)
{
	struct transport t, other;
	struct error err;
	int p1[2], p2[2];

	memset(&other, 0, sizeof(other));
	other.read = mem_read;
	other.ctx = &other;
	assert_int_equal(net_transport_get_fd(&other), -1);
	assert_int_equal(net_transport_get_fd(NULL), -1);
	/* -bs: separate in and out descriptors are no socket for TLS */
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(net_transport_fd(p1[0], p2[1], &t, &err), 0);
	assert_int_equal(net_transport_get_fd(&t), -1);
	assert_int_equal(t.write(t.ctx, "x\r\n", 3, 1000, &err), 0);
	assert_int_equal(write(p1[1], "y", 1), 1);
	{
		char b[4];

		assert_int_equal(t.read(t.ctx, b, sizeof(b), 1000, &err), 1);
		assert_int_equal(read(p2[0], b, sizeof(b)), 3);
	}
	t.close(t.ctx);
	close(p1[1]);
	close(p2[0]);
}

/* A listening socket on 127.0.0.1; returns its port. */
static int
listener(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_net_connect_loopback(void **state)
{
	struct transport t;
	struct error err;
	unsigned port;
	int lfd = listener(&port), fd, afd, one = 0;
	socklen_t len = sizeof(one);
	char b[8];

	error_clear(&err);
	if (net_connect("127.0.0.1", port, NULL, 2000, &t, &err) == -1)
		fail_msg("%s", err.message);
	fd = net_transport_get_fd(&t);
	assert_true(fd >= 0);
	assert_int_equal(
	    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, &len), 0);
	assert_true(one != 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(afd, "220 x\r\n", 7), 7);
	assert_int_equal(t.read(t.ctx, b, sizeof(b), 1000, &err), 7);
	t.close(t.ctx);
	/* with a source address */
	if (net_connect("127.0.0.1", port, "127.0.0.1", 2000, &t, &err) == -1)
		fail_msg("%s", err.message);
	t.close(t.ctx);
	close(afd);
	close(lfd);
}

static void
test_net_connect_refused(void **state)
{
	struct transport t;
	struct error err;
	unsigned port;
	int lfd = listener(&port);

	close(lfd); /* nobody listens there now */
	error_clear(&err);
	assert_int_equal(
	    net_connect("127.0.0.1", port, NULL, 2000, &t, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "127.0.0.1:"));
	assert_non_null(strstr(err.message, "refused"));
}

static void
test_net_connect_bad_arguments(void **state)
{
	struct transport t;
	struct error err;

	error_clear(&err);
	assert_int_equal(net_connect("127.0.0.1", 0, NULL, 1000, &t, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_int_equal(
	    net_connect("127.0.0.1", 70000, NULL, 1000, &t, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_int_equal(
	    net_connect("127.0.0.1", 25, "not-an-address", 1000, &t, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "source_ip"));
	/* An IPv6 source cannot reach an IPv4-only name. */
	assert_int_equal(
	    net_connect("127.0.0.1", 25, "::1", 1000, &t, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
}

static void
test_net_unknown_host(void **state)
{
	struct transport t;
	struct error err;

	/* RFC 6761 6.4: .invalid never resolves.  Without any resolver
	 * glibc may still say "try again", which is rightly temporary. */
	error_clear(&err);
	assert_int_equal(
	    net_connect("no-such-host.invalid", 25, NULL, 1000, &t, &err), -1);
	assert_true(err.exit_code == EX_NOHOST || err.exit_code == EX_TEMPFAIL);
	if (err.exit_code == EX_NOHOST)
		assert_non_null(strstr(err.message, "host not found"));
}

static void
test_net_local_fqdn(void **state)
{
	char name[256], small[4];

	net_local_fqdn(name, sizeof(name));
	assert_true(name[0] != '\0');
	assert_string_not_equal(name, "localhost");
	assert_null(strchr(name, ' '));
	net_local_fqdn(small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	net_local_fqdn(small, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_final_line),
	    cmocka_unit_test(test_parse_continuation),
	    cmocka_unit_test(test_parse_bare_code),
	    cmocka_unit_test(test_parse_two_digits),
	    cmocka_unit_test(test_parse_four_digits),
	    cmocka_unit_test(test_parse_letters),
	    cmocka_unit_test(test_parse_code_range),
	    cmocka_unit_test(test_parse_bad_separator),
	    cmocka_unit_test(test_parse_error_quotes_escaped),
	    cmocka_unit_test(test_reply_single),
	    cmocka_unit_test(test_reply_multiline_joined),
	    cmocka_unit_test(test_reply_byte_by_byte),
	    cmocka_unit_test(test_reply_leaves_next_reply),
	    cmocka_unit_test(test_reply_code_mismatch),
	    cmocka_unit_test(test_reply_bare_lf),
	    cmocka_unit_test(test_reply_nul),
	    cmocka_unit_test(test_reply_empty_line),
	    cmocka_unit_test(test_reply_continuation_then_eof),
	    cmocka_unit_test(test_reply_eof_mid_line),
	    cmocka_unit_test(test_reply_eof_at_once),
	    cmocka_unit_test(test_reply_timeout_passes_through),
	    cmocka_unit_test(test_reply_line_cap),
	    cmocka_unit_test(test_reply_megabyte_line),
	    cmocka_unit_test(test_reply_endless_continuation),
	    cmocka_unit_test(test_reply_total_cap),
	    cmocka_unit_test(test_reply_enhanced_codes),
	    cmocka_unit_test(test_summary_one_line),
	    cmocka_unit_test(test_summary_multiline),
	    cmocka_unit_test(test_summary_escapes),
	    cmocka_unit_test(test_summary_truncates),
	    cmocka_unit_test(test_ehlo_all_keywords),
	    cmocka_unit_test(test_ehlo_case_insensitive),
	    cmocka_unit_test(test_ehlo_auth_obsolete_form),
	    cmocka_unit_test(test_ehlo_bad_mechs_skipped),
	    cmocka_unit_test(test_ehlo_many_mechs_bounded),
	    cmocka_unit_test(test_ehlo_size_variants),
	    cmocka_unit_test(test_ehlo_unknown_and_lookalikes),
	    cmocka_unit_test(test_ehlo_greeting_name_bounded),
	    cmocka_unit_test(test_dot_stuffing),
	    cmocka_unit_test(test_xtext_encoding),
	    cmocka_unit_test(test_xtext_overflow),
	    cmocka_unit_test(test_send_data_small_one_write),
	    cmocka_unit_test(test_send_data_offset_and_large),
	    cmocka_unit_test(test_send_data_empty_and_unterminated),
	    cmocka_unit_test(test_send_data_short_spool),
	    cmocka_unit_test(test_send_bdat_unstuffs),
	    cmocka_unit_test(test_send_bdat_chunk_refused),
	    cmocka_unit_test(test_conn_command_buffers),
	    cmocka_unit_test(test_conn_command_refuses_line_breaks),
	    cmocka_unit_test(test_conn_write_flushes_when_full),
	    cmocka_unit_test(test_conn_read_line_endings),
	    cmocka_unit_test(test_conn_starttls_injection),
	    cmocka_unit_test(test_conn_starttls_ok_and_unavailable),
	    cmocka_unit_test(test_conn_trace_marks_secrets),
	    cmocka_unit_test(test_net_fd_transport),
	    cmocka_unit_test(test_net_write_to_closed_peer),
	    cmocka_unit_test(test_net_write_timeout),
	    cmocka_unit_test(test_net_get_fd_other_transports),
	    cmocka_unit_test(test_net_connect_loopback),
	    cmocka_unit_test(test_net_connect_refused),
	    cmocka_unit_test(test_net_connect_bad_arguments),
	    cmocka_unit_test(test_net_unknown_host),
	    cmocka_unit_test(test_net_local_fqdn),
	};

	return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
