/* SPDX-License-Identifier: ISC */
/*
 * Growable, capped, always-terminated buffer.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

void
secure_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
#endif
}

/* What data points to while the buffer owns no memory (cap 0). */
static char empty[1];

void
buf_init(struct buf *b, size_t max)
{
	b->data = empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	if (b->cap > 0)
		free(b->data);
	b->data = empty;
	b->len = b->cap = 0;
}

void
buf_wipe(struct buf *b)
{
	secure_wipe(b->data, b->cap);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap > 0)
		b->data[0] = '\0';
}

static int
grow(struct buf *b, size_t extra, struct error *err)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return error_set(err, EX_DATAERR,
		    "data exceeds the limit of %zu bytes", b->max);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	/* Never realloc a buffer that may hold a secret: copy, then wipe. */
	p = malloc(cap);
	if (p == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	if (b->cap > 0) {
		memcpy(p, b->data, b->len + 1);
		secure_wipe(b->data, b->cap);
		free(b->data);
	} else
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n, struct error *err)
{
	if (grow(b, n, err) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_appends(struct buf *b, const char *s, struct error *err)
{
	return buf_append(b, s, strlen(s), err);
}

int
buf_addch(struct buf *b, char c, struct error *err)
{
	return buf_append(b, &c, 1, err);
}

int
buf_vprintf(struct buf *b, struct error *err, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return error_set(err, EX_SOFTWARE, "bad format string");
	if (grow(b, (size_t)n, err) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, struct error *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, err, fmt, ap);
	va_end(ap);
	return r;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_detach(struct buf *b)
{
	char *p = b->cap > 0 ? b->data : calloc(1, 1);

	b->data = empty;
	b->len = b->cap = 0;
	return p;
}
