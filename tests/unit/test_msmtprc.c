/* SPDX-License-Identifier: ISC */
/*
 * msmtprc.c: one msmtp setting as mailsub.conf, and whole msmtprc files
 * (tests/fixtures/msmtprc/NAME.msmtprc) against the INI they must give
 * (NAME.ini next to them).
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
#include "msmtprc.h"

static char *
slurp(const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/msmtprc/%s", TOP_SRCDIR,
	    name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void
golden(const char *name)
{
	char in_name[256], out_name[256];
	struct buf out;
	struct error err;
	size_t in_len, want_len;
	char *in, *want;

	snprintf(in_name, sizeof(in_name), "%s.msmtprc", name);
	snprintf(out_name, sizeof(out_name), "%s.ini", name);
	in = slurp(in_name, &in_len);
	want = slurp(out_name, &want_len);
	buf_init(&out, 1024 * 1024);
	error_clear(&err);
	assert_int_equal(msmtprc_translate(in, in_len, in_name, &out, &err), 0);
	if (out.len != want_len || memcmp(buf_str(&out), want, want_len) != 0)
		fail_msg("%s: got\n%s", name, buf_str(&out));
	buf_free(&out);
	free(in);
	free(want);
}

static void
test_manual_user(void **state)
{
	(void)state;
	golden("manual-user");
}

static void
test_debian_system(void **state)
{
	(void)state;
	golden("debian-system");
}

static void
test_inherit_several(void **state)
{
	(void)state;
	golden("inherit-several");
}

static void
test_gmail(void **state)
{
	(void)state;
	golden("gmail");
}

static void
test_unsupported(void **state)
{
	(void)state;
	golden("unsupported");
}

#define CONVERT(c, a) msmtprc_convert((c), (a), &s)

static void
test_convert(void **state)
{
	struct msmtprc_setting s;

	(void)state;
	CONVERT("passwordeval", "pass show x");
	assert_int_equal(s.kind, MSMTPRC_SET);
	assert_string_equal(s.key, "password_command");
	assert_string_equal(s.value, "pass show x");
	CONVERT("user", "");
	assert_int_equal(s.kind, MSMTPRC_UNSET);
	assert_string_equal(s.key, "user");
	/* msmtp(1): an empty argument is on where on is allowed. */
	CONVERT("tls", "");
	assert_int_equal(s.kind, MSMTPRC_TLS);
	assert_true(s.flag);
	CONVERT("tls_starttls", "off");
	assert_int_equal(s.kind, MSMTPRC_TLS);
	assert_false(s.flag);
	CONVERT("tls", "maybe");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("tls_fingerprint", "AB:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:"
				   "cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"
				   "aa:bb:cc:dd");
	assert_int_equal(s.kind, MSMTPRC_SET);
	assert_string_equal(s.value, "sha256:abcd00112233445566778899aabbccd"
				     "deeff00112233445566778899aabbccdd");
	CONVERT("tls_fingerprint", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
				   "EE:FF");
	assert_int_equal(s.kind, MSMTPRC_REFUSE); /* MD5 */
	assert_non_null(strstr(s.why, "SHA-256"));
	CONVERT("tls_fingerprint", "xyz");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("tls_trust_file", "system");
	assert_int_equal(s.kind, MSMTPRC_UNSET);
	CONVERT("tls_trust_file", "");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("tls_certcheck", "off");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	assert_non_null(strstr(s.why, "tls_fingerprint"));
	CONVERT("tls_certcheck", "on");
	assert_int_equal(s.kind, MSMTPRC_IGNORE);
	CONVERT("auth", "scram-sha-256");
	assert_string_equal(s.value, "SCRAM-SHA-256");
	CONVERT("auth", "");
	assert_string_equal(s.value, "on");
	CONVERT("auth", "ntlm");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("syslog", "");
	assert_string_equal(s.value, "user"); /* msmtp's LOG_USER */
	CONVERT("syslog", "LOG_LOCAL7");
	assert_string_equal(s.value, "local7");
	CONVERT("from", "joe@example.org");
	assert_string_equal(s.key, "from");
	assert_string_equal(s.key2, "senders");
	CONVERT("from", "*@example.org");
	assert_string_equal(s.key, "senders");
	assert_null(s.key2);
	CONVERT("from", "%U@example.org");
	assert_string_equal(s.key, "default_domain");
	assert_string_equal(s.value, "example.org");
	CONVERT("from", "%U@%H");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("domain", "%H");
	assert_int_equal(s.kind, MSMTPRC_IGNORE);
	CONVERT("domain", "client.example.org");
	assert_string_equal(s.key, "domain");
	CONVERT("timeout", "off");
	assert_int_equal(s.kind, MSMTPRC_UNSET);
	CONVERT("dsn_return", "headers");
	assert_string_equal(s.value, "hdrs");
	CONVERT("dsn_notify", "off");
	assert_int_equal(s.kind, MSMTPRC_UNSET);
	CONVERT("set_from_header", "on");
	assert_string_equal(s.key, "from_header");
	assert_string_equal(s.value, "force");
	CONVERT("set_from_header", "off");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("tls_host_override", "mx.example.org");
	assert_string_equal(s.key, "tls_server_name");
	CONVERT("eval", "echo host x");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
	CONVERT("nosuch", "x");
	assert_int_equal(s.kind, MSMTPRC_REFUSE);
}

static void
bad(const char *text, const char *want)
{
	struct buf out;
	struct error err;

	buf_init(&out, 1024 * 1024);
	error_clear(&err);
	assert_int_equal(
	    msmtprc_translate(text, strlen(text), "rc", &out, &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	if (strstr(err.message, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.message, want);
	buf_free(&out);
}

static void
test_refused_files(void **state)
{
	(void)state;
	bad("host x\n", "rc:1: host before the first account");
	bad("account a : b\nhost x\n", "rc:1: account a inherits from b");
	bad("account a\nhost x\naccount a\n", "rc:3: account a is defined "
					      "twice");
	bad("account a\nuser \"joe\n", "rc:2: unbalanced");
	bad("# nothing\n", "no account");
}

static void
test_quotes_and_crlf(void **state)
{
	const char *rc = "account q\r\nhost \"mx.example.org\"\r\n"
			 "password \"a \\\"b\\\\ c\" \r\n";
	struct buf out;
	struct error err;

	(void)state;
	buf_init(&out, 1024 * 1024);
	error_clear(&err);
	assert_int_equal(
	    msmtprc_translate(rc, strlen(rc), "rc", &out, &err), 0);
	assert_non_null(strstr(buf_str(&out), "host = mx.example.org\n"));
	/* A value with a double quote cannot be quoted for iniparser. */
	assert_non_null(strstr(buf_str(&out), "; password: a value with a "
					      "double quote"));
	assert_null(strstr(buf_str(&out), "a \"b"));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manual_user),
	    cmocka_unit_test(test_debian_system),
	    cmocka_unit_test(test_inherit_several),
	    cmocka_unit_test(test_gmail),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_convert),
	    cmocka_unit_test(test_refused_files),
	    cmocka_unit_test(test_quotes_and_crlf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
