/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for compose mode: the mime.c encoders (base64 lines,
 * quoted-printable line rules, the 7bit scanner, RFC 2047 encoded-words,
 * RFC 2231 parameters, folding, types by extension), each checked by
 * decoding what it wrote; and compose.c's message shapes, bad input (66,
 * 64), Bcc, and the streaming into the spool.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "compose.h"
#include "error.h"
#include "message.h"
#include "mime.h"
#include "text.h"

static char tmpdir[64];
static struct error err;

/* ---- small decoders, independent of mime.c ------------------------------ */

static int
b64val(int c)
{
	const char *a =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != 0 ? strchr(a, c) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/* Base64 text (newlines ignored) -> bytes; -1 on a bad character. */
static long
b64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned v = 0;
	int bits = 0;
	long o = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int d;

		if (s[i] == '\n' || s[i] == '=')
			continue;
		if ((d = b64val(s[i])) < 0)
			return -1;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* Quoted-printable -> bytes (line breaks as "\n"), checking the line
 * rules on the way: -1 when a line is too long, holds a character that
 * must be encoded, or ends in whitespace. */
static long
qp_decode(const char *s, size_t n, unsigned char *out)
{
	long o = 0;
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return -1;
			col = 0;
			out[o++] = '\n';
			continue;
		}
		if (++col > MIME_QP_LINE_MAX)
			return -1;
		if (c == '=') {
			if (i + 1 < n && s[i + 1] == '\n') {
				i++; /* soft line break */
				col = 0;
				continue;
			}
			if (i + 2 >= n || text_hexval(s[i + 1]) < 0 ||
			    text_hexval(s[i + 2]) < 0)
				return -1;
			out[o++] = (unsigned char)(text_hexval(s[i + 1]) << 4 |
						   text_hexval(s[i + 2]));
			i += 2;
			col += 2;
			if (col > MIME_QP_LINE_MAX)
				return -1;
			continue;
		}
		if (c != ' ' && c != '\t' && (c < 33 || c > 126))
			return -1;
		out[o++] = c;
	}
	return o;
}

/* One encoded-word "=?UTF-8?X?...?=" -> bytes appended to out. */
static int
word_decode(const char *w, size_t n, struct buf *out)
{
	unsigned char tmp[256];
	long k;
	size_t i;

	if (n < 12 || strncmp(w, "=?UTF-8?", 8) != 0 || w[9] != '?' ||
	    strncmp(w + n - 2, "?=", 2) != 0)
		return -1;
	if (w[8] == 'B') {
		k = b64_decode(w + 10, n - 12, tmp);
		if (k < 0)
			return -1;
		return buf_append(out, tmp, (size_t)k, NULL);
	}
	if (w[8] != 'Q')
		return -1;
	for (i = 10; i < n - 2; i++) {
		char c = w[i];

		if (c == '_')
			c = ' ';
		else if (c == '=') {
			if (text_hexval(w[i + 1]) < 0 ||
			    text_hexval(w[i + 2]) < 0)
				return -1;
			c = (char)(text_hexval(w[i + 1]) << 4 |
				   text_hexval(w[i + 2]));
			i += 2;
		} else if (strchr("!*+-/", c) == NULL &&
			   !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			       (c >= '0' && c <= '9')))
			return -1; /* RFC 2047 5(3) */
		if (buf_addch(out, c, NULL) == -1)
			return -1;
	}
	return 0;
}

/* Words separated by spaces (or folds) -> the text, each word checked. */
static char *
words_decode(const char *s)
{
	struct buf out;

	buf_init(&out, 1 << 20);
	while (*s != '\0') {
		size_t n;

		while (*s == ' ' || *s == '\n')
			s++;
		n = strcspn(s, " \n");
		if (n == 0)
			break;
		assert_true(n <= MIME_WORD_MAX);
		if (word_decode(s, n, &out) == -1) {
			buf_free(&out);
			return NULL;
		}
		s += n;
	}
	return buf_detach(&out);
}

static bool
valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len = p[i] < 0x80    ? 1
			     : p[i] >= 0xf0 ? 4
			     : p[i] >= 0xe0 ? 3
			     : p[i] >= 0xc2 ? 2
					    : 0;
		size_t k;

		if (len == 0 || i + len > n)
			return false;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* ---- base64 -------------------------------------------------------------- */

