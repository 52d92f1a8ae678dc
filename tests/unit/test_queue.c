/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for queue.c and queue_file.c: directories, unique names, the
 * durable store (round trip through queue_read_envelope, failed/ area, no
 * partial file after a write failure under RLIMIT_FSIZE), the strict header
 * parser, and the queue runner's primitives (IDs, listing, locks, rewrite,
 * move, removal, recovery of stale tmp/ files).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "id.h"
#include "queue.h"
#include "sysmode.h"

static char tmpdir[64];
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

static int
setup(void **state)
{
	struct error err;

	strcpy(tmpdir, "/tmp/test_queue.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(qdir, sizeof(qdir), "%s/q", tmpdir);
	error_clear(&err);
	return queue_prepare(qdir, &err);
}

static int
teardown(void **state)
{
	remove_tree(tmpdir);
	return 0;
}

static size_t
count_dir(const char *area)
{
	char p[256];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/%s", qdir, area);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A wire-form message in a file of its own. */
static int
make_spool(const char *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/spool", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	close(fd);
	return p;
}

static void
base_env(struct envelope *env, struct queue_meta *meta)
{
	static char *rcpts[] = {
	    (char *)"bob@example.org", (char *)"carol@example.net"};

	memset(env, 0, sizeof(*env));
	env->sender = (char *)"alice@example.com";
	env->rcpts = rcpts;
	env->n_rcpts = 2;
	env->body_8bit = true;
	memset(meta, 0, sizeof(*meta));
	meta->account = "work";
	meta->attempts = 3;
	meta->first_attempt = 1700000000;
	meta->last_attempt = 1700000600;
}

static void
test_prepare_creates_dirs(void **state)
{
	struct error err;
	struct stat st;
	char p[256];
	const char *subs[] = {"", "/tmp", "/new", "/failed"};
	size_t i;

	snprintf(p, sizeof(p), "%s/a/b/c", tmpdir);
	error_clear(&err);
	assert_int_equal(queue_prepare(p, &err), 0);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/a/b/c%s", tmpdir, subs[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	/* Again: nothing to do, no error. */
	snprintf(p, sizeof(p), "%s/a/b/c", tmpdir);
	assert_int_equal(queue_prepare(p, &err), 0);
}

static void
test_prepare_fails_on_file(void **state)
{
	struct error err;
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/file", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd != -1);
	close(fd);
	snprintf(p, sizeof(p), "%s/file/q", tmpdir);
	error_clear(&err);
	assert_int_equal(queue_prepare(p, &err), -1);
	assert_int_equal(err.exit_code, EX_CANTCREAT);
	assert_non_null(strstr(err.message, "/file"));
	assert_int_equal(queue_prepare("", &err), -1);
	assert_int_equal(err.exit_code, EX_CANTCREAT);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_ids_unique(void **state)
{
	enum { N = 20000 };
	char **ids = calloc(N, sizeof(*ids));
	size_t i;

	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		char id[QUEUE_ID_MAX];

		id_unique(id, sizeof(id));
		assert_true(strlen(id) > 10 && strlen(id) < QUEUE_ID_MAX);
		assert_null(strchr(id, '/'));
		assert_int_equal(strspn(id, "0123456789abcdef."), strlen(id));
		ids[i] = strdup(id);
		assert_non_null(ids[i]);
	}
	qsort(ids, N, sizeof(*ids), cmp_str);
	for (i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	for (i = 0; i < N; i++)
		free(ids[i]);
	free(ids);
}

static void
test_ids_unique_across_processes(void **state)
{
	char a[QUEUE_ID_MAX], b[QUEUE_ID_MAX];
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		id_unique(b, sizeof(b));
		_exit(write(p[1], b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : 1);
	}
	id_unique(a, sizeof(a));
	assert_int_equal(read(p[0], b, sizeof(b)), (ssize_t)sizeof(b));
	waitpid(pid, &status, 0);
	close(p[0]);
	close(p[1]);
	assert_string_not_equal(a, b);
}

static void
test_store_round_trip(void **state)
{
	static const char msg[] = "Subject: hi\r\n\r\n..dot\r\nbody\r\n";
	struct envelope env;
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	char id[QUEUE_ID_MAX], want[512], *path, *data;
	size_t len;
	int fd, qfd;
	struct stat st;

	base_env(&env, &meta);
	env.dsn_notify = "success,failure";
	env.dsn_return = "hdrs";
	env.dsn_envid = "QQ314159";
	meta.last_error = "452 4.2.2 mailbox\r\nfull\x1b[31m";
	fd = make_spool(msg, sizeof(msg) - 1);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd,
			     sizeof(msg) - 1, id, &path, &err),
	    0);
	snprintf(want, sizeof(want), "%s/new/%s", qdir, id);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("new"), 1);

	/* The exact documented format. */
	data = slurp(path, &len);
	snprintf(want, sizeof(want),
	    "mailsub-queue 1\naccount: work\n"
	    "sender: alice@example.com\nrcpt: bob@example.org\n"
	    "rcpt: carol@example.net\ndsn-notify: success,failure\n"
	    "dsn-return: hdrs\ndsn-envid: QQ314159\nbody: 8bitmime\n"
	    "attempts: 3\nfirst-attempt: 1700000000\n"
	    "last-attempt: 1700000600\nlast-error: 452 4.2.2 mailbox"
	    "\\x0d\\x0afull\\x1b[31m\n\n%s",
	    msg);
	assert_string_equal(data, want);
	free(data);

	qfd = open(path, O_RDONLY);
	assert_true(qfd != -1);
	assert_int_equal(queue_read_envelope(qfd, &qf, &err), 0);
	assert_string_equal(qf.account, "work");
	assert_string_equal(qf.env.sender, "alice@example.com");
	assert_int_equal(qf.env.n_rcpts, 2);
	assert_string_equal(qf.env.rcpts[0], "bob@example.org");
	assert_string_equal(qf.env.rcpts[1], "carol@example.net");
	assert_string_equal(qf.env.dsn_notify, "success,failure");
	assert_string_equal(qf.env.dsn_return, "hdrs");
	assert_string_equal(qf.env.dsn_envid, "QQ314159");
	assert_true(qf.env.body_8bit);
	assert_int_equal(qf.attempts, 3);
	assert_int_equal(qf.first_attempt, 1700000000);
	assert_int_equal(qf.last_attempt, 1700000600);
	assert_string_equal(
	    qf.last_error, "452 4.2.2 mailbox\\x0d\\x0afull\\x1b[31m");
	assert_int_equal(qf.msg_size, sizeof(msg) - 1);
	data = malloc(qf.msg_size);
	assert_non_null(data);
	assert_int_equal(
	    pread(qfd, data, qf.msg_size, qf.msg_offset), (ssize_t)qf.msg_size);
	assert_memory_equal(data, msg, qf.msg_size);
	free(data);

	/* And once more from the parsed view: identical bytes. */
	{
		struct queue_meta meta2;
		char id2[QUEUE_ID_MAX], *path2, *a, *b;
		size_t alen, blen;

		queue_file_meta(&qf, &meta2);
		assert_int_equal(
		    queue_store(qdir, QUEUE_AREA_NEW, &qf.env, &meta2, fd,
			sizeof(msg) - 1, id2, &path2, &err),
		    0);
		assert_string_not_equal(id, id2);
		a = slurp(path, &alen);
		b = slurp(path2, &blen);
		/* last-error was escaped once; escaping is idempotent for
		 * text without control characters. */
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		free(a);
		free(b);
		free(path2);
	}
	queue_file_free(&qf);
	queue_file_free(&qf); /* twice is harmless */
	close(qfd);
	close(fd);
	free(path);
}

