/* SPDX-License-Identifier: ISC */
/*
 * The error carried up from the code that knows the cause to main(): a
 * sysexits(3) code, the class of the failure and one printable line.  Also the
 * single table that turns SMTP replies into exit codes.
 */
#ifndef MAILSUB_ERROR_H
#define MAILSUB_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <sysexits.h>

#define ERROR_MESSAGE_MAX 512

/*
 * What kind of failure it is, set by the code that knows the cause;
 * decisions about the session (is it over? would another host do
 * better?) are taken from it, never from the message text.
 */
enum error_class {
	ERROR_CLASS_LOCAL,    /* ours: configuration, usage, memory, disk,
				 a signal, a password_command */
	ERROR_CLASS_LINK,     /* the link could not be made, secured or
				 kept: connect, name lookup, TLS handshake
				 and verification, read, write, timeout, the
				 server hanging up; and a 421, with which it
				 closes the channel (RFC 5321 3.8) */
	ERROR_CLASS_PROTOCOL, /* the server broke the protocol: a malformed
				 or unexpected reply (every EX_PROTOCOL) */
	ERROR_CLASS_TEMPFAIL, /* the server refused for now: a 4xx reply */
	ERROR_CLASS_PERMFAIL, /* the server refused for good: a 5xx reply,
				 or our client certificate */
};

struct error {
	int exit_code; /* sysexits(3) value main() returns */
	enum error_class class;
	char message[ERROR_MESSAGE_MAX]; /* one line, never a secret */
};

/* Set the fields; returns -1 so callers can write return error_set(...).
 * The class is ERROR_CLASS_PROTOCOL for EX_PROTOCOL, else LOCAL. */
int error_set(struct error *err, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int error_vset(struct error *err, int exit_code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* The same with the class given. */
int error_set_class(struct error *err, enum error_class class, int exit_code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The session is over after this failure: the link is gone or the
 * dialogue cannot be trusted (ERROR_CLASS_LINK, ERROR_CLASS_PROTOCOL). */
bool error_ends_session(const struct error *err);
/* Another host might not fail the same way: ERROR_CLASS_LINK or
 * ERROR_CLASS_TEMPFAIL. */
bool error_worth_other_host(const struct error *err);
/*
 * The one rule of "defer or give up": whether the message is kept in the
 * queue for a later attempt (true) or saved in failed/ (false).  A 4xx
 * (ERROR_CLASS_TEMPFAIL) is retried, a 5xx (PERMFAIL) and a protocol
 * violation (PROTOCOL) are not.  A failed link (LINK) and a local fault
 * (LOCAL) are retried when they pass, which only the code that found them
 * knows and says with EX_TEMPFAIL: a dropped connection, a timeout, a
 * signal, a password_command or OAuth2 endpoint that did not answer pass;
 * a name that does not exist (EX_NOHOST), a certificate not trusted
 * (EX_UNAVAILABLE), out of memory, an unreadable spool (EX_OSERR,
 * EX_IOERR) do not.  mailsub(1), EXIT STATUS: 75 only when queued, so the
 * producers keep exit code and class in step (a TEMPFAIL is EX_TEMPFAIL).
 */
bool error_is_retryable(const struct error *err);
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

/* The class of a reply code: 421 ERROR_CLASS_LINK, other 4xx TEMPFAIL,
 * 5xx PERMFAIL, anything else PROTOCOL. */
enum error_class error_class_of_reply(int reply_code);

/* error_set() for the failure reply reply_code in ctx: the exit code from
 * error_from_reply(), the class from error_class_of_reply(). */
int error_set_reply(struct error *err, enum error_reply_context ctx,
    int reply_code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A short name for an exit code ("EX_TEMPFAIL"), for logs and tests. */
const char *error_exit_name(int exit_code);

/* Copy s into dst (dst_size bytes, always terminated), escaping control
 * characters, DEL, backslash and bytes >= 0x80 as \xHH so nothing a server
 * sends can drive the user's terminal.  Returns dst. */
char *error_escape(char *dst, size_t dst_size, const char *s, size_t len);

#endif
