/* SPDX-License-Identifier: ISC */
/*
 * cli_parse: every sendmail option family, getopt-style clustering and
 * permutation, invocation names, and the argv attacks of tests/FAULTS.md,
 * section C.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"

static struct options opts;
static struct error err;

static int
parse_vec(const char **v)
{
	int n = 0;

	while (v[n] != NULL)
		n++;
	cli_free(&opts);
	error_clear(&err);
	return cli_parse(&opts, n, (char **)v, &err);
}

#define PARSE(...) parse_vec((const char *[]){__VA_ARGS__, NULL})

#define EXPECT_USAGE(...)                                                      \
	do {                                                                   \
		assert_int_equal(PARSE(__VA_ARGS__), -1);                      \
		assert_int_equal(err.exit_code, EX_USAGE);                     \
		assert_null(opts.recipients);                                  \
		assert_null(opts.ignored);                                     \
	} while (0)

static int
teardown(void **state)
{
	(void)state;
	cli_free(&opts);
	return 0;
}

static bool
ignored_has(const char *s)
{
	size_t i;

	for (i = 0; i < opts.n_ignored; i++)
		if (strcmp(opts.ignored[i], s) == 0)
			return true;
	return false;
}

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "a@x"), 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(opts.delivery, CLI_DELIVERY_INTERACTIVE);
	assert_string_equal(opts.progname, "sendmail");
	assert_false(opts.read_recipients);
	assert_false(opts.ignore_dots);
	assert_false(opts.verbose);
	assert_null(opts.envelope_from);
	assert_null(opts.dsn_notify);
	assert_int_equal(opts.error_mode, 0);
	assert_int_equal(opts.n_recipients, 1);
	assert_string_equal(opts.recipients[0], "a@x");
	assert_int_equal(opts.n_ignored, 0);
}

static void
test_invocation_names(void **state)
{
	(void)state;
	assert_int_equal(PARSE("/usr/bin/mailq"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_LIST);
	assert_string_equal(opts.progname, "mailq");
	assert_int_equal(PARSE("newaliases"), 0);
	assert_int_equal(opts.mode, CLI_MODE_NEWALIASES);
	assert_int_equal(PARSE("/usr/sbin/sendmail", "-t"), 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(PARSE("mailsub", "-t"), 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(PARSE("./something-else", "-t"), 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_string_equal(opts.progname, "something-else");
	/* mailq still reads options. */
	assert_int_equal(PARSE("mailq", "-v"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_LIST);
	assert_true(opts.verbose);
}

static void
test_no_argv(void **state)
{
	char *none[] = {NULL};

	(void)state;
	cli_free(&opts);
	assert_int_equal(cli_parse(&opts, 0, none, &err), 0);
	assert_string_equal(opts.progname, "mailsub");
	assert_int_equal(opts.n_recipients, 0);
}

static void
test_cluster(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-ti"), 0);
	assert_true(opts.read_recipients);
	assert_true(opts.ignore_dots);
	assert_int_equal(PARSE("sendmail", "-it"), 0);
	assert_true(opts.read_recipients);
	assert_true(opts.ignore_dots);
	assert_int_equal(PARSE("sendmail", "-tvi"), 0);
	assert_true(opts.verbose);
	/* An option with an argument ends the cluster. */
	assert_int_equal(PARSE("sendmail", "-tfme@x", "r@y"), 0);
	assert_true(opts.read_recipients);
	assert_string_equal(opts.envelope_from, "me@x");
	assert_int_equal(opts.n_recipients, 1);
	assert_int_equal(PARSE("sendmail", "-itf", "me@x"), 0);
	assert_string_equal(opts.envelope_from, "me@x");
	assert_int_equal(opts.n_recipients, 0);
	assert_int_equal(PARSE("sendmail", "-toi"), 0);
	assert_true(opts.ignore_dots);
	assert_true(opts.read_recipients);
}

static void
test_oi(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-oi"), 0);
	assert_true(opts.ignore_dots);
	assert_int_equal(PARSE("sendmail", "-o", "i"), 0);
	assert_true(opts.ignore_dots);
	assert_int_equal(PARSE("sendmail", "-oiTrue"), 0);
	assert_true(opts.ignore_dots);
	assert_int_equal(PARSE("sendmail", "-i", "-oifalse"), 0);
	assert_false(opts.ignore_dots);
}

static void
test_sender(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-fuser@x"), 0);
	assert_string_equal(opts.envelope_from, "user@x");
	assert_int_equal(PARSE("sendmail", "-f", "user@x", "to@y"), 0);
	assert_string_equal(opts.envelope_from, "user@x");
	assert_int_equal(opts.n_recipients, 1);
	assert_int_equal(PARSE("sendmail", "-r", "other@x"), 0);
	assert_string_equal(opts.envelope_from, "other@x");
	assert_int_equal(PARSE("sendmail", "-rroot"), 0);
	assert_string_equal(opts.envelope_from, "root");
	/* The null sender, and an argument that looks like an option. */
	assert_int_equal(PARSE("sendmail", "-f", ""), 0);
	assert_string_equal(opts.envelope_from, "");
	assert_int_equal(PARSE("sendmail", "-f", "-t"), 0);
	assert_string_equal(opts.envelope_from, "-t");
	assert_false(opts.read_recipients);
}

static void
test_full_name(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-FCronDaemon"), 0);
	assert_string_equal(opts.full_name, "CronDaemon");
	assert_int_equal(PARSE("sendmail", "-F", "Joe Q. Public"), 0);
	assert_string_equal(opts.full_name, "Joe Q. Public");
	assert_int_equal(opts.n_recipients, 0);
}

