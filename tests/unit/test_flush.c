/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the pure parts of the queue runner and the queue
 * commands: the exit status of a flush, ages and durations, the
 * Message-ID search in a queued message, and the queue directories of a
 * configuration (each once).  JSON strings: test_text.c.
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
#include <time.h>
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
	flush_find_message_id(
	    "Message-ID: <0123456789@b>\r\n\r\n", 30, small, sizeof(small));
	assert_string_equal(small, "<012345");
	flush_find_message_id("Message-ID: <a@b>", 17, small, 0);
}

/* Postfix's mailq columns (mailsub(1), QUEUE): 11 for the ID and its
 * mark, 7 for the size, 20 for the arrival time, recipients at 41, the
 * reason right-aligned to column 78 unless longer. */
static void
test_postfix_entry(void **state)
{
	static const char *const rcpts[] = {"a@example.org", "b\x01@x.test"};
	static const char long_reason[] =
	    "451 4.3.0 a reason of more than seventy-six characters, as "
	    "servers often give";
	struct error err;
	struct buf b;

	setenv("TZ", "UTC", 1);
	tzset();
	buf_init(&b, 4096);
	error_clear(&err);
	/* 1700000000 is Tue Nov 14 22:13:20 2023 UTC. */
	assert_int_equal(mailq_postfix_entry(&b, "A1B2C3D4E5", ' ', 1234,
			     1700000000, "s@example.org", NULL, rcpts, 1, &err),
	    0);
	assert_string_equal(buf_str(&b),
	    "A1B2C3D4E5     1234 Tue Nov 14 22:13:20  s@example.org\n"
	    "                                         a@example.org\n");
	buf_free(&b);
	buf_init(&b, 4096);
	assert_int_equal(
	    mailq_postfix_entry(&b, "6b16b811.1.2.ab", '!', 7,
		1700000000 - 13 * 86400, "", "550 no", rcpts, 2, &err),
	    0);
	assert_string_equal(buf_str(&b),
	    "6b16b811.1.2.ab!       7 Wed Nov  1 22:13:20  MAILER-DAEMON\n"
	    "                                                              "
	    "        (550 no)\n"
	    "                                         a@example.org\n"
	    "                                         b\\x01@x.test\n");
	buf_free(&b);
	buf_init(&b, 4096);
	assert_int_equal(mailq_postfix_entry(&b, "X", ' ', 0, 0, "s@x",
			     long_reason, rcpts, 1, &err),
	    0);
	assert_string_equal(buf_str(&b),
	    "X                 0 ??                   s@x\n"
	    "(451 4.3.0 a reason of more than seventy-six characters, as "
	    "servers often give)\n"
	    "                                         a@example.org\n");
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
	    cmocka_unit_test(test_postfix_entry),
	    cmocka_unit_test(test_queue_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