static void
test_base64_vectors(void **state)
{
	/* RFC 4648 10. */
	static const char *const in[] = {
	    "", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {
	    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < 7; i++) {
		n = text_base64(
		    (const unsigned char *)in[i], strlen(in[i]), out);
		assert_int_equal(n, strlen(want[i]));
		assert_memory_equal(out, want[i], n);
	}
}

static void
test_base64_lines(void **state)
{
	unsigned char in[1000], back[1000];
	char all[MIME_B64_LINES_SIZE(1000)], part[MIME_B64_LINES_SIZE(1000)];
	size_t i, n, m = 0, line = 0;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + (i >> 3));
	n = mime_base64_lines(in, sizeof(in), all);
	assert_true(n <= sizeof(all));
	/* RFC 2045 6.8: 76 characters per line, the last may be shorter. */
	for (i = 0; i < n; i++) {
		if (all[i] == '\n') {
			assert_true(line == MIME_B64_LINE_CHARS || i == n - 1);
			line = 0;
		} else
			line++;
	}
	assert_int_equal(all[n - 1], '\n');
	assert_int_equal(b64_decode(all, n, back), sizeof(in));
	assert_memory_equal(back, in, sizeof(in));
	/* Streamed in multiples of 57: the same text. */
	for (i = 0; i < sizeof(in); i += 3 * MIME_B64_LINE_BYTES) {
		size_t take = sizeof(in) - i < 3 * MIME_B64_LINE_BYTES
				  ? sizeof(in) - i
				  : 3 * MIME_B64_LINE_BYTES;

		m += mime_base64_lines(in + i, take, part + m);
	}
	assert_int_equal(m, n);
	assert_memory_equal(part, all, n);
	/* Exactly one line, and nothing for nothing. */
	assert_int_equal(mime_base64_lines(in, 57, all), 77);
	assert_int_equal(mime_base64_lines(in, 58, all), 77 + 5);
	assert_int_equal(mime_base64_lines(in, 0, all), 0);
}

/* ---- quoted-printable
 * --------------------------------------------------------- */

/* Encode in pieces of size step; return the text (malloc'd). */
static char *
qp(const void *in, size_t n, size_t step, size_t *out_len)
{
	const unsigned char *p = in;
	struct mime_qp q;
	char *out = malloc(MIME_QP_OUT_MAX(n) + 16);
	size_t o = 0, i;

	assert_non_null(out);
	mime_qp_init(&q);
	for (i = 0; i < n; i += step) {
		size_t take = n - i < step ? n - i : step;
		char *tmp = malloc(MIME_QP_OUT_MAX(take));
		size_t k = mime_qp_encode(&q, p + i, take, tmp);

		assert_true(k <= MIME_QP_OUT_MAX(take));
		memcpy(out + o, tmp, k);
		o += k;
		free(tmp);
	}
	o += mime_qp_finish(&q, out + o);
	out[o] = '\0';
	*out_len = o;
	return out;
}

static void
expect_qp(const char *in, const char *want)
{
	size_t n;
	char *got = qp(in, strlen(in), strlen(in) + 1, &n);

	assert_string_equal(got, want);
	free(got);
}

static void
test_qp_rules(void **state)
{
	(void)state;
	expect_qp("", "");
	expect_qp("hello\n", "hello\n");
	expect_qp("a=b\n", "a=3Db\n");
	/* RFC 2045 6.7 (3): whitespace before a line break is encoded. */
	expect_qp("a \n", "a=20\n");
	expect_qp("a\t\n", "a=09\n");
	expect_qp("a  b\n", "a  b\n");
	expect_qp("a  \n", "a =20\n");
	expect_qp("Gr\xc3\xbc\xc3\x9f"
		  "e\n",
	    "Gr=C3=BC=C3=9Fe\n");
	/* CRLF is a line break; a lone CR is data. */
	expect_qp("a\r\nb\n", "a\nb\n");
	expect_qp("a\rb\n", "a=0Db\n");
	expect_qp("a \r\n", "a=20\n");
	expect_qp("\r\r\n", "=0D\n");
	/* No final line break: a soft one, so decoding adds none. */
	expect_qp("abc", "abc=\n");
	expect_qp("abc ", "abc=20=\n");
}

