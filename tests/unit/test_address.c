/* SPDX-License-Identifier: ISC */
/*
 * address.c: RFC 5322 address lists, envelope checks, duplicate removal,
 * and aliases(5) files written to a temporary directory.
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
#include <unistd.h>

#include "address.h"
#include "error.h"

static struct address_list list;
static struct error err;

static int
setup(void **state)
{
	(void)state;
	address_list_init(&list);
	error_clear(&err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	address_list_free(&list);
	return 0;
}

static int
parse(const char *s)
{
	address_list_free(&list);
	error_clear(&err);
	return address_parse_list(s, strlen(s), &list, &err);
}

/* Parse s and expect exactly the NULL-terminated addresses. */
static void
expect_list(const char *s, const char **want)
{
	size_t n = 0;

	if (parse(s) != 0)
		fail_msg("parse of \"%s\" failed: %s", s, err.message);
	for (; want[n] != NULL; n++) {
		if (n >= list.n)
			fail_msg("\"%s\": missing %s", s, want[n]);
		assert_string_equal(list.addrs[n], want[n]);
	}
	assert_int_equal(list.n, n);
}

#define EXPECT(s, ...) expect_list(s, (const char *[]){__VA_ARGS__, NULL})
#define EXPECT_NONE(s) expect_list(s, (const char *[]){NULL})

static void
expect_bad(const char *s, const char *words)
{
	if (parse(s) != -1)
		fail_msg("\"%s\" parsed", s);
	assert_int_equal(err.exit_code, EX_DATAERR);
	if (strstr(err.message, words) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.message,
		    words);
}

static void
test_plain(void **state)
{
	(void)state;
	EXPECT("a@example.org", "a@example.org");
	EXPECT("  a@example.org  ", "a@example.org");
	EXPECT(
	    "first.last+tag@sub.example.org", "first.last+tag@sub.example.org");
	EXPECT_NONE("");
	EXPECT_NONE("   ");
}

static void
test_name_addr(void **state)
{
	(void)state;
	EXPECT("Joe Public <joe@x.org>", "joe@x.org");
	EXPECT("<joe@x.org>", "joe@x.org");
	EXPECT("Joe Q. Public <joe@x.org>", "joe@x.org");
	EXPECT("Joe<joe@x.org>,Ann<ann@y.org>", "joe@x.org", "ann@y.org");
}

static void
test_quoted_display_name(void **state)
{
	(void)state;
	EXPECT("\"Public, Joe\" <joe@x.org>, b@y", "joe@x.org", "b@y");
	EXPECT("\"Joe \\\"the\\\" Public\" <joe@x.org>", "joe@x.org");
	EXPECT("\"<not@this>\" <joe@x.org>", "joe@x.org");
}

static void
test_comments(void **state)
{
	(void)state;
	EXPECT("root (Cron Daemon)", "root");
	EXPECT("a@x (comment, with comma), b@y", "a@x", "b@y");
	EXPECT("(lead) a(in)@(side)x.org (trail)", "a@x.org");
	EXPECT("a@x (outer (inner (deep)) still)", "a@x");
	EXPECT("a@x (quoted \\) paren and \\( too)", "a@x");
	EXPECT("Joe (the man) <joe@x>", "joe@x");
}

static void
test_comment_depth(void **state)
{
	char text[200];
	size_t i, n = 0;

	(void)state;
	n += (size_t)snprintf(text, sizeof(text), "a@x ");
	for (i = 0; i < 32; i++)
		text[n++] = '(';
	for (i = 0; i < 32; i++)
		text[n++] = ')';
	text[n] = '\0';
	EXPECT(text, "a@x");
	n = (size_t)snprintf(text, sizeof(text), "a@x ");
	for (i = 0; i < 33; i++)
		text[n++] = '(';
	for (i = 0; i < 33; i++)
		text[n++] = ')';
	text[n] = '\0';
	expect_bad(text, "nested too deeply");
}

