/* SPDX-License-Identifier: ISC */
/* Unit tests for error.c: setting, prefixing, escaping, the reply table. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "account.h"
#include "error.h"
#include "hint.h"

static void
test_set_returns_minus_one(void **state)
{
	struct error err;

	error_clear(&err);
	assert_false(error_is_set(&err));
	assert_int_equal(error_set(&err, EX_CONFIG, "bad %s", "key"), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_string_equal(err.message, "bad key");
	assert_true(error_is_set(&err));
}

static void
test_prefix(void **state)
{
	struct error err;

	error_set(&err, EX_TEMPFAIL, "timed out");
	error_prefix(&err, "%s:%u", "smtp.example.org", 587u);
	error_prefix(&err, "work");
	assert_string_equal(
	    err.message, "work: smtp.example.org:587: timed out");
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
}

static void
test_prefix_truncates_safely(void **state)
{
	struct error err;
	char big[2000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error_set(&err, EX_SOFTWARE, "%s", big);
	error_prefix(&err, "ctx");
	assert_int_equal(strlen(err.message), ERROR_MESSAGE_MAX - 1);
	assert_memory_equal(err.message, "ctx: aaa", 8);
	error_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.message), ERROR_MESSAGE_MAX - 1);
}

static void
test_reply_table(void **state)
{
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_GREETING, 421), EX_TEMPFAIL);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_GREETING, 554), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_EHLO, 550), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_STARTTLS, 454), EX_TEMPFAIL);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_STARTTLS, 501), EX_UNAVAILABLE);
	assert_int_equal(error_from_reply(ERROR_REPLY_AUTH, 535), EX_NOPERM);
	assert_int_equal(error_from_reply(ERROR_REPLY_AUTH, 454), EX_TEMPFAIL);
	assert_int_equal(error_from_reply(ERROR_REPLY_MAIL, 530), EX_NOPERM);
	assert_int_equal(error_from_reply(ERROR_REPLY_RCPT, 530), EX_NOPERM);
	assert_int_equal(error_from_reply(ERROR_REPLY_AUTH, 534), EX_NOPERM);
	/* Before AUTH, a 530 is a refusal no login can change. */
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_GREETING, 530), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_EHLO, 530), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_STARTTLS, 530), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_STARTTLS, 538), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_MAIL, 553), EX_UNAVAILABLE);
	assert_int_equal(error_from_reply(ERROR_REPLY_MAIL, 552), EX_DATAERR);
	assert_int_equal(error_from_reply(ERROR_REPLY_MAIL, 451), EX_TEMPFAIL);
	assert_int_equal(error_from_reply(ERROR_REPLY_RCPT, 550), EX_NOUSER);
	assert_int_equal(error_from_reply(ERROR_REPLY_RCPT, 450), EX_TEMPFAIL);
	assert_int_equal(error_from_reply(ERROR_REPLY_RCPT, 452), EX_TEMPFAIL);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_DATA, 554), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_END_OF_DATA, 554), EX_UNAVAILABLE);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_END_OF_DATA, 552), EX_DATAERR);
	assert_int_equal(
	    error_from_reply(ERROR_REPLY_END_OF_DATA, 421), EX_TEMPFAIL);
	assert_int_equal(error_from_reply(ERROR_REPLY_OTHER, 250), EX_PROTOCOL);
	assert_int_equal(error_from_reply(ERROR_REPLY_OTHER, 999), EX_PROTOCOL);
}

/* The class travels with the error and the decisions follow it, not the
 * text: a refusal that quotes a 421 is a refusal. */