static void
test_store_failed_area_null_sender(void **state)
{
	struct envelope env;
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	char id[QUEUE_ID_MAX], *path;
	int fd, qfd;

	/* A -t message without recipients is saved too (tests/FAULTS.md 11). */
	memset(&env, 0, sizeof(env));
	memset(&meta, 0, sizeof(meta));
	meta.account = "work";
	env.sender = (char *)"";
	fd = make_spool("x\r\n", 3);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_FAILED, &env, &meta, fd,
			     3, id, &path, &err),
	    0);
	assert_non_null(strstr(path, "/failed/"));
	assert_int_equal(count_dir("failed"), 1);
	assert_int_equal(count_dir("new"), 0);
	qfd = open(path, O_RDONLY);
	assert_int_equal(queue_read_envelope(qfd, &qf, &err), 0);
	assert_string_equal(qf.env.sender, "");
	assert_int_equal(qf.env.n_rcpts, 0);
	assert_null(qf.env.dsn_notify);
	assert_null(qf.env.dsn_return);
	assert_null(qf.env.dsn_envid);
	assert_null(qf.last_error);
	assert_false(qf.env.body_8bit);
	assert_int_equal(qf.msg_size, 3);
	queue_file_free(&qf);
	close(qfd);
	close(fd);
	free(path);
}

