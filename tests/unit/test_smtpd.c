/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for smtpd.c (-bs): the path parser, the outcome -> reply
 * table, and whole sessions from a file of client commands to a file of
 * replies, with -odq so every accepted message lands in the queue (no
 * network): the sequence rules, pipelining, dot transparency, bounds,
 * RSET, several messages, and a configuration that cannot be loaded.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "smtpd.h"

static char tmpdir[64];
static char cfgpath[128];
static char qdir[128];

static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[1024];
	struct stat st;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static int
setup(void **state)
{
	char cfg[512];

	strcpy(tmpdir, "/tmp/test_smtpd.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(qdir, sizeof(qdir), "%s/q", tmpdir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/cfg.ini", tmpdir);
	snprintf(cfg, sizeof(cfg),
	    "[test]\nhost = 127.0.0.1\nport = 9\ntls = off\n"
	    "from = me@example.org\ndefault_domain = example.org\n"
	    "queue_dir = %s\n",
	    qdir);
	write_file(cfgpath, cfg, strlen(cfg), 0600);
	return 0;
}

static int
teardown(void **state)
{
	remove_tree(tmpdir);
	return 0;
}

/* Run a session over the client text; the replies come back malloc'd. */
static char *
session(const char *client, size_t len, const char *config, int *rc,
    struct error *err)
{
	struct options opts;
	char in[128], out[128];
	int ifd, ofd;
	off_t n;
	char *text;

	snprintf(in, sizeof(in), "%s/in", tmpdir);
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	write_file(in, client, len, 0600);
	ifd = open(in, O_RDONLY);
	ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(ifd >= 0 && ofd >= 0);
	memset(&opts, 0, sizeof(opts));
	opts.mode = CLI_MODE_SMTP_STDIO;
	opts.delivery = CLI_DELIVERY_QUEUE;
	opts.config_file = config;
	error_clear(err);
	*rc = smtpd_run(ifd, ofd, &opts, err);
	n = lseek(ofd, 0, SEEK_END);
	assert_true(n >= 0);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(pread(ofd, text, (size_t)n, 0), n);
	close(ifd);
	close(ofd);
	return text;
}

/* The n-th reply line's first 3 characters + separator: "250 ", "354 ". */
static int
count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static int
count_files(const char *sub)
{
	char path[256];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", qdir, sub);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The text of every queued message file, concatenated. */
static char *
queued_text(void)
{
	char path[256], file[512];
	DIR *d;
	struct dirent *e;
	char *all = calloc(1, 1);
	size_t total = 0;

	snprintf(path, sizeof(path), "%s/new", qdir);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		char buf[4096];
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		assert_non_null(f = fopen(file, "r"));
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			all = realloc(all, total + n + 1);
			memcpy(all + total, buf, n);
			total += n;
			all[total] = '\0';
		}
		fclose(f);
	}
	closedir(d);
	return all;
}

