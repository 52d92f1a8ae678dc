/* SPDX-License-Identifier: ISC */
/*
 * MIME encoders for compose mode.  Everything here works on memory the
 * caller hands in, so compose.c can stream a 1 GB attachment through fixed
 * buffers and the unit tests can check each rule in isolation.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "error.h"
#include "mime.h"
#include "text.h"

static const char hex_digits[] = "0123456789ABCDEF";

/* A word longer than this cannot be folded into a 998-character line
 * once a field name is in front of it. */
#define WORD_FOLD_MAX 900

/* The encoded-word frame: "=?UTF-8?Q?" + text + "?=". */
#define WORD_PREFIX_LEN 10
#define WORD_SUFFIX_LEN 2
#define WORD_TEXT_MAX	(MIME_WORD_MAX - WORD_PREFIX_LEN - WORD_SUFFIX_LEN)

/* ---- base64 ------------------------------------------------------------ */

size_t
mime_base64_lines(const unsigned char *in, size_t n, char *out)
{
	char *o = out;

	while (n > 0) {
		size_t take = n < MIME_B64_LINE_BYTES ? n : MIME_B64_LINE_BYTES;

		o += text_base64(in, take, o);
		*o++ = '\n';
		in += take;
		n -= take;
	}
	return (size_t)(o - out);
}

/* ---- quoted-printable ---------------------------------------------------- */

void
mime_qp_init(struct mime_qp *q)
{
	q->col = 0;
	q->held_ws = -1;
	q->held_cr = false;
}

/* One output token (a literal or "=XX"), after a soft line break when the
 * line has no room left for it and a final '='. */
static char *
qp_token(struct mime_qp *q, char *o, const char *tok, size_t len)
{
	if (q->col + len > MIME_QP_LINE_MAX - 1) {
		*o++ = '=';
		*o++ = '\n';
		q->col = 0;
	}
	memcpy(o, tok, len);
	q->col += len;
	return o + len;
}

static char *
qp_byte(struct mime_qp *q, char *o, unsigned char c, bool literal)
{
	char t[3];

	if (literal) {
		t[0] = (char)c;
		return qp_token(q, o, t, 1);
	}
	t[0] = '=';
	t[1] = hex_digits[c >> 4];
	t[2] = hex_digits[c & 15];
	return qp_token(q, o, t, 3);
}

/* RFC 2045 6.7 (2): printable ASCII but '=' stands for itself. */
static bool
qp_literal(unsigned char c)
{
	return (c >= 33 && c <= 60) || (c >= 62 && c <= 126);
}

/* Write what is held before a byte that is not a line break: the
 * whitespace is followed by something, so it may stay literal. */
static char *
qp_release(struct mime_qp *q, char *o)
{
	if (q->held_ws >= 0) {
		o = qp_byte(q, o, (unsigned char)q->held_ws, true);
		q->held_ws = -1;
	}
	if (q->held_cr) {
		o = qp_byte(q, o, '\r', false);
		q->held_cr = false;
	}
	return o;
}

size_t
mime_qp_encode(struct mime_qp *q, const unsigned char *in, size_t n, char *out)
{
	char *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = in[i];

		if (c == '\n') {
			/* RFC 2045 6.7 (3): whitespace at the end of an
			 * encoded line is encoded. */
			if (q->held_ws >= 0) {
				o = qp_byte(
				    q, o, (unsigned char)q->held_ws, false);
				q->held_ws = -1;
			}
			q->held_cr = false; /* CRLF is a line break too */
			*o++ = '\n';
			q->col = 0;
			continue;
		}
		if (c == '\r') {
			if (q->held_cr)
				o = qp_release(q, o);
			q->held_cr = true;
			continue;
		}
		o = qp_release(q, o);
		if (c == ' ' || c == '\t')
			q->held_ws = c;
		else
			o = qp_byte(q, o, c, qp_literal(c));
	}
	return (size_t)(o - out);
}

size_t
mime_qp_finish(struct mime_qp *q, char *out)
{
	char *o = out;

	if (q->held_cr)
		o = qp_release(q, o);
	if (q->held_ws >= 0) {
		/* Last on the line, before the soft break below. */
		o = qp_byte(q, o, (unsigned char)q->held_ws, false);
		q->held_ws = -1;
	}
	if (q->col > 0) {
		*o++ = '=';
		*o++ = '\n';
		q->col = 0;
	}
	return (size_t)(o - out);
}

/* ---- text scan ----------------------------------------------------------- */

void
mime_scan_init(struct mime_scan *s)
{
	memset(s, 0, sizeof(*s));
}

void
mime_scan_feed(struct mime_scan *s, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\n')
			s->line_len = 0;
		else if (++s->line_len > MIME_LINE_MAX)
			s->long_line = true;
		if (c == 0 || c == '\r')
			s->bad_control = true;
		if (c == '_' && s->last == '=')
			s->marker = true;
		s->last = c;
		if (c >= 0x80)
			s->eight_bit = true;
	}
	text_utf8_feed(&s->utf8, p, n);
	s->bytes += n;
}

