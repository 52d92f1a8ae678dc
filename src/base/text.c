/* SPDX-License-Identifier: ISC */
/*
 * UTF-8, JSON strings, \xHH escaping and base64: one definition of each.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "text.h"

/* ---- UTF-8 --------------------------------------------------------------- */

/*
 * RFC 3629 4: how many bytes the sequence led by c takes (0: c leads none)
 * and the range its second byte must be in, which is what rules out
 * overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * anything past U+10FFFF (F4 90..BF, F5..FF).  C0 and C1 only ever lead
 * overlong forms.
 */
static size_t
lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0) {
		if (c == 0xe0)
			*lo = 0xa0;
		else if (c == 0xed)
			*hi = 0x9f;
		return 3;
	}
	if (c < 0xf5) {
		if (c == 0xf0)
			*lo = 0x90;
		else if (c == 0xf4)
			*hi = 0x8f;
		return 4;
	}
	return 0;
}

size_t
text_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo, hi;
	size_t k, i;

	if (n == 0 || (k = lead(p[0], &lo, &hi)) == 0 || n < k)
		return 0;
	if (k > 1 && (p[1] < lo || p[1] > hi))
		return 0;
	for (i = 2; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

void
text_utf8_init(struct text_utf8 *u)
{
	memset(u, 0, sizeof(*u));
}

void
text_utf8_feed(struct text_utf8 *u, const unsigned char *p, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (u->need > 0) {
			if (c >= u->lo && c <= u->hi) {
				u->need--;
				u->lo = 0x80;
				u->hi = 0xbf;
				continue;
			}
			/* Cut short: c is read again as a lead byte. */
			u->bad = true;
			u->need = 0;
		}
		if ((k = lead(c, &u->lo, &u->hi)) == 0)
			u->bad = true;
		else
			u->need = (unsigned)k - 1;
	}
}

bool
text_utf8_done(const struct text_utf8 *u)
{
	return !u->bad && u->need == 0;
}

bool
text_utf8_valid(const char *s, size_t n)
{
	struct text_utf8 u;

	text_utf8_init(&u);
	text_utf8_feed(&u, (const unsigned char *)s, n);
	return text_utf8_done(&u);
}

/* ---- JSON ---------------------------------------------------------------- */

int
text_append_utf8(struct buf *out, const char *s, bool json, struct error *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t k = text_utf8_len(p, n);
		int rc;

		/* RFC 8259 7: the quote, the backslash and the controls
		 * must be escaped; DEL is, so no terminal sees it. */
		if (json && (*p == '"' || *p == '\\'))
			rc = buf_printf(out, err, "\\%c", *p);
		else if (json && (*p < 0x20 || *p == 0x7f))
			rc = buf_printf(out, err, "\\u%04x", *p);
		else if (k == 0)
			/* RFC 8259 8.1: JSON text is UTF-8; a byte that is
			 * not becomes U+FFFD. */
			rc = buf_appends(
			    out, json ? "\\ufffd" : "\xef\xbf\xbd", err);
		else
			rc = buf_append(out, p, k, err);
		if (rc == -1)
			return -1;
		if (k == 0)
			k = 1;
		p += k;
		n -= k;
	}
	return 0;
}

int
text_json_string(struct buf *out, const char *s, struct error *err)
{
	if (buf_addch(out, '"', err) == -1 ||
	    text_append_utf8(out, s != NULL ? s : "", true, err) == -1)
		return -1;
	return buf_addch(out, '"', err);
}

/* ---- \xHH ---------------------------------------------------------------- */

static bool
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool
text_is_escape(const char *s)
{
	return s[0] == '\\' && s[1] == 'x' && is_lower_hex(s[2]) &&
	       is_lower_hex(s[3]);
}

static bool
plain(unsigned char c, unsigned flags)
{
	if (c == ' ')
		return !(flags & TEXT_ESC_SPACE);
	if (c == '"')
		return !(flags & TEXT_ESC_QUOTE);
	return c > 0x20 && c < 0x7f && c != '\\';
}

size_t
text_escape(char *dst, size_t size, const char *s, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (size == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((flags & TEXT_ESC_KEEP) && len - i >= 4 &&
		    text_is_escape(s + i)) {
			if (o + 4 >= size)
				break;
			memcpy(dst + o, s + i, 4);
			o += 4;
			i += 3;
		} else if (plain(c, flags)) {
			if (o + 1 >= size)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

/* ---- base64 -------------------------------------------------------------- */

size_t
text_base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;
	size_t i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	return (size_t)(o - out);
}

int
text_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
text_each_line(const char *p, size_t n,
    int (*line)(void *arg, const char *s, size_t len), void *arg)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - p) : n;

		if (line(arg, p, len) == -1)
			return -1;
		if (nl == NULL)
			break;
		n -= len + 1;
		p = nl + 1;
	}
	return 0;
}
