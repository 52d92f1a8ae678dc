/* SPDX-License-Identifier: ISC */
/*
 * The error carried up from the code that knows the cause to main(): a
 * sysexits(3) code and one printable line.  Also the single table that turns
 * SMTP replies into exit codes.
 */
#ifndef MAILSUB_ERROR_H
#define MAILSUB_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <sysexits.h>

#define ERROR_MESSAGE_MAX 512

struct error {
	int  exit_code;                  /* sysexits(3) value main() returns */
	char message[ERROR_MESSAGE_MAX]; /* one line, never a secret */
};

/* Set both fields; returns -1 so callers can write return error_set(...). */
int error_set(struct error *err, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int error_vset(struct error *err, int exit_code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Put "context: " in front of the existing message. */
void error_prefix(struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void error_clear(struct error *err);
bool error_is_set(const struct error *err);

/* Where in the dialogue a reply arrived; the exit code of a failure reply
 * depends on it (a 5xx to RCPT is a refused recipient, to AUTH a login
 * failure). */
enum error_reply_context {
	ERROR_REPLY_GREETING,
	ERROR_REPLY_EHLO,
	ERROR_REPLY_STARTTLS,
	ERROR_REPLY_AUTH,
	ERROR_REPLY_MAIL,
	ERROR_REPLY_RCPT,
	ERROR_REPLY_DATA,
	ERROR_REPLY_END_OF_DATA,
	ERROR_REPLY_OTHER,
};

/* The one table from an SMTP failure reply (4xx/5xx) to sysexits(3):
 * 4xx and 421 -> EX_TEMPFAIL; 5xx -> EX_UNAVAILABLE, EX_NOUSER (RCPT),
 * EX_NOPERM (AUTH; 530, 534, 538 after the greeting, EHLO and STARTTLS),
 * EX_DATAERR (552 message too big). */
int error_from_reply(enum error_reply_context ctx, int reply_code);

/* Whether an exit code means "the message went into the queue". */
bool error_is_temporary(int exit_code);

/* A short name for an exit code ("EX_TEMPFAIL"), for logs and tests. */
const char *error_exit_name(int exit_code);

/* Copy s into dst (dst_size bytes, always terminated), escaping control
 * characters, DEL, backslash and bytes >= 0x80 as \xHH so nothing a server
 * sends can drive the user's terminal.  Returns dst. */
char *error_escape(char *dst, size_t dst_size, const char *s, size_t len);

#endif