static void
test_config_and_account(void **state)
{
	(void)state;
	assert_int_equal(
	    PARSE("sendmail", "-C", "/etc/x.conf", "-a", "work"), 0);
	assert_string_equal(opts.config_file, "/etc/x.conf");
	assert_string_equal(opts.account, "work");
	assert_int_equal(PARSE("sendmail", "-C/tmp/c", "-ahome"), 0);
	assert_string_equal(opts.config_file, "/tmp/c");
	assert_string_equal(opts.account, "home");
	assert_int_equal(PARSE("sendmail", "--account", "a1"), 0);
	assert_string_equal(opts.account, "a1");
	assert_int_equal(PARSE("sendmail", "--account=a2"), 0);
	assert_string_equal(opts.account, "a2");
	EXPECT_USAGE("sendmail", "--account");
	EXPECT_USAGE("sendmail", "--account=");
}

static void
test_dsn_notify(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-N", "never"), 0);
	assert_string_equal(opts.dsn_notify, "NEVER");
	assert_int_equal(PARSE("sendmail", "-NNEVER"), 0);
	assert_string_equal(opts.dsn_notify, "NEVER");
	assert_int_equal(PARSE("sendmail", "-N", "delay,Success"), 0);
	assert_string_equal(opts.dsn_notify, "SUCCESS,DELAY");
	assert_int_equal(PARSE("sendmail", "-N", "success,failure,delay"), 0);
	assert_string_equal(opts.dsn_notify, "SUCCESS,FAILURE,DELAY");
	assert_int_equal(PARSE("sendmail", "-Nfailure"), 0);
	assert_string_equal(opts.dsn_notify, "FAILURE");
	EXPECT_USAGE("sendmail", "-N", "never,success");
	EXPECT_USAGE("sendmail", "-N", "success,never");
	EXPECT_USAGE("sendmail", "-N", "sometimes");
	EXPECT_USAGE("sendmail", "-N", "success,,delay");
	EXPECT_USAGE("sendmail", "-N", "success,");
	EXPECT_USAGE("sendmail", "-N", "success,success");
	EXPECT_USAGE("sendmail", "-N", "");
	EXPECT_USAGE("sendmail", "-N");
	assert_non_null(strstr(err.message, "-N"));
}

static void
test_dsn_return(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-R", "full"), 0);
	assert_string_equal(opts.dsn_return, "FULL");
	assert_int_equal(PARSE("sendmail", "-RHdrs"), 0);
	assert_string_equal(opts.dsn_return, "HDRS");
	/* msmtp's spelling of hdrs, and its "off". */
	assert_int_equal(PARSE("sendmail", "-R", "headers"), 0);
	assert_string_equal(opts.dsn_return, "HDRS");
	assert_int_equal(PARSE("sendmail", "-R", "off"), 0);
	assert_null(opts.dsn_return);
	EXPECT_USAGE("sendmail", "-R", "header");
	assert_non_null(strstr(err.message, "header"));
}

static void
test_dsn_envid(void **state)
{
	char long_id[102];

	(void)state;
	assert_int_equal(PARSE("sendmail", "-V", "abc-123 x"), 0);
	assert_string_equal(opts.dsn_envid, "abc-123 x");
	memset(long_id, 'a', 100);
	long_id[100] = '\0';
	assert_int_equal(PARSE("sendmail", "-V", long_id), 0);
	long_id[100] = 'a';
	long_id[101] = '\0';
	EXPECT_USAGE("sendmail", "-V", long_id);
	EXPECT_USAGE("sendmail", "-V", "a\rb");
	EXPECT_USAGE("sendmail", "-V", "caf\xc3\xa9");
	EXPECT_USAGE("sendmail", "-V", "");
}

static void
test_body_type(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-B8BITMIME"), 0);
	assert_string_equal(opts.body_type, "8BITMIME");
	assert_int_equal(PARSE("sendmail", "-B", "7bit"), 0);
	assert_string_equal(opts.body_type, "7BIT");
	assert_int_equal(PARSE("sendmail", "-B", "8bitmime"), 0);
	assert_string_equal(opts.body_type, "8BITMIME");
	EXPECT_USAGE("sendmail", "-B", "binarymime");
}

static void
test_b_modes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-bp"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_LIST);
	assert_int_equal(PARSE("sendmail", "-bi"), 0);
	assert_int_equal(opts.mode, CLI_MODE_NEWALIASES);
	assert_int_equal(PARSE("sendmail", "-bs"), 0);
	assert_int_equal(opts.mode, CLI_MODE_SMTP_STDIO);
	assert_int_equal(PARSE("sendmail", "-bv", "a@x"), 0);
	assert_int_equal(opts.mode, CLI_MODE_VERIFY);
	assert_int_equal(PARSE("mailq", "-bm"), 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(PARSE("sendmail", "-b", "p"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_LIST);
	assert_int_equal(PARSE("sendmail", "-I"), 0);
	assert_int_equal(opts.mode, CLI_MODE_NEWALIASES);
	EXPECT_USAGE("sendmail", "-bd");
	assert_non_null(strstr(err.message, "-bd"));
	EXPECT_USAGE("sendmail", "-bt");
	EXPECT_USAGE("sendmail", "-bmm");
	EXPECT_USAGE("sendmail", "-b");
}

static void
test_queue_flush(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-q"), 0);
	assert_int_equal(opts.mode, CLI_MODE_FLUSH);
	assert_int_equal(opts.n_ignored, 0);
	assert_int_equal(PARSE("sendmail", "-q15m"), 0);
	assert_int_equal(opts.mode, CLI_MODE_FLUSH);
	assert_true(ignored_has("-q 15m"));
	assert_int_equal(PARSE("sendmail", "-qRexample.com"), 0);
	assert_int_equal(opts.mode, CLI_MODE_FLUSH);
	assert_int_equal(PARSE("sendmail", "-qS", "x"), 0);
	assert_int_equal(opts.mode, CLI_MODE_FLUSH);
	/* -q never takes the next argument. */
	assert_int_equal(opts.n_recipients, 1);
	assert_int_equal(PARSE("sendmail", "--flush"), 0);
	assert_int_equal(opts.mode, CLI_MODE_FLUSH);
}

static void
test_delivery_modes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-odq"), 0);
	assert_int_equal(opts.delivery, CLI_DELIVERY_QUEUE);
	assert_int_equal(PARSE("sendmail", "-odb"), 0);
	assert_int_equal(opts.delivery, CLI_DELIVERY_BACKGROUND);
	assert_int_equal(PARSE("sendmail", "-odq", "-odi"), 0);
	assert_int_equal(opts.delivery, CLI_DELIVERY_INTERACTIVE);
	assert_int_equal(PARSE("sendmail", "-odd"), 0);
	assert_int_equal(opts.delivery, CLI_DELIVERY_QUEUE);
	assert_int_equal(PARSE("sendmail", "-o", "dq"), 0);
	assert_int_equal(opts.delivery, CLI_DELIVERY_QUEUE);
	EXPECT_USAGE("sendmail", "-od");
	EXPECT_USAGE("sendmail", "-odx");
	EXPECT_USAGE("sendmail", "-odqq");
	EXPECT_USAGE("sendmail", "-o");
}