static void
test_class(void **state)
{
	struct error e;

	(void)state;
	assert_int_equal(error_class_of_reply(421), ERROR_CLASS_LINK);
	assert_int_equal(error_class_of_reply(454), ERROR_CLASS_TEMPFAIL);
	assert_int_equal(error_class_of_reply(550), ERROR_CLASS_PERMFAIL);
	assert_int_equal(error_class_of_reply(354), ERROR_CLASS_PROTOCOL);

	error_set_reply(
	    &e, ERROR_REPLY_AUTH, 550, "AUTH: 550 5.7.1 no: 421 4.7.0 closing");
	assert_int_equal(e.exit_code, EX_NOPERM);
	assert_int_equal(e.class, ERROR_CLASS_PERMFAIL);
	assert_false(error_ends_session(&e));
	assert_false(error_worth_other_host(&e));
	error_prefix(&e, "mx.example.net:587");
	assert_int_equal(e.class, ERROR_CLASS_PERMFAIL);

	error_set_reply(&e, ERROR_REPLY_AUTH, 421, "AUTH: 421 4.7.0 closing");
	assert_int_equal(e.exit_code, EX_TEMPFAIL);
	assert_true(error_ends_session(&e));
	assert_true(error_worth_other_host(&e));

	error_set_reply(&e, ERROR_REPLY_RCPT, 451, "RCPT: 451 later");
	assert_int_equal(e.exit_code, EX_TEMPFAIL);
	assert_false(error_ends_session(&e));
	assert_true(error_worth_other_host(&e));

	/* EX_TEMPFAIL alone says nothing about the link. */
	error_set(&e, EX_TEMPFAIL, "password_command timed out after 5 s");
	assert_int_equal(e.class, ERROR_CLASS_LOCAL);
	assert_false(error_ends_session(&e));
	assert_false(error_worth_other_host(&e));
	error_set_class(
	    &e, ERROR_CLASS_LINK, EX_TEMPFAIL, "connection closed by server");
	assert_true(error_ends_session(&e));
	assert_true(error_worth_other_host(&e));

	error_set(&e, EX_PROTOCOL, "unexpected reply 354");
	assert_int_equal(e.class, ERROR_CLASS_PROTOCOL);
	assert_true(error_ends_session(&e));
	assert_false(error_worth_other_host(&e));
	error_clear(&e);
	assert_int_equal(e.class, ERROR_CLASS_LOCAL);
}

/* error_is_retryable(), the one rule of "defer or give up", over every
 * class: a 4xx is retried and a 5xx or protocol violation is not, whatever
 * exit code they were given; a link or a local fault only when its
 * producer said EX_TEMPFAIL. */
static bool
retryable(enum error_class class, int exit_code)
{
	struct error e;

	error_set_class(&e, class, exit_code, "x");
	return error_is_retryable(&e);
}

static void
test_retryable(void **state)
{
	struct error e;

	(void)state;
	assert_true(retryable(ERROR_CLASS_TEMPFAIL, EX_TEMPFAIL));
	assert_true(retryable(ERROR_CLASS_TEMPFAIL, EX_UNAVAILABLE));
	assert_false(retryable(ERROR_CLASS_PERMFAIL, EX_UNAVAILABLE));
	assert_false(retryable(ERROR_CLASS_PERMFAIL, EX_NOUSER));
	assert_false(retryable(ERROR_CLASS_PERMFAIL, EX_DATAERR));
	assert_false(retryable(ERROR_CLASS_PERMFAIL, EX_TEMPFAIL));
	assert_false(retryable(ERROR_CLASS_PROTOCOL, EX_PROTOCOL));
	assert_false(retryable(ERROR_CLASS_PROTOCOL, EX_TEMPFAIL));
	/* A link: dropped or timed out passes; a name that does not exist
	 * or a certificate not trusted does not (mailsub(1): 68, 69). */
	assert_true(retryable(ERROR_CLASS_LINK, EX_TEMPFAIL));
	assert_false(retryable(ERROR_CLASS_LINK, EX_NOHOST));
	assert_false(retryable(ERROR_CLASS_LINK, EX_UNAVAILABLE));
	/* Ours: a signal or a timed-out password_command passes; memory, the
	 * spool, the queue and the configuration do not. */
	assert_true(retryable(ERROR_CLASS_LOCAL, EX_TEMPFAIL));
	assert_false(retryable(ERROR_CLASS_LOCAL, EX_OSERR));
	assert_false(retryable(ERROR_CLASS_LOCAL, EX_IOERR));
	assert_false(retryable(ERROR_CLASS_LOCAL, EX_CANTCREAT));
	assert_false(retryable(ERROR_CLASS_LOCAL, EX_CONFIG));
	assert_false(retryable(ERROR_CLASS_LOCAL, EX_DATAERR));

	/* As the producers set them. */
	error_set_reply(&e, ERROR_REPLY_RCPT, 451, "RCPT: 451 later");
	assert_true(error_is_retryable(&e));
	error_set_reply(&e, ERROR_REPLY_END_OF_DATA, 421, "421 closing");
	assert_true(error_is_retryable(&e));
	error_set_reply(&e, ERROR_REPLY_END_OF_DATA, 552, "552 too big");
	assert_int_equal(e.exit_code, EX_DATAERR);
	assert_false(error_is_retryable(&e));
	error_set_reply(&e, ERROR_REPLY_MAIL, 250, "unexpected 250");
	assert_false(error_is_retryable(&e));
	error_set(&e, EX_TEMPFAIL, "interrupted by SIGTERM");
	assert_true(error_is_retryable(&e));
	error_set(&e, EX_PROTOCOL, "unexpected reply 354");
	assert_false(error_is_retryable(&e));
	error_prefix(&e, "mx:25");
	assert_false(error_is_retryable(&e));
}

