/* SPDX-License-Identifier: ISC */
/*
 * Password sources: the password key, password_file, password_command and
 * a prompt on /dev/tty, in that order.  Every buffer that held the secret
 * is wiped; no error message ever quotes it.
 */
#include "autoconfig.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "fdio.h"
#include "fsperm.h"
#include "interrupt.h"
#include "secret.h"
#include "sysmode.h"

/* A password file or a typed password longer than this is not a password. */
#define SECRET_LINE_MAX 4096

/* Keep only the first line (without CR/LF) of what b holds. */
static void
first_line(struct buf *b)
{
	size_t n;

	if (b->len == 0)
		return;
	n = strcspn(b->data, "\r\n");
	secure_wipe(b->data + n, b->len - n);
	b->len = n;
}

int
secret_check_file_mode(const char *path, struct error *err)
{
	return fsperm_check_path(path, FSPERM_SECRET | FSPERM_NOFOLLOW, err);
}

/* "~/x" -> "$HOME/x"; anything else is used as it is. */
static int
expand_home(const char *key, const char *path, char *out, size_t size,
    struct error *err)
{
	const char *home;
	int n;

	if (strncmp(path, "~/", 2) == 0 && (home = getenv("HOME")) != NULL &&
	    *home != '\0')
		n = snprintf(out, size, "%s/%s", home, path + 2);
	else
		n = snprintf(out, size, "%s", path);
	if (n < 0 || (size_t)n >= size)
		return error_set(err, EX_CONFIG, "%s: path too long", key);
	return 0;
}