static void
test_error_modes(void **state)
{
	static const char *const oe[] = {
	    "-oem", "-oep", "-oeq", "-oew", "-oee"};
	static const char *const e[] = {"-em", "-ep", "-eq", "-ew", "-ee"};
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_int_equal(PARSE("sendmail", oe[i]), 0);
		assert_int_equal(opts.error_mode, oe[i][3]);
		assert_int_equal(PARSE("sendmail", e[i]), 0);
		assert_int_equal(opts.error_mode, e[i][2]);
	}
	assert_int_equal(PARSE("sendmail", "-e", "q"), 0);
	assert_int_equal(opts.error_mode, 'q');
	EXPECT_USAGE("sendmail", "-oex");
	EXPECT_USAGE("sendmail", "-oe");
	EXPECT_USAGE("sendmail", "-ex");
	EXPECT_USAGE("sendmail", "-e");
}

static void
test_verbose(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-v"), 0);
	assert_true(opts.verbose);
	assert_int_equal(PARSE("sendmail", "--verbose"), 0);
	assert_true(opts.verbose);
}

static void
test_ignored(void **state)
{
	(void)state;
	assert_int_equal(
	    PARSE("sendmail", "-X", "/tmp/x", "-L", "tag", "-O",
		"DeliveryMode=b", "-h", "5", "-G", "-U", "-n", "-m", "-d0.1",
		"-oQ/tmp", "-oA/etc/aliases", "-Am", "-A", "c", "rcpt@x"),
	    0);
	assert_int_equal(opts.n_recipients, 1);
	assert_string_equal(opts.recipients[0], "rcpt@x");
	assert_int_equal(opts.n_ignored, 13);
	assert_true(ignored_has("-X /tmp/x"));
	assert_true(ignored_has("-L tag"));
	assert_true(ignored_has("-O DeliveryMode=b"));
	assert_true(ignored_has("-h 5"));
	assert_true(ignored_has("-G"));
	assert_true(ignored_has("-U"));
	assert_true(ignored_has("-n"));
	assert_true(ignored_has("-m"));
	assert_true(ignored_has("-d 0.1"));
	assert_true(ignored_has("-o Q/tmp"));
	assert_true(ignored_has("-o A/etc/aliases"));
	assert_true(ignored_has("-A m"));
	assert_true(ignored_has("-A c"));
	/* Ignored options do not change delivery. */
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(opts.delivery, CLI_DELIVERY_INTERACTIVE);
}

static void
test_ignored_attached(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-X/tmp/log", "-d", "a@x"), 0);
	assert_true(ignored_has("-X /tmp/log"));
	/* -d takes only what is attached. */
	assert_true(ignored_has("-d"));
	assert_int_equal(opts.n_recipients, 1);
	EXPECT_USAGE("sendmail", "-X");
	EXPECT_USAGE("sendmail", "-L");
	EXPECT_USAGE("sendmail", "-h");
}

static void
test_long_modes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mailsub", "--help"), 0);
	assert_int_equal(opts.mode, CLI_MODE_HELP);
	assert_int_equal(PARSE("mailsub", "--version"), 0);
	assert_int_equal(opts.mode, CLI_MODE_VERSION);
	assert_int_equal(PARSE("mailsub", "--serverinfo", "--json"), 0);
	assert_int_equal(opts.mode, CLI_MODE_SERVERINFO);
	assert_true(opts.json);
	assert_int_equal(PARSE("mailsub", "--check-config"), 0);
	assert_int_equal(opts.mode, CLI_MODE_CHECK_CONFIG);
	assert_int_equal(PARSE("mailsub", "--queue"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_LIST);
	assert_int_equal(PARSE("mailsub", "--configure", "me@gmail.com"), 0);
	assert_int_equal(opts.mode, CLI_MODE_CONFIGURE);
	assert_string_equal(opts.mode_argument, "me@gmail.com");
	assert_int_equal(PARSE("mailsub", "--queue-delete", "ID1"), 0);
	assert_int_equal(opts.mode, CLI_MODE_QUEUE_DELETE);
	assert_string_equal(opts.mode_argument, "ID1");
	assert_int_equal(PARSE("mailsub", "--requeue=ID2"), 0);
	assert_int_equal(opts.mode, CLI_MODE_REQUEUE);
	assert_string_equal(opts.mode_argument, "ID2");
	assert_int_equal(PARSE("mailsub", "--oauth2-login", "work"), 0);
	assert_int_equal(opts.mode, CLI_MODE_OAUTH2_LOGIN);
	assert_string_equal(opts.mode_argument, "work");
	assert_false(opts.oauth2_paste || opts.oauth2_device);
	assert_int_equal(PARSE("mailsub", "--paste", "--oauth2-login=w"), 0);
	assert_true(opts.oauth2_paste);
	assert_int_equal(
	    PARSE("mailsub", "--oauth2-login", "w", "--device"), 0);
	assert_true(opts.oauth2_device);
}

