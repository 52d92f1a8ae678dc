/* SPDX-License-Identifier: ISC */
/*
 * Unique names and random hex digits (id.h), from fdio_random(); the
 * time and the pid in every name keep it unique whatever those bytes.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "id.h"

void
id_unique(char *id, size_t size)
{
	static unsigned counter;
	unsigned char rnd[6];
	struct timespec ts;
	unsigned c;

	c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	fdio_random(rnd, sizeof(rnd));
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
	fdio_random(rnd, (n + 1) / 2);
	for (i = 0; i < n; i++)
		dst[i] = hex[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	dst[n] = '\0';
}
