/* SPDX-License-Identifier: ISC */
/*
 * serverinfo.c's formatter: the text and JSON descriptions of a session,
 * every mode (STARTTLS, implicit TLS, none, HELO only), and JSON escaping
 * of what a hostile server may send (quotes, controls, bytes that are not
 * UTF-8).  The session itself is tested end to end by
 * tests/integration/tls.sh.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "serverinfo.h"
#include "smtp.h"

static struct smtp_caps before, after;

static void
caps_from(struct smtp_caps *caps, const char *ehlo_text)
{
	smtp_parse_ehlo(ehlo_text, caps);
}

/* A STARTTLS session: AUTH only after TLS, PIPELINING only before. */
static void
starttls_info(struct serverinfo *si)
{
	caps_from(&before, "mx.example.net hello\nPIPELINING\nSIZE 1000\n"
			   "STARTTLS");
	caps_from(&after, "mx.example.net\nSIZE 1000\n8BITMIME\n"
			  "AUTH SCRAM-SHA-256 PLAIN");
	memset(si, 0, sizeof(*si));
	si->account = "work";
	si->host = "smtp.example.net";
	si->port = 587;
	si->tls_mode = "starttls";
	si->greeting = "220 mx.example.net ESMTP";
	si->caps_before_tls = &before;
	si->caps = &after;
	si->tls_version = "TLS1.3";
	si->tls_cipher = "AES-256-GCM";
}

static char *
format(const struct serverinfo *si, bool json)
{
	struct buf out;
	struct error err;

	buf_init(&out, 1 << 20);
	error_clear(&err);
	assert_int_equal(serverinfo_format(si, json, &out, &err), 0);
	return buf_detach(&out);
}

static void
test_text_starttls(void **state)
{
	struct serverinfo si;
	char *s;

	(void)state;
	starttls_info(&si);
	si.chain = "certificate 0:\n  subject: CN=mx\n";
	s = format(&si, false);
	assert_string_equal(s,
	    "account: work\n"
	    "server: smtp.example.net:587\n"
	    "greeting: 220 mx.example.net ESMTP\n"
	    "EHLO name: mx.example.net\n"
	    "TLS mode: STARTTLS\n"
	    "capabilities before TLS: PIPELINING, SIZE 1000, STARTTLS\n"
	    "capabilities after TLS: SIZE 1000, 8BITMIME, "
	    "AUTH SCRAM-SHA-256 PLAIN\n"
	    "TLS version: TLS1.3\n"
	    "TLS cipher: AES-256-GCM\n"
	    "AUTH mechanisms: SCRAM-SHA-256 PLAIN\n"
	    "certificate chain:\n"
	    "  certificate 0:\n"
	    "    subject: CN=mx\n");
	free(s);
}

static void
test_json_starttls(void **state)
{
	struct serverinfo si;
	char *s;

	(void)state;
	starttls_info(&si);
	si.tls_resumed = true;
	si.chain = "[{\"subject\":\"CN=mx\"}]";
	s = format(&si, true);
	assert_string_equal(s,
	    "{\"account\":\"work\",\"host\":\"smtp.example.net\",\"port\":587,"
	    "\"tls_mode\":\"starttls\","
	    "\"greeting\":\"220 mx.example.net ESMTP\",\"ehlo\":true,"
	    "\"ehlo_name\":\"mx.example.net\","
	    "\"capabilities_before_tls\":[\"PIPELINING\",\"SIZE 1000\","
	    "\"STARTTLS\"],"
	    "\"capabilities\":[\"SIZE 1000\",\"8BITMIME\","
	    "\"AUTH SCRAM-SHA-256 PLAIN\"],"
	    "\"size_limit\":1000,"
	    "\"auth_mechanisms\":[\"SCRAM-SHA-256\",\"PLAIN\"],"
	    "\"tls\":{\"version\":\"TLS1.3\",\"cipher\":\"AES-256-GCM\","
	    "\"resumed\":true,\"certificates\":[{\"subject\":\"CN=mx\"}]}}\n");
	free(s);
}

/* No TLS: one capability list, no TLS lines, no chain, no AUTH. */
static void
test_plaintext(void **state)
{
	struct serverinfo si;
	char *s;

	(void)state;
	starttls_info(&si);
	caps_from(&after, "mx.example.net\nPIPELINING");
	si.tls_mode = "off";
	si.caps_before_tls = NULL;
	si.tls_version = NULL;
	si.tls_cipher = NULL;
	s = format(&si, false);
	assert_non_null(strstr(s, "TLS mode: off (no TLS)\n"
				  "capabilities: PIPELINING\n"
				  "AUTH mechanisms: none offered\n"
				  "certificate chain: none\n"));
	assert_null(strstr(s, "TLS version"));
	assert_null(strstr(s, "before TLS"));
	free(s);
	s = format(&si, true);
	assert_non_null(strstr(s, "\"capabilities_before_tls\":null,"
				  "\"capabilities\":[\"PIPELINING\"],"
				  "\"size_limit\":null,\"auth_mechanisms\":[],"
				  "\"tls\":null}\n"));
	free(s);
}

