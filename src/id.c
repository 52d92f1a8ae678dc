/* SPDX-License-Identifier: ISC */
/*
 * Unique names and random hex digits (id.h), from the kernel's random
 * bytes when it has them at once, else from the clock; the time and the
 * pid in every name keep it unique either way.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/types.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "id.h"

static void
random_fill(unsigned char *p, size_t n)
{
	struct timespec ts;
	size_t i;

	if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	/* Unpredictability is not needed (mime_scan_7bit() keeps "=_" out
	 * of the content); uniqueness comes from time and pid too. */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(((unsigned long)ts.tv_nsec ^
					   (unsigned long)getpid() << 7) >>
				       (i % 8 * 4));
}

void
id_unique(char *id, size_t size)
{
	static unsigned counter;
	unsigned char rnd[6];
	struct timespec ts;
	unsigned c;

	c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	random_fill(rnd, sizeof(rnd));
	snprintf(id, size, "%llx.%ld.%u.%02x%02x%02x%02x%02x%02x",
	    (unsigned long long)ts.tv_sec, (long)getpid(), c, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5]);
}

void
id_random_hex(char *dst, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[ID_RANDOM_HEX_MAX / 2];
	size_t i;

	if (n > sizeof(rnd) * 2)
		n = sizeof(rnd) * 2;
	random_fill(rnd, (n + 1) / 2);
	for (i = 0; i < n; i++)
		dst[i] = hex[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	dst[n] = '\0';
}