static void
test_long_errors(void **state)
{
	(void)state;
	EXPECT_USAGE("mailsub", "--configure");
	assert_non_null(strstr(err.message, "--configure"));
	EXPECT_USAGE("mailsub", "--help=yes");
	EXPECT_USAGE("mailsub", "--nosuch");
	assert_non_null(strstr(err.message, "--nosuch"));
	/* No abbreviations: they would change meaning as options grow. */
	EXPECT_USAGE("mailsub", "--verb");
	EXPECT_USAGE("mailsub", "--requeue", "a\nb");
	EXPECT_USAGE("mailsub", "--oauth2-login");
	EXPECT_USAGE("mailsub", "--paste", "a@b.example");
	assert_non_null(strstr(err.message, "--oauth2-login"));
	EXPECT_USAGE("mailsub", "--oauth2-login", "w", "--paste", "--device");
}

static void
test_double_dash(void **state)
{
	(void)state;
	/* mutt: sendmail -oem -oi -- rcpts (tests/FAULTS.md 20). */
	assert_int_equal(
	    PARSE("sendmail", "-oem", "-oi", "--", "-oi", "a@x", "--", "-t"),
	    0);
	assert_true(opts.ignore_dots);
	assert_false(opts.read_recipients);
	assert_int_equal(opts.n_recipients, 4);
	assert_string_equal(opts.recipients[0], "-oi");
	assert_string_equal(opts.recipients[1], "a@x");
	assert_string_equal(opts.recipients[2], "--");
	assert_string_equal(opts.recipients[3], "-t");
}

static void
test_permutation(void **state)
{
	(void)state;
	/* glibc getopt permutes: options after recipients still count. */
	assert_int_equal(
	    PARSE("sendmail", "a@x", "-t", "b@y", "-f", "me@z"), 0);
	assert_true(opts.read_recipients);
	assert_string_equal(opts.envelope_from, "me@z");
	assert_int_equal(opts.n_recipients, 2);
	assert_string_equal(opts.recipients[0], "a@x");
	assert_string_equal(opts.recipients[1], "b@y");
	/* A lone "-" is not an option. */
	assert_int_equal(PARSE("sendmail", "-"), 0);
	assert_int_equal(opts.n_recipients, 1);
	assert_string_equal(opts.recipients[0], "-");
}

static void
test_recipient_forms(void **state)
{
	(void)state;
	/* Stored raw: the caller splits lists with address_parse_list. */
	assert_int_equal(PARSE("sendmail", "a@x,b@y", "Joe <j@x>", "root"), 0);
	assert_int_equal(opts.n_recipients, 3);
	assert_string_equal(opts.recipients[0], "a@x,b@y");
	assert_string_equal(opts.recipients[1], "Joe <j@x>");
	assert_string_equal(opts.recipients[2], "root");
}

static void
test_unknown_short(void **state)
{
	(void)state;
	EXPECT_USAGE("sendmail", "-Z");
	assert_non_null(strstr(err.message, "-Z"));
	EXPECT_USAGE("sendmail", "-tZ");
	assert_non_null(strstr(err.message, "-Z"));
	/* An unprintable option letter is escaped in the message. */
	EXPECT_USAGE("sendmail", "-\x1b");
	assert_null(strchr(err.message, '\x1b'));
	assert_non_null(strstr(err.message, "\\x1b"));
}

static void
test_missing_argument(void **state)
{
	(void)state;
	EXPECT_USAGE("sendmail", "-f");
	assert_non_null(strstr(err.message, "-f"));
	EXPECT_USAGE("sendmail", "-t", "-F");
	EXPECT_USAGE("sendmail", "-C");
	EXPECT_USAGE("sendmail", "-a");
	EXPECT_USAGE("sendmail", "-R");
	EXPECT_USAGE("sendmail", "-V");
	EXPECT_USAGE("sendmail", "-B");
	EXPECT_USAGE("sendmail", "-r");
}

/* tests/FAULTS.md 16 */
static void
test_fault16_sender_crlf(void **state)
{
	(void)state;
	EXPECT_USAGE("sendmail", "-f", "a@b>\r\nRCPT TO:<evil@x>", "to@x");
	assert_non_null(strstr(err.message, "-f"));
	assert_non_null(strstr(err.message, "\\x0d\\x0a"));
	assert_null(strchr(err.message, '\r'));
	assert_null(strchr(err.message, '\n'));
	EXPECT_USAGE("sendmail", "-ra@b\nx");
	assert_non_null(strstr(err.message, "-r"));
	EXPECT_USAGE("sendmail", "-f", "a@b\tc");
	EXPECT_USAGE("sendmail", "-f", "a@b\x7f");
}

/* tests/FAULTS.md 17 */
static void
test_fault17_fullname_crlf(void **state)
{
	(void)state;
	EXPECT_USAGE("sendmail", "-F", "Joe\r\nBcc: victim@x", "to@x");
	assert_non_null(strstr(err.message, "-F"));
	assert_null(strchr(err.message, '\n'));
	EXPECT_USAGE("sendmail", "-FJoe\nBcc: v@x");
	/* UTF-8 names are fine. */
	assert_int_equal(PARSE("sendmail", "-F", "J\xc3\xb6rg"), 0);
}

/* tests/FAULTS.md 18: the PHPMailer payload is one -f value, not options. */
static void
test_fault18_phpmailer(void **state)
{
	const char *payload =
	    "\"attacker\\\" -oQ/tmp/ -X/tmp/x.php some\"@email.com";

	(void)state;
	assert_int_equal(PARSE("sendmail", "-t", "-i", "-f", payload), 0);
	assert_string_equal(opts.envelope_from, payload);
	assert_int_equal(opts.n_ignored, 0);
	assert_int_equal(opts.n_recipients, 0);
	assert_int_equal(opts.mode, CLI_MODE_DELIVER);
	assert_int_equal(PARSE("sendmail", "-t", "-i",
			     "-f\"attacker\\\" -oQ/tmp/ -X/tmp/x.php some\"@"
			     "email.com"),
	    0);
	assert_string_equal(opts.envelope_from, payload);
	assert_int_equal(opts.n_ignored, 0);
}

