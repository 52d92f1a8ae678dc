/* SPDX-License-Identifier: ISC */
/*
 * Password sources: the key, password_file (mode checks), password_command
 * (timeout, output cap, exit status, stdin from /dev/null, fds closed) and
 * the /dev/tty prompt (driven through a pseudo-terminal).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "error.h"
#include "secret.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_secret.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
init_account(struct account *a)
{
	memset(a, 0, sizeof(*a));
	a->name = "work";
	a->user = "alice";
	buf_init(&a->password, 4096);
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(
	    write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the password key -------------------------------------------------- */

static void
test_password_key(void **state)
{
	struct account a;
	struct buf out;
	struct error err;

	(void)state;
	init_account(&a);
	assert_int_equal(buf_appends(&a.password, "k3y-secret", &err), 0);
	a.has_password = true;
	/* A key wins over the other sources. */
	a.password_command = "echo other";
	buf_init(&out, 4096);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), 0);
	assert_string_equal(buf_str(&out), "k3y-secret");
	assert_int_equal(out.len, 10);
	buf_wipe(&out);
	buf_wipe(&a.password);
}

/* --- password_file ------------------------------------------------------ */

static void
test_file_first_line(void **state)
{
	struct account a;
	struct buf out;
	struct error err;
	char path[128];

	(void)state;
	init_account(&a);
	snprintf(path, sizeof(path), "%s/pw", tmpdir);
	write_file(path, "file-secret\r\nsecond line\n", 0600);
	a.password_file = path;
	buf_init(&out, 4096);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), 0);
	assert_string_equal(buf_str(&out), "file-secret");
	buf_wipe(&out);

	/* No newline at all is fine too. */
	write_file(path, "no-newline", 0400);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), 0);
	assert_string_equal(buf_str(&out), "no-newline");
	buf_wipe(&out);
}

static void
test_file_mode_refused(void **state)
{
	struct account a;
	struct buf out;
	struct error err;
	char path[128];

	(void)state;
	init_account(&a);
	snprintf(path, sizeof(path), "%s/pw-open", tmpdir);
	write_file(path, "canary-file-pw\n", 0644);
	a.password_file = path;
	buf_init(&out, 4096);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "0644"));
	assert_null(strstr(err.message, "canary"));
	assert_int_equal(out.len, 0);
	buf_wipe(&out);

	/* Group-readable is as bad as world-readable. */
	write_file(path, "canary-file-pw\n", 0640);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_non_null(strstr(err.message, "0640"));
	buf_wipe(&out);
}

static void
test_file_errors(void **state)
{
	struct account a;
	struct buf out;
	struct error err;
	char path[128];

	(void)state;
	init_account(&a);
	buf_init(&out, 4096);

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	a.password_file = path;
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "missing"));

	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	write_file(path, "\nsecond\n", 0600);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "empty"));
	assert_null(strstr(err.message, "second"));

	/* A byte-order mark is named, not sent as part of the password. */
	snprintf(path, sizeof(path), "%s/bom", tmpdir);
	write_file(path,
	    "\xef\xbb\xbf"
	    "canary-bom-pw\n",
	    0600);
	a.password_file = path;
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	if (strstr(err.message, "bom: UTF-8 byte-order mark; save the file "
				"without it") == NULL)
		fail_msg("%s", err.message);
	assert_null(strstr(err.message, "canary"));
	assert_int_equal(out.len, 0);

	/* A directory is not a password file. */
	a.password_file = tmpdir;
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	buf_wipe(&out);
}