static void
test_exit_names(void **state)
{
	(void)state;
	assert_string_equal(error_exit_name(EX_TEMPFAIL), "EX_TEMPFAIL");
	assert_string_equal(error_exit_name(EX_CONFIG), "EX_CONFIG");
	assert_string_equal(error_exit_name(12345), "unknown");
}

static void
test_escape(void **state)
{
	char out[64];

	assert_string_equal(error_escape(out, sizeof(out), "ok", 2), "ok");
	assert_string_equal(
	    error_escape(out, sizeof(out), "a\r\nb", 4), "a\\x0d\\x0ab");
	assert_string_equal(
	    error_escape(out, sizeof(out), "\x1b[31m", 5), "\\x1b[31m");
	assert_string_equal(
	    error_escape(out, sizeof(out), "a\0b", 3), "a\\x00b");
	assert_string_equal(error_escape(out, sizeof(out), "\\", 1), "\\x5c");
	assert_string_equal(
	    error_escape(out, sizeof(out), "\xc3\xa9", 2), "\\xc3\\xa9");
	/* Never overflows, never cuts an escape in half. */
	assert_string_equal(error_escape(out, 6, "\x01\x02", 2), "\\x01");
	assert_string_equal(error_escape(out, 1, "abc", 3), "");
}

/* hint.c: the failures whose words do not say what to do. */
static const char *
hint_of(const struct account *a, const char *host, const char *greeting,
    enum submit_phase phase, int code, enum error_class class,
    const char *message)
{
	static char buf[512];
	struct hint_facts f;

	memset(&f, 0, sizeof(f));
	f.acct = a;
	f.host = host;
	f.greeting = greeting;
	f.phase = phase;
	f.exit_code = code;
	f.class = class;
	f.message = message;
	return hint_for(&f, buf, sizeof(buf));
}

/* A failure with the server's reply in it: a 5xx is PERMFAIL, a 4xx or
 * a connection TEMPFAIL or LINK (error_set_reply(), net.c). */
static const char *
hint(const struct account *a, const char *host, const char *greeting,
    enum submit_phase phase, int code, const char *message)
{
	return hint_of(a, host, greeting, phase, code,
	    code == EX_TEMPFAIL ? ERROR_CLASS_LINK : ERROR_CLASS_PERMFAIL,
	    message);
}

