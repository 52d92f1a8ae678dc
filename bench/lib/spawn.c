/* SPDX-License-Identifier: ISC */
/*
 * spawn: run a command and print what it cost, for bench/lib/bench.py.
 *
 *   spawn [-n COUNT] [-i INPUT] [-p] [-e ERRFILE] -- PROGRAM [ARG]...
 *
 * Runs PROGRAM COUNT times in sequence (default 1), each with stdin from
 * INPUT (default /dev/null), stdout on /dev/null and stderr appended to
 * ERRFILE (default /dev/null), and prints one line:
 *
 *   WALL_SECONDS CPU_SECONDS MAXRSS_KIB EXIT_CODE
 *
 * With -p, stdin is a pipe that a feeder process (started before the
 * clock, its costs not counted) fills from INPUT by splice(2), as a
 * producer such as git or mutt would: the program cannot read the input
 * twice or see its size.
 *
 * WALL from just before vfork to just after wait4; CPU the children's
 * user + system time from wait4 (summed over the runs); MAXRSS the largest
 * ru_maxrss; EXIT_CODE the first non-zero status (128 + signal number for
 * a signal).  Why not Python's posix_spawn: Linux carries the parent's
 * peak RSS over an exec into ru_maxrss, so a child of a 15 MiB Python
 * process reports at least 15 MiB; this launcher is small (and static when
 * the C library allows), like /usr/bin/time.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* A feeder: INPUT into the write end of a pipe, until its end or until
 * the program closes the read end.  The pid, or -1. */
static pid_t
feeder(int in, int *pipe_out)
{
	int p[2];
	pid_t pid;

	if (pipe(p) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		for (;;) {
			ssize_t n = splice(in, NULL, p[1], NULL, 1 << 20, 0);

			if (n == 0)
				_exit(0);
			if (n == -1 && errno != EINTR)
				_exit(1);
		}
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		return -1;
	}
	*pipe_out = p[0];
	return pid;
}

int
main(int argc, char **argv)
{
	const char *input = "/dev/null", *errfile = "/dev/null";
	long count = 1, i;
	double wall = 0, cpu = 0;
	long maxrss = 0;
	int opt, rc = 0, devnull, use_pipe = 0;

	while ((opt = getopt(argc, argv, "n:i:pe:")) != -1) {
		switch (opt) {
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 'i':
			input = optarg;
			break;
		case 'e':
			errfile = optarg;
			break;
		case 'p':
			use_pipe = 1;
			break;
		default:
			return 64;
		}
	}
	if (optind >= argc || count < 1) {
		fprintf(stderr, "usage: spawn [-n COUNT] [-i INPUT] [-p] "
				"[-e ERRFILE] -- PROGRAM [ARG]...\n");
		return 64;
	}
	devnull = open("/dev/null", O_WRONLY);
	if (devnull == -1) {
		perror("/dev/null");
		return 71;
	}
	for (i = 0; i < count; i++) {
		struct rusage ru;
		int in, err, status;
		double t0, t1;
		pid_t pid, feed = -1;

		in = open(input, O_RDONLY);
		err = open(errfile, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (in == -1 || err == -1) {
			perror(in == -1 ? input : errfile);
			return 66;
		}
		if (use_pipe) {
			int r;

			feed = feeder(in, &r);
			if (feed == -1) {
				perror("feeder");
				return 71;
			}
			close(in);
			in = r;
		}
		t0 = now();
		pid = vfork();
		if (pid == 0) {
			dup2(in, 0);
			dup2(devnull, 1);
			dup2(err, 2);
			execv(argv[optind], argv + optind);
			_exit(127);
		}
		if (pid == -1) {
			perror("vfork");
			return 71;
		}
		while (wait4(pid, &status, 0, &ru) == -1)
			if (errno != EINTR) {
				perror("wait4");
				return 71;
			}
		t1 = now();
		close(in);
		close(err);
		if (feed != -1)
			while (waitpid(feed, NULL, 0) == -1 && errno == EINTR)
				;
		wall += t1 - t0;
		cpu += tv(ru.ru_utime) + tv(ru.ru_stime);
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		if (rc == 0) {
			if (WIFEXITED(status))
				rc = WEXITSTATUS(status);
			else if (WIFSIGNALED(status))
				rc = 128 + WTERMSIG(status);
		}
	}
	printf("%.6f %.6f %ld %d\n", wall, cpu, maxrss, rc);
	return 0;
}
