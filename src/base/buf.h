/* SPDX-License-Identifier: ISC */
/*
 * Growable byte buffer that is always NUL-terminated and never grows past
 * a cap chosen by its owner (after git's strbuf).  Secrets live in buffers
 * released with buf_wipe(), which clears the memory before freeing it.
 *
 * Invariants, from buf_init() on:
 * - data is never NULL and data[len] is always '\0': data can be passed
 *   where a C string is wanted, also before anything was added;
 * - cap == 0 means the buffer owns no memory: data is then a shared empty
 *   string that must not be written to;
 * - len <= max, and len < cap once cap > 0;
 * - buf_free() and buf_wipe() return the buffer to that first state, so it
 *   can be used again or freed twice.
 * A struct buf that was only zeroed is not initialised: buf_init() it.
 */
#ifndef MAILSUB_BUF_H
#define MAILSUB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct error;

struct buf {
	char *data; /* never NULL, always NUL-terminated (see above) */
	size_t len;
	size_t cap;
	size_t max; /* the buffer never holds more than this many bytes */
};

/* Initialise an empty buffer that may hold at most max bytes. */
void buf_init(struct buf *b, size_t max);
/* Release the memory; buf_free() on an initialised empty buffer is a no-op. */
void buf_free(struct buf *b);
/* Clear the bytes (explicit_bzero), then release them: for secrets. */
void buf_wipe(struct buf *b);
/* Forget the contents but keep the memory. */
void buf_reset(struct buf *b);
/* Append bytes; fails with EX_OSERR on
 * out of memory and with the caller's code when the cap would be passed
 * (error message names the cap).  Return 0 or -1. */
int buf_append(struct buf *b, const void *p, size_t n, struct error *err)
    __attribute__((warn_unused_result));
int buf_appends(struct buf *b, const char *s, struct error *err)
    __attribute__((warn_unused_result));
int buf_addch(struct buf *b, char c, struct error *err)
    __attribute__((warn_unused_result));
int buf_printf(struct buf *b, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));
int buf_vprintf(struct buf *b, struct error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0), warn_unused_result));
/* The contents as a C string (b->data; "" for an empty buffer). */
const char *buf_str(const struct buf *b);
/* Hand the storage to the caller (NUL-terminated, never NULL on success) and
 * leave the buffer empty. */
char *buf_detach(struct buf *b);

/* explicit_bzero where the C library has it, a volatile loop otherwise. */
void secure_wipe(void *p, size_t n);

#endif
