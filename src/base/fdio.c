/* SPDX-License-Identifier: ISC */
/*
 * The write loop, the read loop, the whole-file read, the clock and the
 * random bytes: one of each.
 */
#include "autoconfig.h"

#include <sys/random.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "interrupt.h"

int
fdio_write_all(int fd, const void *p, size_t n, bool interruptible)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0 && errno == EINTR &&
		    !(interruptible && interrupt_caught()))
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
fdio_read(int fd, void *p, size_t n, bool interruptible)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t got;

		/* A poll first, so a signal just before it is seen. */
		if (interruptible && interrupt_poll(&pfd, 1, -1) == -1)
			return -1;
		got = read(fd, p, n);
		if (got >= 0)
			return got;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* A non-blocking descriptor (stdin may be one): wait. */
		if (!interruptible && poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
}

ssize_t
fdio_read_full(int fd, void *p, size_t n)
{
	char *q = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, q + got, n - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
fdio_read_file(int fd, size_t max, char **data, size_t *len)
{
	char *b;
	ssize_t got;
	int saved;

	*data = NULL;
	*len = 0;
	if ((b = malloc(max + 1)) == NULL)
		return -1;
	if ((got = fdio_read_full(fd, b, max)) == -1) {
		saved = errno;
		/* The file may hold a secret. */
		secure_wipe(b, max + 1);
		free(b);
		errno = saved;
		return -1;
	}
	b[got] = '\0';
	*data = b;
	*len = (size_t)got;
	return 0;
}

long long
fdio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fdio_random(void *p, size_t n)
{
	static unsigned counter;
	unsigned char *q = p;
	struct timespec ts;
	unsigned long mix;
	size_t i;

	if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	mix = (unsigned long)ts.tv_nsec ^ (unsigned long)getpid() << 7 ^
	      (unsigned long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)
		  << 20;
	for (i = 0; i < n; i++)
		q[i] = (unsigned char)(mix >> (i % sizeof(mix) * 8) ^ i);
}

void
fdio_close_from(int first)
{
	long max;
	int fd;

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > FDIO_CLOSE_SCAN_MAX)
		max = FDIO_CLOSE_SCAN_MAX;
	for (fd = first; fd < max; fd++)
		(void)close(fd);
}