static void
test_groups(void **state)
{
	(void)state;
	EXPECT("grp: a@x, b@y;", "a@x", "b@y");
	EXPECT("grp: a@x, Bob <b@y>; c@z", "a@x", "b@y", "c@z");
	EXPECT(
	    "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	    "c@a.test", "joe@where.test", "jdoe@one.test");
	EXPECT("one: a@x;, two: b@y;", "a@x", "b@y");
	/* Tolerated: a group not closed at the end of the header. */
	EXPECT("grp: a@x", "a@x");
}

static void
test_empty_group(void **state)
{
	(void)state;
	EXPECT_NONE("undisclosed-recipients:;");
	EXPECT_NONE("Undisclosed recipients: ;");
	EXPECT("undisclosed-recipients:;, a@x", "a@x");
}

static void
test_quoted_local(void **state)
{
	(void)state;
	EXPECT("\"john smith\"@example.org", "\"john smith\"@example.org");
	EXPECT("J <\"john smith\"@example.org>", "\"john smith\"@example.org");
	EXPECT("\"a,b\"@x, c@y", "\"a,b\"@x", "c@y");
	EXPECT("\"a\\\"b\"@x", "\"a\\\"b\"@x");
}

static void
test_route(void **state)
{
	(void)state;
	EXPECT("<@r1,@r2:a@x>", "a@x");
	EXPECT("Joe <@r1.example, @r2.example : joe@x.org>", "joe@x.org");
	EXPECT("<@[10.0.0.1]:a@x>", "a@x");
	expect_bad("<@r1 a@x>", "route");
}

static void
test_encoded_words(void **state)
{
	(void)state;
	EXPECT("=?UTF-8?Q?J=C3=B6rg?= <joerg@x.de>", "joerg@x.de");
	EXPECT("=?iso-8859-1?B?SvZyZw==?= =?utf-8?q?M=C3=BCller?= <m@x.de>",
	    "m@x.de");
	EXPECT("\"=?UTF-8?Q?a,b?=\" <ab@x>", "ab@x");
}

static void
test_folding(void **state)
{
	(void)state;
	EXPECT("Joe Public\r\n <joe@x.org>,\r\n\tann@y.org", "joe@x.org",
	    "ann@y.org");
	EXPECT("a@x,\n b@y", "a@x", "b@y");
	/* Folding inside a quoted string never reaches the result. */
	EXPECT("\"john\r\n smith\"@x", "\"john smith\"@x");
}

static void
test_bare_names(void **state)
{
	(void)state;
	EXPECT("root", "root");
	EXPECT("root, postmaster", "root", "postmaster");
	EXPECT("Admin <root>", "root");
	EXPECT("-oi", "-oi");
}

static void
test_comma_lists(void **state)
{
	(void)state;
	EXPECT("a@x,b@y,c@z", "a@x", "b@y", "c@z");
	EXPECT(",a@x,,b@y,", "a@x", "b@y");
	EXPECT(" , ", NULL);
}

static void
test_obsolete_spacing(void **state)
{
	(void)state;
	EXPECT("john . smith @ example . org", "john.smith@example.org");
	EXPECT("\"a\".\"b\"@x", "\"a\".\"b\"@x");
	/* Seen in the wild (RFC 5322 4.4 does not allow it; servers do). */
	EXPECT("a..b@x", "a..b@x");
}

static void
test_domain_literal(void **state)
{
	(void)state;
	EXPECT("a@[192.0.2.1]", "a@[192.0.2.1]");
	EXPECT("A <a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]");
	expect_bad("a@[1.2.3.4", "'['");
	expect_bad("a@1.2.3.4]", "']'");
	expect_bad("a@[1[2]", "'['");
}

static void
test_utf8(void **state)
{
	(void)state;
	EXPECT("J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc\x63her.de>",
	    "j\xc3\xb6rg@b\xc3\xbc\x63her.de");
	assert_false(address_is_ascii(list.addrs[0]));
	assert_true(address_is_ascii("a@x"));
}

static void
test_dedup(void **state)
{
	(void)state;
	EXPECT("a@X.org, a@x.ORG, A@x.org", "a@X.org", "A@x.org");
	EXPECT("root, root, Root", "root", "Root");
	/* Through address_list_add directly, after the parse above. */
	assert_int_equal(address_list_add(&list, "a@x.org", &err), 0);
	assert_int_equal(list.n, 3);
	assert_int_equal(address_list_add(&list, "\"a@b\"@X", &err), 0);
	assert_int_equal(address_list_add(&list, "\"a@b\"@x", &err), 0);
	assert_int_equal(address_list_add(&list, "\"a@B\"@x", &err), 0);
	assert_int_equal(list.n, 5);
}

static void
test_bad_quotes(void **state)
{
	(void)state;
	expect_bad("\"john smith@x", "unterminated quoted string");
	expect_bad("a@x, \"Joe <j@x>", "unterminated quoted string");
	expect_bad("\"a\\", "unterminated quoted string");
}

static void
test_bad_angles(void **state)
{
	(void)state;
	expect_bad("Joe <joe@x", "unbalanced '<'");
	expect_bad("joe@x>", "unbalanced '>'");
	expect_bad("<>", "empty address '<>'");
	expect_bad("Joe <>", "'<>'");
	expect_bad("<a@x> b@y", "after '>'");
	expect_bad("<<a@x>>", "inside '<...>'");
	expect_bad("<a@x, b@y>", "inside '<...>'");
}

static void
test_bad_parens(void **state)
{
	(void)state;
	expect_bad("a@x (unclosed", "unbalanced '('");
	expect_bad("a@x )", "unbalanced ')'");
	expect_bad("a@x (a \\", "unbalanced '('");
}

static void
test_bad_structure(void **state)
{
	(void)state;
	expect_bad("John Smith", "two words");
	expect_bad("a@x b@y", "missing ','");
	expect_bad("a@", "missing domain");
	expect_bad("@x", "empty local part");
	expect_bad("a@b@c", "second '@'");
	expect_bad("a@x..y", "bad domain");
	expect_bad("a@x.", "bad domain");
	expect_bad("a@\"x\"", "bad domain");
	expect_bad("a;b", "';' outside a group");
	expect_bad("a@x;", "';' outside a group");
	expect_bad("g1: g2: a@x;;", "nested group");
	expect_bad(": a@x;", "group without a name");
	expect_bad("a@x: b@y;", "bad group name");
	expect_bad("a\\b@x", "'\\'");
	expect_bad("[1.2.3.4]@x", "local part");
}

static void
test_control_chars(void **state)
{
	char with_nul[] = "a@x\0b@y";

	(void)state;
	expect_bad("a@x\x01", "control character");
	expect_bad("\"a\x7f\"@x", "control character");
	expect_bad("\"a\\\r\"@x", "control character");
	expect_bad("a@x (\x1b[31m)", "control character");
	assert_int_equal(
	    address_parse_list(with_nul, sizeof(with_nul) - 1, &list, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	/* The message escapes what it quotes. */
	assert_null(strchr(err.message, '\x01'));
}

static void
test_error_quotes_input_escaped(void **state)
{
	char big[4096];

	(void)state;
	expect_bad("\x1b]0;evil\x07\"", "control character");
	assert_null(strchr(err.message, '\x1b'));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '(';
	expect_bad(big, "unbalanced '('");
	assert_true(strlen(err.message) < 300);
	assert_non_null(strstr(err.message, "byte 100"));
}

static void
test_large_list(void **state)
{
	const size_t n = 10000;
	char *text = malloc(n * 32);
	size_t i, off = 0;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(
		    text + off, "%sUser %zu <u%zu@x.org>", i ? ", " : "", i, i);
	assert_int_equal(address_parse_list(text, off, &list, &err), 0);
	assert_int_equal(list.n, n);
	assert_string_equal(list.addrs[0], "u0@x.org");
	assert_string_equal(list.addrs[n - 1], "u9999@x.org");
	/* All again, with the domain in upper case: all duplicates. */
	off = 0;
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(
		    text + off, "%su%zu@X.ORG", i ? "," : "", i);
	assert_int_equal(address_parse_list(text, off, &list, &err), 0);
	assert_int_equal(list.n, n);
	free(text);
}

static void
test_many_duplicates_fast(void **state)
{
	char a[64];
	size_t i;

	(void)state;
	/* tests/FAULTS.md 43: 100 000 recipients must not be quadratic. */
	for (i = 0; i < 100000; i++) {
		snprintf(a, sizeof(a), "user%zu@example.org", i);
		assert_int_equal(address_list_add(&list, a, &err), 0);
	}
	assert_int_equal(address_list_add(&list, "USER5@example.org", &err), 0);
	assert_int_equal(address_list_add(&list, "user5@EXAMPLE.org", &err), 0);
	assert_int_equal(list.n, 100001);
}

static void
test_phpmailer_payload(void **state)
{
	const char *p = "\"attacker\\\" -oQ/tmp/ -X/tmp/x.php some\"@email.com";

	(void)state;
	EXPECT(p, p);
	/* One quoted local part: legal, and harmless because no shell and
	 * no option parser ever sees it again. */
	assert_int_equal(address_check_envelope(p, &err), 0);
}

static void
test_check_envelope_ok(void **state)
{
	(void)state;
	assert_int_equal(address_check_envelope("a@x.org", &err), 0);
	assert_int_equal(address_check_envelope("root", &err), 0);
	assert_int_equal(address_check_envelope("-oi", &err), 0);
	assert_int_equal(address_check_envelope("\"a b\"@x", &err), 0);
	assert_int_equal(address_check_envelope("\"a@b<>\"@x", &err), 0);
	assert_int_equal(address_check_envelope("a@[192.0.2.1]", &err), 0);
	assert_int_equal(address_check_envelope("j\xc3\xb6rg@x.de", &err), 0);
}

static void
expect_bad_envelope(const char *a, const char *why)
{
	error_clear(&err);
	if (address_check_envelope(a, &err) != -1)
		fail_msg("\"%s\" accepted", a);
	assert_int_equal(err.exit_code, EX_USAGE);
	if (strstr(err.message, why) == NULL)
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", a, err.message, why);
	assert_null(strchr(err.message, '\r'));
	assert_null(strchr(err.message, '\n'));
}

static void
test_check_envelope_bad(void **state)
{
	char long_addr[ADDRESS_MAX + 2];

	(void)state;
	expect_bad_envelope("a@b>\r\nRCPT TO:<evil@x>", "control character");
	expect_bad_envelope("a@x\n", "control character");
	expect_bad_envelope("a\x7f@x", "control character");
	expect_bad_envelope("\"a\\\r\"@x", "control character");
	expect_bad_envelope("<a@x>", "angle bracket");
	expect_bad_envelope("a>@x", "angle bracket");
	expect_bad_envelope("a b@x", "space");
	expect_bad_envelope("\"a@x", "unbalanced quote");
	expect_bad_envelope("a@b@c", "more than one '@'");
	expect_bad_envelope("@x", "empty local part");
	expect_bad_envelope("a@", "empty domain");
	expect_bad_envelope("", "empty");
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	long_addr[10] = '@';
	expect_bad_envelope(long_addr, "256");
	long_addr[ADDRESS_MAX] = '\0';
	assert_int_equal(address_check_envelope(long_addr, &err), 0);
}

/* SMTPUTF8 (RFC 6531) carries UTF-8, nothing else: Latin-1, a cut
 * sequence, overlong forms and surrogates are refused, in either part. */
static void
test_check_envelope_utf8(void **state)
{
	(void)state;
	assert_int_equal(address_check_envelope("\xe2\x82\xac@x.de", &err), 0);
	assert_int_equal(
	    address_check_envelope("a@\xf0\x9f\x98\x80.example", &err), 0);
	assert_int_equal(address_check_envelope("\"j\xc3\xb6 r\"@x", &err), 0);
	expect_bad_envelope("caf\xe9@x.fr", "UTF-8");
	expect_bad_envelope("a@caf\xe9.fr", "UTF-8");
	expect_bad_envelope("a\xc3@x", "UTF-8");
	expect_bad_envelope("\xc0\xaf@x", "UTF-8");
	expect_bad_envelope("\xe0\x80\xaf@x", "UTF-8");
	expect_bad_envelope("\xed\xa0\x80@x", "UTF-8");
	expect_bad_envelope("\xf4\x90\x80\x80@x", "UTF-8");
	expect_bad_envelope("\"\xff\"@x", "UTF-8");
}

static void
test_is_bare(void **state)
{
	(void)state;
	assert_true(address_is_bare("root"));
	assert_true(address_is_bare("\"a@b\""));
	assert_false(address_is_bare("root@x"));
	assert_false(address_is_bare("\"a@b\"@x"));
}

/* --- aliases ------------------------------------------------------- */

static char tmpdir[64];

static int
alias_setup(void **state)
{
	setup(state);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailsub-alias-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static char path[128];

static const char *
write_aliases(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/aliases", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int
alias_teardown(void **state)
{
	teardown(state);
	snprintf(path, sizeof(path), "%s/aliases", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static struct aliases *
load_ok(const char *text)
{
	struct aliases *a = NULL;

	error_clear(&err);
	if (aliases_load(write_aliases(text), &a, &err) != 0)
		fail_msg("aliases_load: %s", err.message);
	assert_non_null(a);
	return a;
}

static void
complete(const struct aliases *a, const char *addr, const char *domain)
{
	address_list_free(&list);
	error_clear(&err);
	if (address_complete(addr, a, domain, &list, NULL, &err) != 0)
		fail_msg("address_complete(%s): %s", addr, err.message);
}

/* Completion that must report a skipped target whose warning holds
 * words. */
static void
complete_warned(const struct aliases *a, const char *addr, const char *domain,
    const char *words)
{
	const char *w = NULL;

	address_list_free(&list);
	error_clear(&err);
	if (address_complete(addr, a, domain, &list, &w, &err) != 0)
		fail_msg("address_complete(%s): %s", addr, err.message);
	if (words == NULL) {
		if (w != NULL)
			fail_msg("%s: unexpected warning \"%s\"", addr, w);
		return;
	}
	if (w == NULL)
		fail_msg("%s: no warning", addr);
	if (strstr(w, words) == NULL)
		fail_msg("%s: warning \"%s\" lacks \"%s\"", addr, w, words);
}

/* The warnings of a, one of which must hold words. */
static void
assert_warning(const struct aliases *a, const char *words)
{
	size_t n, all, i;
	const char *const *w = aliases_warnings(a, &n, &all);

	for (i = 0; i < n; i++)
		if (strstr(w[i], words) != NULL)
			return;
	fail_msg("no warning holds \"%s\" (%zu warnings)", words, n);
}

static void
test_aliases_basic(void **state)
{
	struct aliases *a;

	(void)state;
	a = load_ok("# system aliases\n"
		    "\n"
		    "postmaster: root\n"
		    "Root: admin@example.org, Ops Team <ops@example.org>\n"
		    "   # a comment inside an entry\n"
		    "\n"
		    "  , backup@example.org,\n"
		    "\tbackup2@example.org\n"
		    "www-data:root\r\n");
	complete(a, "postmaster", "example.com");
	assert_int_equal(list.n, 4);
	assert_string_equal(list.addrs[0], "admin@example.org");
	assert_string_equal(list.addrs[1], "ops@example.org");
	assert_string_equal(list.addrs[2], "backup@example.org");
	assert_string_equal(list.addrs[3], "backup2@example.org");
	/* Names are case-insensitive. */
	complete(a, "WWW-DATA", NULL);
	assert_int_equal(list.n, 4);
	/* Not an alias: default_domain, or left bare without one. */
	complete(a, "alice", "example.com");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "alice@example.com");
	complete(a, "alice", NULL);
	assert_string_equal(list.addrs[0], "alice");
	/* Full addresses are never looked up. */
	complete(a, "root@elsewhere.org", "example.com");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "root@elsewhere.org");
	aliases_free(a);
}

static void
test_aliases_bare_targets(void **state)
{
	struct aliases *a;

	(void)state;
	a = load_ok("root: admin, admin\nadmin: alice, bob@b.org\n");
	complete(a, "root", "example.com");
	assert_int_equal(list.n, 2);
	assert_string_equal(list.addrs[0], "alice@example.com");
	assert_string_equal(list.addrs[1], "bob@b.org");
	complete(a, "root", NULL);
	assert_string_equal(list.addrs[0], "alice");
	aliases_free(a);
}

static void
test_aliases_self(void **state)
{
	struct aliases *a;

	(void)state;
	a = load_ok("root: root, admin@x.org\n");
	complete(a, "root", "example.com");
	assert_int_equal(list.n, 2);
	assert_string_equal(list.addrs[0], "root@example.com");
	assert_string_equal(list.addrs[1], "admin@x.org");
	aliases_free(a);
}

static void
test_aliases_loop(void **state)
{
	struct aliases *a;

	(void)state;
	a = load_ok("a: b\nb: c\nc: a\n");
	error_clear(&err);
	assert_int_equal(
	    address_complete("a", a, "x.org", &list, NULL, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "alias loop"));
	aliases_free(a);
}

static void
test_aliases_depth(void **state)
{
	struct aliases *a;

	(void)state;
	/* Eight levels are fine; nine are not (ALIASES_DEPTH_MAX). */
	a = load_ok("l1: l2\nl2: l3\nl3: l4\nl4: l5\nl5: l6\nl6: l7\n"
		    "l7: l8\nl8: end\n");
	complete(a, "l1", "x.org");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "end@x.org");
	aliases_free(a);
	a = load_ok("l1: l2\nl2: l3\nl3: l4\nl4: l5\nl5: l6\nl6: l7\n"
		    "l7: l8\nl8: l9\nl9: end\n");
	error_clear(&err);
	assert_int_equal(
	    address_complete("l1", a, "x.org", &list, NULL, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	aliases_free(a);
}

/* A Debian /etc/aliases from the days of a local MTA: a null client
 * cannot deliver locally, so those targets are skipped with a warning
 * and every other alias works; no line makes the file unusable. */
static const char debian_aliases[] =
    "# /etc/aliases\n"
    "mailer-daemon: postmaster\n"
    "postmaster: root\n"
    "nobody: /dev/null\n"
    "hostmaster: root\n"
    "webmaster : root\n"
    "logcheck: |/usr/sbin/logcheck-filter\n"
    "archive: \"|/usr/local/bin/archive -q\"\n"
    "staff: :include:/etc/mail/staff\n"
    "list: a@x.org, :INCLUDE: /etc/y, b@x.org\n"
    "root: \\root, admin@example.org\n"
    "log: /var/log/mail.archive,\n"
    "  keep@example.org\n";

static void
test_aliases_local_targets_skipped(void **state)
{
	struct aliases *a;
	size_t n, all;

	(void)state;
	a = load_ok(debian_aliases);
	aliases_warnings(a, &n, &all);
	assert_int_equal(n, 7);
	assert_int_equal(all, 7);
	assert_warning(a, "aliases:4: alias \"nobody\": target \"/dev/null\" "
			  "(a file) skipped: mailsub has no local delivery");
	assert_warning(a,
	    "aliases:7: alias \"logcheck\": target "
	    "\"|/usr/sbin/logcheck-filter\" (a pipe to a command)");
	assert_warning(a, "aliases:8: alias \"archive\": target "
			  "\"\"|/usr/local/bin/archive -q\"\" (a pipe");
	assert_warning(a, "aliases:9: alias \"staff\": target "
			  "\":include:/etc/mail/staff\" (an :include: list)");
	assert_warning(a, "aliases:10: alias \"list\": target "
			  "\":INCLUDE: /etc/y\" (an :include: list)");
	assert_warning(a, "aliases:11: alias \"root\": target \"\\root\" "
			  "(a local mailbox)");
	assert_warning(a, "aliases:12: alias \"log\": target "
			  "\"/var/log/mail.archive\" (a file)");
	/* root keeps its address, and so everything that leads to it. */
	complete_warned(a, "root", "example.com", "local mailbox");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "admin@example.org");
	complete_warned(a, "mailer-daemon", "example.com", "local mailbox");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "admin@example.org");
	complete(a, "webmaster", "example.com");
	assert_string_equal(list.addrs[0], "admin@example.org");
	/* No address left: as if not aliased. */
	complete_warned(a, "nobody", "example.com", "/dev/null");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "nobody@example.com");
	complete_warned(a, "logcheck", "example.com", "pipe");
	assert_string_equal(list.addrs[0], "logcheck@example.com");
	complete_warned(a, "staff", NULL, ":include:");
	assert_string_equal(list.addrs[0], "staff");
	/* The other targets of a line stay. */
	complete_warned(a, "list", "example.com", ":include:");
	assert_int_equal(list.n, 2);
	assert_string_equal(list.addrs[0], "a@x.org");
	assert_string_equal(list.addrs[1], "b@x.org");
	complete_warned(a, "log", "example.com", "file");
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "keep@example.org");
	/* An alias untouched by the skipping says nothing. */
	complete_warned(a, "hostmaster", "example.com", "local mailbox");
	complete_warned(a, "alice", "example.com", NULL);
	assert_string_equal(list.addrs[0], "alice@example.com");
	aliases_free(a);
}

/* A bad line is skipped with a warning; the lines around it work. */
static void
test_aliases_bad_lines_skipped(void **state)
{
#define L(s) s, sizeof(s) - 1
	static const struct {
		const char *line;
		size_t len;
		const char *warning;
	} bad[] = {
	    {L("root admin@x\n"), "missing ':'"},
	    {L("  admin@x\n"), "continuation line without an alias"},
	    {L(": b@y\n"), "empty alias name"},
	    {L("two words: a@x\n"), "bad alias name"},
	    {L("x:\n"), "alias \"x\" without targets"},
	    {L("x: <a@x\n"), "alias \"x\": target skipped: unbalanced '<'"},
	    {L("x: caf\xe9@x.fr\n"), "not UTF-8"},
	    /* The continuation goes with its alias, not to another. */
	    {L("x: a@b\0c\n  , more@x\n"), "NUL byte"},
	};
#undef L
	static const char good[] = "ok: ok@x.org\nx: last@x.org\n";
	char text[256];
	size_t i, n, all, len;
	struct aliases *a;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = bad[i].len;
		memcpy(text, bad[i].line, len);
		memcpy(text + len, good, sizeof(good) - 1);
		len += sizeof(good) - 1;
		snprintf(path, sizeof(path), "%s/aliases", tmpdir);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		error_clear(&err);
		a = NULL;
		if (aliases_load(path, &a, &err) != 0)
			fail_msg("%s: %s", bad[i].line, err.message);
		aliases_warnings(a, &n, &all);
		if (n != 1)
			fail_msg("%s: %zu warnings", bad[i].line, n);
		assert_warning(a, bad[i].warning);
		assert_warning(a, "aliases:1:");
		complete(a, "ok", "example.com");
		assert_int_equal(list.n, 1);
		assert_string_equal(list.addrs[0], "ok@x.org");
		complete(a, "more", NULL);
		assert_string_equal(list.addrs[0], "more");
		aliases_free(a);
	}
	/* A file that cannot be read is still a configuration error. */
	error_clear(&err);
	snprintf(path, sizeof(path), "%s/nonexistent", tmpdir);
	a = (struct aliases *)&a;
	assert_int_equal(aliases_load(path, &a, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "nonexistent"));
	assert_null(a);
}

/* Only the first ALIASES_WARNINGS_MAX are kept; all are counted, and
 * every alias still reports its own. */
static void
test_aliases_many_warnings(void **state)
{
	struct aliases *a;
	FILE *f;
	size_t i, n, all;
	char name[32];

	(void)state;
	snprintf(path, sizeof(path), "%s/aliases", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < ALIASES_WARNINGS_MAX + 20; i++)
		fprintf(f, "p%zu: |/bin/true\n", i);
	assert_int_equal(fclose(f), 0);
	error_clear(&err);
	assert_int_equal(aliases_load(path, &a, &err), 0);
	aliases_warnings(a, &n, &all);
	assert_int_equal(n, ALIASES_WARNINGS_MAX);
	assert_int_equal(all, ALIASES_WARNINGS_MAX + 20);
	snprintf(name, sizeof(name), "p%d", ALIASES_WARNINGS_MAX + 19);
	complete_warned(a, name, "x.org", "pipe");
	aliases_free(a);
}

static void
test_aliases_duplicates_and_empty(void **state)
{
	struct aliases *a;

	(void)state;
	a = load_ok("root: first@x\nROOT: second@x\n");
	complete(a, "root", NULL);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.addrs[0], "first@x");
	aliases_free(a);
	a = load_ok("# nothing\n\n");
	complete(a, "root", "d.org");
	assert_string_equal(list.addrs[0], "root@d.org");
	aliases_free(a);
	/* No aliases at all. */
	complete(NULL, "root", "d.org");
	assert_string_equal(list.addrs[0], "root@d.org");
	aliases_free(NULL);
}

