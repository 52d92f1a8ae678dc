/* SPDX-License-Identifier: ISC */
/*
 * Text chores every layer shares: well-formed UTF-8 (RFC 3629 4), JSON
 * strings (RFC 8259 7), \xHH escaping for terminals and logs, and base64
 * (RFC 4648 4).  Pure functions; what to do with bad input is the
 * caller's choice.  Compiled into the TLS module as well (Makefile.am).
 */
#ifndef MAILSUB_TEXT_H
#define MAILSUB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct error;

/* ---- UTF-8 --------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at p (at most n bytes): 1
 * for ASCII, 2 to 4, or 0 when p starts none (overlong forms, surrogates,
 * past U+10FFFF, cut short, or n == 0). */
size_t text_utf8_len(const unsigned char *p, size_t n);
/* Whether s[0..n) is well-formed UTF-8 as a whole. */
bool text_utf8_valid(const char *s, size_t n);

/* The same check over input that arrives in pieces: zero it (or call
 * text_utf8_init()), feed every piece, then ask text_utf8_done(). */
struct text_utf8 {
	unsigned need;	      /* continuation bytes still expected */
	unsigned char lo, hi; /* the range the next one must be in */
	bool bad;	      /* a byte was out of place */
};
void text_utf8_init(struct text_utf8 *u);
void text_utf8_feed(struct text_utf8 *u, const unsigned char *p, size_t n);
/* Whether everything fed was well-formed and no sequence is left open. */
bool text_utf8_done(const struct text_utf8 *u);

/* Append s, keeping well-formed UTF-8 and putting U+FFFD for any other
 * byte.  With json, also escape what a JSON string cannot hold as it is
 * ('"', '\\', controls, DEL) and write U+FFFD as \ufffd, so the result
 * is ASCII-safe JSON string content.  0 or -1 (err from buf). */
int text_append_utf8(
    struct buf *out, const char *s, bool json, struct error *err);
/* s as a JSON string, quotes included ("" for NULL); 0 or -1. */
int text_json_string(struct buf *out, const char *s, struct error *err);

/* ---- \xHH ---------------------------------------------------------------- */

enum {
	/* \xHH escapes already in s are copied, not escaped again. */
	TEXT_ESC_KEEP = 1 << 0,
	/* '"' and ' ' are escaped too. */
	TEXT_ESC_QUOTE = 1 << 1,
	TEXT_ESC_SPACE = 1 << 2,
};
/*
 * Copy s[0..len) into dst (size bytes, always terminated when size > 0),
 * writing control characters, DEL, '\\' and bytes >= 0x80 (and what flags
 * add) as \xHH, so the text cannot drive a terminal or split a log
 * record.  Stops before an escape that would not fit.  Returns the length
 * written.
 */
size_t text_escape(
    char *dst, size_t size, const char *s, size_t len, unsigned flags);
/* Whether s starts with an escape text_escape() writes (\x and two
 * lower-case hex digits). */
bool text_is_escape(const char *s);

/* The value of the hex digit c (either case), or -1. */
int text_hexval(int c);

/* Each line of folded text (lines separated by '\n', the last one maybe
 * without) to line(arg, start, length without the '\n'); the first -1
 * stops and is returned. */
int text_each_line(const char *p, size_t n,
    int (*line)(void *arg, const char *s, size_t len), void *arg);

/* ---- base64 -------------------------------------------------------------- */

/* The characters text_base64() writes for n bytes. */
#define TEXT_BASE64_LEN(n) (((n) + 2) / 3 * 4)
/* base64 of in[0..n) into out (TEXT_BASE64_LEN(n) bytes, not
 * terminated); returns that length. */
size_t text_base64(const unsigned char *in, size_t n, char *out);

#endif