static void
test_check_file_mode(void **state)
{
	struct error err;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/mode", tmpdir);
	write_file(path, "x\n", 0600);
	error_clear(&err);
	assert_int_equal(secret_check_file_mode(path, &err), 0);
	write_file(path, "x\n", 0400);
	assert_int_equal(secret_check_file_mode(path, &err), 0);
	/* Writable by the group: they can change the secret (fsperm.h). */
	write_file(path, "x\n", 0620);
	assert_int_equal(secret_check_file_mode(path, &err), -1);
	assert_non_null(strstr(err.message, "0620"));
	write_file(path, "x\n", 0604);
	assert_int_equal(secret_check_file_mode(path, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_non_null(strstr(err.message, "0604"));
	assert_non_null(strstr(err.message, path));
	error_clear(&err);
	assert_int_equal(secret_check_file_mode("/nonexistent/x", &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	/* Owned by someone else (root), unless we are root. */
	if (geteuid() != 0) {
		error_clear(&err);
		assert_int_equal(
		    secret_check_file_mode("/etc/passwd", &err), -1);
		assert_non_null(strstr(err.message, "owned by uid 0"));
	}
}

/* --- password_command --------------------------------------------------- */

static void
run(const char *cmd, int timeout_ms, size_t max, int expect_rc, int expect_code,
    const char *expect_out, const char *expect_msg)
{
	struct buf out;
	struct error err;
	int rc;

	buf_init(&out, max + 1);
	error_clear(&err);
	rc = secret_run_command(cmd, timeout_ms, max, &out, &err);
	if (rc != expect_rc)
		fail_msg("%s: rc %d (%s)", cmd, rc, err.message);
	if (rc == 0) {
		assert_string_equal(buf_str(&out), expect_out);
	} else {
		assert_int_equal(err.exit_code, expect_code);
		if (strstr(err.message, expect_msg) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", cmd,
			    err.message, expect_msg);
		assert_int_equal(out.len, 0);
		/* Whatever the command printed never reaches the error. */
		assert_null(strstr(err.message, "canary"));
	}
	buf_wipe(&out);
}

static void
test_command_ok(void **state)
{
	(void)state;
	run("printf 'cmd-secret\\nsecond\\n'", 5000, 65536, 0, 0, "cmd-secret",
	    NULL);
	run("printf 'crlf\\r\\n'", 5000, 65536, 0, 0, "crlf", NULL);
	run("printf 'no-newline'", 5000, 65536, 0, 0, "no-newline", NULL);
	/* Closing stdout and lingering a little is fine. */
	run("echo early; exec >&-; sleep 0.2", 5000, 65536, 0, 0, "early",
	    NULL);
}

static void
test_command_failures(void **state)
{
	(void)state;
	run("echo canary-pw; exit 3", 5000, 65536, -1, EX_CONFIG, NULL,
	    "password_command failed (exit 3)");
	run("true", 5000, 65536, -1, EX_CONFIG, NULL, "printed nothing");
	run("printf '\\ncanary-second\\n'", 5000, 65536, -1, EX_CONFIG, NULL,
	    "printed nothing");
	run("kill -9 $$", 5000, 65536, -1, EX_CONFIG, NULL, "signal 9");
	run("/nonexistent/command", 5000, 65536, -1, EX_CONFIG, NULL,
	    "exit 127");
}

/* Running (a zombie whose new parent does not reap it counts as dead). */
static bool
alive(int pid)
{
	char path[64], line[256], *p;
	FILE *f;
	bool r = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return kill(pid, 0) == 0;
	if (fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL)
		r = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return r;
}

static void
test_command_timeout(void **state)
{
	long long t0;
	char pidfile[128], cmd[256];
	FILE *f;
	int pid = 0;

	(void)state;
	t0 = now_ms();
	run("sleep 10", 300, 65536, -1, EX_TEMPFAIL, NULL,
	    "password_command timed out after 300 ms");
	assert_true(now_ms() - t0 < 3000);

	/* Output then silence while holding stdout open. */
	t0 = now_ms();
	run("echo canary-pw; sleep 10", 300, 65536, -1, EX_TEMPFAIL, NULL,
	    "timed out");
	assert_true(now_ms() - t0 < 3000);

	/* A background grandchild holding stdout is killed too. */
	snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", tmpdir);
	snprintf(cmd, sizeof(cmd),
	    "sleep 30 & echo $! > %s; echo canary-pw; wait", pidfile);
	t0 = now_ms();
	run(cmd, 300, 65536, -1, EX_TEMPFAIL, NULL, "timed out");
	assert_true(now_ms() - t0 < 3000);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	assert_true(pid > 0);
	/* Give the kernel a moment to reap it (its parent is gone). */
	for (int i = 0; i < 100 && alive(pid); i++)
		poll(NULL, 0, 10);
	assert_false(alive(pid));

	/* The default limit is announced in seconds. */
	{
		struct buf out;
		struct error err;

		buf_init(&out, 100);
		error_clear(&err);
		assert_int_equal(
		    secret_run_command("sleep 5", 1000, 100, &out, &err), -1);
		assert_string_equal(
		    err.message, "password_command timed out after 1 s");
		buf_wipe(&out);
	}
}

/* A command that exits leaving a background process with its stdout
 * open: its first line is taken at once, without waiting for EOF. */
static void
test_command_background_child(void **state)
{
	long long t0;
	char pidfile[128], cmd[256];
	FILE *f;
	int pid = 0;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", tmpdir);
	snprintf(
	    cmd, sizeof(cmd), "echo bg-pw; sleep 30 & echo $! > %s", pidfile);
	t0 = now_ms();
	run(cmd, 10000, 65536, 0, 0, "bg-pw", NULL);
	assert_true(now_ms() - t0 < 3000);
	/* Without a newline, and printed after the background start. */
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! >> %s; printf late-pw",
	    pidfile);
	t0 = now_ms();
	run(cmd, 10000, 65536, 0, 0, "late-pw", NULL);
	assert_true(now_ms() - t0 < 3000);
	/* It still has to exit 0. */
	snprintf(cmd, sizeof(cmd),
	    "echo canary-pw; sleep 30 & echo $! >> %s; exit 2", pidfile);
	run(cmd, 10000, 65536, -1, EX_CONFIG, NULL, "(exit 2)");
	f = fopen(pidfile, "r");
	assert_non_null(f);
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

static void
test_command_output_cap(void **state)
{
	long long t0;

	(void)state;
	run("head -c 100000 /dev/zero | tr '\\0' a", 5000, 65536, -1, EX_CONFIG,
	    NULL, "password_command printed more than 64 KiB");
	/* Endless output stops at the cap, not at the timeout. */
	t0 = now_ms();
	run("yes canary", 10000, 65536, -1, EX_CONFIG, NULL,
	    "more than 64 KiB");
	assert_true(now_ms() - t0 < 5000);
	run("printf 0123456789", 5000, 5, -1, EX_CONFIG, NULL,
	    "more than 5 bytes");
	run("printf 01234", 5000, 5, 0, 0, "01234", NULL);
}

static void
test_command_stdin_is_dev_null(void **state)
{
	char buf[64];
	int p[2], saved;

	(void)state;
	/* Put a "message" on our stdin: the command must not get it. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "MESSAGE BODY\n", 13), 13);
	close(p[1]);
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);

	run("cat", 5000, 65536, -1, EX_CONFIG, NULL, "printed nothing");
	run("test -c /dev/stdin && readlink /proc/self/fd/0", 5000, 65536, 0, 0,
	    "/dev/null", NULL);

	/* Still all there for the message reader. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(STDIN_FILENO, buf, sizeof(buf) - 1), 13);
	assert_string_equal(buf, "MESSAGE BODY\n");
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void
test_command_closes_fds(void **state)
{
	int fd;

	(void)state;
	/* A descriptor without close-on-exec must not leak into it. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_true(dup2(fd, 37) == 37);
	run("if [ -e /proc/self/fd/37 ]; then echo open; else echo closed; "
	    "fi",
	    5000, 65536, 0, 0, "closed", NULL);
	close(37);
	close(fd);
}

static void
test_command_sigchld_ignored(void **state)
{
	struct sigaction sa, old;

	(void)state;
	/* An inherited SIG_IGN would make waitpid() lose the status. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, &old);
	run("exit 4", 5000, 65536, -1, EX_CONFIG, NULL, "(exit 4)");
	run("echo fine", 5000, 65536, 0, 0, "fine", NULL);
	sigaction(SIGCHLD, &old, NULL);
}

static void
test_get_password_command(void **state)
{
	struct account a;
	struct buf out;
	struct error err;

	(void)state;
	init_account(&a);
	a.password_command = "echo token-from-command";
	buf_init(&out, 65536);
	error_clear(&err);
	assert_int_equal(secret_get_password(&a, NULL, &out, &err), 0);
	assert_string_equal(buf_str(&out), "token-from-command");
	buf_wipe(&out);
}

/* --- no source, no terminal ------------------------------------------- */

static void
test_nothing_configured(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct account a;
		struct buf out;
		struct error err;

		/* A new session has no controlling terminal. */
		setsid();
		init_account(&a);
		buf_init(&out, 4096);
		error_clear(&err);
		if (secret_get_password(&a, NULL, &out, &err) != -1)
			_exit(1);
		if (err.exit_code != EX_CONFIG)
			_exit(2);
		if (strcmp(err.message,
			"no password configured for account work (password, "
			"password_file or password_command)") != 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- the prompt, through a pseudo-terminal ---------------------------- */

static void
prompt_child(const char *slave, int report_fd)
{
	struct account a;
	struct termios tio;
	struct buf out;
	struct error err;
	char msg[600];
	int fd, rc;

	alarm(20); /* a hung prompt fails the test instead of hanging it */
	setsid();
	fd = open(slave, O_RDWR); /* becomes the controlling terminal */
	if (fd < 0)
		_exit(10);
	ioctl(fd, TIOCSCTTY, 0);
	init_account(&a);
	buf_init(&out, 4096);
	error_clear(&err);
	/* The host comes from the caller: the account names none. */
	rc = secret_get_password(&a, "smtp.example.org", &out, &err);
	if (tcgetattr(fd, &tio) == -1)
		_exit(11);
	snprintf(msg, sizeof(msg), "%d|%s|%s|%s", rc, buf_str(&out),
	    (tio.c_lflag & ECHO) ? "echo" : "noecho", err.message);
	if (write(report_fd, msg, strlen(msg)) < 0)
		_exit(12);
	buf_wipe(&out);
	_exit(0);
}

/* Read from the pty master until want appears or time runs out. */
static size_t
read_master(int m, char *buf, size_t size, const char *want)
{
	struct pollfd pfd = {m, POLLIN, 0};
	size_t got = 0;
	ssize_t n;
	long long end = now_ms() + 5000;

	buf[0] = '\0';
	while (got + 1 < size && now_ms() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(m, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (want != NULL && strstr(buf, want) != NULL)
			break;
	}
	return got;
}

/* Run the prompt in a child whose controlling terminal is a new pty, type
 * input, and return what the child reported: "rc|password|echo|error". */
static void
prompt_session(const char *input, char *report, size_t size)
{
	char screen[512], slave[128];
	pid_t pid;
	int m, p[2], status;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_non_null(ptsname(m));
	snprintf(slave, sizeof(slave), "%s", ptsname(m));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		close(m);
		prompt_child(slave, p[1]);
	}
	close(p[1]);
	read_master(m, screen, sizeof(screen), "Password for ");
	if (strstr(screen, "Password for ") == NULL) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("no prompt on the terminal");
	}
	assert_non_null(
	    strstr(screen, "Password for alice@smtp.example.org: "));
	/* Echo was off before the prompt was printed. */
	assert_int_equal(
	    write(m, input, strlen(input)), (ssize_t)strlen(input));
	read_master(m, screen, sizeof(screen), NULL);
	assert_null(strstr(screen, "canary"));

	memset(report, 0, size);
	{
		struct pollfd pfd = {p[0], POLLIN, 0};
		long long end = now_ms() + 10000;
		size_t got = 0;
		ssize_t n = 1;

		while (n > 0 && now_ms() < end) {
			if (poll(&pfd, 1, 100) <= 0)
				continue;
			n = read(p[0], report + got, size - 1 - got);
			if (n > 0)
				got += (size_t)n;
		}
		if (n != 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("the prompt did not finish: \"%s\"", report);
		}
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
	close(m);
}

static void
test_prompt_on_tty(void **state)
{
	char report[700];

	(void)state;
	prompt_session("typed-canary\n", report, sizeof(report));
	/* The password came through and echo is back on. */
	assert_string_equal(report, "0|typed-canary|echo|");
}

static void
test_prompt_interrupted(void **state)
{
	char report[700];

	(void)state;
	/* ^C after a few characters: an error, echo restored, nothing
	 * kept. */
	prompt_session("half-canary\003", report, sizeof(report));
	assert_string_equal(report, "-1||echo|password prompt interrupted");
	/* An empty line is no password. */
	prompt_session("\n", report, sizeof(report));
	assert_string_equal(report, "-1||echo|no password entered");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_password_key),
	    cmocka_unit_test(test_file_first_line),
	    cmocka_unit_test(test_file_mode_refused),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_check_file_mode),
	    cmocka_unit_test(test_command_ok),
	    cmocka_unit_test(test_command_failures),
	    cmocka_unit_test(test_command_timeout),
	    cmocka_unit_test(test_command_background_child),
	    cmocka_unit_test(test_command_output_cap),
	    cmocka_unit_test(test_command_stdin_is_dev_null),
	    cmocka_unit_test(test_command_closes_fds),
	    cmocka_unit_test(test_command_sigchld_ignored),
	    cmocka_unit_test(test_get_password_command),
	    cmocka_unit_test(test_nothing_configured),
	    cmocka_unit_test(test_prompt_on_tty),
	    cmocka_unit_test(test_prompt_interrupted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