bool
mime_scan_7bit(const struct mime_scan *s)
{
	return !s->eight_bit && !s->bad_control && !s->long_line &&
	       !s->marker && (s->bytes == 0 || s->last == '\n');
}

bool
mime_scan_utf8(const struct mime_scan *s)
{
	return text_utf8_done(&s->utf8);
}

/* ---- RFC 2047 encoded-words --------------------------------------------- */

bool
mime_needs_words(const char *text, size_t len)
{
	size_t i, word = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f)
			return true;
		if (c == '=' && i + 1 < len && text[i + 1] == '?')
			return true;
		if (c == ' ' || c == '\t')
			word = 0;
		else if (++word > WORD_FOLD_MAX)
			return true;
	}
	return false;
}

/* RFC 2047 5(3): in a phrase, Q may leave only these unencoded. */
static bool
q_literal(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/';
}

/* The length of the UTF-8 character at p (1 for a byte that starts no
 * valid sequence, so bad input is still cut somewhere). */
static size_t
utf8_char_len(const unsigned char *p, size_t n)
{
	size_t k = text_utf8_len(p, n);

	return k > 0 ? k : 1;
}

/* Characters the Q form of c takes ("_" for a space). */
static size_t
q_cost(unsigned char c)
{
	return c == ' ' || q_literal(c) ? 1 : 3;
}

static int
append_q(struct buf *out, const unsigned char *p, size_t n, struct error *err)
{
	char t[3];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == ' ') {
			t[0] = '_';
			if (buf_append(out, t, 1, err) == -1)
				return -1;
		} else if (q_literal(c)) {
			if (buf_append(out, &p[i], 1, err) == -1)
				return -1;
		} else {
			t[0] = '=';
			t[1] = hex_digits[c >> 4];
			t[2] = hex_digits[c & 15];
			if (buf_append(out, t, 3, err) == -1)
				return -1;
		}
	}
	return 0;
}

int
mime_encode_words(
    struct buf *out, const char *text, size_t len, struct error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i, q_len = 0, start;
	bool use_b;

	for (i = 0; i < len; i++)
		q_len += q_cost(s[i]);
	/* RFC 2047 4: either form may be used; take the shorter. */
	use_b = q_len > (len + 2) / 3 * 4;

	start = 0;
	while (start < len) {
		size_t end = start, cost = 0;
		char b64[WORD_TEXT_MAX + 4];

		/* As many whole characters as fit in one word. */
		while (end < len) {
			size_t cl = utf8_char_len(s + end, len - end);
			size_t c2;

			if (use_b)
				c2 = (end + cl - start + 2) / 3 * 4;
			else {
				size_t k;

				c2 = cost;
				for (k = 0; k < cl; k++)
					c2 += q_cost(s[end + k]);
			}
			if (c2 > WORD_TEXT_MAX)
				break;
			cost = c2;
			end += cl;
		}
		if (start > 0 && buf_addch(out, ' ', err) == -1)
			return -1;
		if (buf_appends(
			out, use_b ? "=?UTF-8?B?" : "=?UTF-8?Q?", err) == -1)
			return -1;
		if (use_b) {
			size_t bl = text_base64(s + start, end - start, b64);

			if (buf_append(out, b64, bl, err) == -1)
				return -1;
		} else if (append_q(out, s + start, end - start, err) == -1)
			return -1;
		if (buf_appends(out, "?=", err) == -1)
			return -1;
		start = end;
	}
	return 0;
}

/* ---- folding ---------------------------------------------------------------
 */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
mime_fold(struct buf *out, const char *name, const char *value, size_t len,
    struct error *err)
{
	size_t nlen = strlen(name), total, line, i, best, text, last;
	struct buf u;
	const char *p;
	int rc = -1;

	/* The unfolded field, then cut before whitespace: every line keeps
	 * some text (RFC 5322 3.2.2: no line of only whitespace), the first
	 * at least one character of the value. */
	buf_init(&u, nlen + len + 3);
	if (buf_append(&u, name, nlen, err) == -1 ||
	    buf_append(&u, ": ", 2, err) == -1 ||
	    buf_append(&u, value, len, err) == -1)
		goto out;
	p = u.data;
	total = u.len;
	for (last = total; last > nlen + 2 && is_wsp(p[last - 1]); last--)
		;
	line = 0;
	while (total - line > MIME_FOLD_WIDTH) {
		text = line == 0 ? nlen + 2 : line;
		while (text < last && is_wsp(p[text]))
			text++;
		best = 0;
		for (i = text + 1; i + 1 < last; i++) {
			if (!is_wsp(p[i]))
				continue;
			if (i - line <= MIME_FOLD_WIDTH)
				best = i;
			else {
				if (best == 0)
					best = i; /* the word is too long */
				break;
			}
		}
		if (best == 0 || best - line > MIME_LINE_MAX)
			break; /* the rest is one line, or too long */
		if (buf_append(out, p + line, best - line, err) == -1 ||
		    buf_addch(out, '\n', err) == -1)
			goto out;
		line = best;
	}
	if (total - line > MIME_LINE_MAX) {
		error_set(err, EX_DATAERR,
		    "%s: a word too long for a header line (RFC 5322 2.1.1: "
		    "%d characters)",
		    name, MIME_LINE_MAX);
		goto out;
	}
	if (buf_append(out, p + line, total - line, err) == -1 ||
	    buf_addch(out, '\n', err) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&u);
	return rc;
}

