/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: the queue file parser (queue_read_envelope) on a file
 * holding the input, then what the queue runner does with a parsed file:
 * the envelope view and the Message-ID search in the message part.
 */
#define _GNU_SOURCE 1
#include "autoconfig.h"

#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "flush.h"
#include "fuzz.h"
#include "queue.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_envelope env;
	struct queue_file qf;
	struct error err;
	int fd;

	/* A harness that cannot set up tests nothing: stop, do not pass. */
	fd = memfd_create("fuzz_queue", MFD_CLOEXEC);
	if (fd == -1 || write(fd, data, size) != (ssize_t)size) {
		perror("fuzz_queue: memfd");
		abort();
	}
	error_clear(&err);
	if (queue_read_envelope(fd, &qf, &err) == 0) {
		char mid[512];
		size_t off = (size_t)qf.msg_offset;

		queue_file_envelope(&qf, &env);
		if (off <= size)
			flush_find_message_id((const char *)data + off,
			    size - off, mid, sizeof(mid));
		queue_file_free(&qf);
	}
	close(fd);
	return 0;
}