static void
check_qp_roundtrip(const unsigned char *in, size_t n, size_t step)
{
	size_t len;
	char *enc = qp(in, n, step, &len);
	unsigned char *back = malloc(n + 16);
	long k = qp_decode(enc, len, back);
	size_t i, j;

	assert_true(k >= 0);
	/* CRLF comes back as LF: the same text. */
	for (i = j = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			continue;
		assert_true(j < (size_t)k);
		assert_int_equal(back[j], in[i]);
		j++;
	}
	assert_int_equal(j, (size_t)k);
	free(enc);
	free(back);
}

static void
test_qp_long_lines_and_chunks(void **state)
{
	unsigned char in[5000];
	size_t i, steps[] = {1, 2, 3, 7, 75, 76, 77, 4096, sizeof(in)};

	(void)state;
	/* A 5000-character line of '=' (3 characters each) and of 'a'. */
	memset(in, '=', sizeof(in));
	check_qp_roundtrip(in, sizeof(in), sizeof(in));
	memset(in, 'a', sizeof(in));
	check_qp_roundtrip(in, sizeof(in), 13);
	/* Everything, in every chunking: whitespace and CR at chunk ends
	 * must still be encoded right. */
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)((i * 131 + i / 7) & 0xff);
	for (i = 0; i < sizeof(in); i += 37)
		in[i] = i % 2 ? ' ' : '\n';
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		check_qp_roundtrip(in, sizeof(in), steps[i]);
	memcpy(in, "x \r\n \r \t\n\t", 10);
	for (i = 1; i <= 10; i++)
		check_qp_roundtrip(in, 10, i);
}

/* ---- the 7bit scanner
 * ---------------------------------------------------------- */

static bool
scan7(const char *s, size_t n, bool *utf8)
{
	struct mime_scan sc;
	size_t i;

	mime_scan_init(&sc);
	/* Byte by byte: the state must carry across blocks. */
	for (i = 0; i < n; i++)
		mime_scan_feed(&sc, (const unsigned char *)s + i, 1);
	if (utf8 != NULL)
		*utf8 = mime_scan_utf8(&sc);
	return mime_scan_7bit(&sc);
}