static void
test_store_large_message(void **state)
{
	const size_t size = 3 * 1024 * 1024 + 17;
	struct envelope env;
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	char id[QUEUE_ID_MAX], *path, *msg, *back;
	int fd, qfd;
	size_t i;

	msg = malloc(size);
	back = malloc(size);
	assert_non_null(msg);
	assert_non_null(back);
	for (i = 0; i < size; i++)
		msg[i] = (char)('a' + i % 23);
	base_env(&env, &meta);
	fd = make_spool(msg, size);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd,
			     size, id, &path, &err),
	    0);
	qfd = open(path, O_RDONLY);
	assert_int_equal(queue_read_envelope(qfd, &qf, &err), 0);
	assert_int_equal(qf.msg_size, size);
	assert_int_equal(pread(qfd, back, size, qf.msg_offset), (ssize_t)size);
	assert_memory_equal(back, msg, size);
	queue_file_free(&qf);
	close(qfd);
	close(fd);
	free(path);
	free(msg);
	free(back);
}

static void
test_store_no_partial_file_on_fsize_limit(void **state)
{
	const size_t size = 4 * 1024 * 1024;
	char *msg;
	int fd, status;
	pid_t pid;

	msg = malloc(size);
	assert_non_null(msg);
	memset(msg, 'x', size);
	fd = make_spool(msg, size);
	free(msg);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct envelope env;
		struct queue_meta meta;
		struct rlimit rl = {256 * 1024, 256 * 1024};
		struct error err;
		char id[QUEUE_ID_MAX], *path;

		/* The caller ignores SIGXFSZ, so the write fails with EFBIG
		 * instead of killing the process. */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			_exit(100);
		base_env(&env, &meta);
		error_clear(&err);
		if (queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, size, id,
			&path, &err) == 0)
			_exit(0);
		if (strstr(err.message, "File too large") == NULL)
			_exit(101);
		_exit(err.exit_code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EX_IOERR);
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("new"), 0);
	close(fd);
}

static void
test_store_short_spool(void **state)
{
	struct envelope env;
	struct queue_meta meta;
	struct error err;
	char id[QUEUE_ID_MAX], *path;
	int fd;

	base_env(&env, &meta);
	fd = make_spool("abc", 3);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, 100,
			     id, &path, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_null(path);
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("new"), 0);
	close(fd);
}

static void
test_store_missing_queue(void **state)
{
	struct envelope env;
	struct queue_meta meta;
	struct error err;
	char id[QUEUE_ID_MAX], *path, p[256];
	int fd;

	base_env(&env, &meta);
	fd = make_spool("abc", 3);
	snprintf(p, sizeof(p), "%s/nonexistent", tmpdir);
	error_clear(&err);
	assert_int_equal(
	    queue_store(p, QUEUE_AREA_NEW, &env, &meta, fd, 3, id, &path, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_CANTCREAT);
	assert_non_null(strstr(err.message, "nonexistent"));
	close(fd);
}

static void
test_store_refuses_line_break_in_field(void **state)
{
	static char *rcpts[] = {(char *)"a@x\nrcpt: evil@y"};
	struct envelope env;
	struct queue_meta meta;
	struct error err;
	char id[QUEUE_ID_MAX], *path;
	int fd;

	base_env(&env, &meta);
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	fd = make_spool("abc", 3);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, 3,
			     id, &path, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_SOFTWARE);
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("new"), 0);
	close(fd);
}

/* Parse text as a queue file; returns the result and err. */
static int
parse_text(const char *text, struct queue_file *qf, struct error *err)
{
	int fd = make_spool(text, strlen(text));
	int rc;

	error_clear(err);
	rc = queue_read_envelope(fd, qf, err);
	close(fd);
	return rc;
}

#define GOOD_HEAD                                                              \
	"mailsub-queue 1\naccount: a\nsender: s@x\nrcpt: r@y\n"                \
	"body: 7bit\nattempts: 0\nfirst-attempt: 1\nlast-attempt: 2\n"

/* The submitter line: written, read back, kept by a rewrite's envelope;
 * absent in older files; strict. */