/* tests/FAULTS.md 19 */
static void
test_fault19_file_options(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-X", "/tmp/log", "-C",
			     "/etc/shadow", "-d0.1", "-oQ/tmp", "a@x"),
	    0);
	assert_string_equal(opts.config_file, "/etc/shadow");
	assert_int_equal(opts.n_ignored, 3);
	assert_true(ignored_has("-X /tmp/log"));
	assert_true(ignored_has("-d 0.1"));
	assert_true(ignored_has("-o Q/tmp"));
	assert_int_equal(opts.n_recipients, 1);
}

/* tests/FAULTS.md 20 */
static void
test_fault20_recipients(void **state)
{
	(void)state;
	EXPECT_USAGE("sendmail", "--", "a@x\nRCPT TO:<b@y>");
	assert_non_null(strstr(err.message, "recipient"));
	EXPECT_USAGE("sendmail", "a@x\r");
	/* Syntax is the address module's job; these reach it unchanged. */
	assert_int_equal(PARSE("sendmail", "--", "|cmd", "a;b", "-oi"), 0);
	assert_int_equal(opts.n_recipients, 3);
	assert_string_equal(opts.recipients[0], "|cmd");
}

/* tests/FAULTS.md 21 */
static void
test_fault21_large(void **state)
{
	const size_t n = 10000;
	const char **v = calloc(n + 2, sizeof(*v));
	char *big = malloc(100 * 1024 + 1);
	size_t i;

	(void)state;
	assert_non_null(v);
	assert_non_null(big);
	v[0] = "sendmail";
	for (i = 1; i <= n; i++)
		v[i] = (i % 2) ? "a@example.org" : "b@example.org";
	assert_int_equal(parse_vec(v), 0);
	assert_int_equal(opts.n_recipients, n);
	memset(big, 'a', 100 * 1024);
	big[100 * 1024] = '\0';
	big[50] = '@';
	assert_int_equal(PARSE("sendmail", "-f", big, big), 0);
	assert_ptr_equal(opts.envelope_from, big);
	assert_int_equal(opts.n_recipients, 1);
	/* A long bad argument still gives a short, escaped message. */
	big[60000] = '\n';
	EXPECT_USAGE("sendmail", "-f", big);
	assert_true(strlen(err.message) < 400);
	free(big);
	free(v);
}

static void
test_real_callers(void **state)
{
	(void)state;
	/* Debian cron */
	assert_int_equal(PARSE("/usr/sbin/sendmail", "-FCronDaemon", "-i",
			     "-B8BITMIME", "-oem", "a@x,b@y"),
	    0);
	assert_string_equal(opts.full_name, "CronDaemon");
	assert_true(opts.ignore_dots);
	assert_string_equal(opts.body_type, "8BITMIME");
	assert_int_equal(opts.error_mode, 'm');
	assert_int_equal(opts.n_recipients, 1);
	/* cronie */
	assert_int_equal(PARSE("sendmail", "-FCronDaemon", "-i", "-odi", "-oem",
			     "-oi", "-t", "-f", "user"),
	    0);
	assert_true(opts.read_recipients);
	assert_string_equal(opts.envelope_from, "user");
	assert_int_equal(opts.delivery, CLI_DELIVERY_INTERACTIVE);
	/* mutt */
	assert_int_equal(
	    PARSE("sendmail", "-oem", "-oi", "-B8BITMIME", "-f", "a@x", "-N",
		"failure,delay", "-R", "hdrs", "--", "b@y", "c@z"),
	    0);
	assert_string_equal(opts.dsn_notify, "FAILURE,DELAY");
	assert_string_equal(opts.dsn_return, "HDRS");
	assert_int_equal(opts.n_recipients, 2);
	/* fail2ban */
	assert_int_equal(PARSE("sendmail", "-f", "fail2ban", "root"), 0);
	assert_string_equal(opts.recipients[0], "root");
}

static void
test_usage_text(void **state)
{
	static const char *const must[] = {"-t", "-i", "-oi", "-f", "-r", "-F",
	    "-C", "-a", "--account", "-N", "-R", "-V", "-B", "-bm", "-bp",
	    "-bi", "-bs", "-bv", "-q", "-odi", "-odq", "-odb", "-oe", "-v",
	    "-X", "-L", "-O", "-h", "-G", "-U", "--help", "--version",
	    "--serverinfo", "--json", "--check-config", "--configure",
	    "--flush", "--queue", "--queue-delete", "--requeue", "mailq",
	    "newaliases", "-s", "--subject", "--body", "--body-file", "--html",
	    "--attach", "--header", "--from", "--to", "--cc", "--bcc",
	    "--reply-to", "--print", "--oauth2-login", "--paste", "--device"};
	const char *u = cli_usage();
	size_t i;

	(void)state;
	assert_non_null(u);
	assert_non_null(strstr(u, "usage:"));
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (strstr(u, must[i]) == NULL)
			fail_msg("usage lacks %s", must[i]);
	assert_int_equal(u[strlen(u) - 1], '\n');
}

static void
test_free_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(PARSE("sendmail", "-G", "a@x"), 0);
	cli_free(&opts);
	assert_null(opts.recipients);
	assert_null(opts.ignored);
	cli_free(&opts);
	cli_free(NULL);
}

/* ---- compose mode ------------------------------------------------------ */

