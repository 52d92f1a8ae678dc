/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the pure parts of the queue runner and the queue
 * commands: the exit status of a flush, ages and durations, the
 * Message-ID search in a queued message, the queue directories of a
 * configuration (each once), and JSON strings for mailq --json.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "flush.h"
#include "mailq.h"

static void
test_exit_code(void **state)
{
	struct flush_stats st;

	memset(&st, 0, sizeof(st));
	assert_int_equal(flush_exit_code(&st), EX_OK);
	st.sent = 3;
	st.busy = 2; /* left to another run: not ours to report */
	assert_int_equal(flush_exit_code(&st), EX_OK);
	st.deferred = 1;
	assert_int_equal(flush_exit_code(&st), EX_TEMPFAIL);
	st.deferred = 0;
	st.untried = 4;
	assert_int_equal(flush_exit_code(&st), EX_TEMPFAIL);
	/* A permanent failure wins over messages still queued. */
	st.permanent = EX_NOUSER;
	assert_int_equal(flush_exit_code(&st), EX_NOUSER);
	st.permanent = EX_NOPERM;
	st.untried = 0;
	assert_int_equal(flush_exit_code(&st), EX_NOPERM);
}

static void
check_age(time_t secs, const char *want)
{
	char buf[32];

	flush_format_age(1800000000 + secs, 1800000000, buf, sizeof(buf));
	assert_string_equal(buf, want);
	/* first = 0: a duration. */
	flush_format_age(secs, 0, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_format_age(void **state)
{
	char buf[8];

	check_age(0, "0s");
	check_age(59, "59s");
	check_age(60, "1m");
	check_age(3599, "59m");
	check_age(3600, "1h");
	check_age(3660, "1h01m");
	check_age(86399, "23h59m");
	check_age(86400, "1d");
	check_age(5 * 86400, "5d");
	check_age(3 * 86400 + 4 * 3600 + 59, "3d04h");
	/* Clock skew: a first attempt in the future is no age. */
	flush_format_age(100, 200, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	/* Truncated, never overrun. */
	flush_format_age(400 * 86400 + 3600, 0, buf, 4);
	assert_string_equal(buf, "400");
}

static void
check_mid(const char *text, const char *want)
{
	char out[64];

	memset(out, 'x', sizeof(out));
	flush_find_message_id(text, strlen(text), out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_find_message_id(void **state)
{
	char small[8];

	check_mid("Subject: a\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n", "<a@b>");
	check_mid("message-id:<a@b>\r\n\r\n", "<a@b>");
	/* Folded onto the next line. */
	check_mid("Message-ID:\r\n <fold@b>\r\nTo: x\r\n\r\n", "<fold@b>");
	check_mid("Message-ID: <a@\r\n\tb>\r\n\r\n", "<a@b>");
	/* Only the header block counts. */
	check_mid("Subject: a\r\n\r\nMessage-ID: <body@b>\r\n", "");
	check_mid("X-Message-ID: <no@b>\r\n\r\n", "");
	check_mid("", "");
	check_mid("Message-ID:", "");
	/* Bare LF lines and a missing final newline. */
	check_mid("Message-ID: <lf@b>\n", "<lf@b>");
	check_mid("Message-ID: <end@b>", "<end@b>");
	/* Cut to the room given, always terminated. */
	flush_find_message_id("Message-ID: <0123456789@b>\r\n\r\n", 30, small,
	    sizeof(small));
	assert_string_equal(small, "<012345");
	flush_find_message_id("Message-ID: <a@b>", 17, small, 0);
}

static void
check_json(const char *in, const char *want)
{
	struct error err;
	struct buf b;

	buf_init(&b, 1024);
	error_clear(&err);
	assert_int_equal(mailq_json_string(&b, in, &err), 0);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void
test_json_string(void **state)
{
	struct error err;
	struct buf b;

	check_json("", "\"\"");
	check_json(NULL, "\"\"");
	check_json("a@b.c", "\"a@b.c\"");
	check_json("q\"b\\s", "\"q\\\"b\\\\s\"");
	check_json("\t\n\x1b\x7f", "\"\\u0009\\u000a\\u001b\\u007f\"");
	/* UTF-8 passes; what is not UTF-8 cannot be JSON. */
	check_json("j\xc3\xb6rg", "\"j\xc3\xb6rg\"");
	check_json("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	check_json("\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\"");
	check_json("a\xc3", "\"a\\ufffd\"");
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");	 /* overlong */
	check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	check_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_json("\xff", "\"\\ufffd\"");
	/* The buffer's cap is an error, not an overrun. */
	buf_init(&b, 4);
	error_clear(&err);
	assert_int_equal(mailq_json_string(&b, "abcdef", &err), -1);
	buf_free(&b);
}

static void
test_queue_dirs(void **state)
{
	char tmp[] = "/tmp/test_flush.XXXXXX", a[64], a_slash[64], b[64];
	struct account acc[4], *accts[4];
	struct config cfg;
	const char **dirs;
	struct error err;
	size_t n;

	assert_non_null(mkdtemp(tmp));
	snprintf(a, sizeof(a), "%s/a", tmp);
	snprintf(a_slash, sizeof(a_slash), "%s/a/", tmp);
	snprintf(b, sizeof(b), "%s/b", tmp);
	assert_int_equal(mkdir(a, 0700), 0);
	memset(acc, 0, sizeof(acc));
	memset(&cfg, 0, sizeof(cfg));
	acc[0].name = "one";
	acc[0].queue_dir = a;
	acc[1].name = "two";
	acc[1].queue_dir = b; /* does not exist yet: still listed */
	acc[2].name = "three";
	acc[2].queue_dir = a_slash; /* the same directory */
	acc[3].name = "four";
	acc[3].queue_dir = a;
	accts[0] = &acc[0];
	accts[1] = &acc[1];
	accts[2] = &acc[2];
	accts[3] = &acc[3];
	cfg.accounts = accts;
	cfg.n_accounts = 4;
	error_clear(&err);
	assert_int_equal(flush_queue_dirs(&cfg, NULL, &dirs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(dirs[0], a);
	assert_string_equal(dirs[1], b);
	free(dirs);
	assert_int_equal(flush_queue_dirs(&cfg, &acc[1], &dirs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(dirs[0], b);
	free(dirs);
	/* An account without a queue_dir has none to list. */
	acc[1].queue_dir = NULL;
	assert_int_equal(flush_queue_dirs(&cfg, &acc[1], &dirs, &n, &err), 0);
	assert_int_equal(n, 0);
	free(dirs);
	rmdir(a);
	rmdir(tmp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_code),
	    cmocka_unit_test(test_format_age),
	    cmocka_unit_test(test_find_message_id),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_queue_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