static void
test_aliases_many(void **state)
{
	struct aliases *a;
	FILE *f;
	char name[32];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/aliases", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 5000; i++)
		fprintf(f, "user%zu: u%zu@x.org\n", i, i);
	assert_int_equal(fclose(f), 0);
	error_clear(&err);
	assert_int_equal(aliases_load(path, &a, &err), 0);
	for (i = 0; i < 5000; i += 499) {
		snprintf(name, sizeof(name), "USER%zu", i);
		assert_int_equal(
		    address_complete(name, a, NULL, &list, NULL, &err), 0);
	}
	assert_int_equal(list.n, 11);
	assert_string_equal(list.addrs[10], "u4990@x.org");
	aliases_free(a);
}

/* address_parse_list takes a plain dot-atom@dot-atom as it is; the same
 * text behind a space goes through the tokenizer, and both must agree,
 * in what they accept and in what they give back. */
static void
test_plain_fast_path(void **state)
{
	static const char *const inputs[] = {"r00001@example.org", "a@b",
	    "first.last@sub.example.org", "x!#$%&'*+-/=?^_`{|}~@y.z",
	    "UPPER@EXAMPLE.ORG", ".a@b", "a.@b", "a..b@c", "a@b.", "a@.b",
	    "a@b..c", "a@@b", "a@b@c", "@b", "a@", "a", "", "a@b,c@d", "a(b)@c",
	    "\"q\"@x", "a@[1.2.3.4]", "\xc3\xa4@b.c", "a b@c"};
	struct address_list fast, slow;
	struct error e1, e2;
	char padded[64];
	size_t i, j;
	int r1, r2;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		address_list_init(&fast);
		address_list_init(&slow);
		error_clear(&e1);
		error_clear(&e2);
		snprintf(padded, sizeof(padded), " %s", inputs[i]);
		r1 = address_parse_list(
		    inputs[i], strlen(inputs[i]), &fast, &e1);
		r2 = address_parse_list(padded, strlen(padded), &slow, &e2);
		if (r1 != r2)
			fail_msg("\"%s\": %d against %d", inputs[i], r1, r2);
		assert_int_equal(fast.n, slow.n);
		for (j = 0; j < fast.n; j++)
			assert_string_equal(fast.addrs[j], slow.addrs[j]);
		address_list_free(&fast);
		address_list_free(&slow);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define A(f) cmocka_unit_test_setup_teardown(f, alias_setup, alias_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_plain),
	    T(test_plain_fast_path),
	    T(test_name_addr),
	    T(test_quoted_display_name),
	    T(test_comments),
	    T(test_comment_depth),
	    T(test_groups),
	    T(test_empty_group),
	    T(test_quoted_local),
	    T(test_route),
	    T(test_encoded_words),
	    T(test_folding),
	    T(test_bare_names),
	    T(test_comma_lists),
	    T(test_obsolete_spacing),
	    T(test_domain_literal),
	    T(test_utf8),
	    T(test_dedup),
	    T(test_bad_quotes),
	    T(test_bad_angles),
	    T(test_bad_parens),
	    T(test_bad_structure),
	    T(test_control_chars),
	    T(test_error_quotes_input_escaped),
	    T(test_large_list),
	    T(test_many_duplicates_fast),
	    T(test_phpmailer_payload),
	    T(test_check_envelope_ok),
	    T(test_check_envelope_bad),
	    T(test_check_envelope_utf8),
	    T(test_is_bare),
	    A(test_aliases_basic),
	    A(test_aliases_bare_targets),
	    A(test_aliases_self),
	    A(test_aliases_loop),
	    A(test_aliases_depth),
	    A(test_aliases_local_targets_skipped),
	    A(test_aliases_bad_lines_skipped),
	    A(test_aliases_many_warnings),
	    A(test_aliases_duplicates_and_empty),
	    A(test_aliases_many),
	};
#undef T
#undef A

	return cmocka_run_group_tests(tests, NULL, NULL);
}