static void
test_compose_options(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mailsub", "a@x"), 0);
	assert_false(opts.compose.active);
	/* Plain recipients are To in compose mode, and in the envelope. */
	assert_int_equal(PARSE("mailsub", "-s", "Backup done", "--attach",
			     "/var/log/b.log", "admin@example.com"),
	    0);
	assert_true(opts.compose.active);
	assert_false(opts.compose.print);
	assert_string_equal(opts.compose.subject, "Backup done");
	assert_int_equal(opts.compose.n_attach, 1);
	assert_string_equal(opts.compose.attach[0].path, "/var/log/b.log");
	assert_null(opts.compose.attach[0].type);
	assert_null(opts.compose.attach[0].name);
	assert_int_equal(opts.compose.n_to, 1);
	assert_string_equal(opts.compose.to[0], "admin@example.com");
	assert_int_equal(opts.n_recipients, 1);
	/* --to, --cc, --bcc: every one in the envelope, Bcc in no header. */
	assert_int_equal(
	    PARSE("mailsub", "--to", "a@x", "--cc=c@x", "--bcc", "b@x", "p@x",
		"--to", "Zo\xc3\xab <z@x>", "-s", "S"),
	    0);
	assert_true(opts.compose.active);
	assert_int_equal(opts.n_recipients, 5);
	assert_int_equal(opts.compose.n_to, 3);
	assert_string_equal(opts.compose.to[0], "a@x");
	assert_string_equal(opts.compose.to[1], "p@x");
	assert_string_equal(opts.compose.to[2], "Zo\xc3\xab <z@x>");
	assert_int_equal(opts.compose.n_cc, 1);
	assert_string_equal(opts.compose.cc[0], "c@x");
	assert_int_equal(opts.compose.n_bcc, 1);
	assert_string_equal(opts.recipients[2], "b@x");
	/* Every option, with both spellings. */
	assert_int_equal(
	    PARSE("mailsub", "--subject=S", "--body", "line 1\nline 2",
		"--html", "p.html", "--from", "Me <me@x>", "--reply-to", "r@x",
		"--print", "-sT", "--header", "X-A: 1",
		"--header=In-Reply-To: <a@b>"),
	    0);
	assert_string_equal(opts.compose.subject, "T");
	assert_string_equal(opts.compose.body, "line 1\nline 2");
	assert_string_equal(opts.compose.html_file, "p.html");
	assert_string_equal(opts.compose.from, "Me <me@x>");
	assert_string_equal(opts.compose.reply_to, "r@x");
	assert_true(opts.compose.print);
	assert_int_equal(opts.compose.n_headers, 2);
	assert_string_equal(opts.compose.headers[1], "In-Reply-To: <a@b>");
	assert_int_equal(opts.n_recipients, 0);
	/* An empty subject and an empty body are allowed. */
	assert_int_equal(PARSE("mailsub", "-s", "", "--body", "", "a@x"), 0);
	assert_string_equal(opts.compose.subject, "");
	assert_string_equal(opts.compose.body, "");
	assert_int_equal(PARSE("mailsub", "--body-file", "b.txt", "a@x"), 0);
	assert_string_equal(opts.compose.body_file, "b.txt");
	/* Only -s, --subject, --body, --body-file, --html and --attach
	 * start compose mode: the refining options alone are refused. */
	EXPECT_USAGE("mailsub", "--print");
	assert_non_null(strstr(err.message, "--print only refines"));
	EXPECT_USAGE("mailsub", "--to", "a@x");
	EXPECT_USAGE("mailsub", "--cc", "a@x", "b@x");
	EXPECT_USAGE("mailsub", "--bcc", "a@x", "b@x");
	EXPECT_USAGE("mailsub", "--reply-to", "a@x", "b@x");
	EXPECT_USAGE("mailsub", "--header", "X-A: 1", "b@x");
	assert_int_equal(PARSE("mailsub", "--print", "--body=x"), 0);
	assert_true(opts.compose.active);
}

/* msmtp's --from is -f: outside compose mode it is the envelope sender and
 * the message on stdin is sent as it is. */
static void
test_from_outside_compose(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mailsub", "--from=alice@x", "bob@y"), 0);
	assert_false(opts.compose.active);
	assert_string_equal(opts.envelope_from, "alice@x");
	assert_null(opts.compose.from);
	assert_int_equal(PARSE("mailsub", "--from", "alice@x", "bob@y"), 0);
	assert_false(opts.compose.active);
	assert_string_equal(opts.envelope_from, "alice@x");
	/* With -f too: the same address is fine, two are a usage error. */
	assert_int_equal(
	    PARSE("mailsub", "-f", "alice@x", "--from=alice@x", "bob@y"), 0);
	assert_string_equal(opts.envelope_from, "alice@x");
	EXPECT_USAGE("mailsub", "-f", "a@x", "--from=b@x", "bob@y");
	/* In compose mode, wherever -s comes, --from is the From header. */
	assert_int_equal(
	    PARSE("mailsub", "--from=Me <me@x>", "bob@y", "-s", "hi"), 0);
	assert_true(opts.compose.active);
	assert_string_equal(opts.compose.from, "Me <me@x>");
	assert_null(opts.envelope_from);
}