static void
test_parse_path(void **state)
{
	char a[256];
	const char *params;

	assert_int_equal(
	    smtpd_parse_path("FROM:<a@b.c>", "FROM:", a, sizeof(a), &params),
	    0);
	assert_string_equal(a, "a@b.c");
	assert_string_equal(params, "");
	assert_int_equal(smtpd_parse_path("from: <a@b.c> SIZE=10 BODY=7BIT",
			     "FROM:", a, sizeof(a), &params),
	    0);
	assert_string_equal(a, "a@b.c");
	assert_string_equal(params, "SIZE=10 BODY=7BIT");
	assert_int_equal(
	    smtpd_parse_path("FROM:<>", "FROM:", a, sizeof(a), &params), 0);
	assert_string_equal(a, "");
	/* A source route is dropped (RFC 5321 Appendix C). */
	assert_int_equal(smtpd_parse_path("TO:<@r1,@r2:u@d.e>", "TO:", a,
			     sizeof(a), &params),
	    0);
	assert_string_equal(a, "u@d.e");
	/* Quoted local parts may hold '>' and spaces. */
	assert_int_equal(
	    smtpd_parse_path("TO:<\"a> b\"@d.e>", "TO:", a, sizeof(a), &params),
	    0);
	assert_string_equal(a, "\"a> b\"@d.e");
	/* Bad shapes. */
	assert_int_equal(
	    smtpd_parse_path("TO:a@b", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("TO:<a@b", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("TO:<a b@c>", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("TO:<a@b>x", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("FROM:<a@b>", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("TO:<a<b@c>", "TO:", a, sizeof(a), &params), -1);
	assert_int_equal(
	    smtpd_parse_path("TO:<@r1u@d.e>", "TO:", a, sizeof(a), &params),
	    -1);
	/* Too long for the buffer. */
	assert_int_equal(
	    smtpd_parse_path("TO:<abcdefgh@example.org>", "TO:", a, 8, &params),
	    -1);
}

static void
test_reply_code(void **state)
{
	const char *enh;

	assert_int_equal(smtpd_reply_code(EX_OK, &enh), 250);
	assert_string_equal(enh, "2.0.0");
	assert_int_equal(smtpd_reply_code(EX_TEMPFAIL, &enh), 451);
	assert_int_equal(enh[0], '4');
	assert_int_equal(smtpd_reply_code(EX_NOUSER, &enh), 550);
	assert_string_equal(enh, "5.1.1");
	assert_int_equal(smtpd_reply_code(EX_UNAVAILABLE, &enh), 554);
	assert_int_equal(smtpd_reply_code(EX_NOPERM, &enh), 554);
	assert_string_equal(enh, "5.7.8");
	assert_int_equal(smtpd_reply_code(EX_DATAERR, &enh), 554);
	assert_int_equal(smtpd_reply_code(EX_CONFIG, &enh), 554);
	/* The message is not ours: the client keeps it and retries. */
	assert_int_equal(smtpd_reply_code(EX_IOERR, &enh), 451);
	assert_int_equal(smtpd_reply_code(EX_CANTCREAT, &enh), 451);
	assert_int_equal(smtpd_reply_code(EX_OSERR, &enh), 451);
	assert_int_equal(enh[0], '4');
}

static void
test_session_one_message(void **state)
{
	static const char client[] =
	    "EHLO client.example\r\n"
	    "MAIL FROM:<app@example.org> SIZE=100 BODY=8BITMIME\r\n"
	    "RCPT TO:<bob@example.net>\r\n"
	    "RCPT TO:<root>\r\n"
	    "DATA\r\n"
	    "From: app@example.org\r\n"
	    "Bcc: hidden@example.net\r\n"
	    "Subject: test\r\n"
	    "\r\n"
	    "..a dot-stuffed line\r\n"
	    ".\r\n"
	    "QUIT\r\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);
	char *q;

	assert_int_equal(rc, 0);
	assert_true(strncmp(out, "220 ", 4) == 0);
	assert_non_null(strstr(out, "250-PIPELINING\r\n"));
	assert_non_null(strstr(out, "250-8BITMIME\r\n"));
	assert_non_null(strstr(out, "250-SIZE "));
	assert_non_null(strstr(out, "354 "));
	assert_non_null(strstr(out, "250 2.0.0 Ok: queued as "));
	assert_non_null(strstr(out, "221 2.0.0"));
	assert_int_equal(count_files("new"), 1);
	q = queued_text();
	assert_non_null(strstr(q, "sender: app@example.org\n"));
	assert_non_null(strstr(q, "rcpt: bob@example.net\n"));
	/* Bare names get default_domain, as from argv. */
	assert_non_null(strstr(q, "rcpt: root@example.org\n"));
	/* Transparency dot removed here, added again in the wire form. */
	assert_non_null(strstr(q, "\r\n..a dot-stuffed line\r\n"));
	assert_null(strstr(q, "...a dot"));
	assert_null(strstr(q, "hidden@example.net\r\n"));
	assert_null(strstr(q, "Bcc:"));
	free(q);
	free(out);
}

static void
test_session_sequence_errors(void **state)
{
	static const char client[] =
	    "MAIL FROM:<a@example.org>\r\n"	       /* 503: no EHLO */
	    "HELO\r\n"				       /* 501: no argument */
	    "HELO client\r\n"			       /* 250 */
	    "RCPT TO:<b@example.org>\r\n"	       /* 503: no MAIL */
	    "DATA\r\n"				       /* 503 */
	    "MAIL FROM:a@example.org\r\n"	       /* 501: syntax */
	    "MAIL FROM:<a@example.org> X=1\r\n"	       /* 555 */
	    "MAIL FROM:<a@example.org>\r\n"	       /* 250 */
	    "MAIL FROM:<a@example.org>\r\n"	       /* 503 nested */
	    "DATA\r\n"				       /* 554 no recipients */
	    "RCPT TO:<b@example.org> NOTIFY=NEVER\r\n" /* 555 */
	    "RCPT TO:<>\r\n"			       /* 501 */
	    "RCPT TO:<b\xc3\xa9@example.org>\r\n"      /* 553 5.6.7 */
	    "STARTTLS\r\n"			       /* 502 */
	    "EXPN staff\r\n"			       /* 502 */
	    "VRFY bob\r\n"			       /* 252 */
	    "FOO\r\n"				       /* 500 */
	    "NOOP\r\n"				       /* 250 */
	    "RSET\r\n"				       /* 250 */
	    "RCPT TO:<b@example.org>\r\n"	       /* 503 after RSET */
	    "QUIT\r\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);

	assert_int_equal(rc, 0);
	assert_int_equal(count_prefix(out, "503 "), 5);
	assert_int_equal(count_prefix(out, "501 "), 3);
	assert_int_equal(count_prefix(out, "555 "), 2);
	assert_int_equal(count_prefix(out, "554 "), 1);
	assert_int_equal(count_prefix(out, "553 5.6.7"), 1);
	assert_int_equal(count_prefix(out, "502 "), 2);
	assert_int_equal(count_prefix(out, "252 "), 1);
	assert_int_equal(count_prefix(out, "500 "), 1);
	assert_int_equal(count_prefix(out, "221 "), 1);
	assert_int_equal(count_files("new"), 0);
	free(out);
}

static void
test_session_pipelined_two_messages(void **state)
{
	/* Everything in one write, commands with bare LF line ends and
	 * lowercase verbs; DATA ends only at CRLF "." CRLF. */
	static const char client[] =
	    "ehlo c\n"
	    "mail from:<a@example.org>\nrcpt to:<b@example.org>\ndata\n"
	    "Subject: one\n\nfirst\r\n.\r\n"
	    "rset\n"
	    "mail from:<>\nrcpt to:<c@example.org>\ndata\n"
	    "Subject: two\r\n\r\n..\r\n...\r\n.x\r\n.\r\n"
	    "quit\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);
	char *q;

	assert_int_equal(rc, 0);
	assert_int_equal(count_prefix(out, "250 2.0.0 Ok: queued as"), 2);
	assert_int_equal(count_files("new"), 2);
	q = queued_text();
	assert_non_null(strstr(q, "sender: \n")); /* the null sender */
	/* "..", "...", ".x" arrive as ".", "..", "x", stuffed again. */
	assert_non_null(strstr(q, "\r\n\r\n..\r\n...\r\nx\r\n"));
	free(q);
	free(out);
}

static void
test_session_bounds(void **state)
{
	char *client, *out;
	size_t len, i;
	struct error err;
	int rc;

	/* A command line over SMTPD_COMMAND_MAX: 500, then go on. */
	len = SMTPD_COMMAND_MAX + 200;
	client = malloc(len + 64);
	memcpy(client, "NOOP ", 5);
	memset(client + 5, 'x', len - 5);
	memcpy(client + len, "\r\nNOOP\r\nQUIT\r\n", 14);
	out = session(client, len + 14, cfgpath, &rc, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "500 5.5.2 line too long"));
	assert_int_equal(count_prefix(out, "250 "), 1);
	assert_int_equal(count_prefix(out, "221 "), 1);
	free(out);
	free(client);

	/* SIZE over the limit. */
	{
		static const char c2[] = "EHLO c\r\nMAIL FROM:<a@example.org> "
					 "SIZE=99999999999999\r\nQUIT\r\n";

		out = session(c2, sizeof(c2) - 1, cfgpath, &rc, &err);
		assert_non_null(strstr(out, "552 5.3.4"));
		free(out);
	}

	/* Too many bad commands: 421 and the session ends. */
	client = calloc(SMTPD_ERRORS_MAX + 5, 6);
	for (i = 0; i < SMTPD_ERRORS_MAX + 3; i++)
		strcat(client, "BAD\r\n");
	strcat(client, "QUIT\r\n");
	out = session(client, strlen(client), cfgpath, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	assert_int_equal(count_prefix(out, "421 "), 1);
	assert_int_equal(count_prefix(out, "500 "), SMTPD_ERRORS_MAX - 1);
	assert_int_equal(count_prefix(out, "221 "), 0);
	free(out);
	free(client);

	/* Commands without end: NOOPs cannot keep a session open forever. */
	len = (SMTPD_COMMANDS_MAX + 10) * 6;
	client = malloc(len + 1);
	for (i = 0; i < SMTPD_COMMANDS_MAX + 10; i++)
		memcpy(client + i * 6, "NOOP\r\n", 6);
	out = session(client, len, cfgpath, &rc, &err);
	assert_int_equal(count_prefix(out, "250 "), SMTPD_COMMANDS_MAX);
	assert_int_equal(count_prefix(out, "421 "), 1);
	free(out);
	free(client);

	/* A NUL in a command. */
	{
		static const char c3[] = "NO\0OP\r\nQUIT\r\n";

		out = session(c3, sizeof(c3) - 1, cfgpath, &rc, &err);
		assert_int_equal(count_prefix(out, "500 "), 1);
		free(out);
	}
}

static void
test_session_eof_in_data(void **state)
{
	static const char client[] =
	    "EHLO c\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\nSubject: cut\r\n\r\nno end";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);

	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_int_equal(count_files("new"), 0);
	assert_int_equal(count_files("failed"), 0);
	assert_int_equal(count_files("tmp"), 0);
	free(out);
}

static void
test_session_eof_without_quit(void **state)
{
	static const char client[] = "EHLO c\r\nNOOP\r\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);

	assert_int_equal(rc, 0);
	assert_int_equal(count_prefix(out, "250 "), 2); /* EHLO's last line */
	assert_int_equal(count_prefix(out, "250 2.0.0 Ok"), 1);
	free(out);
}

static void
test_session_no_config(void **state)
{
	static const char client[] = "EHLO c\r\nMAIL FROM:<a@example.org>\r\n"
				     "NOOP\r\nQUIT\r\n";
	char missing[256];
	struct error err;
	int rc;
	char *out;

	snprintf(missing, sizeof(missing), "%s/none.ini", tmpdir);
	out = session(client, sizeof(client) - 1, missing, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_true(strncmp(out, "554 ", 4) == 0);
	assert_int_equal(count_prefix(out, "503 "), 2);
	assert_int_equal(count_prefix(out, "250 "), 1);
	assert_int_equal(count_prefix(out, "221 "), 1);
	free(out);
}

static void
test_session_bad_sender(void **state)
{
	/* An address with a control character cannot be an envelope. */
	static const char client[] =
	    "EHLO c\r\n"
	    "MAIL FROM:<a\x01@example.org>\r\nQUIT\r\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);

	assert_int_equal(count_prefix(out, "553 5.1.7"), 1);
	/* The reply line carries no raw control character. */
	assert_null(strchr(out, '\x01'));
	free(out);
}

/*
 * SMTP smuggling (SEC Consult, 2023): a body holding a dot line that is
 * not CRLF "." CRLF, followed by commands.  Only CRLF "." CRLF ends DATA;
 * everything else is text, so exactly one envelope is queued and its body
 * holds the would-be commands, in wire form: CRLF only, a dot that begins
 * a line doubled.
 */
struct smuggle {
	const char *sep;  /* between "hello" and the smuggled commands */
	const char *wire; /* the body's start as queued */
};

static const char smuggled_cmds[] = "MAIL FROM:<evil@example.org>\r\n"
				    "RCPT TO:<victim@example.net>\r\n"
				    "DATA\r\n"
				    "Subject: forged\r\n"
				    "\r\n"
				    "forged body";

static const struct smuggle smuggles[] = {
    {"\n.\n", "hello\r\n..\r\n"},
    {"\r\n.\n", "hello\r\n..\r\n"},
    {"\n.\r\n", "hello\r\n..\r\n"},
    {"\n.\n.\r\n", "hello\r\n..\r\n..\r\n"},
    {"\r\n.\n.\r\n", "hello\r\n..\r\n..\r\n"},
    /* A lone CR is a space, as in stdin mode: no line ends there. */
    {"\r.\r\n", "hello .\r\n"},
    {"\r.\r", "hello . "},
    {"\r\n.\r", "hello\r\n "}, /* ".<CR>M...": a transparency dot */
    {"\n.\r", "hello\r\n.. "}, /* after a bare LF: text */
    {"\r\n.\r\r\n", "hello\r\n \r\n"},
    /* A dot after a bare LF is text, not a transparency dot. */
    {"\n..\r\n", "hello\r\n...\r\n"},
    {"\n..\n", "hello\r\n...\r\n"},
};

/* The message part of the one queued file (after the envelope). */
static char *
queued_message(void)
{
	char *q = queued_text(), *m, *copy;

	m = strstr(q, "\n\n");
	assert_non_null(m);
	copy = strdup(m + 2);
	free(q);
	return copy;
}

/* Every line of the text ends in CRLF: no bare LF, no lone CR. */
static void
assert_crlf_only(const char *t)
{
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++) {
		if (t[i] == '\r')
			assert_true(i + 1 < n && t[i + 1] == '\n');
		if (t[i] == '\n')
			assert_true(i > 0 && t[i - 1] == '\r');
	}
	assert_true(n >= 2 && t[n - 2] == '\r' && t[n - 1] == '\n');
}

/* Queue the session's one message, check one envelope and the body. */
static void
check_smuggle(const char *client, size_t len, const char *body_start)
{
	struct error err;
	int rc;
	char *out = session(client, len, cfgpath, &rc, &err);
	char *q, *m, *body, want[1024];

	assert_int_equal(rc, 0);
	/* One DATA, one outcome, then QUIT: the commands in the body were
	 * never seen as commands. */
	assert_int_equal(count_prefix(out, "354 "), 1);
	assert_int_equal(count_prefix(out, "250 2.0.0 Ok: queued as"), 1);
	assert_int_equal(count_prefix(out, "250 2.1.0"), 1);
	assert_int_equal(count_prefix(out, "250 2.1.5"), 1);
	assert_int_equal(count_prefix(out, "221 "), 1);
	assert_int_equal(count_files("new"), 1);
	q = queued_text();
	assert_non_null(strstr(q, "sender: app@example.org\n"));
	assert_non_null(strstr(q, "rcpt: bob@example.net\n"));
	assert_null(strstr(q, "rcpt: victim"));
	assert_null(strstr(q, "evil@example.org\n"));
	free(q);
	m = queued_message();
	assert_crlf_only(m);
	body = strstr(m, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	/* The whole body: the smuggled commands are text in it. */
	snprintf(want, sizeof(want), "%s%s\r\n", body_start, smuggled_cmds);
	if (strcmp(body, want) != 0)
		fail_msg("queued body\n%s\nwanted\n%s", body, want);
	free(m);
	free(out);
}

static void
test_session_smuggling(void **state)
{
	static const char head[] = "EHLO c\r\n"
				   "MAIL FROM:<app@example.org>\r\n"
				   "RCPT TO:<bob@example.net>\r\n"
				   "DATA\r\n"
				   "Subject: s\r\n"
				   "\r\n"
				   "hello";
	static const char tail[] = "\r\n.\r\nQUIT\r\n";
	size_t i;

	for (i = 0; i < sizeof(smuggles) / sizeof(smuggles[0]); i++) {
		char client[2048];
		int n;

		n = snprintf(client, sizeof(client), "%s%s%s%s", head,
		    smuggles[i].sep, smuggled_cmds, tail);
		assert_true(n > 0 && (size_t)n < sizeof(client));
		print_message("variant %zu\n", i);
		check_smuggle(client, (size_t)n, smuggles[i].wire);
		remove_tree(qdir);
	}
}

/* The same across the edge of the input buffer: the dot line and the
 * final CRLF "." CRLF each cut in the middle by a read.  The input is a
 * regular file, so each read fills the 64 KiB buffer. */
static void
test_session_smuggling_split(void **state)
{
	static const char head[] = "EHLO c\r\n"
				   "MAIL FROM:<app@example.org>\r\n"
				   "RCPT TO:<bob@example.net>\r\n"
				   "DATA\r\n"
				   "Subject: s\r\n"
				   "\r\n";
	const size_t block = 65536;
	static const char *const seps[] = {"\r\n.\n", "\n.\r\n", "\n.\n"};
	size_t i, cut;

	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++)
		for (cut = 1; cut < strlen(seps[i]); cut++) {
			size_t hl = strlen(head), fill, n, sl = strlen(seps[i]);
			char *client = malloc(2 * block);
			char *want;
			struct error err;
			int rc;
			char *out, *m, *body;

			/* The separator straddles byte 65536. */
			fill = block - hl - cut;
			memcpy(client, head, hl);
			memset(client + hl, 'x', fill);
			n = hl + fill;
			memcpy(client + n, seps[i], sl);
			n += sl;
			memcpy(client + n, "MAIL FROM:<evil@example.org>", 28);
			n += 28;
			memcpy(client + n, "\r\n.\r\nQUIT\r\n", 11);
			n += 11;
			out = session(client, n, cfgpath, &rc, &err);
			assert_int_equal(rc, 0);
			assert_int_equal(count_prefix(out, "354 "), 1);
			assert_int_equal(
			    count_prefix(out, "250 2.0.0 Ok: queued"), 1);
			assert_int_equal(count_prefix(out, "221 "), 1);
			assert_int_equal(count_files("new"), 1);
			m = queued_message();
			assert_crlf_only(m);
			body = strstr(m, "\r\n\r\n") + 4;
			want = malloc(fill + 64);
			memset(want, 'x', fill);
			strcpy(want + fill,
			    "\r\n..\r\nMAIL FROM:<evil@example.org>\r\n");
			if (strcmp(body, want) != 0)
				fail_msg("separator %zu cut after %zu bytes: "
					 "the body ends \"%s\"",
				    i, cut,
				    body + (strlen(body) > 60
						   ? strlen(body) - 60
						   : 0));
			free(want);
			free(m);
			free(out);
			free(client);
			remove_tree(qdir);
		}

	/* The final CRLF "." CRLF cut after each of its bytes. */
	for (cut = 1; cut < 5; cut++) {
		size_t hl = strlen(head), fill = block - hl - cut, n;
		char *client = malloc(2 * block);
		struct error err;
		int rc;
		char *out;

		memcpy(client, head, hl);
		memset(client + hl, 'y', fill);
		n = hl + fill;
		memcpy(client + n, "\r\n.\r\nQUIT\r\n", 11);
		n += 11;
		out = session(client, n, cfgpath, &rc, &err);
		assert_int_equal(rc, 0);
		assert_int_equal(count_prefix(out, "250 2.0.0 Ok: queued"), 1);
		assert_int_equal(count_prefix(out, "221 "), 1);
		assert_int_equal(count_files("new"), 1);
		free(out);
		free(client);
		remove_tree(qdir);
	}
}

/* A client that ends DATA with a bare-LF dot line gets no end of DATA
 * (as Postfix's smtpd_forbid_bare_newline = normalize): at the end of
 * input nothing is queued, and nothing after the dot ran as a command. */
static void
test_session_bare_lf_dot_is_no_end(void **state)
{
	static const char client[] =
	    "EHLO c\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
	    "DATA\nSubject: lf\n\nbody\n.\nQUIT\n";
	struct error err;
	int rc;
	char *out = session(client, sizeof(client) - 1, cfgpath, &rc, &err);

	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_int_equal(count_prefix(out, "354 "), 1);
	assert_int_equal(count_prefix(out, "221 "), 0);
	assert_int_equal(count_files("new"), 0);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_path),
	    cmocka_unit_test(test_reply_code),
	    cmocka_unit_test_setup_teardown(
		test_session_one_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_sequence_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_pipelined_two_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_eof_in_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_eof_without_quit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_no_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_bad_sender, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_smuggling, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_smuggling_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_session_bare_lf_dot_is_no_end, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
