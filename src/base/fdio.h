/* SPDX-License-Identifier: ISC */
/*
 * System-call chores every layer shares: writes that finish, reads that
 * wait and resume, whole files, the monotonic clock deadlines count in,
 * and random bytes.  Errors come back as errno; the words are the
 * caller's, who knows what the descriptor is.  Compiled into the TLS
 * module as well (Makefile.am).
 */
#ifndef MAILSUB_FDIO_H
#define MAILSUB_FDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write all n bytes, resuming after EINTR; unless interruptible, where an
 * EINTR after a signal of interrupt.h was caught ends the write.  0, or
 * -1 with errno (EIO for a write that wrote nothing). */
int fdio_write_all(int fd, const void *p, size_t n, bool interruptible)
    __attribute__((warn_unused_result));

/*
 * One read(2) of up to n bytes that waits for a non-blocking descriptor
 * and resumes after EINTR.  When interruptible, it waits in
 * interrupt_poll() first and ends with -1 and errno EINTR once a signal
 * was caught.  The bytes read (0: the end), or -1 with errno.
 */
ssize_t fdio_read(int fd, void *p, size_t n, bool interruptible)
    __attribute__((warn_unused_result));

/* Read until n bytes or the end, resuming after EINTR: the bytes read, or
 * -1 with errno. */
ssize_t fdio_read_full(int fd, void *p, size_t n)
    __attribute__((warn_unused_result));

/* Up to max bytes of fd, to its end, into a new NUL-terminated buffer
 * (*data, free()), *len of them.  Asked for one byte more than fstat(2)
 * said, a file that changed while being read shows as *len != st_size.
 * 0, or -1 with errno (ENOMEM, or read's), and then nothing to free. */
int fdio_read_file(int fd, size_t max, char **data, size_t *len)
    __attribute__((warn_unused_result));

/* Milliseconds on CLOCK_MONOTONIC: for deadlines and durations. */
long long fdio_now_ms(void);

/* n random bytes from getrandom(2); where it cannot give them at once,
 * bytes from the time, the pid and a counter, which still differ from
 * one call to the next (callers need uniqueness, not secrecy). */
void fdio_random(void *p, size_t n);

/*
 * In a forked child before exec or a background run: close every
 * descriptor from first up, by close_range(2) where the C library has it,
 * else one by one below sysconf(_SC_OPEN_MAX), at most FDIO_CLOSE_SCAN_MAX.
 */
#define FDIO_CLOSE_SCAN_MAX 65536
void fdio_close_from(int first);

#endif