static void
test_submitter(void **state)
{
	static const char *const bad[] = {
	    "mailsub-queue 1\nsubmitter: 33\n",
	    "mailsub-queue 1\nsubmitter: 33 \n",
	    "mailsub-queue 1\nsubmitter: x www-data\n",
	    "mailsub-queue 1\nsubmitter: 33 www data\n",
	    "mailsub-queue 1\nsubmitter: 4294967295 root\n",
	    "mailsub-queue 1\nsubmitter: 1 a\nsubmitter: 1 a\n",
	};
	struct envelope env;
	struct queue_meta meta, back;
	struct queue_file qf;
	struct error err;
	char id[QUEUE_ID_MAX], *path = NULL, *text, buf[600];
	size_t len, i;
	int fd;

	base_env(&env, &meta);
	meta.submitter = "www-data";
	meta.submitter_uid = 33;
	fd = make_spool("x\r\n", 3);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, 3,
			     id, &path, &err),
	    0);
	close(fd);
	text = slurp(path, &len);
	assert_non_null(strstr(text, "\naccount: work\nsubmitter: 33 "
				     "www-data\nsender: "));
	free(text);
	fd = open(path, O_RDONLY);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	close(fd);
	assert_string_equal(qf.submitter, "www-data");
	assert_int_equal(qf.submitter_uid, 33);
	queue_file_meta(&qf, &back);
	assert_string_equal(back.submitter, "www-data");
	assert_int_equal(back.submitter_uid, 33);
	/* Only a restricted caller is limited to its own. */
	sysmode_reset();
	assert_true(queue_file_mine(&qf));
	sysmode_test_set(true, 33, "www-data");
	assert_true(queue_file_mine(&qf));
	sysmode_test_set(true, 34, "other");
	assert_false(queue_file_mine(&qf));
	queue_file_free(&qf);
	free(path);

	/* An older file has none: root's. */
	assert_int_equal(parse_text(GOOD_HEAD "\nmsg\r\n", &qf, &err), 0);
	assert_null(qf.submitter);
	assert_false(queue_file_mine(&qf));
	sysmode_reset();
	assert_true(queue_file_mine(&qf));
	queue_file_free(&qf);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s\nmsg\r\n", bad[i],
		    &GOOD_HEAD[sizeof("mailsub-queue 1\n") - 1]);
		if (parse_text(buf, &qf, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.exit_code, EX_DATAERR);
	}
	/* A name that would break the line is never written. */
	meta.submitter = "a b";
	fd = make_spool("x\r\n", 3);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, 3,
			     id, &path, &err),
	    -1);
	close(fd);
}

static void
test_read_minimal(void **state)
{
	struct queue_file qf;
	struct error err;

	assert_int_equal(parse_text(GOOD_HEAD "\nmsg\r\n", &qf, &err), 0);
	assert_int_equal(qf.msg_offset, strlen(GOOD_HEAD) + 1);
	assert_int_equal(qf.msg_size, 5);
	queue_file_free(&qf);
	/* An empty message and the null sender without a space. */
	assert_int_equal(
	    parse_text(
		"mailsub-queue 1\naccount: a\nsender:\n"
		"body: 8bitmime\nattempts: 4294967295\nfirst-attempt: 0\n"
		"last-attempt: 0\n\n",
		&qf, &err),
	    0);
	assert_string_equal(qf.env.sender, "");
	assert_int_equal(qf.attempts, 4294967295U);
	assert_int_equal(qf.msg_size, 0);
	queue_file_free(&qf);
}

static void
test_read_rejects_garbage(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n\n",
	    "garbage\n\n",
	    "mailsub-queue 2\naccount: a\n\n",
	    GOOD_HEAD, /* no blank line */
	    GOOD_HEAD "unknown: x\n\n",
	    GOOD_HEAD "sender: again@x\n\n",
	    GOOD_HEAD "body: 7bit\n\n",
	    GOOD_HEAD "last-error: a\nlast-error: b\n\n",
	    GOOD_HEAD "rcpt:\n\n",
	    GOOD_HEAD "dsn-notify:never\n\n",
	    GOOD_HEAD "no colon\n\n",
	    GOOD_HEAD "last-error: a\rb\n\n",
	    GOOD_HEAD "last-error: a\tb\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 9bit\n"
	    "attempts: 0\nfirst-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 7bit\n"
	    "attempts: 1x\nfirst-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 7bit\n"
	    "attempts: -1\nfirst-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 7bit\n"
	    "attempts: 4294967296\nfirst-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 7bit\n"
	    "attempts: 0\nfirst-attempt: 99999999999999999999\n"
	    "last-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nbody: 7bit\n"
	    "attempts: \nfirst-attempt: 1\nlast-attempt: 2\n\n",
	    /* missing fields */
	    "mailsub-queue 1\naccount: a\nbody: 7bit\nattempts: 0\n"
	    "first-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\naccount: a\nsender: s@x\nattempts: 0\n"
	    "first-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\nsender: s@x\nbody: 7bit\nattempts: 0\n"
	    "first-attempt: 1\nlast-attempt: 2\n\n",
	    "mailsub-queue 1\r\naccount: a\n\n",
	};
	struct queue_file qf;
	struct error err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_text(bad[i], &qf, &err) != -1)
			fail_msg("accepted bad queue file #%zu", i);
		assert_int_equal(err.exit_code, EX_DATAERR);
		assert_null(qf.account);
		assert_null(qf.env.rcpts);
	}
}

