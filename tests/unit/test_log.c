/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for log.c: the record format and its escaping, the size cap,
 * whole records under parallel appends, the -v transcript (escaping and
 * redacted secrets), and quiet failure.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "log.h"

static char tmpdir[64];
static char logpath[128];
static struct account account;

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_log.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/mailsub.log", tmpdir);
	memset(&account, 0, sizeof(account));
	account.name = "work";
	account.logfile = logpath;
	account.syslog_facility = -1;
	log_set_verbose(false);
	return 0;
}

static int
teardown(void **state)
{
	char p[256];

	unlink(logpath);
	snprintf(p, sizeof(p), "%s/stderr", tmpdir);
	unlink(p);
	return rmdir(tmpdir);
}

static char *
slurp(const char *path)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	close(fd);
	return p;
}

static void
assert_matches(const char *s, const char *re)
{
	regex_t rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED), 0);
	if (regexec(&rx, s, 0, NULL, 0) != 0)
		fail_msg("/%s/ does not match:\n%s", re, s);
	regfree(&rx);
}

/* Run fn with stderr going to a file; return what it printed. */
static char *
capture_stderr(void (*fn)(void))
{
	char p[256];
	int saved, fd;

	snprintf(p, sizeof(p), "%s/stderr", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved != -1);
	dup2(fd, 2);
	close(fd);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return slurp(p);
}

static const char *const two_rcpts[] = {"bob@example.org", "carol@example.net"};

static void
base_record(struct log_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->account = "work";
	rec->host = "smtp.example.com";
	rec->sender = "alice@example.com";
	rec->rcpts = two_rcpts;
	rec->n_rcpts = 2;
	rec->size = 1234;
	rec->message_id = "<20240305.1.abc@example.com>";
	rec->reply = "250 2.0.0 Ok: queued as 4Tq";
	rec->exit_code = 0;
	rec->status = "sent";
}

static void
test_record_format(void **state)
{
	struct log_record rec;
	char *text;

	base_record(&rec);
	log_record(&account, &rec);
	text = slurp(logpath);
	assert_non_null(text);
	assert_matches(text,
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}Z mailsub\\[[0-9]+\\]: account=work "
	    "host=smtp\\.example\\.com from=<alice@example\\.com> "
	    "to=<bob@example\\.org>,<carol@example\\.net> size=1234 "
	    "msgid=<20240305\\.1\\.abc@example\\.com> status=sent exit=0 "
	    "reply=\"250 2\\.0\\.0 Ok: queued as 4Tq\"\n$");
	free(text);
}

/* The system accounts' records name the submitting user (sysmode.h). */
static void
test_record_names_submitter(void **state)
{
	struct log_record rec;
	char *text;

	base_record(&rec);
	rec.submitter = "www-data";
	rec.submitter_uid = 33;
	log_record(&account, &rec);
	text = slurp(logpath);
	assert_non_null(text);
	assert_matches(text, " status=sent exit=0 uid=33 user=www-data "
			     "reply=\"250 ");
	free(text);
}