static int
read_password_file(const char *key, const char *cfg_path, bool system,
    struct buf *out, struct error *err)
{
	unsigned rule = FSPERM_SECRET | (system ? FSPERM_SYSTEM : 0);
	char path[PATH_MAX];
	char chunk[512];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if (expand_home(key, cfg_path, path, sizeof(path), err) == -1)
		return -1;
	/* The way to it (fsperm.h), then the file we opened, not the name:
	 * no race with a rename. */
	if (fsperm_check_path(path, rule | FSPERM_NOFOLLOW, err) == -1) {
		error_prefix(err, "%s", key);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd == -1)
		return error_set(
		    err, EX_CONFIG, "%s %s: %s", key, path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		error_set(
		    err, EX_CONFIG, "%s %s: %s", key, path, strerror(errno));
		goto done;
	}
	if (fsperm_check_stat(path, &st, rule, err) == -1) {
		error_prefix(err, "%s", key);
		goto done;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			error_set(err, EX_CONFIG, "%s %s: %s", key, path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > SECRET_LINE_MAX) {
			error_set(err, EX_CONFIG,
			    "%s %s: first line longer than %d "
			    "bytes",
			    key, path, SECRET_LINE_MAX);
			goto done;
		}
		if (buf_append(out, chunk, (size_t)n, err) == -1)
			goto done;
		if (memchr(chunk, '\n', (size_t)n) != NULL)
			break;
	}
	first_line(out);
	if (out->len == 0) {
		error_set(err, EX_CONFIG,
		    "%s %s: first line is "
		    "empty",
		    key, path);
		goto done;
	}
	/* Windows editors start UTF-8 files with U+FEFF: it would go to
	 * the server as part of the password. */
	if (out->len >= 3 && memcmp(out->data, "\xef\xbb\xbf", 3) == 0) {
		error_set(err, EX_CONFIG,
		    "%s %s: UTF-8 byte-order mark; save the file "
		    "without it",
		    key, path);
		goto done;
	}
	rc = 0;
done:
	secure_wipe(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

/*
 * Runs in the forked child: never returns.  A command of the system file
 * (system) gets an environment of its own, PATH alone, none of the
 * caller's variables; with the setgid group kept (sysmode.h) it runs as
 * the caller with that group (sh -p: dash and bash would give it up) and
 * without core dumps, and says nothing on the caller's stderr.
 */
static void
command_child(const char *command, int out_fd, bool system)
{
	static char *const clean_env[] = {"PATH=" SYSMODE_PATH, NULL};
	struct rlimit no_core = {0, 0};
	bool keep_group = getegid() != getgid();
	sigset_t none;
	int null_fd;

	/* Its own process group, so a timeout kills everything it started. */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Out of the way of 0..2 in case the caller ran with those closed. */
	if (out_fd <= STDERR_FILENO)
		out_fd = fcntl(out_fd, F_DUPFD, STDERR_FILENO + 1);
	/* stdin is /dev/null: the command can never eat the message. */
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd == -1 || dup2(null_fd, STDIN_FILENO) == -1 ||
	    dup2(out_fd, STDOUT_FILENO) == -1)
		_exit(126);
	/* stderr stays: the command may ask or complain there; but not to
	 * a caller who may not know what it reads. */
	if (sysmode_privileged() && dup2(null_fd, STDERR_FILENO) == -1)
		_exit(126);
	if (keep_group)
		(void)setrlimit(RLIMIT_CORE, &no_core);
	fdio_close_from(STDERR_FILENO + 1);
	if (system && keep_group)
		execle("/bin/sh", "sh", "-p", "-c", command, (char *)NULL,
		    clean_env);
	else if (system)
		execle("/bin/sh", "sh", "-c", command, (char *)NULL, clean_env);
	else
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

static void
kill_and_reap(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

static void
format_duration(char *dst, size_t size, int ms)
{
	if (ms % 1000 == 0)
		snprintf(dst, size, "%d s", ms / 1000);
	else
		snprintf(dst, size, "%d ms", ms);
}

static void
format_size(char *dst, size_t size, size_t n)
{
	if (n % 1024 == 0)
		snprintf(dst, size, "%zu KiB", n / 1024);
	else
		snprintf(dst, size, "%zu bytes", n);
}

/* How often the command is checked for having exited while its stdout
 * stays open. */
#define SECRET_EXIT_POLL_MS 50

/*
 * Collect the child's stdout until EOF, the deadline or the cap; or, once
 * the command itself has exited, until its pipe holds nothing more: a
 * background process it left behind (an agent, "sleep 100 &") may keep
 * the pipe open for ever, but everything the command wrote is in the pipe
 * when it exits.  Returns 0 (*exited tells whether *status was collected),
 * -1 with err set otherwise.
 */
static int
collect_output(const char *key, int fd, pid_t pid, long long deadline,
    int timeout_ms, size_t max_out, struct buf *out, bool *exited, int *status,
    struct error *err)
{
	char chunk[4096];
	char what[32];
	struct pollfd pfd;
	ssize_t n;
	long long left;
	int rc = -1, pr, wait_ms;
	pid_t r;

	*exited = false;
	for (;;) {
		if (!*exited) {
			r = waitpid(pid, status, WNOHANG);
			if (r == pid)
				*exited = true;
			else if (r == -1 && errno != EINTR) {
				error_set(err, EX_OSERR, "%s: waitpid: %s", key,
				    strerror(errno));
				break;
			}
		}
		left = deadline - fdio_now_ms();
		if (left <= 0) {
			format_duration(what, sizeof(what), timeout_ms);
			error_set(err, EX_TEMPFAIL, "%s timed out after %s",
			    key, what);
			break;
		}
		/* After the exit only what is already there is read. */
		wait_ms = *exited ? 0 : SECRET_EXIT_POLL_MS;
		if (wait_ms > left)
			wait_ms = (int)left;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* SIGTERM and the like end the wait: the caller kills the
		 * command, and the message is queued (interrupt.h). */
		if (interrupt_check(err, EX_TEMPFAIL) == -1) {
			error_prefix(err, "%s", key);
			break;
		}
		pr = interrupt_poll(&pfd, 1, wait_ms);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1) {
			error_set(err, EX_OSERR, "%s: poll: %s", key,
			    strerror(errno));
			break;
		}
		if (pr == 0) {
			if (*exited) {
				rc = 0;
				break;
			}
			continue;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1) {
			error_set(err, EX_OSERR, "%s: read: %s", key,
			    strerror(errno));
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		if ((size_t)n > max_out - out->len) {
			format_size(what, sizeof(what), max_out);
			error_set(err, EX_CONFIG, "%s printed more than %s",
			    key, what);
			break;
		}
		if (buf_append(out, chunk, (size_t)n, err) == -1)
			break;
	}
	secure_wipe(chunk, sizeof(chunk));
	return rc;
}

/* Wait for the child until the deadline; -1 with err set on timeout. */
static int
reap(const char *key, pid_t pid, long long deadline, int timeout_ms,
    int *status, struct error *err)
{
	char what[32];
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR) {
			kill_and_reap(pid);
			return error_set(err, EX_OSERR, "%s: waitpid: %s", key,
			    strerror(errno));
		}
		if (fdio_now_ms() >= deadline) {
			kill_and_reap(pid);
			format_duration(what, sizeof(what), timeout_ms);
			return error_set(err, EX_TEMPFAIL,
			    "%s timed out after %s", key, what);
		}
		if (interrupt_check(err, EX_TEMPFAIL) == -1) {
			kill_and_reap(pid);
			error_prefix(err, "%s", key);
			return -1;
		}
		/* The command closed stdout but lingers: poll gently. */
		poll(NULL, 0, 10);
	}
}

static int
run_command(const char *key, const char *command, bool system, int timeout_ms,
    size_t max_out, struct buf *out, struct error *err)
{
	struct sigaction sa, old_chld;
	long long deadline;
	pid_t pid;
	int pfd[2], status = 0, rc = -1;
	bool exited = false;

	/* waitpid() needs SIGCHLD not ignored; restore it afterwards. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old_chld);

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		error_set(err, EX_OSERR, "%s: pipe: %s", key, strerror(errno));
		goto restore;
	}
	deadline = fdio_now_ms() + timeout_ms;
	pid = fork();
	if (pid == -1) {
		error_set(err, EX_OSERR, "%s: fork: %s", key, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		goto restore;
	}
	if (pid == 0)
		command_child(command, pfd[1], system);
	/* Also here, so kill(-pid) works even if the child is not yet
	 * running; EACCES after its exec is harmless. */
	setpgid(pid, pid);
	close(pfd[1]);

	if (collect_output(key, pfd[0], pid, deadline, timeout_ms, max_out, out,
		&exited, &status, err) == -1) {
		close(pfd[0]);
		if (!exited)
			kill_and_reap(pid);
		goto restore;
	}
	close(pfd[0]);
	if (!exited && reap(key, pid, deadline, timeout_ms, &status, err) == -1)
		goto restore;
	if (WIFSIGNALED(status)) {
		error_set(err, EX_CONFIG, "%s failed (killed by signal %d)",
		    key, WTERMSIG(status));
		goto restore;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		error_set(err, EX_CONFIG, "%s failed (exit %d)", key,
		    WEXITSTATUS(status));
		goto restore;
	}
	first_line(out);
	if (out->len == 0) {
		error_set(err, EX_CONFIG,
		    "%s printed nothing on its first line", key);
		goto restore;
	}
	rc = 0;
restore:
	sigaction(SIGCHLD, &old_chld, NULL);
	if (rc == -1)
		buf_wipe(out);
	return rc;
}

int
secret_run_command(const char *command, int timeout_ms, size_t max_out,
    struct buf *out, struct error *err)
{
	return run_command(
	    "password_command", command, false, timeout_ms, max_out, out, err);
}

/* The prompt is interrupted by these; the terminal is restored first. */
static const int prompt_signals[] = {
    SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define N_PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

static volatile sig_atomic_t prompt_interrupted;

static void
on_prompt_signal(int sig)
{
	prompt_interrupted = sig;
}

/* How often the prompt looks at prompt_interrupted: a signal that lands
 * just before read() would otherwise leave it waiting for ever. */
#define SECRET_PROMPT_POLL_MS 100

static int
read_tty_line(int fd, struct buf *out, struct error *err)
{
	struct pollfd pfd;
	char c;
	ssize_t n;
	int rc = -1;

	for (;;) {
		if (prompt_interrupted) {
			error_set(
			    err, EX_CONFIG, "password prompt interrupted");
			break;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, SECRET_PROMPT_POLL_MS);
		if (n == 0 || (n == -1 && errno == EINTR))
			continue; /* look at the flag again */
		if (n == -1) {
			error_set(err, EX_CONFIG, "/dev/tty: poll: %s",
			    strerror(errno));
			break;
		}
		n = read(fd, &c, 1);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1) {
			error_set(err, EX_CONFIG,
			    "reading the password from "
			    "/dev/tty: %s",
			    strerror(errno));
			break;
		}
		if (n == 0 || c == '\n' || c == '\r') {
			rc = 0;
			break;
		}
		if (out->len >= SECRET_LINE_MAX) {
			error_set(err, EX_CONFIG,
			    "password longer than %d "
			    "bytes",
			    SECRET_LINE_MAX);
			break;
		}
		if (buf_addch(out, c, err) == -1)
			break;
	}
	secure_wipe(&c, sizeof(c));
	return rc;
}

/* Ask on /dev/tty with echo off for the password of acct on host (NULL:
 * the account's first); 1 if there is no terminal to ask on. */
static int
prompt_password(const struct account *acct, const char *host, struct buf *out,
    struct error *err)
{
	struct sigaction sa, old[N_PROMPT_SIGNALS];
	struct termios saved, quiet;
	char prompt[600];
	size_t i;
	int fd, rc;