static void
test_hints(void **state)
{
	struct account a;
	const char *h;
	char user[] = "alice", yahoo[] = "yahoo", gmail[] = "gmail";

	(void)state;
	memset(&a, 0, sizeof(a));
	a.user = user;
	h = hint(&a, "smtp.gmail.com", NULL, SUBMIT_PHASE_AUTH, EX_NOPERM,
	    "smtp.gmail.com:465: authentication failed: 535 5.7.8 Username "
	    "and Password not accepted");
	assert_non_null(h);
	assert_non_null(strstr(h, "app password"));
	/* Google by its greeting, on a relay name of its own. */
	h = hint(&a, "relay.example", "220 mx.google.com ESMTP x - gsmtp",
	    SUBMIT_PHASE_AUTH, EX_NOPERM,
	    "x: authentication failed: 535 5.7.8");
	assert_non_null(h);
	assert_non_null(strstr(h, "apppasswords"));
	/* A 535 elsewhere says nothing more than the server. */
	assert_null(
	    hint(&a, "mx.example.net", "220 mx.example.net", SUBMIT_PHASE_AUTH,
		EX_NOPERM, "x: authentication failed: 535 5.7.8 bad"));
	h = hint(&a, "smtp.office365.com", NULL, SUBMIT_PHASE_AUTH, EX_NOPERM,
	    "x: authentication failed: 535 5.7.139 Authentication "
	    "unsuccessful, SmtpClientAuthentication is disabled");
	assert_non_null(h);
	assert_non_null(strstr(h, "Authenticated SMTP"));
	/* No login and 554 Access denied, or 530, at RCPT/MAIL. */
	a.user = NULL;
	h = hint(&a, "mx", NULL, SUBMIT_PHASE_RCPT, EX_NOUSER,
	    "mx:25: RCPT TO:<b@x>: 554 5.7.1 <b@x>: Relay access denied");
	assert_non_null(h);
	assert_non_null(strstr(h, "set user"));
	assert_non_null(hint(&a, "mx", NULL, SUBMIT_PHASE_MAIL, EX_NOPERM,
	    "mx:25: MAIL FROM:<a@x>: 530 5.7.0 Authentication required"));
	assert_null(hint(&a, "mx", NULL, SUBMIT_PHASE_RCPT, EX_NOUSER,
	    "mx:25: RCPT TO:<b@x>: 550 5.1.1 unknown user"));
	/* A refusal whose words hold a number starting with 530: the code
	 * is a word of its own. */
	assert_null(hint(&a, "mx", NULL, SUBMIT_PHASE_RCPT, EX_UNAVAILABLE,
	    "mx:25: RCPT TO:<b@x>: 552 5.2.2 mailbox over 5300 MB"));
	/* Our own line before MAIL, with " 530" in a number: no refusal by
	 * the server, no hint about logging in (the old rule read the text
	 * alone and gave one). */
	assert_null(hint_of(&a, "mx", NULL, SUBMIT_PHASE_MAIL, EX_DATAERR,
	    ERROR_CLASS_LOCAL,
	    "mx:25: message is 5301234 bytes, server limit is 5242880"));
	assert_null(hint_of(&a, "mx", NULL, SUBMIT_PHASE_MAIL, EX_DATAERR,
	    ERROR_CLASS_LOCAL,
	    "mx:25: message is 900 bytes, server limit is 530"));
	a.user = user;
	assert_null(hint(&a, "mx", NULL, SUBMIT_PHASE_RCPT, EX_NOUSER,
	    "mx:25: RCPT TO:<b@x>: 554 5.7.1 Access denied"));
	/* The provider's note on any login failure. */
	a.provider = yahoo;
	h = hint(&a, "smtp.mail.yahoo.com", NULL, SUBMIT_PHASE_AUTH, EX_NOPERM,
	    "x: authentication failed: 535 5.7.0 bad");
	assert_non_null(h);
	assert_string_equal(h, "yahoo: app password");
	a.provider = gmail;
	h = hint(&a, "127.0.0.1", NULL, SUBMIT_PHASE_AUTH, EX_NOPERM,
	    "x: authentication failed: 535 5.7.8 bad");
	assert_non_null(strstr(h, "Google"));
	/* A login failure we found, or a SCRAM refusal set as ours: the
	 * provider's note still, since the caller is told 77. */
	a.provider = yahoo;
	h = hint_of(&a, "smtp.mail.yahoo.com", NULL, SUBMIT_PHASE_AUTH,
	    EX_NOPERM, ERROR_CLASS_LOCAL,
	    "x: authentication failed: server said invalid-proof (AUTH "
	    "SCRAM-SHA-256)");
	assert_non_null(h);
	assert_string_equal(h, "yahoo: app password");
	/* Not a login failure: no note. */
	assert_null(hint(&a, "x", NULL, SUBMIT_PHASE_CONNECT, EX_TEMPFAIL,
	    "x: connect: refused"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_returns_minus_one),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_prefix_truncates_safely),
	    cmocka_unit_test(test_reply_table),
	    cmocka_unit_test(test_hints),
	    cmocka_unit_test(test_retryable),
	    cmocka_unit_test(test_exit_names),
	    cmocka_unit_test(test_class),
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