static void
test_read_long_line_and_bounded_header(void **state)
{
	struct queue_file qf;
	struct error err;
	char *text;
	size_t n;

	/* One line over QUEUE_LINE_MAX. */
	text = malloc(QUEUE_LINE_MAX + 256);
	assert_non_null(text);
	n = (size_t)sprintf(text, GOOD_HEAD "last-error: ");
	memset(text + n, 'e', QUEUE_LINE_MAX);
	strcpy(text + n + QUEUE_LINE_MAX, "\n\n");
	assert_int_equal(parse_text(text, &qf, &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	free(text);
}

static void
test_read_many_rcpts(void **state)
{
	enum { N = 5000 };
	struct envelope env;
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	char **rcpts, id[QUEUE_ID_MAX], *path;
	size_t i;
	int fd, qfd;

	rcpts = calloc(N, sizeof(*rcpts));
	assert_non_null(rcpts);
	for (i = 0; i < N; i++) {
		rcpts[i] = malloc(32);
		assert_non_null(rcpts[i]);
		snprintf(rcpts[i], 32, "user%zu@example.org", i);
	}
	base_env(&env, &meta);
	env.rcpts = rcpts;
	env.n_rcpts = N;
	fd = make_spool("m\r\n", 3);
	error_clear(&err);
	assert_int_equal(queue_store(qdir, QUEUE_AREA_NEW, &env, &meta, fd, 3,
			     id, &path, &err),
	    0);
	qfd = open(path, O_RDONLY);
	assert_int_equal(queue_read_envelope(qfd, &qf, &err), 0);
	assert_int_equal(qf.env.n_rcpts, N);
	for (i = 0; i < N; i++)
		assert_string_equal(qf.env.rcpts[i], rcpts[i]);
	assert_int_equal(qf.msg_size, 3);
	queue_file_free(&qf);
	close(qfd);
	close(fd);
	free(path);
	for (i = 0; i < N; i++)
		free(rcpts[i]);
	free(rcpts);
}

/* ---- the queue runner's primitives ---- */

/* Store msg in area with base_env() and its attempts; returns the ID. */
static void
store_one(enum queue_area area, const char *msg, unsigned attempts, char *id)
{
	struct envelope env;
	struct queue_meta meta;
	struct error err;
	char *path;
	int fd;

	base_env(&env, &meta);
	meta.attempts = attempts;
	fd = make_spool(msg, strlen(msg));
	error_clear(&err);
	assert_int_equal(queue_store(qdir, area, &env, &meta, fd, strlen(msg),
			     id, &path, &err),
	    0);
	free(path);
	close(fd);
}

static void
test_id_valid(void **state)
{
	char id[QUEUE_ID_MAX], longid[QUEUE_ID_MAX + 2];

	id_unique(id, sizeof(id));
	assert_true(queue_id_valid(id));
	assert_true(queue_id_valid("abc-1_2.x"));
	assert_false(queue_id_valid(NULL));
	assert_false(queue_id_valid(""));
	assert_false(queue_id_valid("."));
	assert_false(queue_id_valid(".."));
	assert_false(queue_id_valid(".hidden"));
	assert_false(queue_id_valid("-rf"));
	assert_false(queue_id_valid("../new/x"));
	assert_false(queue_id_valid("a/b"));
	assert_false(queue_id_valid("a b"));
	assert_false(queue_id_valid("a\nb"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_false(queue_id_valid(longid));
	longid[QUEUE_ID_MAX - 1] = '\0';
	assert_true(queue_id_valid(longid));
}

static void
test_list_sorted_and_filtered(void **state)
{
	char id1[QUEUE_ID_MAX], id2[QUEUE_ID_MAX], p[256];
	struct error err;
	char **ids;
	size_t n;
	int fd;

	error_clear(&err);
	assert_int_equal(queue_list(qdir, QUEUE_AREA_NEW, &ids, &n, &err), 0);
	assert_int_equal(n, 0);
	queue_ids_free(ids, n);
	store_one(QUEUE_AREA_NEW, "a\r\n", 0, id1);
	store_one(QUEUE_AREA_NEW, "b\r\n", 0, id2);
	store_one(QUEUE_AREA_FAILED, "c\r\n", 0, p);
	/* Editor droppings and dot files are not messages. */
	snprintf(p, sizeof(p), "%s/new/.x", qdir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(p, sizeof(p), "%s/new/a b", qdir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(queue_list(qdir, QUEUE_AREA_NEW, &ids, &n, &err), 0);
	assert_int_equal(n, 2);
	/* Same second, same pid: the counter orders them. */
	assert_true(strcmp(ids[0], ids[1]) < 0);
	assert_true(strcmp(ids[0], id1) == 0 || strcmp(ids[1], id1) == 0);
	queue_ids_free(ids, n);
	assert_int_equal(
	    queue_list(qdir, QUEUE_AREA_FAILED, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	queue_ids_free(ids, n);

	/* A queue_dir that does not exist is empty, not an error. */
	assert_int_equal(
	    queue_list("/nonexistent/q", QUEUE_AREA_NEW, &ids, &n, &err), 0);
	assert_int_equal(n, 0);
	queue_ids_free(ids, n);
}

static void
test_lock_busy_gone(void **state)
{
	char id[QUEUE_ID_MAX];
	struct error err;
	int fd1, fd2;

	store_one(QUEUE_AREA_NEW, "x\r\n", 0, id);
	error_clear(&err);
	assert_int_equal(queue_lock(qdir, QUEUE_AREA_NEW, id, &fd1, &err), 0);
	assert_true(fd1 >= 0);
	/* flock locks belong to the open file: a second open is refused
	 * even in the same process, as in another run. */
	assert_int_equal(
	    queue_lock(qdir, QUEUE_AREA_NEW, id, &fd2, &err), QUEUE_LOCK_BUSY);
	assert_int_equal(fd2, -1);
	/* Sent and removed while the other waited: gone. */
	assert_int_equal(queue_remove(qdir, QUEUE_AREA_NEW, id, &err), 0);
	close(fd1);
	assert_int_equal(
	    queue_lock(qdir, QUEUE_AREA_NEW, id, &fd2, &err), QUEUE_LOCK_GONE);
	assert_int_equal(count_dir("new"), 0);
	/* A removal of what is not there is no error. */
	assert_int_equal(queue_remove(qdir, QUEUE_AREA_NEW, id, &err), 0);
	/* Invalid IDs never reach the file system. */
	assert_int_equal(
	    queue_lock(qdir, QUEUE_AREA_NEW, "../x", &fd2, &err), -1);
	assert_int_equal(err.exit_code, EX_USAGE);
}

static void
test_lock_sees_replacement(void **state)
{
	static const char msg[] = "Subject: r\r\n\r\nbody\r\n";
	char id[QUEUE_ID_MAX], p[256];
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	int fd, old;

	store_one(QUEUE_AREA_NEW, msg, 1, id);
	error_clear(&err);
	/* A run that opened the old version before a rewrite replaced it
	 * must not take it for the current one. */
	snprintf(p, sizeof(p), "%s/new/%s", qdir, id);
	old = open(p, O_RDONLY);
	assert_true(old != -1);
	assert_int_equal(queue_lock(qdir, QUEUE_AREA_NEW, id, &fd, &err), 0);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	queue_file_meta(&qf, &meta);
	meta.attempts = 2;
	meta.last_error = "451 later";
	assert_int_equal(queue_rewrite(qdir, id, QUEUE_AREA_NEW, QUEUE_AREA_NEW,
			     &meta, &qf, &fd, &err),
	    0);
	queue_file_free(&qf);
	/* The new file is locked by us too. */
	assert_int_equal(flock(old, LOCK_EX | LOCK_NB), 0);
	close(old);
	{
		int other;

		assert_int_equal(
		    queue_lock(qdir, QUEUE_AREA_NEW, id, &other, &err),
		    QUEUE_LOCK_BUSY);
	}
	close(fd);
	assert_int_equal(count_dir("tmp"), 0);
}

static void
test_rewrite_keeps_message(void **state)
{
	static const char msg[] = "Subject: w\r\n\r\n..dot\r\nline\r\n";
	char id[QUEUE_ID_MAX], p[256], *data;
	struct queue_meta meta;
	struct queue_file qf, qf2;
	struct error err;
	size_t len;
	int fd;

	store_one(QUEUE_AREA_NEW, msg, 1, id);
	error_clear(&err);
	assert_int_equal(queue_lock(qdir, QUEUE_AREA_NEW, id, &fd, &err), 0);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	queue_file_meta(&qf, &meta);
	meta.attempts = qf.attempts + 1;
	meta.last_attempt = 1800000000;
	meta.last_error = "127.0.0.1:25: RCPT TO:<b@x>: 451 try\nlater";
	assert_int_equal(queue_rewrite(qdir, id, QUEUE_AREA_NEW, QUEUE_AREA_NEW,
			     &meta, &qf, &fd, &err),
	    0);
	queue_file_free(&qf);
	assert_int_equal(queue_read_envelope(fd, &qf2, &err), 0);
	assert_int_equal(qf2.attempts, 2);
	assert_int_equal(qf2.first_attempt, 1700000000);
	assert_int_equal(qf2.last_attempt, 1800000000);
	assert_string_equal(
	    qf2.last_error, "127.0.0.1:25: RCPT TO:<b@x>: 451 try\\x0alater");
	assert_int_equal(qf2.msg_size, sizeof(msg) - 1);
	close(fd);
	/* Same ID, same place, the message byte for byte after the header. */
	snprintf(p, sizeof(p), "%s/new/%s", qdir, id);
	data = slurp(p, &len);
	assert_int_equal(len - (size_t)qf2.msg_offset, sizeof(msg) - 1);
	assert_memory_equal(data + qf2.msg_offset, msg, sizeof(msg) - 1);
	free(data);
	queue_file_free(&qf2);
	assert_int_equal(count_dir("new"), 1);
	assert_int_equal(count_dir("tmp"), 0);

	/* new -> failed: one place at a time, same ID. */
	assert_int_equal(queue_lock(qdir, QUEUE_AREA_NEW, id, &fd, &err), 0);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	queue_file_meta(&qf, &meta);
	meta.last_error = "expired";
	assert_int_equal(queue_rewrite(qdir, id, QUEUE_AREA_NEW,
			     QUEUE_AREA_FAILED, &meta, &qf, &fd, &err),
	    0);
	queue_file_free(&qf);
	close(fd);
	assert_int_equal(count_dir("new"), 0);
	assert_int_equal(count_dir("failed"), 1);
	snprintf(p, sizeof(p), "%s/failed/%s", qdir, id);
	data = slurp(p, &len);
	assert_non_null(strstr(data, "last-error: expired\n"));
	assert_non_null(strstr(data, "\n\nSubject: w\r\n\r\n..dot\r\n"));
	free(data);
}

static void
test_rewrite_failure_changes_nothing(void **state)
{
	static const char msg[] = "Subject: f\r\n\r\nbody\r\n";
	char id[QUEUE_ID_MAX], tmp[256], *before, *after, p[256];
	struct queue_meta meta;
	struct queue_file qf;
	struct error err;
	size_t l1, l2;
	int fd;

	store_one(QUEUE_AREA_NEW, msg, 1, id);
	snprintf(p, sizeof(p), "%s/new/%s", qdir, id);
	before = slurp(p, &l1);
	error_clear(&err);
	assert_int_equal(queue_lock(qdir, QUEUE_AREA_NEW, id, &fd, &err), 0);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	queue_file_meta(&qf, &meta);
	meta.attempts = 9;
	/* No room in tmp/: the rewrite fails, the message is untouched. */
	snprintf(tmp, sizeof(tmp), "%s/tmp", qdir);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(queue_rewrite(qdir, id, QUEUE_AREA_NEW,
			     QUEUE_AREA_FAILED, &meta, &qf, &fd, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_CANTCREAT);
	assert_int_equal(mkdir(tmp, 0700), 0);
	queue_file_free(&qf);
	assert_int_equal(queue_read_envelope(fd, &qf, &err), 0);
	assert_int_equal(qf.attempts, 1);
	queue_file_free(&qf);
	close(fd);
	after = slurp(p, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(before, after, l1);
	free(before);
	free(after);
	assert_int_equal(count_dir("failed"), 0);
}

static void
test_move_damaged(void **state)
{
	char p[256], q[256];
	struct error err;
	int fd;

	snprintf(p, sizeof(p), "%s/new/1.2.3.abc", qdir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	close(fd);
	error_clear(&err);
	assert_int_equal(
	    queue_lock(qdir, QUEUE_AREA_NEW, "1.2.3.abc", &fd, &err), 0);
	assert_int_equal(queue_move(qdir, "1.2.3.abc", QUEUE_AREA_NEW,
			     QUEUE_AREA_FAILED, &err),
	    0);
	close(fd);
	snprintf(q, sizeof(q), "%s/failed/1.2.3.abc", qdir);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(access(q, F_OK), 0);
	assert_int_equal(queue_move(qdir, "1.2.3.abc", QUEUE_AREA_NEW,
			     QUEUE_AREA_FAILED, &err),
	    -1);
	assert_string_equal(queue_area_name(QUEUE_AREA_FAILED), "failed");
}

/* A file in tmp/ with a given name, mtime age seconds ago. */
static void
make_tmp(const char *name, time_t age)
{
	struct timeval tv[2];
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/tmp/%s", qdir, name);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd != -1);
	close(fd);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - age;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(p, tv), 0);
}

static bool
tmp_exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/tmp/%s", qdir, name);
	return access(p, F_OK) == 0;
}

static void
test_recover_stale_tmp(void **state)
{
	char dead[64], alive[64], young[64], locked[64], p[256];
	struct error err;
	size_t removed;
	pid_t pid;
	int status, fd;

	/* A pid that surely no longer runs: a child that has been reaped. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(
	    dead, sizeof(dead), "spool-65000000.%ld.1.aabbccddeeff", (long)pid);
	make_tmp(dead, 7200);
	snprintf(p, sizeof(p), "65000000.%ld.2.aabbccddeeff", (long)pid);
	make_tmp(p, 7200); /* a half-written queue file */
	/* The writer still runs (reading a slow stdin): kept. */
	snprintf(alive, sizeof(alive), "spool-65000000.%ld.1.aabbccddeeff",
	    (long)getppid());
	make_tmp(alive, 7200);
	/* Young: kept whoever wrote it. */
	snprintf(young, sizeof(young), "spool-65000000.%ld.3.aabbccddeeff",
	    (long)pid);
	make_tmp(young, 10);
	/* Locked by a writer: kept. */
	snprintf(
	    locked, sizeof(locked), "65000000.%ld.4.aabbccddeeff", (long)pid);
	make_tmp(locked, 7200);
	snprintf(p, sizeof(p), "%s/tmp/%s", qdir, locked);
	fd = open(p, O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	/* Not ours: kept. */
	make_tmp(".other", 7200);
	make_tmp("not an id", 7200);

	error_clear(&err);
	assert_int_equal(queue_recover(qdir, 3600, &removed, &err), 0);
	assert_int_equal(removed, 2);
	assert_false(tmp_exists(dead));
	assert_true(tmp_exists(alive));
	assert_true(tmp_exists(young));
	assert_true(tmp_exists(locked));
	assert_true(tmp_exists(".other"));
	assert_true(tmp_exists("not an id"));
	close(fd);
	assert_int_equal(queue_recover(qdir, 3600, &removed, &err), 0);
	assert_int_equal(removed, 1);
	assert_false(tmp_exists(locked));
	/* A queue without tmp/ has nothing to recover. */
	assert_int_equal(
	    queue_recover("/nonexistent/q", 3600, &removed, &err), 0);
	assert_int_equal(removed, 0);
}

static void
test_path(void **state)
{
	char *p = queue_path("/q", QUEUE_AREA_NEW, "abc");

	assert_string_equal(p, "/q/new/abc");
	free(p);
	p = queue_path("/q", QUEUE_AREA_FAILED, "abc");
	assert_string_equal(p, "/q/failed/abc");
	free(p);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_prepare_creates_dirs),
	    T(test_prepare_fails_on_file),
	    T(test_ids_unique),
	    T(test_ids_unique_across_processes),
	    T(test_store_round_trip),
	    T(test_store_failed_area_null_sender),
	    T(test_store_large_message),
	    T(test_store_no_partial_file_on_fsize_limit),
	    T(test_store_short_spool),
	    T(test_store_missing_queue),
	    T(test_store_refuses_line_break_in_field),
	    T(test_read_minimal),
	    T(test_submitter),
	    T(test_read_rejects_garbage),
	    T(test_read_long_line_and_bounded_header),
	    T(test_read_many_rcpts),
	    T(test_id_valid),
	    T(test_list_sorted_and_filtered),
	    T(test_lock_busy_gone),
	    T(test_lock_sees_replacement),
	    T(test_rewrite_keeps_message),
	    T(test_rewrite_failure_changes_nothing),
	    T(test_move_damaged),
	    T(test_recover_stale_tmp),
	    T(test_path),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