	if (interrupt_check(err, EX_TEMPFAIL) == -1) {
		error_prefix(err, "password prompt");
		return -1;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return 1;
	if (!isatty(fd) || tcgetattr(fd, &saved) == -1) {
		close(fd);
		return 1;
	}
	if (host == NULL)
		host = acct->n_hosts > 0 ? acct->hosts[0] : "?";
	if (acct->user != NULL)
		snprintf(prompt, sizeof(prompt),
		    "Password for %s@%s: ", acct->user, host);
	else
		snprintf(prompt, sizeof(prompt), "Password for account %s: ",
		    acct->name != NULL ? acct->name : "?");

	prompt_interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_signal; /* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &sa, &old[i]);

	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL | ICANON;
	rc = -1;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == -1) {
		error_set(err, EX_CONFIG, "/dev/tty: cannot turn echo off: %s",
		    strerror(errno));
	} else {
		if (write(fd, prompt, strlen(prompt)) == -1) {
			/* Still read: the user may see nothing but can type. */
		}
		rc = read_tty_line(fd, out, err);
		/* Restore on every path, before anything else can happen. */
		tcsetattr(fd, TCSAFLUSH, &saved);
	}
	for (i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	close(fd);
	/* SIGTERM, SIGHUP and SIGINT mean what they mean elsewhere: the
	 * run stops and a message already read is queued (interrupt.h). */
	interrupt_raise(prompt_interrupted);
	if (rc == -1 && interrupt_check(err, EX_TEMPFAIL) == -1)
		error_prefix(err, "password prompt");
	if (rc == 0 && out->len == 0)
		rc = error_set(err, EX_CONFIG, "no password entered");
	if (rc == -1)
		buf_wipe(out);
	return rc;
}

int
secret_get_password(const struct account *acct, const char *host,
    struct buf *out, struct error *err)
{
	int r;