/* ---- RFC 2231 parameters ------------------------------------------------- */

/* RFC 2231 7: attribute-char, any ASCII CHAR except SPACE, CTLs, "*",
 * "'", "%" and the RFC 2045 tspecials. */
static bool
attribute_char(unsigned char c)
{
	return c > 32 && c < 127 && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

int
mime_param(
    struct buf *out, const char *attr, const char *value, struct error *err)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t alen = strlen(attr), vlen = strlen(value), i, quoted = 0;
	size_t enc = 0, room, part = 0;
	bool simple = true;
	char t[4];

	for (i = 0; i < vlen; i++) {
		if (v[i] < 0x20 || v[i] >= 0x7f)
			simple = false;
		quoted += v[i] == '"' || v[i] == '\\' ? 2 : 1;
		enc += attribute_char(v[i]) ? 1 : 3;
	}
	/* " attr=\"value\";" on one line. */
	if (simple && 1 + alen + 1 + quoted + 2 + 1 <= MIME_FOLD_WIDTH) {
		if (buf_printf(out, err, ";\n %s=\"", attr) == -1)
			return -1;
		for (i = 0; i < vlen; i++) {
			if ((v[i] == '"' || v[i] == '\\') &&
			    buf_addch(out, '\\', err) == -1)
				return -1;
			if (buf_addch(out, (char)v[i], err) == -1)
				return -1;
		}
		return buf_addch(out, '"', err);
	}
	/* " attr*=UTF-8''value;" on one line. */
	if (1 + alen + 2 + 7 + enc + 1 <= MIME_FOLD_WIDTH) {
		if (buf_printf(out, err, ";\n %s*=UTF-8''", attr) == -1)
			return -1;
		room = SIZE_MAX;
	} else {
		if (buf_printf(out, err, ";\n %s*0*=UTF-8''", attr) == -1)
			return -1;
		room = MIME_FOLD_WIDTH - (1 + alen + 4 + 7 + 1);
	}
	for (i = 0; i < vlen; i++) {
		size_t cost = attribute_char(v[i]) ? 1 : 3;

		if (cost > room) {
			char num[24];
			int nl;

			part++;
			nl = snprintf(num, sizeof(num), "%zu", part);
			if (buf_printf(out, err, ";\n %s*%s*=", attr, num) ==
			    -1)
				return -1;
			room = MIME_FOLD_WIDTH -
			       (1 + alen + 1 + (size_t)nl + 2 + 1);
		}
		room -= cost;
		if (cost == 1) {
			t[0] = (char)v[i];
			if (buf_append(out, t, 1, err) == -1)
				return -1;
		} else {
			t[0] = '%';
			t[1] = hex_digits[v[i] >> 4];
			t[2] = hex_digits[v[i] & 15];
			if (buf_append(out, t, 3, err) == -1)
				return -1;
		}
	}
	return 0;
}

/* ---- content types by extension --------------------------------------------
 */

/* What libmagic cannot tell apart (text formats all look like text/plain,
 * zip-based documents like application/zip) or when it is not built in. */
static const struct {
	const char *ext;
	const char *type;
} ext_types[] = {
    {"7z", "application/x-7z-compressed"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"c", "text/x-c"},
    {"conf", "text/plain"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"diff", "text/x-diff"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument."
	     "wordprocessingml.document"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"h", "text/x-c"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ics", "text/calendar"},
    {"ini", "text/plain"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"log", "text/plain"},
    {"md", "text/markdown"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ogg", "audio/ogg"},
    {"patch", "text/x-diff"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument."
	     "presentationml.presentation"},
    {"py", "text/x-python"},
    {"rtf", "application/rtf"},
    {"sh", "text/x-shellscript"},
    {"sql", "application/sql"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tsv", "text/tab-separated-values"},
    {"txt", "text/plain"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument."
	     "spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
};

const char *
mime_type_by_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot;
	size_t k;

	if (slash != NULL)
		name = slash + 1;
	dot = strrchr(name, '.');
	/* ".profile" is a name, not an extension. */
	if (dot == NULL || dot == name || dot[1] == '\0')
		return NULL;
	for (k = 0; k < sizeof(ext_types) / sizeof(ext_types[0]); k++)
		if (strcasecmp(ext_types[k].ext, dot + 1) == 0)
			return ext_types[k].type;
	return NULL;
}