static void
test_compose_attach_spec(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mailsub", "--attach",
			     "r.bin;type=application/pdf", "--attach",
			     "a;b.txt;name=Gr\xc3\xbc\xc3\x9f"
			     "e.txt",
			     "--attach", "x;name=n;type=text/csv", "--attach",
			     "y;type=text/plain;name=a;b", "a@x"),
	    0);
	assert_int_equal(opts.compose.n_attach, 4);
	assert_string_equal(opts.compose.attach[0].path, "r.bin");
	assert_string_equal(opts.compose.attach[0].type, "application/pdf");
	/* Taken from the right: a ';' in the file name stays. */
	assert_string_equal(opts.compose.attach[1].path, "a;b.txt");
	assert_string_equal(opts.compose.attach[1].name, "Gr\xc3\xbc\xc3\x9f"
							 "e.txt");
	assert_string_equal(opts.compose.attach[2].path, "x");
	assert_string_equal(opts.compose.attach[2].name, "n");
	assert_string_equal(opts.compose.attach[2].type, "text/csv");
	/* "b" is no option: name=a;b is not cut at its ';'. */
	assert_string_equal(
	    opts.compose.attach[3].path, "y;type=text/plain;name=a;b");
	assert_null(opts.compose.attach[3].type);

	EXPECT_USAGE("mailsub", "--attach", "f;type=pdf", "a@x");
	assert_non_null(strstr(err.message, "TYPE/SUBTYPE"));
	EXPECT_USAGE("mailsub", "--attach", "f;type=text/pl ain", "a@x");
	EXPECT_USAGE("mailsub", "--attach", "f;type=/x", "a@x");
	/* RFC 2046 5.2.1: never base64. */
	EXPECT_USAGE("mailsub", "--attach", "m.eml;type=message/rfc822", "a@x");
	EXPECT_USAGE("mailsub", "--attach", "m;type=Multipart/mixed", "a@x");
	EXPECT_USAGE("mailsub", "--attach", "f;name=", "a@x");
	EXPECT_USAGE("mailsub", "--attach", ";type=text/plain", "a@x");
	EXPECT_USAGE("mailsub", "--attach", "", "a@x");
	EXPECT_USAGE("mailsub", "--attach", "f\nx", "a@x");
	assert_null(opts.compose.attach);
}

static void
test_compose_header_arg(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mailsub", "-s", "x", "--header", "X-Empty:",
			     "--header", "Date: Mon, 1 Jan 2024 00:00:00 +0000",
			     "--header", "message-id: <x@y>", "a@x"),
	    0);
	assert_int_equal(opts.compose.n_headers, 3);
	/* 64: no colon, CR or LF, no name, a space in the name. */
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "X-Foo bar", "a@x");
	assert_non_null(strstr(err.message, "colon"));
	EXPECT_USAGE("mailsub", "-s", "x", "--header",
	    "X-Foo: a\r\nBcc: victim@x", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "X-Foo: a\nb", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", ": value", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "X Foo: value", "a@x");
	EXPECT_USAGE(
	    "mailsub", "-s", "x", "--header", "X-\xc3\xa9: value", "a@x");
	/* Fields compose writes itself name their option. */
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "Subject: x", "a@x");
	assert_non_null(strstr(err.message, "-s"));
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "bcc: v@x", "a@x");
	assert_non_null(strstr(err.message, "--bcc"));
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "FROM: v@x", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "To: v@x", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "Cc: v@x", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "Reply-To: v@x", "a@x");
	EXPECT_USAGE(
	    "mailsub", "-s", "x", "--header", "MIME-Version: 1.0", "a@x");
	EXPECT_USAGE(
	    "mailsub", "-s", "x", "--header", "Content-Type: text/html", "a@x");
	EXPECT_USAGE("mailsub", "-s", "x", "--header",
	    "Content-Transfer-Encoding: 8bit", "a@x");
	/* Date and Message-ID replace the generated ones: once. */
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "Date: a", "--header",
	    "date: b", "a@x");
	assert_non_null(strstr(err.message, "twice"));
	EXPECT_USAGE("mailsub", "-s", "x", "--header", "Message-ID: <a@b>",
	    "--header", "Message-Id: <c@d>", "a@x");
}

static void
test_compose_conflicts(void **state)
{
	(void)state;
	/* -t reads a message's own headers: there are none to read. */
	EXPECT_USAGE("mailsub", "-t", "-s", "x");
	assert_non_null(strstr(err.message, "-t"));
	EXPECT_USAGE("mailsub", "-s", "x", "-bp");
	EXPECT_USAGE("mailsub", "--attach", "f", "-q");
	EXPECT_USAGE("mailq", "-s", "x");
	EXPECT_USAGE("mailsub", "--body", "a", "--body-file", "b", "a@x");
	/* --help and --version still answer. */
	assert_int_equal(PARSE("mailsub", "-s", "x", "--help"), 0);
	assert_int_equal(opts.mode, CLI_MODE_HELP);
	assert_int_equal(PARSE("mailsub", "--version", "-t", "-s", "x"), 0);
	assert_int_equal(opts.mode, CLI_MODE_VERSION);
	/* Missing arguments and control characters where they are not
	 * text. */
	EXPECT_USAGE("mailsub", "-s");
	EXPECT_USAGE("mailsub", "a@x", "--attach");
	EXPECT_USAGE("mailsub", "-s", "a\r\nBcc: v@x", "a@x");
	EXPECT_USAGE("mailsub", "--from", "a@x\r\nRCPT TO:<v@x>", "a@x");
	EXPECT_USAGE("mailsub", "--to", "v@x\n", "a@x");
	EXPECT_USAGE("mailsub", "--bcc", "", "a@x");
	EXPECT_USAGE("mailsub", "--print=yes");
	/* --body is text: newlines and tabs are its content. */
	assert_int_equal(PARSE("mailsub", "--body", "a\r\n\tb\n", "a@x"), 0);
}

/* msmtp(1) 1.8.23's options: settings under msmtp's command names, the
 * others refused with what to do instead. */