static void
test_scan(void **state)
{
	char line[1001];
	bool u;

	(void)state;
	assert_true(scan7("", 0, &u));
	assert_true(u);
	assert_true(scan7("hello\n.\nworld\n", 14, NULL));
	assert_false(scan7("no newline", 10, NULL));
	assert_false(scan7("caf\xc3\xa9\n", 6, &u));
	assert_true(u);
	assert_false(scan7("a\r\nb\n", 5, NULL));
	assert_false(scan7("a\0b\n", 4, NULL));
	/* "=_" could start a boundary of ours. */
	assert_false(scan7("x=_y\n", 5, NULL));
	assert_true(scan7("x= _y\n", 6, NULL));
	/* RFC 5322 2.1.1: 998 characters, not 999. */
	memset(line, 'a', 998);
	line[998] = '\n';
	assert_true(scan7(line, 999, NULL));
	memset(line, 'a', 999);
	line[999] = '\n';
	assert_false(scan7(line, 1000, NULL));
	/* UTF-8 validity. */
	scan7("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 10, &u);
	assert_true(u);
	scan7("\xe9t\xe9\n", 4, &u); /* Latin-1 */
	assert_false(u);
	scan7("\xc0\x80", 2, &u); /* overlong NUL */
	assert_false(u);
	scan7("\xe2\x82", 2, &u); /* cut short */
	assert_false(u);
	scan7("\xf5\x80\x80\x80", 4, &u); /* past U+10FFFF */
	assert_false(u);
}

/* ---- RFC 2047
 * ------------------------------------------------------------------- */

static void
check_words(const char *text)
{
	struct buf b;
	char *back;
	size_t n = strlen(text);
	const char *s;

	buf_init(&b, 1 << 20);
	assert_int_equal(mime_encode_words(&b, text, n, &err), 0);
	/* Only encoded-words, each within the limit, each whole UTF-8. */
	for (s = buf_str(&b); *s != '\0';) {
		size_t wl = strcspn(s, " ");
		struct buf one;

		assert_true(wl <= MIME_WORD_MAX);
		buf_init(&one, 1024);
		assert_int_equal(word_decode(s, wl, &one), 0);
		assert_true(valid_utf8((unsigned char *)one.data, one.len) ||
			    !valid_utf8((const unsigned char *)text, n));
		buf_free(&one);
		s += wl;
		if (*s == ' ')
			s++;
	}
	back = words_decode(buf_str(&b));
	assert_non_null(back);
	assert_string_equal(back, text);
	free(back);
	buf_free(&b);
}

static void
test_encoded_words(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	/* Mostly ASCII: Q is shorter. */
	assert_int_equal(
	    mime_encode_words(&b, "Backup f\xc3\xbcr Montag", 18, &err), 0);
	assert_string_equal(buf_str(&b), "=?UTF-8?Q?Backup_f=C3=BCr_Montag?=");
	buf_reset(&b);
	assert_int_equal(mime_encode_words(&b,
			     "Gr\xc3\xbc\xc3\x9f"
			     "e",
			     7, &err),
	    0);
	assert_string_equal(buf_str(&b), "=?UTF-8?B?R3LDvMOfZQ==?=");
	buf_reset(&b);
	/* Mostly non-ASCII: B is shorter. */
	assert_int_equal(
	    mime_encode_words(&b, "\xd0\x9f\xd1\x80\xd0\xb8", 6, &err), 0);
	assert_string_equal(buf_str(&b), "=?UTF-8?B?0J/RgNC4?=");
	buf_reset(&b);
	/* A phrase: '"', '.' and ',' are encoded, space is '_'. */
	assert_int_equal(
	    mime_encode_words(
		&b, "Johnathan Smith-Jones, \"Jr.\" \xc3\xa9", 31, &err),
	    0);
	assert_string_equal(buf_str(&b),
	    "=?UTF-8?Q?Johnathan_Smith-Jones=2C_=22Jr=2E=22_=C3=A9?=");
	buf_free(&b);

	check_words("Backup \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9 for "
		    "2024-05-01: all 17 filesystems OK, nothing to do");
	check_words("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb"
		    "\xb6\xe5\x90\x8d\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\xe9"
		    "\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d\xe3\x82\x92"
		    "\xe5\x88\x86\xe5\x89\xb2\xe3\x81\x97\xe3\x81\xbe\xe3\x81"
		    "\x99\xe3\x80\x82\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
		    "\x98\x80");
	check_words("a");
	check_words("=?UTF-8?Q?not_a_word?=");
}

static void
test_needs_words(void **state)
{
	char big[1000];

	(void)state;
	assert_false(mime_needs_words("Backup done", 11));
	assert_false(mime_needs_words("", 0));
	assert_true(mime_needs_words("caf\xc3\xa9", 5));
	assert_true(mime_needs_words("a =?b", 5));
	assert_true(mime_needs_words("a\x01", 2));
	memset(big, 'x', sizeof(big));
	assert_true(mime_needs_words(big, sizeof(big)));
	big[500] = ' ';
	assert_false(mime_needs_words(big, sizeof(big)));
}

/* ---- folding
 * ------------------------------------------------------------------------- */

static void
check_fold(const char *name, const char *value, size_t maxline)
{
	struct buf b, unfolded;
	const char *s;
	size_t i;

	buf_init(&b, 1 << 20);
	buf_init(&unfolded, 1 << 20);
	assert_int_equal(mime_fold(&b, name, value, strlen(value), &err), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	for (s = b.data; *s != '\0';) {
		size_t n = strcspn(s, "\n");
		bool text = false;

		assert_true(n <= maxline);
		if (s != b.data)
			assert_true(s[0] == ' ' || s[0] == '\t');
		for (i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t')
				text = true;
		assert_true(text); /* RFC 5322 3.2.2: no blank line */
		assert_int_equal(buf_append(&unfolded, s, n, NULL), 0);
		s += n + 1;
	}
	/* RFC 5322 2.2.3: unfolding removes the line breaks only. */
	assert_int_equal(strncmp(unfolded.data, name, strlen(name)), 0);
	assert_string_equal(unfolded.data + strlen(name) + 2, value);
	buf_free(&b);
	buf_free(&unfolded);
}

static void
test_fold(void **state)
{
	char v[2000];
	struct buf b;
	size_t i;

	(void)state;
	check_fold("Subject", "short", MIME_FOLD_WIDTH);
	for (i = 0; i < 600; i++)
		v[i] = i % 9 == 8 ? ' ' : (char)('a' + i % 26);
	v[600] = '\0';
	check_fold("Subject", v, MIME_FOLD_WIDTH);
	/* Runs of spaces and a trailing one. */
	check_fold("X-Spaces",
	    "a    b                                      "
	    "                                            "
	    "            c   ",
	    MIME_FOLD_WIDTH);
	/* A 500-character word gets a line of its own. */
	memset(v, 'w', 500);
	memcpy(v + 500, " tail", 6);
	check_fold("References", v, MIME_LINE_MAX);
	/* 1000 characters cannot fit in a line. */
	memset(v, 'w', 1000);
	v[1000] = '\0';
	buf_init(&b, 1 << 20);
	assert_int_equal(mime_fold(&b, "X", v, 1000, &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	buf_free(&b);
}

/* ---- RFC 2231
 * ------------------------------------------------------------------------ */

/* Undo mime_param's output: the value of attr. */
static char *
param_decode(const char *s, const char *attr)
{
	struct buf out;
	size_t al = strlen(attr);

	buf_init(&out, 1 << 16);
	while ((s = strstr(s, ";\n ")) != NULL) {
		s += 3;
		assert_int_equal(strncmp(s, attr, al), 0);
		s += al;
		if (s[0] == '=') {
			assert_int_equal(s[1], '"');
			for (s += 2; *s != '"'; s++) {
				if (*s == '\\')
					s++;
				assert_int_equal(buf_addch(&out, *s, NULL), 0);
			}
			continue;
		}
		s = strchr(s, '=') + 1;
		if (strncmp(s, "UTF-8''", 7) == 0)
			s += 7;
		for (; *s != '\0' && *s != ';'; s++) {
			if (*s == '%') {
				assert_int_equal(
				    buf_addch(&out,
					(char)(text_hexval(s[1]) << 4 |
					       text_hexval(s[2])),
					NULL),
				    0);
				s += 2;
			} else
				assert_int_equal(buf_addch(&out, *s, NULL), 0);
		}
	}
	return buf_detach(&out);
}

static void
check_param(const char *value, const char *want)
{
	struct buf b;
	char *back;
	const char *s;

	buf_init(&b, 1 << 16);
	assert_int_equal(mime_param(&b, "filename", value, &err), 0);
	if (want != NULL)
		assert_string_equal(b.data, want);
	for (s = b.data; *s != '\0';) {
		size_t n = strcspn(s, "\n");

		assert_true(n <= MIME_FOLD_WIDTH);
		s += n + (s[n] == '\n');
	}
	back = param_decode(b.data, "filename");
	assert_string_equal(back, value);
	free(back);
	buf_free(&b);
}

static void
test_param(void **state)
{
	(void)state;
	check_param("report.pdf", ";\n filename=\"report.pdf\"");
	check_param(
	    "a \"b\" \\c.txt", ";\n filename=\"a \\\"b\\\" \\\\c.txt\"");
	/* RFC 2231 4. */
	check_param("Gr\xc3\xbc\xc3\x9f"
		    "e.txt",
	    ";\n filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt");
	check_param("r\xc3\xa9sum\xc3\xa9 de la r\xc3\xa9union du comit\xc3\xa9"
		    " de direction, version d\xc3\xa9"
		    "finitive (2).pdf",
	    NULL);
	check_param("a-very-long-ascii-file-name-that-does-not-fit-in-a-quoted"
		    "-string-on-one-line.tar.gz",
	    NULL);
	check_param("*'%;()<>@,:\\\"/[]?= x", NULL);
}

static void
test_type_by_name(void **state)
{
	(void)state;
	assert_string_equal(mime_type_by_name("a.PDF"), "application/pdf");
	assert_string_equal(
	    mime_type_by_name("/x/y.tar.gz"), "application/gzip");
	assert_string_equal(mime_type_by_name("data.csv"), "text/csv");
	assert_null(mime_type_by_name(".profile"));
	assert_null(mime_type_by_name("dir.d/file"));
	assert_null(mime_type_by_name("file."));
	assert_null(mime_type_by_name("x.nosuchext"));
}

/* ---- compose
 * ------------------------------------------------------------------------ */

static struct account account;
static struct message_options mo;

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_compose.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	memset(&account, 0, sizeof(account));
	account.name = "test";
	account.from_header = ACCOUNT_FROM_KEEP;
	account.syslog_facility = -1;
	memset(&mo, 0, sizeof(mo));
	mo.header.envelope_from = "sender@example.org";
	mo.header.full_name = "J\xc3\xb6rg M\xc3\xbcller";
	mo.header.hostname = "host.example.org";
	mo.header.acct = &account;
	error_clear(&err);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
path_in(const char *name)
{
	static char p[16][256];
	static int k;

	k = (k + 1) % 16;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

static void
write_file(const char *name, const void *data, size_t n)
{
	FILE *f = fopen(path_in(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Compose co with stdin from the file in (or /dev/null); the message. */
static char *
compose(const struct compose_options *co, const char *in, int *rc)
{
	struct compose *c = NULL;
	int in_fd = open(in != NULL ? path_in(in) : "/dev/null", O_RDONLY);
	int out_fd = open(path_in("out"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *text;
	struct stat st;

	assert_true(in_fd >= 0 && out_fd >= 0);
	error_clear(&err);
	*rc = compose_open(co, in_fd, &mo, &c, &err);
	if (*rc == 0) {
		*rc = compose_write(c, out_fd, "out", &err);
		compose_free(c);
	}
	close(in_fd);
	assert_int_equal(fstat(out_fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_int_equal(
	    pread(out_fd, text, (size_t)st.st_size, 0), st.st_size);
	close(out_fd);
	return text;
}

static void
test_compose_text_only(void **state)
{
	struct compose_options co;
	const char *to[] = {"Zo\xc3\xab <zoe@example.org>", "b@example.org"};
	char *m;
	int rc;

	(void)state;
	memset(&co, 0, sizeof(co));
	co.active = true;
	co.subject = "Backup done";
	co.body = "all good\n";
	co.to = to;
	co.n_to = 2;
	co.n_bcc = 1;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(m, "From: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= "
				  "<sender@example.org>\n"));
	assert_non_null(strstr(m, "To: =?UTF-8?Q?Zo=C3=AB?= "
				  "<zoe@example.org>, b@example.org\n"));
	assert_non_null(strstr(m, "Subject: Backup done\n"));
	assert_non_null(strstr(m, "\nDate: "));
	assert_non_null(strstr(m, "\nMessage-ID: <"));
	assert_non_null(strstr(m, "@example.org>\nMIME-Version: 1.0\n"));
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=utf-8\n"
				  "Content-Transfer-Encoding: 7bit\n\n"
				  "all good\n"));
	assert_null(strstr(m, "Bcc"));
	assert_null(strstr(m, "multipart"));
	free(m);
}

static void
test_compose_stdin_body(void **state)
{
	struct compose_options co;
	char *m;
	int rc;

	(void)state;
	memset(&co, 0, sizeof(co));
	co.active = true;
	co.n_bcc = 1;
	/* A message with headers on stdin is body text, literally. */
	write_file("in", "From: x@y\nSubject: inner\n\nbody \xc3\xa9", 33);
	m = compose(&co, "in", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(m, "To: undisclosed-recipients:;\n"));
	assert_true(strstr(m, "\nSubject:") > strstr(m, "\n\n"));
	assert_non_null(strstr(m, "quoted-printable\n\nFrom: x@y\n"
				  "Subject: inner\n\nbody =C3=A9=\n"));
	free(m);
	/* With --body, stdin is not read at all. */
	co.body = "";
	m = compose(&co, "in", &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(m, "inner"));
	assert_non_null(strstr(m, "7bit\n\n"));
	assert_int_equal(m[strlen(m) - 1], '\n');
	assert_int_equal(m[strlen(m) - 2], '\n');
	free(m);
}

static void
test_compose_attachments(void **state)
{
	struct compose_options co;
	struct compose_attachment att[2];
	unsigned char bin[5000], back[5000];
	const char *to[] = {"a@example.org"};
	char *m, *p, *end, boundary[100];
	long k;
	int rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 13);
	write_file("bin.dat", bin, sizeof(bin));
	write_file("page.html", "<p>hi</p>\n", 10);
	memset(&co, 0, sizeof(co));
	memset(att, 0, sizeof(att));
	co.active = true;
	co.body = "see attached\n";
	co.html_file = path_in("page.html");
	co.to = to;
	co.n_to = 1;
	att[0].path = path_in("bin.dat");
	att[0].type = "application/x-test";
	att[1].path = path_in("page.html");
	att[1].name = "R\xc3\xa9sum\xc3\xa9.html";
	co.attach = att;
	co.n_attach = 2;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, 0);
	p = strstr(m, "multipart/mixed;\n boundary=\"");
	assert_non_null(p);
	p += strlen("multipart/mixed;\n boundary=\"");
	assert_int_equal(
	    strncmp(p, MIME_BOUNDARY_PREFIX, strlen(MIME_BOUNDARY_PREFIX)), 0);
	snprintf(
	    boundary, sizeof(boundary), "--%.*s", (int)strcspn(p, "\""), p);
	assert_non_null(strstr(m, "multipart/alternative"));
	assert_non_null(strstr(m, "Content-Type: text/html; charset=utf-8\n"));
	assert_non_null(strstr(m, "Content-Type: application/x-test;\n "
				  "name=\"bin.dat\"\n"
				  "Content-Disposition: attachment;\n "
				  "filename=\"bin.dat\"\n"
				  "Content-Transfer-Encoding: base64\n\n"));
	assert_non_null(strstr(m, "filename*=UTF-8''R%C3%A9sum%C3%A9.html"));
	/* The base64 decodes to the file. */
	p = strstr(m, "base64\n\n") + 8;
	end = strstr(p, boundary);
	assert_non_null(end);
	k = b64_decode(p, (size_t)(end - p), back);
	assert_int_equal(k, sizeof(bin));
	assert_memory_equal(back, bin, sizeof(bin));
	/* Closed, last, after a line break that ends the content. */
	strcat(boundary, "--\n");
	assert_true(strlen(m) > strlen(boundary));
	assert_string_equal(m + strlen(m) - strlen(boundary), boundary);
	assert_int_equal(m[strlen(m) - strlen(boundary) - 1], '\n');
	free(m);
}

static void
test_compose_missing_files(void **state)
{
	struct compose_options co;
	struct compose_attachment att;
	char *m;
	int rc;

	(void)state;
	memset(&co, 0, sizeof(co));
	memset(&att, 0, sizeof(att));
	co.active = true;
	co.body = "x\n";
	att.path = path_in("nosuch.log");
	co.attach = &att;
	co.n_attach = 1;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_NOINPUT);
	assert_non_null(strstr(err.message, "nosuch.log"));
	assert_string_equal(m, ""); /* nothing written */
	free(m);
	/* A directory is not a file to attach. */
	att.path = tmpdir;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_NOINPUT);
	free(m);
	co.n_attach = 0;
	co.body = NULL;
	co.body_file = path_in("nosuch.txt");
	m = compose(&co, NULL, &rc);
	assert_int_equal(err.exit_code, EX_NOINPUT);
	assert_non_null(strstr(err.message, "nosuch.txt"));
	free(m);
	/* Unreadable (as root, access checks do not apply: skip). */
	if (geteuid() != 0) {
		write_file("secret.txt", "x", 1);
		chmod(path_in("secret.txt"), 0);
		co.body_file = path_in("secret.txt");
		m = compose(&co, NULL, &rc);
		assert_int_equal(err.exit_code, EX_NOINPUT);
		free(m);
	}
}

static void
test_compose_headers(void **state)
{
	struct compose_options co;
	const char *hdr[] = {"X-Tag: caf\xc3\xa9 au lait",
	    "Message-ID: <fixed@x>", "Auto-Submitted: auto-generated"};
	const char *bad_from = "not an <address";
	char *m;
	int rc;

	(void)state;
	memset(&co, 0, sizeof(co));
	co.active = true;
	co.headers = hdr;
	co.n_headers = 3;
	co.reply_to = "Help Desk <help@example.org>";
	co.from = "Robot \"R2\" <r2@example.org>";
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(m, "From: Robot \"R2\" <r2@example.org>\n"));
	assert_non_null(strstr(m, "Reply-To: Help Desk <help@example.org>\n"));
	assert_non_null(strstr(m, "X-Tag: =?UTF-8?Q?caf=C3=A9_au_lait?=\n"));
	assert_non_null(strstr(m, "Message-ID: <fixed@x>\n"));
	assert_int_equal(
	    strstr(strstr(m, "Message-ID") + 1, "Message-ID"), NULL);
	assert_non_null(strstr(m, "Auto-Submitted: auto-generated\n"));
	/* Nothing at all: an empty text body. */
	assert_non_null(strstr(m, "Content-Transfer-Encoding: 7bit\n\n"));
	free(m);
	co.from = bad_from;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_USAGE);
	free(m);
	/* The null sender and no --from: no From to write. */
	co.from = NULL;
	mo.header.envelope_from = "";
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(err.exit_code, EX_USAGE);
	assert_non_null(strstr(err.message, "--from"));
	free(m);
}

static void
test_compose_long_subject(void **state)
{
	struct compose_options co;
	char subj[400], *m, *p;
	int rc;
	size_t i;

	(void)state;
	for (i = 0; i + 2 < sizeof(subj); i += 2) {
		subj[i] = '\xc3';
		subj[i + 1] = '\xa9';
	}
	subj[i] = '\0';
	memset(&co, 0, sizeof(co));
	co.active = true;
	co.subject = subj;
	m = compose(&co, NULL, &rc);
	assert_int_equal(rc, 0);
	/* RFC 2047 2: lines with encoded-words stay within 76. */
	p = strstr(m, "Subject: ");
	while (p != NULL && (*p == 'S' || *p == ' ')) {
		size_t n = strcspn(p, "\n");

		assert_true(n <= MIME_FOLD_WIDTH);
		p += n + 1;
		if (*p != ' ')
			break;
	}
	free(m);
}

static void
test_compose_shrunk_file(void **state)
{
	struct compose_options co;
	struct compose *c = NULL;
	int fd;

	(void)state;
	write_file("body.txt", "line one\nline two\n", 18);
	memset(&co, 0, sizeof(co));
	co.active = true;
	co.body_file = path_in("body.txt");
	assert_int_equal(compose_open(&co, -1, &mo, &c, &err), 0);
	/* Scanned at 18 bytes as 7bit, then cut: not sent half. */
	assert_int_equal(truncate(path_in("body.txt"), 5), 0);
	fd = open("/dev/null", O_WRONLY);
	assert_int_equal(compose_write(c, fd, "null", &err), -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_non_null(strstr(err.message, "body.txt"));
	close(fd);
	compose_free(c);
}

/* compose_read: the message streams through the writer thread into a
 * spool in wire form. */
static void
test_compose_read_spool(void **state)
{
	struct compose_options co;
	struct compose_attachment att;
	struct message m;
	unsigned char *big;
	char *spool;
	size_t n = 3 * 1024 * 1024 + 11, i;
	struct stat st;

	(void)state;
	big = malloc(n);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	write_file("big.bin", big, n);
	free(big);
	memset(&co, 0, sizeof(co));
	memset(&att, 0, sizeof(att));
	co.active = true;
	co.body = ".\n..\nend\n";
	att.path = path_in("big.bin");
	co.attach = &att;
	co.n_attach = 1;
	message_init(&m);
	assert_int_equal(compose_read(&co, -1, tmpdir, &mo, &m, &err), 0);
	assert_true(m.fd >= 0);
	assert_non_null(m.message_id);
	assert_false(m.has_8bit);
	/* 3 MiB of base64: 4/3 plus line ends, in CRLF. */
	assert_true(m.size > n / 3 * 4 + n / 57 * 2);
	assert_int_equal(fstat(m.fd, &st), 0);
	assert_int_equal((unsigned long long)st.st_size, m.size);
	spool = malloc(4096 + 1);
	assert_int_equal(pread(m.fd, spool, 4096, 0), 4096);
	spool[4096] = '\0';
	/* Wire form: CRLF, and the lone dots stuffed. */
	assert_non_null(strstr(spool, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(spool, "\r\n\r\n..\r\n...\r\nend\r\n"));
	free(spool);
	message_free(&m);

	/* A missing file: nothing spooled. */
	att.path = path_in("gone.bin");
	message_init(&m);
	assert_int_equal(compose_read(&co, -1, tmpdir, &mo, &m, &err), -1);
	assert_int_equal(err.exit_code, EX_NOINPUT);
	assert_int_equal(m.fd, -1);
	message_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_vectors),
	    cmocka_unit_test(test_base64_lines),
	    cmocka_unit_test(test_qp_rules),
	    cmocka_unit_test(test_qp_long_lines_and_chunks),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_encoded_words),
	    cmocka_unit_test(test_needs_words),
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_param),
	    cmocka_unit_test(test_type_by_name),
	    cmocka_unit_test_setup_teardown(
		test_compose_text_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_stdin_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_attachments, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_missing_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_long_subject, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_shrunk_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_compose_read_spool, setup, teardown),
	};

	/* compose_read's reader may stop early; main() ignores SIGPIPE the
	 * same way. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
