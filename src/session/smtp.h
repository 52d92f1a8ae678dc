/* SPDX-License-Identifier: ISC */
/*
 * The SMTP wire layer: strict multi-line replies, EHLO capabilities,
 * commands, and the data path in wire form.  Pure parsing functions are
 * exported for the unit tests and fuzzers; the rest runs over struct conn.
 */
#ifndef MAILSUB_SMTP_H
#define MAILSUB_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conn;
struct error;

/* RFC 5321 4.5.3.1.5 allows 512 octets per reply line; servers exceed it
 * in the text, so accept a few KiB and cap the whole reply. */
#define SMTP_REPLY_LINE_MAX  4096
#define SMTP_REPLY_TOTAL_MAX 65536
#define SMTP_REPLY_LINES_MAX 256
/* RFC 5321 4.5.3.1.4: 512 octets per command line. */
#define SMTP_COMMAND_LINE_MAX 512
/* RFC 5321 4.5.3.1.6: 998 octets of text per line of message data. */
#define SMTP_TEXT_LINE_MAX 998

struct smtp_reply {
	int code;     /* 200..599 */
	char esc[16]; /* enhanced status code "5.1.1" (RFC 3463), or "" */
	char *text;   /* all lines' text joined with '\n', NUL-terminated */
	size_t text_len;
	size_t lines;
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);

/*
 * Parse one reply line ("250-text" / "250 text" / "250").  Sets *code and
 * *more (continuation follows), *text and *text_len (into line).
 * Anything else (two-digit codes, letters, a code outside 200..599, a
 * fourth digit) fails with EX_PROTOCOL.
 */
int smtp_parse_reply_line(const char *line, size_t len, int *code, bool *more,
    const char **text, size_t *text_len, struct error *err);

/* Read a complete reply: every line the same code, bare LF, NUL bytes and
 * over-long or endless replies are protocol errors (EX_PROTOCOL). */
int smtp_read_reply(struct conn *c, struct smtp_reply *r, struct error *err);

/* A one-line printable summary of a reply ("550 5.1.1 user unknown"),
 * control characters escaped, at most size bytes. */
char *smtp_reply_summary(const struct smtp_reply *r, char *dst, size_t size);

/* EHLO capabilities (RFC 5321 4.1.1.1 and the extensions' RFCs). */
enum smtp_cap {
	SMTP_CAP_PIPELINING = 1u << 0,
	SMTP_CAP_SIZE = 1u << 1,
	SMTP_CAP_8BITMIME = 1u << 2,
	SMTP_CAP_SMTPUTF8 = 1u << 3,
	SMTP_CAP_DSN = 1u << 4,
	SMTP_CAP_STARTTLS = 1u << 5,
	SMTP_CAP_AUTH = 1u << 6,
	SMTP_CAP_CHUNKING = 1u << 7,
	SMTP_CAP_ENHANCEDSTATUSCODES = 1u << 8,
	SMTP_CAP_BINARYMIME = 1u << 9,
};

#define SMTP_AUTH_MECHS_MAX 512

struct smtp_caps {
	unsigned flags;
	unsigned long long size_limit;	      /* 0 = none announced */
	char auth_mechs[SMTP_AUTH_MECHS_MAX]; /* space separated, upper case */
	char greeting_name[256];
};

/* Parse the text of an EHLO reply (lines joined with '\n'; the first line
 * is the server's name).  Unknown keywords are ignored. */
void smtp_parse_ehlo(const char *text, struct smtp_caps *caps);
/* Whether mechanism (case-insensitive) is in caps->auth_mechs. */
bool smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech);

/*
 * Wire-form data path: the spool already holds the message dot-stuffed
 * with CRLF endings, so sending is copying blocks from fd.  Sends size bytes
 * from offset, then ".\r\n" (for DATA) or as BDAT chunks (CHUNKING; the spool
 * is then un-stuffed on the fly).  Bytes are flushed in large blocks.
 * smtp_send_bdat reads the reply to every chunk but the last (a failure
 * reply is mapped like one to DATA); the reply to "BDAT n LAST", like the
 * one after the final dot, is left for the caller to read.
 */
int smtp_send_data(struct conn *c, int fd, off_t offset,
    unsigned long long size, struct error *err);
/* The end of DATA after a message whose last two bytes were tail ("\r\n"
 * for one of fewer than two bytes): CRLF if they are not one, then ".". */
int smtp_send_data_end(struct conn *c, const char tail[2], struct error *err);
/* The tail smtp_send_data_end() wants, of the size bytes of the spool fd
 * at offset. */
int smtp_spool_tail(int fd, off_t offset, unsigned long long size, char tail[2],
    struct error *err);
int smtp_send_bdat(struct conn *c, int fd, off_t offset,
    unsigned long long size, struct error *err);

/* Pure helpers, exported for tests: dot-stuff one line of text.  Returns
 * the number of bytes written to out (at most len + 1). */
size_t smtp_dot_stuff_line(const char *line, size_t len, char *out);

/* xtext encoding for DSN ENVID and ORCPT (RFC 3461 4). */
int smtp_xtext(const char *in, char *out, size_t out_size);

#endif
