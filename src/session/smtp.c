/* SPDX-License-Identifier: ISC */
/*
 * SMTP wire layer: strict reply parsing, EHLO capabilities, and the data
 * path from the wire-form spool.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "error.h"
#include "smtp.h"

/* RFC 3030 2: a BDAT chunk may have any size; each costs a round trip,
 * so make them large. */
#define SMTP_BDAT_CHUNK (1024 * 1024)
/* How much of an offending line an error message quotes. */
#define QUOTE_MAX 100

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

void
smtp_reply_free(struct smtp_reply *r)
{
	if (r == NULL)
		return;
	/* An AUTH challenge (334) may be derived from a secret. */
	if (r->text != NULL)
		secure_wipe(r->text, r->text_len);
	free(r->text);
	smtp_reply_init(r);
}

static int
protocol_error(
    struct error *err, const char *what, const char *line, size_t len)
{
	char q[QUOTE_MAX * 4 + 1];

	error_escape(q, sizeof(q), line, len > QUOTE_MAX ? QUOTE_MAX : len);
	return error_set(err, EX_PROTOCOL, "%s: \"%s%s\"", what, q,
	    len > QUOTE_MAX ? "..." : "");
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
smtp_parse_reply_line(const char *line, size_t len, int *code, bool *more,
    const char **text, size_t *text_len, struct error *err)
{
	/* RFC 5321 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
	 * Reply-code [ SP textstring ] CRLF, with the code 2yz..5yz
	 * (1yz is never used in SMTP). */
	if (len < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) ||
	    !is_digit(line[2]) || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return protocol_error(err, "malformed reply line", line, len);
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*more = len > 3 && line[3] == '-';
	if (len > 4) {
		*text = line + 4;
		*text_len = len - 4;
	} else {
		*text = line + len;
		*text_len = 0;
	}
	return 0;
}

/* RFC 3463 2 (as used by RFC 2034): class "." subject "." detail, the
 * class matching the reply's first digit. */
static void
parse_esc(int code, const char *t, size_t len, char *esc, size_t size)
{
	size_t i = 0, part, digits;

	esc[0] = '\0';
	if (len < 5 || t[0] - '0' != code / 100 || t[1] != '.')
		return;
	i = 2;
	for (part = 0; part < 2; part++) {
		digits = 0;
		while (i < len && is_digit(t[i]) && digits < 4) {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return;
		if (part == 0) {
			if (i >= len || t[i] != '.')
				return;
			i++;
		}
	}
	if (i < len && t[i] != ' ')
		return;
	if (i >= size)
		return;
	memcpy(esc, t, i);
	esc[i] = '\0';
}

int
smtp_read_reply(struct conn *c, struct smtp_reply *r, struct error *err)
{
	char line[SMTP_REPLY_LINE_MAX + 1];
	struct buf text;
	bool more = true, bare_lf;
	size_t len, tlen;
	const char *t;
	int code;

	smtp_reply_free(r);
	buf_init(&text, SMTP_REPLY_TOTAL_MAX);
	while (more) {
		/* RFC 5321 4.5.3.1.5 bounds lines, not their number: an
		 * endless continuation must not take endless memory. */
		if (r->lines == SMTP_REPLY_LINES_MAX) {
			error_set(err, EX_PROTOCOL,
			    "reply has more than %d lines",
			    SMTP_REPLY_LINES_MAX);
			goto fail;
		}
		if (conn_read_line(
			c, line, sizeof(line), &len, &bare_lf, err) == -1)
			goto fail;
		/* RFC 5321 2.3.8: lines end in CRLF, nothing else. */
		if (bare_lf) {
			protocol_error(
			    err, "reply line ends in a bare LF", line, len);
			goto fail;
		}
		if (memchr(line, '\0', len) != NULL) {
			protocol_error(
			    err, "reply line contains a NUL byte", line, len);
			goto fail;
		}
		if (smtp_parse_reply_line(
			line, len, &code, &more, &t, &tlen, err) == -1)
			goto fail;
		/* RFC 5321 4.2.1: every line of a reply has the same code. */
		if (r->lines > 0 && code != r->code) {
			char what[80];

			snprintf(what, sizeof(what),
			    "reply code changed from %d to %d", r->code, code);
			protocol_error(err, what, line, len);
			goto fail;
		}
		if (r->lines == 0) {
			r->code = code;
			parse_esc(code, t, tlen, r->esc, sizeof(r->esc));
		} else if (buf_addch(&text, '\n', err) == -1)
			goto too_long;
		if (buf_append(&text, t, tlen, err) == -1)
			goto too_long;
		r->lines++;
	}
	r->text_len = text.len;
	r->text = buf_detach(&text);
	if (r->text == NULL) {
		smtp_reply_init(r);
		return error_set(err, EX_OSERR, "out of memory");
	}
	return 0;
too_long:
	if (err != NULL && err->exit_code != EX_OSERR)
		error_set(err, EX_PROTOCOL, "reply longer than %d bytes",
		    SMTP_REPLY_TOTAL_MAX);
fail:
	buf_wipe(&text);
	smtp_reply_init(r);
	return -1;
}

char *
smtp_reply_summary(const struct smtp_reply *r, char *dst, size_t size)
{
	char raw[SMTP_REPLY_LINE_MAX];
	const char *p, *end, *nl;
	size_t o, esc_len = strlen(r->esc), seg;
	bool first = true;
	int n;

	if (size == 0)
		return dst;
	if (r->code == 0) {
		dst[0] = '\0';
		return dst;
	}
	n = snprintf(raw, sizeof(raw), "%d", r->code);
	o = n > 0 ? (size_t)n : 0;
	p = r->text != NULL ? r->text : "";
	end = p + r->text_len;
	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		seg = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		/* Continuation lines repeat the enhanced code: say it once. */
		if (!first && esc_len > 0 && seg >= esc_len &&
		    memcmp(p, r->esc, esc_len) == 0 &&
		    (seg == esc_len || p[esc_len] == ' ')) {
			p += esc_len;
			seg -= esc_len;
			while (seg > 0 && *p == ' ') {
				p++;
				seg--;
			}
		}
		if (seg > 0 && o + 1 < sizeof(raw)) {
			raw[o++] = ' ';
			if (seg > sizeof(raw) - o)
				seg = sizeof(raw) - o;
			memcpy(raw + o, p, seg);
			o += seg;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
		first = false;
	}
	return error_escape(dst, size, raw, o);
}

static bool
keyword_is(const char *word, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(word, kw, len) == 0;
}

/* RFC 4422 3.1: sasl-mech = 1*20 (UPPER-ALPHA / DIGIT / "-" / "_"). */
static void
add_mech(struct smtp_caps *caps, const char *m, size_t len)
{
	char up[21];
	size_t i, have = strlen(caps->auth_mechs);

	if (len == 0 || len > 20)
		return;
	for (i = 0; i < len; i++) {
		char c = m[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
			c == '_'))
			return;
		up[i] = c;
	}
	up[len] = '\0';
	if (smtp_caps_has_auth(caps, up))
		return;
	if (have + (have > 0) + len + 1 > sizeof(caps->auth_mechs))
		return;
	if (have > 0)
		caps->auth_mechs[have++] = ' ';
	memcpy(caps->auth_mechs + have, up, len + 1);
}

static void
parse_ehlo_line(const char *p, size_t len, struct smtp_caps *caps)
{
	size_t kw = 0, i;

	while (kw < len && p[kw] != ' ' && p[kw] != '=')
		kw++;
	if (keyword_is(p, kw, "AUTH")) {
		/* "AUTH=PLAIN LOGIN" is the pre-RFC 2554 form that old
		 * servers still send. */
		caps->flags |= SMTP_CAP_AUTH;
		i = kw;
		while (i < len) {
			size_t start;

			while (i < len && (p[i] == ' ' || p[i] == '='))
				i++;
			start = i;
			while (i < len && p[i] != ' ')
				i++;
			add_mech(caps, p + start, i - start);
		}
		return;
	}
	if (kw < len && p[kw] == '=')
		return;
	if (keyword_is(p, kw, "SIZE")) {
		unsigned long long v = 0;
		bool ok = true;

		caps->flags |= SMTP_CAP_SIZE;
		i = kw;
		while (i < len && p[i] == ' ')
			i++;
		if (i == len)
			ok = false;
		/* RFC 1870 4: 0 or no value means no fixed maximum. */
		for (; i < len && ok; i++) {
			if (!is_digit(p[i]) || v > (~0ULL - 9) / 10)
				ok = false;
			else
				v = v * 10 + (unsigned)(p[i] - '0');
		}
		caps->size_limit = ok ? v : 0;
	} else if (keyword_is(p, kw, "PIPELINING"))
		caps->flags |= SMTP_CAP_PIPELINING;
	else if (keyword_is(p, kw, "8BITMIME"))
		caps->flags |= SMTP_CAP_8BITMIME;
	else if (keyword_is(p, kw, "SMTPUTF8"))
		caps->flags |= SMTP_CAP_SMTPUTF8;
	else if (keyword_is(p, kw, "DSN"))
		caps->flags |= SMTP_CAP_DSN;
	else if (keyword_is(p, kw, "STARTTLS"))
		caps->flags |= SMTP_CAP_STARTTLS;
	else if (keyword_is(p, kw, "CHUNKING"))
		caps->flags |= SMTP_CAP_CHUNKING;
	else if (keyword_is(p, kw, "ENHANCEDSTATUSCODES"))
		caps->flags |= SMTP_CAP_ENHANCEDSTATUSCODES;
	else if (keyword_is(p, kw, "BINARYMIME"))
		caps->flags |= SMTP_CAP_BINARYMIME;
}

void
smtp_parse_ehlo(const char *text, struct smtp_caps *caps)
{
	const char *p = text, *nl;
	size_t len, n;

	memset(caps, 0, sizeof(*caps));
	if (text == NULL)
		return;
	nl = strchr(p, '\n');
	len = nl != NULL ? (size_t)(nl - p) : strlen(p);
	/* RFC 5321 4.1.1.1: the first line is the server's domain and an
	 * optional greeting. */
	n = 0;
	while (n < len && p[n] != ' ')
		n++;
	if (n >= sizeof(caps->greeting_name))
		n = sizeof(caps->greeting_name) - 1;
	memcpy(caps->greeting_name, p, n);
	caps->greeting_name[n] = '\0';
	while (nl != NULL) {
		p = nl + 1;
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		parse_ehlo_line(p, len, caps);
	}
}

bool
smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech)
{
	const char *p = caps->auth_mechs;
	size_t mlen = strlen(mech);

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == mlen && strncasecmp(p, mech, n) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* The last two bytes of a message of size bytes ending in p[n - 1]
 * (n >= size when size < 2). */
static void
tail_of(const char *p, size_t n, unsigned long long size, char tail[2])
{
	tail[0] = '\r';
	tail[1] = '\n';
	if (size >= 2) {
		tail[0] = p[n - 2];
		tail[1] = p[n - 1];
	} else if (size == 1) {
		tail[0] = '\n';
		tail[1] = p[n - 1];
	}
}

/* RFC 5321 4.1.1.4: the terminator is CRLF.CRLF; a spool that does not
 * end in CRLF (it always should) must not glue the dot to the last
 * line. */
static int
end_data(struct conn *c, const char tail[2], struct error *err)
{
	if (tail[0] != '\r' || tail[1] != '\n')
		if (conn_write(c, "\r\n", 2, err) == -1)
			return -1;
	if (c->trace != NULL)
		c->trace(c->trace_arg, 'C', ".", 1, false);
	if (conn_write(c, ".\r\n", 3, err) == -1)
		return -1;
	return conn_flush(c, err);
}

int
smtp_send_data(struct conn *c, int fd, off_t offset, unsigned long long size,
    struct error *err)
{
	char tail[2];
	char *block;
	int rc;

	/* A message that fits the write buffer leaves with its dot in one
	 * write (one segment, nothing for Nagle to hold); a larger one goes
	 * from the spool to the link, by sendfile(2) where it can be. */
	if (size > CONN_WRITE_BUFFER - 5) {
		if (conn_send_file(c, fd, offset, (size_t)size, true, err) ==
		    -1)
			return -1;
		if (smtp_spool_tail(fd, offset, size, tail, err) == -1)
			return -1;
		return end_data(c, tail, err);
	}
	block = malloc(size > 0 ? (size_t)size : 1);
	if (block == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	rc = conn_read_spool(fd, block, (size_t)size, offset, err);
	if (rc == 0)
		rc = conn_write(c, block, (size_t)size, err);
	tail_of(block, (size_t)size, size, tail);
	free(block);
	if (rc == -1)
		return -1;
	return end_data(c, tail, err);
}

int
smtp_spool_tail(int fd, off_t offset, unsigned long long size, char tail[2],
    struct error *err)
{
	char last[2];
	size_t n = size >= 2 ? 2 : (size_t)size;

	if (n > 0 &&
	    conn_read_spool(fd, last, n, offset + (off_t)(size - n), err) == -1)
		return -1;
	tail_of(last, n, size, tail);
	return 0;
}

int
smtp_send_data_end(struct conn *c, const char tail[2], struct error *err)
{
	return end_data(c, tail, err);
}

/* Undo dot-stuffing in place: BDAT carries the message as it is (RFC 3030
 * 2).  *bol tells whether p starts a line, across chunk boundaries. */
static size_t
unstuff(char *p, size_t n, bool *bol)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const char *nl;
		size_t end;

		if (*bol) {
			*bol = false;
			if (p[i] == '.') {
				i++;
				continue;
			}
		}
		nl = memchr(p + i, '\n', n - i);
		end = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (o != i)
			memmove(p + o, p + i, end - i);
		o += end - i;
		i = end;
		if (nl != NULL)
			*bol = true;
	}
	return o;
}