static void
test_record_mode_and_append(void **state)
{
	struct log_record rec;
	struct stat st;
	char *text, *nl;

	base_record(&rec);
	rec.status = "queued";
	rec.exit_code = 75;
	rec.queue_id = "65f1.123.1.abcdef";
	rec.message_id = "no-brackets@x";
	log_record(&account, &rec);
	log_record(&account, &rec);
	assert_int_equal(stat(logpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = slurp(logpath);
	nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_non_null(strchr(nl + 1, '\n'));
	assert_non_null(strstr(text, " status=queued exit=75 "
				     "queue=65f1.123.1.abcdef reply="));
	assert_non_null(strstr(text, " msgid=<no-brackets@x> "));
	free(text);
}

static void
test_record_escaping(void **state)
{
	struct log_record rec;
	char *text;

	base_record(&rec);
	rec.account = "my acct";
	rec.sender = "";
	rec.message_id = NULL;
	rec.reply = "550 \"no\" \\ \x1b[2Jsuch\r\nuser \xc3\xa9";
	rec.status = "failed";
	rec.exit_code = 67;
	log_record(&account, &rec);
	text = slurp(logpath);
	assert_non_null(strstr(text, " account=my\\x20acct "));
	assert_non_null(strstr(text, " from=<> "));
	assert_null(strstr(text, "msgid="));
	assert_non_null(
	    strstr(text, " reply=\"550 \\x22no\\x22 \\x5c "
			 "\\x1b[2Jsuch\\x0d\\x0auser \\xc3\\xa9\"\n"));
	/* One line, nothing raw. */
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	assert_null(strchr(text, '\x1b'));
	free(text);
}

/* A warning (an aliases target skipped) is one more quoted value at the
 * end; without one the record has none. */
static void
test_record_warning(void **state)
{
	struct log_record rec;
	char *text;

	base_record(&rec);
	rec.warning = "/etc/aliases:3: alias \"nobody\": target \"/dev/null\" "
		      "(a file) skipped";
	log_record(&account, &rec);
	text = slurp(logpath);
	assert_matches(text,
	    " reply=\"250 2\\.0\\.0 Ok: queued as 4Tq\" "
	    "warning=\"/etc/aliases:3: alias \\\\x22nobody\\\\x22: target "
	    "\\\\x22/dev/null\\\\x22 \\(a file\\) skipped\"\n$");
	free(text);
}

/* The reply of a record is an error line or a reply summary, escaped
 * already by error_escape(): the log escapes it once, not twice. */
static void
test_record_escaped_once(void **state)
{
	static const char raw[] = "550 \x1b[2J \\ no\r\nuser";
	struct log_record rec;
	char esc[256], *text;

	error_escape(esc, sizeof(esc), raw, sizeof(raw) - 1);
	assert_string_equal(esc, "550 \\x1b[2J \\x5c no\\x0d\\x0auser");
	base_record(&rec);
	rec.reply = esc;
	rec.status = "failed";
	rec.exit_code = 67;
	log_record(&account, &rec);
	text = slurp(logpath);
	if (strstr(text, " reply=\"550 \\x1b[2J \\x5c no\\x0d\\x0auser\"\n") ==
	    NULL)
		fail_msg("escaped twice: %s", text);
	assert_null(strstr(text, "\\x5cx"));
	free(text);
}

static void
test_record_capped(void **state)
{
	enum { N = 2000 };
	struct log_record rec;
	char **rcpts, *text, *more;
	size_t i, shown = 0, n;

	rcpts = calloc(N, sizeof(*rcpts));
	assert_non_null(rcpts);
	for (i = 0; i < N; i++) {
		rcpts[i] = malloc(40);
		assert_non_null(rcpts[i]);
		snprintf(rcpts[i], 40, "recipient%04zu@example.org", i);
	}
	base_record(&rec);
	rec.rcpts = (const char *const *)rcpts;
	rec.n_rcpts = N;
	log_record(&account, &rec);
	text = slurp(logpath);
	assert_true(strlen(text) <= 8192);
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	more = strstr(text, " more size=1234 ");
	assert_non_null(more);
	for (i = 0; i < N; i++)
		if (strstr(text, rcpts[i]) != NULL)
			shown++;
	assert_true(shown > 100);
	/* "+N more" accounts for exactly the ones left out. */
	while (more > text && more[-1] != '+')
		more--;
	n = strtoul(more, NULL, 10);
	assert_int_equal(shown + n, N);
	assert_non_null(strstr(text, "reply=\"250 2.0.0 Ok: queued as 4Tq\""));
	for (i = 0; i < N; i++)
		free(rcpts[i]);
	free(rcpts);
	free(text);
}

static void
test_parallel_records_whole(void **state)
{
	enum { PROCS = 16, EACH = 40 };
	pid_t pids[PROCS];
	char *text, *line, *save = NULL;
	size_t i, lines = 0;
	int status;

	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			struct log_record rec;
			char **rcpts = calloc(200, sizeof(*rcpts));
			int k;

			if (rcpts == NULL)
				_exit(1);
			for (k = 0; k < 200; k++)
				rcpts[k] =
				    "someone.with.a.long.name@example.org";
			base_record(&rec);
			rec.rcpts = (const char *const *)rcpts;
			rec.n_rcpts = 200;
			for (k = 0; k < EACH; k++)
				log_record(&account, &rec);
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	text = slurp(logpath);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_matches(line,
		    "^[0-9]{4}-[^ ]+Z mailsub\\[[0-9]+\\]: "
		    "account=work .* reply=\"250 2.0.0 Ok: queued as 4Tq\"$");
		lines++;
	}
	assert_int_equal(lines, PROCS * EACH);
	free(text);
}

static void
test_no_destination_no_file(void **state)
{
	struct log_record rec;
	struct stat st;

	account.logfile = NULL;
	base_record(&rec);
	log_record(&account, &rec);
	assert_int_equal(stat(logpath, &st), -1);
	log_record(NULL, &rec);
}

/* The descriptors open now, one bit each for 0..255. */
static void
open_fds(unsigned char set[32])
{
	int fd;

	memset(set, 0, 32);
	for (fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			set[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

#define SYSLOG_RECORDS 30

/* What a -bs session does: one record per message, each status. */
static void
syslog_records(void)
{
	static const char *const status[] = {"sent", "queued", "failed"};
	struct log_record rec;
	int i;

	base_record(&rec);
	for (i = 0; i < SYSLOG_RECORDS; i++) {
		rec.status = status[i % 3];
		rec.exit_code = i % 3 == 0 ? 0 : i % 3 == 1 ? 75 : 67;
		log_record(&account, &rec);
	}
}

/*
 * syslog = on beside a logfile: the logfile still gets every record,
 * whole, and nothing else the caller owns changes: nothing on stdout (the
 * replies of -bs) or stderr (the one line the caller reads), and no
 * descriptor is left open or closed, also when fd 2 is closed (sudo runs
 * sendmail that way) so that the syslog socket gets number 2.
 */
static void
test_syslog_does_not_disturb(void **state)
{
	unsigned char before[32], after[32];
	char out_path[256], err_path[256], *text, *line, *save = NULL;
	char *out, *err;
	int out_fd, err_fd, saved_out, saved_err, status;
	size_t lines = 0;
	pid_t pid;

	account.syslog_facility = LOG_LOCAL7;
	snprintf(out_path, sizeof(out_path), "%s/stdout", tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmpdir);
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out_fd != -1 && err_fd != -1);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	assert_true(saved_out != -1 && saved_err != -1);
	assert_int_equal(dup2(out_fd, 1), 1);
	assert_int_equal(dup2(err_fd, 2), 2);
	close(out_fd);
	close(err_fd);
	open_fds(before);
	syslog_records();
	open_fds(after);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	assert_memory_equal(before, after, sizeof(before));
	out = slurp(out_path);
	err = slurp(err_path);
	assert_non_null(out);
	assert_non_null(err);
	assert_string_equal(out, "");
	assert_string_equal(err, "");
	free(out);
	free(err);
	unlink(out_path);

	text = slurp(logpath);
	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_matches(line,
		    "^[0-9]{4}-[^ ]+Z mailsub\\[[0-9]+\\]: account=work "
		    ".* status=(sent exit=0|queued exit=75|failed exit=67) "
		    "reply=\"250 2.0.0 Ok: queued as 4Tq\"$");
		lines++;
	}
	assert_int_equal(lines, SYSLOG_RECORDS);
	free(text);

	/* stderr closed: the table is the same afterwards, fd 2 still
	 * closed. */
	fflush(stdout);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(2);
		open_fds(before);
		syslog_records();
		open_fds(after);
		if (memcmp(before, after, sizeof(before)) != 0)
			_exit(1);
		_exit(fcntl(2, F_GETFD) == -1 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	/* 1: the table changed; 2: fd 2 was left open. */
	assert_int_equal(WEXITSTATUS(status), 0);
	account.syslog_facility = -1;
}

static void
unwritable_twice(void)
{
	struct log_record rec;

	base_record(&rec);
	log_record(&account, &rec);
	log_record(&account, &rec);
}

static void
test_log_failure_noted_once(void **state)
{
	char bad[256];
	char *err;

	snprintf(bad, sizeof(bad), "%s/missing/dir/log", tmpdir);
	account.logfile = bad;
	err = capture_stderr(unwritable_twice);
	assert_non_null(err);
	assert_non_null(strstr(err, "mailsub: cannot open log file"));
	assert_non_null(strstr(err, "missing/dir/log"));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
	free(err);
}

static void
transcript_lines(void)
{
	static const char secret[] = "AHVzZXIAc2VjcmV0LXBhc3N3b3Jk";

	log_transcript(NULL, 'S', "250 ok", 6, false);
	log_transcript(NULL, 'C', "MAIL FROM:<a@x>", 15, false);
	log_transcript(NULL, 'C', secret, sizeof(secret) - 1, true);
	log_transcript(NULL, 'S', "250 \x1b]0;pwned\x07", 14, false);
	log_verbose("connecting to %s:%d", "smtp.example.com", 587);
}

static void
test_transcript(void **state)
{
	char *out;

	log_set_verbose(true);
	assert_true(log_verbose_enabled());
	out = capture_stderr(transcript_lines);
	log_set_verbose(false);
	assert_string_equal(out,
	    "<-- 250 ok\n"
	    "--> MAIL FROM:<a@x>\n"
	    "--> (authentication data hidden)\n"
	    "<-- 250 \\x1b]0;pwned\\x07\n"
	    "mailsub: connecting to smtp.example.com:587\n");
	assert_null(strstr(out, "c2VjcmV0"));
	free(out);
}

static void
verbose_escaped_line(void)
{
	char esc[128];

	error_escape(esc, sizeof(esc), "421 \x1b[2J \\", 10);
	log_verbose("%s; trying the next host", esc);
}

/* A -v note quoting an error line escapes it once. */
static void
test_verbose_escaped_once(void **state)
{
	char *out;

	log_set_verbose(true);
	out = capture_stderr(verbose_escaped_line);
	log_set_verbose(false);
	assert_string_equal(
	    out, "mailsub: 421 \\x1b[2J \\x5c; trying the next host\n");
	free(out);
}

static void
test_transcript_quiet_without_v(void **state)
{
	char *out;

	log_set_verbose(false);
	assert_false(log_verbose_enabled());
	out = capture_stderr(transcript_lines);
	assert_string_equal(out, "");
	free(out);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_record_format),
	    T(test_record_names_submitter),
	    T(test_record_mode_and_append),
	    T(test_record_escaping),
	    T(test_record_warning),
	    T(test_record_escaped_once),
	    T(test_record_capped),
	    T(test_parallel_records_whole),
	    T(test_no_destination_no_file),
	    T(test_syslog_does_not_disturb),
	    T(test_log_failure_noted_once),
	    T(test_transcript),
	    T(test_verbose_escaped_once),
	    T(test_transcript_quiet_without_v),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
