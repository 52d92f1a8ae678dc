/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: SMTP replies.  The first line goes to
 * smtp_parse_reply_line; the whole input, delivered in chunks whose sizes
 * come from the input itself, is read reply after reply by
 * smtp_read_reply over a memory transport, as conn.c would get it from a
 * server.
 */
#include "autoconfig.h"

#include <string.h>
#include <sys/types.h>

#include "conn.h"
#include "error.h"
#include "fuzz.h"
#include "smtp.h"

/* Replies read from one input at most (each consumes bytes anyway). */
#define FUZZ_REPLIES_MAX 64

struct memory {
	const uint8_t *data;
	size_t size, pos;
	size_t chunk; /* bytes per read, 1..16 from the first byte */
};

static ssize_t
mem_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct memory *m = ctx;
	size_t take = m->size - m->pos;

	(void)timeout_ms;
	(void)err;
	if (take > n)
		take = n;
	if (take > m->chunk)
		take = m->chunk;
	memcpy(p, m->data + m->pos, take);
	m->pos += take;
	return (ssize_t)take; /* 0 at the end: the server closed */
}

static int
mem_write(void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	(void)ctx;
	(void)p;
	(void)n;
	(void)timeout_ms;
	(void)err;
	return 0;
}

static void
mem_close(void *ctx)
{
	(void)ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport t;
	struct memory m;
	struct conn c;
	struct error err;
	const char *text, *nl;
	size_t text_len, line_len, i;
	bool more;
	int code;

	/* One line, as the parser sees it after conn_read_line. */
	nl = memchr(data, '\n', size);
	line_len = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	{
		char line[SMTP_REPLY_LINE_MAX];

		if (line_len < sizeof(line)) {
			memcpy(line, data, line_len);
			line[line_len] = '\0';
			error_clear(&err);
			(void)smtp_parse_reply_line(line, line_len, &code,
			    &more, &text, &text_len, &err);
		}
	}

	memset(&m, 0, sizeof(m));
	m.data = data;
	m.size = size;
	m.chunk = size > 0 ? (size_t)(data[0] & 15) + 1 : 1;
	memset(&t, 0, sizeof(t));
	t.read = mem_read;
	t.write = mem_write;
	t.close = mem_close;
	t.ctx = &m;
	conn_init(&c, &t, 1000);
	for (i = 0; i < FUZZ_REPLIES_MAX; i++) {
		struct smtp_reply r;
		char sum[SMTP_REPLY_LINE_MAX];

		smtp_reply_init(&r);
		error_clear(&err);
		if (smtp_read_reply(&c, &r, &err) == -1) {
			smtp_reply_free(&r);
			break;
		}
		smtp_reply_summary(&r, sum, sizeof(sum));
		if (r.code / 100 == 2)
			smtp_parse_ehlo(r.text, &(struct smtp_caps){0});
		smtp_reply_free(&r);
	}
	conn_free(&c);
	return 0;
}