static void
test_msmtp_options(void **state)
{
	const struct cli_setting *cs;

	(void)state;
	assert_int_equal(
	    PARSE("mailsub", "--host=mx.example.org", "--port", "2525", "--tls",
		"--tls-starttls=off", "--auth", "--user=bob",
		"--passwordeval=pass show x", "--timeout=off", "--syslog",
		"--user=carol", "a@x"),
	    0);
	assert_int_equal(opts.n_settings, 9);
	assert_non_null(cs = cli_setting_find(&opts, "host"));
	assert_string_equal(cs->value, "mx.example.org");
	assert_string_equal(cli_setting_find(&opts, "port")->value, "2525");
	assert_null(cli_setting_find(&opts, "tls")->value);
	assert_string_equal(
	    cli_setting_find(&opts, "tls_starttls")->value, "off");
	/* The last one wins, as in msmtp. */
	assert_string_equal(cli_setting_find(&opts, "user")->value, "carol");
	assert_string_equal(
	    cli_setting_find(&opts, "passwordeval")->value, "pass show x");
	assert_int_equal(opts.n_recipients, 1);
	/* "--tls on" is --tls and a recipient "on": an optional argument
	 * is only ever attached. */
	assert_int_equal(PARSE("mailsub", "--tls", "on"), 0);
	assert_int_equal(opts.n_recipients, 1);
	assert_int_equal(PARSE("mailsub", "-P"), 0);
	assert_int_equal(opts.mode, CLI_MODE_PRETEND);
	assert_int_equal(PARSE("mailsub", "--pretend", "-f", "a@x"), 0);
	assert_int_equal(opts.mode, CLI_MODE_PRETEND);
	assert_int_equal(PARSE("mailsub", "-S"), 0);
	assert_int_equal(opts.mode, CLI_MODE_SERVERINFO);
	assert_int_equal(PARSE("mailsub", "--read-envelope-from", "a@x"), 0);
	assert_true(opts.read_envelope_from);
	assert_int_equal(PARSE("mailsub", "--file=/etc/m.conf", "--debug",
			     "--read-recipients"),
	    0);
	assert_string_equal(opts.config_file, "/etc/m.conf");
	assert_true(opts.verbose);
	assert_true(opts.read_recipients);
	assert_int_equal(
	    PARSE("mailsub", "--dsn-notify=off", "--dsn-return=headers"), 0);
	assert_null(opts.dsn_notify);
	assert_string_equal(opts.dsn_return, "HDRS");
	/* What mailsub does anyway is no setting. */
	assert_int_equal(PARSE("mailsub", "--tls-certcheck", "--protocol=smtp",
			     "--remove-bcc-headers=on", "a@x"),
	    0);
	assert_int_equal(opts.n_settings, 0);
	/* Refused, with the way to get the same. */
	EXPECT_USAGE("mailsub", "--tls-certcheck=off", "a@x");
	assert_non_null(strstr(err.message, "tls_fingerprint"));
	EXPECT_USAGE("mailsub", "--logfile=/var/www/x.php", "a@x");
	assert_non_null(strstr(err.message, "configuration"));
	EXPECT_USAGE("mailsub", "--proxy-host=127.0.0.1", "a@x");
	EXPECT_USAGE("mailsub", "--socket=/run/s", "a@x");
	EXPECT_USAGE("mailsub", "--rmqs=example.org");
	EXPECT_USAGE("mailsub", "--protocol=lmtp");
	EXPECT_USAGE("mailsub", "--tls=maybe");
	EXPECT_USAGE("mailsub", "--pretend=yes");
	EXPECT_USAGE("mailsub", "--host");
	EXPECT_USAGE("mailsub", "--host=x", "-a", "work");
	EXPECT_USAGE("mailsub", "--user=a\nb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_defaults, teardown),
	    cmocka_unit_test_teardown(test_invocation_names, teardown),
	    cmocka_unit_test_teardown(test_no_argv, teardown),
	    cmocka_unit_test_teardown(test_cluster, teardown),
	    cmocka_unit_test_teardown(test_oi, teardown),
	    cmocka_unit_test_teardown(test_sender, teardown),
	    cmocka_unit_test_teardown(test_full_name, teardown),
	    cmocka_unit_test_teardown(test_config_and_account, teardown),
	    cmocka_unit_test_teardown(test_dsn_notify, teardown),
	    cmocka_unit_test_teardown(test_dsn_return, teardown),
	    cmocka_unit_test_teardown(test_dsn_envid, teardown),
	    cmocka_unit_test_teardown(test_body_type, teardown),
	    cmocka_unit_test_teardown(test_b_modes, teardown),
	    cmocka_unit_test_teardown(test_queue_flush, teardown),
	    cmocka_unit_test_teardown(test_delivery_modes, teardown),
	    cmocka_unit_test_teardown(test_error_modes, teardown),
	    cmocka_unit_test_teardown(test_verbose, teardown),
	    cmocka_unit_test_teardown(test_ignored, teardown),
	    cmocka_unit_test_teardown(test_ignored_attached, teardown),
	    cmocka_unit_test_teardown(test_long_modes, teardown),
	    cmocka_unit_test_teardown(test_long_errors, teardown),
	    cmocka_unit_test_teardown(test_double_dash, teardown),
	    cmocka_unit_test_teardown(test_permutation, teardown),
	    cmocka_unit_test_teardown(test_recipient_forms, teardown),
	    cmocka_unit_test_teardown(test_unknown_short, teardown),
	    cmocka_unit_test_teardown(test_missing_argument, teardown),
	    cmocka_unit_test_teardown(test_fault16_sender_crlf, teardown),
	    cmocka_unit_test_teardown(test_fault17_fullname_crlf, teardown),
	    cmocka_unit_test_teardown(test_fault18_phpmailer, teardown),
	    cmocka_unit_test_teardown(test_fault19_file_options, teardown),
	    cmocka_unit_test_teardown(test_fault20_recipients, teardown),
	    cmocka_unit_test_teardown(test_fault21_large, teardown),
	    cmocka_unit_test_teardown(test_real_callers, teardown),
	    cmocka_unit_test_teardown(test_usage_text, teardown),
	    cmocka_unit_test_teardown(test_free_is_idempotent, teardown),
	    cmocka_unit_test_teardown(test_compose_options, teardown),
	    cmocka_unit_test_teardown(test_compose_attach_spec, teardown),
	    cmocka_unit_test_teardown(test_compose_header_arg, teardown),
	    cmocka_unit_test_teardown(test_compose_conflicts, teardown),
	    cmocka_unit_test_teardown(test_from_outside_compose, teardown),
	    cmocka_unit_test_teardown(test_msmtp_options, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
