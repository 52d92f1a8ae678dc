/* SPDX-License-Identifier: ISC */
/* Unit tests for fdio.c: the write and read loops, whole files, the
 * clock, random bytes. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "interrupt.h"

/* More than a pipe holds, so the writer must loop. */
#define BIG (256 * 1024)

static void
test_write_all_and_read_full(void **state)
{
	char *out = malloc(BIG), *in = malloc(BIG + 1);
	int fds[2];
	pid_t pid;
	size_t i;
	int status;

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < BIG; i++)
		out[i] = (char)(i * 7);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(fdio_write_all(fds[1], out, BIG, false) == 0 ? 0 : 1);
	}
	close(fds[1]);
	/* Up to n or the end: one more byte asked for, the end is seen. */
	assert_int_equal(fdio_read_full(fds[0], in, BIG + 1), BIG);
	assert_memory_equal(in, out, BIG);
	assert_int_equal(fdio_read_full(fds[0], in, 1), 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(out);
	free(in);
}

static void
test_write_all_error(void **state)
{
	int fds[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	errno = 0;
	assert_int_equal(fdio_write_all(fds[1], "x", 1, false), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);
	assert_int_equal(fdio_write_all(-1, "x", 1, false), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fdio_read_full(-1, &fds, 1), -1);
	assert_int_equal(errno, EBADF);
	/* Nothing to write is no write at all. */
	assert_int_equal(fdio_write_all(-1, "", 0, false), 0);
}

/* A non-blocking descriptor with nothing in it yet: fdio_read() waits. */
static void
test_read_waits_on_nonblocking(void **state)
{
	char buf[16];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		usleep(100 * 1000);
		_exit(write(fds[1], "late", 4) == 4 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(fdio_read(fds[0], buf, sizeof(buf), false), 4);
	assert_memory_equal(buf, "late", 4);
	assert_int_equal(fdio_read(fds[0], buf, sizeof(buf), true), 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(fdio_read(-1, buf, 1, false), -1);
	assert_int_equal(errno, EBADF);
}

/* Once a signal of interrupt.h was caught, an interruptible read ends
 * with EINTR before it blocks; the other kind reads on. */
static void
test_read_interrupted(void **state)
{
	char buf[4];
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "ab", 2), 2);
	interrupt_install();
	interrupt_raise(SIGTERM);
	assert_int_equal(interrupt_caught(), SIGTERM);
	errno = 0;
	assert_int_equal(fdio_read(fds[0], buf, sizeof(buf), true), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(fdio_read(fds[0], buf, sizeof(buf), false), 2);
	close(fds[0]);
	close(fds[1]);
}

static void
test_read_file(void **state)
{
	char path[] = "/tmp/test_fdio.XXXXXX";
	char *data;
	size_t len;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\nworld\n", 12), 12);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	/* One byte more than the size: the whole file, terminated. */
	assert_int_equal(fdio_read_file(fd, 13, &data, &len), 0);
	assert_int_equal(len, 12);
	assert_string_equal(data, "hello\nworld\n");
	free(data);
	/* Less than the size: that much, so a caller sees the file grew. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fdio_read_file(fd, 5, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	/* An empty file is an empty string. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fdio_read_file(fd, 1, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	close(fd);
	unlink(path);
	/* A failed read leaves nothing to free. */
	data = (char *)path;
	assert_int_equal(fdio_read_file(-1, 10, &data, &len), -1);
	assert_int_equal(errno, EBADF);
	assert_null(data);
	assert_int_equal(len, 0);
}

static void
test_now_ms(void **state)
{
	long long a, b;

	(void)state;
	a = fdio_now_ms();
	usleep(20 * 1000);
	b = fdio_now_ms();
	assert_true(a > 0);
	assert_true(b - a >= 20);
	assert_true(b - a < 10000);
}

static void
test_random(void **state)
{
	unsigned char a[16], b[16], z[16];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(z, 0, sizeof(z));
	fdio_random(a, sizeof(a));
	fdio_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, z, sizeof(a));
	fdio_random(z, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_all_and_read_full),
	    cmocka_unit_test(test_write_all_error),
	    cmocka_unit_test(test_read_waits_on_nonblocking),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_now_ms),
	    cmocka_unit_test(test_random),
	    /* Last: the signal it records stays recorded. */
	    cmocka_unit_test(test_read_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
