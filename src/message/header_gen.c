/* SPDX-License-Identifier: ISC */
/*
 * The fields mailsub generates (header.h): From with its display name,
 * Message-ID and Date, for header.c's missing fields and compose's head
 * alike.  Nothing here reads a message.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "header.h"
#include "id.h"
#include "mime.h"

/* RFC 5322 3.2.3 atext, and the space between words. */
static bool
phrase_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == ' ' ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

int
header_phrase(struct buf *b, const char *name, size_t len, struct error *err)
{
	size_t i;
	bool plain = true;

	/* Not ASCII, controls, or "=?": a name can never add a header line
	 * or pass for an encoded-word it is not. */
	if (mime_needs_words(name, len))
		return mime_encode_words(b, name, len, err);
	for (i = 0; i < len; i++)
		if (!phrase_char((unsigned char)name[i]))
			plain = false;
	if (plain)
		return buf_append(b, name, len, err);
	if (buf_addch(b, '"', err) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((name[i] == '"' || name[i] == '\\') &&
		    buf_addch(b, '\\', err) == -1)
			return -1;
		if (buf_addch(b, name[i], err) == -1)
			return -1;
	}
	return buf_addch(b, '"', err);
}

int
header_from_field(
    struct buf *out, const char *name, const char *address, struct error *err)
{
	struct buf v;
	int rc = -1;

	buf_init(&v, HEADER_BLOCK_MAX);
	if (name != NULL && name[0] != '\0') {
		if (header_phrase(&v, name, strlen(name), err) == -1 ||
		    buf_printf(&v, err, " <%s>", address) == -1)
			goto out;
	} else if (buf_appends(&v, address, err) == -1)
		goto out;
	rc = mime_fold(out, "From", buf_str(&v), v.len, err);
out:
	buf_free(&v);
	return rc;
}

const char *
header_full_name(const struct header_options *ho, char *buf, size_t size)
{
	struct passwd *pw;
	size_t n;

	if (ho->full_name != NULL || !ho->passwd_name)
		return ho->full_name;
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_gecos == NULL || pw->pw_gecos[0] == '\0')
		return NULL;
	n = strcspn(pw->pw_gecos, ",");
	if (n == 0 || n >= size)
		return NULL;
	memcpy(buf, pw->pw_gecos, n);
	buf[n] = '\0';
	return buf;
}

int
header_message_id(
    const char *sender, const char *hostname, char **out, struct error *err)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;
	const char *domain;
	char rnd[16 + 1];
	struct tm tm;
	time_t now = time(NULL);
	struct buf b;

	if (at != NULL && at[1] != '\0')
		domain = at + 1;
	else if (hostname != NULL && *hostname != '\0')
		domain = hostname;
	else
		domain = "localhost";
	gmtime_r(&now, &tm);
	id_random_hex(rnd, 16);
	buf_init(&b, 1024);
	/* RFC 5322 3.6.4: unique; time, pid and randomness make it so. */
	if (buf_printf(&b, err, "<%04d%02d%02d%02d%02d%02d.%ld.%s@%s>",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (long)getpid(), rnd, domain) == -1) {
		buf_free(&b);
		if (err->exit_code != EX_OSERR)
			error_set(err, EX_DATAERR,
			    "domain too long for a Message-ID");
		return -1;
	}
	*out = buf_detach(&b);
	return 0;
}

void
header_format_date(time_t t, char *dst, size_t size)
{
	/* RFC 5322 3.3 names, never the locale's. */
	static const char *const days[] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&t, &tm) == NULL) {
		gmtime_r(&t, &tm);
		tm.tm_gmtoff = 0;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	snprintf(dst, size, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60,
	    off % 60);
}