/* Implicit TLS has no clear-text EHLO; a HELO-only server no list. */
static void
test_implicit_and_helo_only(void **state)
{
	struct serverinfo si;
	char *s;

	(void)state;
	starttls_info(&si);
	si.tls_mode = "implicit";
	si.caps_before_tls = NULL;
	si.chain = NULL;
	s = format(&si, false);
	assert_non_null(strstr(s, "TLS mode: implicit TLS\n"
				  "capabilities after TLS: SIZE 1000"));
	assert_non_null(strstr(s, "certificate chain: none\n"));
	free(s);
	s = format(&si, true);
	assert_non_null(strstr(s, "\"tls_mode\":\"implicit\","));
	assert_non_null(strstr(s, "\"capabilities_before_tls\":null,"));
	assert_non_null(strstr(s, "\"certificates\":[]}}"));
	free(s);

	memset(&after, 0, sizeof(after));
	si.helo_only = true;
	si.tls_mode = "off";
	si.tls_version = NULL;
	s = format(&si, false);
	assert_non_null(strstr(s, "EHLO name: \n"));
	assert_non_null(
	    strstr(s, "capabilities: none (the server does not know EHLO)\n"));
	free(s);
	s = format(&si, true);
	assert_non_null(strstr(s, "\"ehlo\":false,\"ehlo_name\":\"\","));
	assert_non_null(strstr(s, "\"capabilities\":[],"));
	free(s);
}

static char *
json_string(const char *in)
{
	struct buf out;
	struct error err;

	buf_init(&out, 4096);
	error_clear(&err);
	assert_int_equal(serverinfo_json_string(&out, in, &err), 0);
	return buf_detach(&out);
}

static void
test_json_string_escapes(void **state)
{
	char *s;

	(void)state;
	s = json_string("a\"b\\c");
	assert_string_equal(s, "\"a\\\"b\\\\c\"");
	free(s);
	s = json_string("\x1b[2J\r\n\t\x7f");
	assert_string_equal(s, "\"\\u001b[2J\\u000d\\u000a\\u0009\\u007f\"");
	free(s);
	/* Valid UTF-8 is kept as it is. */
	s = json_string("Gr\xc3\xbc\xc3\x9f"
			"e \xe2\x82\xac \xf0\x9f\x93\xa7");
	assert_string_equal(s, "\"Gr\xc3\xbc\xc3\x9f"
			       "e \xe2\x82\xac \xf0\x9f\x93\xa7\"");
	free(s);
	/* Latin-1, a lone continuation byte, an overlong '/', a surrogate,
	 * a truncated sequence: each byte becomes U+FFFD. */
	s = json_string("\xe9|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82");
	assert_string_equal(s, "\"\\ufffd|\\ufffd|\\ufffd\\ufffd|"
			       "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
	free(s);
	s = json_string(NULL);
	assert_string_equal(s, "\"\"");
	free(s);
}

/* What the server chose (EHLO name, mechanisms) cannot break out of its
 * JSON string or drive a terminal in the text form. */
static void
test_hostile_server_text(void **state)
{
	struct serverinfo si;
	char *s;

	(void)state;
	starttls_info(&si);
	caps_from(&after, "evil\"},\x1b]0;x\x07\nAUTH PLAIN");
	/* smtp.c keeps only RFC 4422 mechanism names; the formatter does
	 * not rely on it. */
	snprintf(
	    after.auth_mechs, sizeof(after.auth_mechs), "%s", "PLAIN\"] X\xff");
	s = format(&si, true);
	assert_non_null(
	    strstr(s, "\"ehlo_name\":\"evil\\\"},\\u001b]0;x\\u0007\""));
	assert_non_null(strstr(s, "\"AUTH PLAIN\\\"] X\\ufffd\""));
	free(s);
	s = format(&si, false);
	assert_null(strchr(s, '\x1b'));
	assert_null(strchr(s, '\x07'));
	assert_null(strchr(s, '\xff'));
	assert_non_null(strstr(s, "EHLO name: evil\"},\\x1b]0;x\\x07\n"));
	free(s);
	/* A chain fragment with a stray byte stays valid UTF-8. */
	starttls_info(&si);
	si.chain = "[{\"subject\":\"CN=\xff\"}]";
	s = format(&si, true);
	assert_non_null(strstr(s, "[{\"subject\":\"CN=\xef\xbf\xbd\"}]"));
	free(s);
}

/* The output cap holds: a failure, not a truncated description. */
static void
test_output_cap(void **state)
{
	struct serverinfo si;
	struct buf out;
	struct error err;

	(void)state;
	starttls_info(&si);
	buf_init(&out, 64);
	error_clear(&err);
	assert_int_equal(serverinfo_format(&si, true, &out, &err), -1);
	assert_true(error_is_set(&err));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_starttls),
	    cmocka_unit_test(test_json_starttls),
	    cmocka_unit_test(test_plaintext),
	    cmocka_unit_test(test_implicit_and_helo_only),
	    cmocka_unit_test(test_json_string_escapes),
	    cmocka_unit_test(test_hostile_server_text),
	    cmocka_unit_test(test_output_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