	if (acct->has_password) {
		if (buf_append(out, buf_str(&acct->password),
			acct->password.len, err) == -1) {
			buf_wipe(out);
			return -1;
		}
		first_line(out);
		return 0;
	}
	if (acct->password_file != NULL) {
		if (read_password_file("password_file", acct->password_file,
			acct->system, out, err) == -1) {
			buf_wipe(out);
			return -1;
		}
		return 0;
	}
	if (acct->password_command != NULL)
		return run_command("password_command", acct->password_command,
		    acct->system, SECRET_COMMAND_TIMEOUT_MS,
		    SECRET_COMMAND_OUTPUT_MAX, out, err);
	/* The system account's password is not the caller's to type. */
	r = acct->system && sysmode_restricted()
		? 1
		: prompt_password(acct, host, out, err);
	if (r <= 0)
		return r;
	return error_set(err, EX_CONFIG,
	    "no password configured for account %s (password, password_file "
	    "or password_command)",
	    acct->name != NULL ? acct->name : "?");
}

int
secret_get_client_secret(
    const struct account *acct, struct buf *out, struct error *err)
{
	if (acct->has_oauth2_client_secret) {
		if (buf_append(out, buf_str(&acct->oauth2_client_secret),
			acct->oauth2_client_secret.len, err) == -1) {
			buf_wipe(out);
			return -1;
		}
		first_line(out);
		return 0;
	}
	if (acct->oauth2_client_secret_file != NULL) {
		if (read_password_file("oauth2_client_secret_file",
			acct->oauth2_client_secret_file, acct->system, out,
			err) == -1) {
			buf_wipe(out);
			return -1;
		}
		return 0;
	}
	if (acct->oauth2_client_secret_command != NULL)
		return run_command("oauth2_client_secret_command",
		    acct->oauth2_client_secret_command, acct->system,
		    SECRET_COMMAND_TIMEOUT_MS, SECRET_COMMAND_OUTPUT_MAX, out,
		    err);
	return 0; /* a public client (RFC 6749 2.1) */
}