int
smtp_send_bdat(struct conn *c, int fd, off_t offset, unsigned long long size,
    struct error *err)
{
	struct smtp_reply r;
	char *chunk, sum[SMTP_REPLY_LINE_MAX];
	unsigned long long left = size;
	bool bol = true, last;
	int rc = 0;

	chunk = malloc(SMTP_BDAT_CHUNK);
	if (chunk == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	smtp_reply_init(&r);
	do {
		size_t want =
		    left < SMTP_BDAT_CHUNK ? (size_t)left : SMTP_BDAT_CHUNK;
		size_t n;

		if (conn_read_spool(fd, chunk, want, offset, err) == -1) {
			rc = -1;
			break;
		}
		offset += (off_t)want;
		left -= want;
		last = left == 0;
		n = unstuff(chunk, want, &bol);
		if (conn_command(
			c, err, "BDAT %zu%s", n, last ? " LAST" : "") == -1 ||
		    conn_write(c, chunk, n, err) == -1) {
			rc = -1;
			break;
		}
		if (last)
			break;
		/* One reply per chunk, read before the next is sent: a
		 * refusal stops the transfer early. */
		if (conn_flush(c, err) == -1 ||
		    smtp_read_reply(c, &r, err) == -1) {
			rc = -1;
			break;
		}
		if (r.code / 100 != 2) {
			smtp_reply_summary(&r, sum, sizeof(sum));
			error_set_reply(
			    err, ERROR_REPLY_DATA, r.code, "%s", sum);
			rc = -1;
			break;
		}
	} while (!last);
	smtp_reply_free(&r);
	free(chunk);
	if (rc == -1)
		return -1;
	return conn_flush(c, err);
}

size_t
smtp_dot_stuff_line(const char *line, size_t len, char *out)
{
	size_t o = 0;

	/* RFC 5321 4.5.2: a line starting with "." gets one more. */
	if (len > 0 && line[0] == '.')
		out[o++] = '.';
	memcpy(out + o, line, len);
	return o + len;
}

int
smtp_xtext(const char *in, char *out, size_t out_size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (out_size == 0)
		return -1;
	/* RFC 3461 4: xchar is "!".."~" except "+" and "="; everything
	 * else is "+" and two upper-case hex digits. */
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 33 && c <= 126 && c != '+' && c != '=') {
			if (o + 1 >= out_size)
				goto full;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= out_size)
				goto full;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
full:
	out[0] = '\0';
	return -1;
}
