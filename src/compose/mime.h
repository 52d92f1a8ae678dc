/* SPDX-License-Identifier: ISC */
/*
 * MIME encoders for compose mode and header_gen.c, all pure: base64 in
 * 76-column lines and quoted-printable as streams (RFC 2045 6.7, 6.8), a
 * scanner that decides whether text may go as 7bit, RFC 2047 encoded-words
 * for header text, RFC 2231 parameter values, header folding (RFC 5322
 * 2.2.3), and a content type by file name for when libmagic cannot tell.
 */
#ifndef MAILSUB_MIME_H
#define MAILSUB_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

struct buf;
struct error;

/* RFC 2045 6.8: encoded lines of at most 76 characters; 57 bytes make
 * one full line. */
#define MIME_B64_LINE_BYTES 57
#define MIME_B64_LINE_CHARS 76
/* Output size of mime_base64_lines() for n input bytes. */
#define MIME_B64_LINES_SIZE(n) (((n) + 2) / 3 * 4 + ((n) + 56) / 57)

/* RFC 2045 6.7 rule 5: quoted-printable lines are at most 76 characters,
 * the soft line break '=' included. */
#define MIME_QP_LINE_MAX 76
/* Output room mime_qp_encode() needs for n input bytes: at most one
 * "=XX" token and one soft break per byte, plus what was held back. */
#define MIME_QP_OUT_MAX(n) (5 * (n) + 16)

/* RFC 5322 2.1.1: a line is at most 998 characters without CRLF. */
#define MIME_LINE_MAX 998
/* RFC 2047 2: a line holding an encoded-word is at most 76 characters;
 * every header line compose writes keeps to it. */
#define MIME_FOLD_WIDTH 76
/* One encoded-word (RFC 2047 2 allows 75): short enough that it fits
 * after "Reply-To: " on the first line. */
#define MIME_WORD_MAX 66

/*
 * Base64 (text_base64()) of n bytes in lines of 76 characters, each ending '\n'
 * (the last may be shorter).  A stream is encoded by passing multiples of
 * MIME_B64_LINE_BYTES and the rest last.  out holds MIME_B64_LINES_SIZE(n)
 * bytes; returns the length written.
 */
size_t mime_base64_lines(const unsigned char *in, size_t n, char *out);

/* A quoted-printable stream: line breaks in the input (LF or CRLF) stay
 * line breaks; everything else that is not printable ASCII, '=', and
 * whitespace before a line break is =XX. */
struct mime_qp {
	size_t col;   /* characters on the current output line */
	int held_ws;  /* a space or tab not yet written (it must be
			 encoded if the line ends after it), or -1 */
	bool held_cr; /* a CR not yet written: part of CRLF or lone */
};

void mime_qp_init(struct mime_qp *q);
/* Encode n bytes into out (MIME_QP_OUT_MAX(n) bytes); returns the length
 * written.  Bytes may be held back until the next call. */
size_t mime_qp_encode(
    struct mime_qp *q, const unsigned char *in, size_t n, char *out);
/* End the stream: what was held, and a soft line break when the input did
 * not end with a line break (so decoding adds none).  out holds 16 bytes. */
size_t mime_qp_finish(struct mime_qp *q, char *out);

/* What a text body holds, to choose its transfer encoding. */
struct mime_scan {
	unsigned long long bytes;
	size_t line_len;       /* of the current line */
	bool eight_bit;	       /* a byte >= 0x80 */
	bool bad_control;      /* NUL or CR (RFC 2045 2.7: not in 7bit data) */
	bool long_line;	       /* over MIME_LINE_MAX */
	bool marker;	       /* holds "=_", which boundaries use */
	struct text_utf8 utf8; /* whether it is UTF-8 */
	unsigned char last;    /* the last byte seen */
};

void mime_scan_init(struct mime_scan *s);
void mime_scan_feed(struct mime_scan *s, const unsigned char *p, size_t n);
/*
 * Whether the text may be sent as it is (7bit): ASCII without NUL or CR,
 * no line over 998 characters, no "=_" (so no MIME boundary of ours can
 * occur in it), and empty or ending with a line break (so the message
 * returns it byte for byte).
 */
bool mime_scan_7bit(const struct mime_scan *s);
/* Whether the text is valid UTF-8 (ASCII is). */
bool mime_scan_utf8(const struct mime_scan *s);

/* MIME boundaries start with this: "=_" can occur neither in base64 nor
 * in quoted-printable, and mime_scan_7bit() refuses text holding it. */
#define MIME_BOUNDARY_PREFIX "=_mailsub_"

/*
 * Whether header text must be sent as encoded-words: it holds a byte
 * >= 0x80 or a control character, or looks like an encoded-word itself
 * ("=?"), or has a word that no folding could fit in a line.
 */
bool mime_needs_words(const char *text, size_t len);

/*
 * Append text as RFC 2047 encoded-words in UTF-8 (Q or B, whichever is
 * shorter), each at most MIME_WORD_MAX characters and never splitting a
 * UTF-8 character (RFC 2047 5), separated by single spaces for folding.
 * The Q form uses only the characters RFC 2047 5(3) allows in a phrase, so
 * the result serves unstructured fields and display names alike.
 */
int mime_encode_words(
    struct buf *out, const char *text, size_t len, struct error *err);

/*
 * Append the header field "name: value", folded at spaces into lines of at
 * most MIME_FOLD_WIDTH characters (RFC 5322 2.2.3), each ending '\n'.  A
 * word too long to fold begins its own line; a line that would still pass
 * MIME_LINE_MAX is EX_DATAERR.  value must not hold CR or LF.
 */
int mime_fold(struct buf *out, const char *name, const char *value, size_t len,
    struct error *err);

/*
 * Append a MIME parameter as ";\n attr=value": a quoted string when value
 * is short printable ASCII, else RFC 2231 percent-encoded UTF-8
 * (attr*=UTF-8''...), cut into attr*0*, attr*1*, ... continuations
 * (RFC 2231 3, 4) so that no line passes MIME_FOLD_WIDTH.
 */
int mime_param(
    struct buf *out, const char *attr, const char *value, struct error *err);

/* The content type for a file name's extension (case-insensitive), or
 * NULL when the extension is unknown. */
const char *mime_type_by_name(const char *name);

#endif
