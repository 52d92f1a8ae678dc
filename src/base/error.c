/* SPDX-License-Identifier: ISC */
/*
 * struct error and the SMTP reply -> sysexits table.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "text.h"

int
error_vset(struct error *err, int exit_code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->exit_code = exit_code;
	err->class =
	    exit_code == EX_PROTOCOL ? ERROR_CLASS_PROTOCOL : ERROR_CLASS_LOCAL;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return -1;
}

int
error_set_class(struct error *err, enum error_class class, int exit_code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, exit_code, fmt, ap);
	va_end(ap);
	if (err != NULL)
		err->class = class;
	return -1;
}

bool
error_ends_session(const struct error *err)
{
	return err->class == ERROR_CLASS_LINK ||
	       err->class == ERROR_CLASS_PROTOCOL;
}

bool
error_worth_other_host(const struct error *err)
{
	return err->class == ERROR_CLASS_LINK ||
	       err->class == ERROR_CLASS_TEMPFAIL;
}

bool
error_is_retryable(const struct error *err)
{
	switch (err->class) {
	case ERROR_CLASS_TEMPFAIL:
		return true;
	case ERROR_CLASS_PERMFAIL:
	case ERROR_CLASS_PROTOCOL:
		return false;
	case ERROR_CLASS_LINK:
	case ERROR_CLASS_LOCAL:
		/* The class does not say whether it lasts: its producer
		 * does, with EX_TEMPFAIL (error.h). */
		break;
	}
	return err->exit_code == EX_TEMPFAIL;
}

int
error_set(struct error *err, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, exit_code, fmt, ap);
	va_end(ap);
	return -1;
}

void
error_prefix(struct error *err, const char *fmt, ...)
{
	char joined[ERROR_MESSAGE_MAX];
	size_t n;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	n = strlen(joined);
	/* Truncation is fine: the line is for a human. */
	if (n + 2 < sizeof(joined)) {
		size_t room = sizeof(joined) - n - 2 - 1;
		size_t mlen = strnlen(err->message, sizeof(err->message));

		if (mlen > room)
			mlen = room;
		memcpy(joined + n, ": ", 2);
		memcpy(joined + n + 2, err->message, mlen);
		joined[n + 2 + mlen] = '\0';
	}
	memcpy(err->message, joined, sizeof(err->message));
}

void
error_clear(struct error *err)
{
	err->exit_code = EX_OK;
	err->class = ERROR_CLASS_LOCAL;
	err->message[0] = '\0';
}

bool
error_is_set(const struct error *err)
{
	return err->exit_code != EX_OK || err->message[0] != '\0';
}

int
error_from_reply(enum error_reply_context ctx, int code)
{
	if (code >= 400 && code < 500)
		return EX_TEMPFAIL; /* includes 421: RFC 5321 3.8 */
	if (code < 500 || code > 599)
		return EX_PROTOCOL; /* not a failure reply at all */
	/* 530: authentication required (RFC 4954 6) -- but only where a
	 * login could help.  Before AUTH (greeting, EHLO, STARTTLS) it is a
	 * refusal like any other 5xx: RFC 3207 4 has STARTTLS answer 530
	 * when TLS is not available, and no login changes that. */
	if ((code == 530 || code == 534 || code == 538) &&
	    ctx != ERROR_REPLY_GREETING && ctx != ERROR_REPLY_EHLO &&
	    ctx != ERROR_REPLY_STARTTLS)
		return EX_NOPERM;
	switch (ctx) {
	case ERROR_REPLY_AUTH:
		return EX_NOPERM;
	case ERROR_REPLY_RCPT:
		return EX_NOUSER;
	case ERROR_REPLY_MAIL:
	case ERROR_REPLY_DATA:
	case ERROR_REPLY_END_OF_DATA:
		/* 552: message exceeds fixed maximum size (RFC 1870 6.1). */
		if (code == 552)
			return EX_DATAERR;
		return EX_UNAVAILABLE;
	case ERROR_REPLY_GREETING:
	case ERROR_REPLY_EHLO:
	case ERROR_REPLY_STARTTLS:
	case ERROR_REPLY_OTHER:
		break;
	}
	return EX_UNAVAILABLE;
}

enum error_class
error_class_of_reply(int code)
{
	/* RFC 5321 3.8: the server is closing the channel. */
	if (code == 421)
		return ERROR_CLASS_LINK;
	if (code >= 400 && code < 500)
		return ERROR_CLASS_TEMPFAIL;
	if (code >= 500 && code < 600)
		return ERROR_CLASS_PERMFAIL;
	return ERROR_CLASS_PROTOCOL;
}

int
error_set_reply(struct error *err, enum error_reply_context ctx, int reply_code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, error_from_reply(ctx, reply_code), fmt, ap);
	va_end(ap);
	if (err != NULL)
		err->class = error_class_of_reply(reply_code);
	return -1;
}

const char *
error_exit_name(int code)
{
	switch (code) {
	case EX_OK:
		return "EX_OK";
	case EX_USAGE:
		return "EX_USAGE";
	case EX_DATAERR:
		return "EX_DATAERR";
	case EX_NOINPUT:
		return "EX_NOINPUT";
	case EX_NOUSER:
		return "EX_NOUSER";
	case EX_NOHOST:
		return "EX_NOHOST";
	case EX_UNAVAILABLE:
		return "EX_UNAVAILABLE";
	case EX_SOFTWARE:
		return "EX_SOFTWARE";
	case EX_OSERR:
		return "EX_OSERR";
	case EX_OSFILE:
		return "EX_OSFILE";
	case EX_CANTCREAT:
		return "EX_CANTCREAT";
	case EX_IOERR:
		return "EX_IOERR";
	case EX_TEMPFAIL:
		return "EX_TEMPFAIL";
	case EX_PROTOCOL:
		return "EX_PROTOCOL";
	case EX_NOPERM:
		return "EX_NOPERM";
	case EX_CONFIG:
		return "EX_CONFIG";
	default:
		return "unknown";
	}
}

char *
error_escape(char *dst, size_t dst_size, const char *s, size_t len)
{
	text_escape(dst, dst_size, s, len, 0);
	return dst;
}
