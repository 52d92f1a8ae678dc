/* SPDX-License-Identifier: ISC */
/*
 * The header block of a composed message.  Arguments become header text
 * here: display names and unstructured text that are not plain ASCII as
 * RFC 2047 encoded-words, everything folded (mime.c), addresses checked
 * with address.c.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "cli.h"
#include "compose_head.h"
#include "error.h"
#include "header.h"
#include "message.h"
#include "mime.h"

/* The header block is held in memory, like message.c's. */
#define HEAD_MAX MESSAGE_HEADER_MAX

/* ---- small helpers ------------------------------------------------------- */

void
compose_random_hex(char *dst, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[COMPOSE_RANDOM_HEX_MAX / 2];
	size_t i;

	if (n > sizeof(rnd) * 2)
		n = sizeof(rnd) * 2;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(rnd)) {
		/* Unpredictability is not needed (mime_scan_7bit() keeps
		 * "=_" out of the content); uniqueness comes from time and
		 * pid too. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] =
			    (unsigned char)(((unsigned long)ts.tv_nsec ^
						(unsigned long)getpid() << 7) >>
					    (i % 8 * 4));
	}
	for (i = 0; i < n; i++)
		dst[i] = hex[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	dst[n] = '\0';
}

static bool
is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* RFC 5322 3.2.3 atext, and the space between words. */
static bool
phrase_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == ' ' ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A display name as a phrase: encoded-words when it is not ASCII, a
 * quoted string when it holds specials, else as it is. */
static int
append_phrase(struct buf *b, const char *name, size_t len, struct error *err)
{
	size_t i;
	bool plain = true;

	if (!is_ascii(name, len) || mime_needs_words(name, len))
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

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/*
 * One mailbox of an address argument, for a header: as given when it is
 * ASCII; "Jörg <j@x>" with its display name as encoded-words (RFC 2047
 * 5(3)).  Anything else non-ASCII (an internationalized address, a
 * comment) stays as it is and needs SMTPUTF8 like the address itself.
 */
static int
append_mailbox(struct buf *b, const char *s, size_t n, struct error *err)
{
	size_t i, lt = n;
	bool quoted = false;
	int depth = 0;
	const char *name;
	size_t nlen;

	trim(&s, &n);
	if (is_ascii(s, n))
		return buf_append(b, s, n, err);
	for (i = 0; i < n && lt == n; i++) {
		if (quoted) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				quoted = false;
		} else if (s[i] == '"')
			quoted = true;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (s[i] == '<' && depth == 0)
			lt = i;
	}
	name = s;
	nlen = lt;
	trim(&name, &nlen);
	if (lt == n || nlen == 0 || memchr(name, '(', nlen) != NULL ||
	    !is_ascii(s + lt, n - lt))
		return buf_append(b, s, n, err);
	if (nlen >= 2 && name[0] == '"' && name[nlen - 1] == '"') {
		struct buf plain;
		int rc;

		buf_init(&plain, nlen);
		for (i = 1; i + 1 < nlen; i++) {
			if (name[i] == '\\' && i + 2 < nlen)
				i++;
			if (buf_addch(&plain, name[i], err) == -1) {
				buf_free(&plain);
				return -1;
			}
		}
		rc = append_phrase(b, buf_str(&plain), plain.len, err);
		buf_free(&plain);
		if (rc == -1)
			return -1;
	} else if (append_phrase(b, name, nlen, err) == -1)
		return -1;
	if (buf_addch(b, ' ', err) == -1)
		return -1;
	return buf_append(b, s + lt, n - lt, err);
}

/* An address argument (one mailbox or a comma list) for a header: split
 * at the commas outside quotes, comments and angle brackets.  A group
 * ("team: a@x, b@y;") is written as it is. */
static int
append_address_arg(struct buf *b, const char *s, struct error *err)
{
	size_t n = strlen(s), i, start = 0;
	bool quoted = false, first = true;
	int depth = 0, angle = 0;

	for (i = 0; i < n; i++) {
		if (quoted) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			else if (s[i] == '"')
				quoted = false;
		} else if (s[i] == '"')
			quoted = true;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (s[i] == '<' && depth == 0)
			angle++;
		else if (s[i] == '>' && depth == 0 && angle > 0)
			angle--;
		else if (s[i] == ':' && depth == 0 && angle == 0)
			return buf_appends(b, s, err);
	}
	quoted = false;
	depth = angle = 0;
	for (i = 0; i <= n; i++) {
		if (i < n) {
			if (quoted) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				else if (s[i] == '"')
					quoted = false;
				continue;
			}
			if (s[i] == '"')
				quoted = true;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && depth > 0)
				depth--;
			else if (s[i] == '<' && depth == 0)
				angle++;
			else if (s[i] == '>' && depth == 0 && angle > 0)
				angle--;
			if (s[i] != ',' || depth > 0 || angle > 0)
				continue;
		}
		{
			const char *m = s + start;
			size_t mlen = i - start;

			trim(&m, &mlen);
			start = i + 1;
			if (mlen == 0)
				continue;
			if (!first && buf_appends(b, ", ", err) == -1)
				return -1;
			first = false;
			if (append_mailbox(b, m, mlen, err) == -1)
				return -1;
		}
	}
	return 0;
}

/* An address field from arguments, each checked as an address list. */
static int
put_address_field(struct buf *head, const char *field, const char *const *args,
    size_t n, struct error *err)
{
	struct buf v;
	size_t i;
	int rc = -1;

	buf_init(&v, HEAD_MAX);
	for (i = 0; i < n; i++) {
		struct address_list l;

		address_list_init(&l);
		if (address_parse_list(args[i], strlen(args[i]), &l, err) ==
		    -1) {
			address_list_free(&l);
			if (err->exit_code != EX_OSERR)
				err->exit_code = EX_USAGE;
			error_prefix(err, "%s", field);
			goto out;
		}
		address_list_free(&l);
		if (v.len > 0 && buf_appends(&v, ", ", err) == -1)
			goto out;
		if (append_address_arg(&v, args[i], err) == -1)
			goto out;
	}
	rc = mime_fold(head, field, buf_str(&v), v.len, err);
	if (rc == -1 && err->exit_code == EX_DATAERR)
		err->exit_code = EX_USAGE;
out:
	buf_free(&v);
	return rc;
}

/* Unstructured text (Subject, an extra field): encoded-words when it is
 * not plain ASCII that folds. */
static int
put_text_field(
    struct buf *head, const char *field, const char *value, struct error *err)
{
	size_t n = strlen(value);
	struct buf v;
	int rc;

	if (!mime_needs_words(value, n))
		rc = mime_fold(head, field, value, n, err);
	else {
		buf_init(&v, HEAD_MAX);
		rc = mime_encode_words(&v, value, n, err);
		if (rc == 0)
			rc = mime_fold(head, field, buf_str(&v), v.len, err);
		buf_free(&v);
	}
	if (rc == -1 && err->exit_code == EX_DATAERR)
		err->exit_code = EX_USAGE;
	return rc;
}

/* ---- the header block
 * --------------------------------------------------------- */

static int
put_from(struct buf *head, const struct compose_options *co,
    const struct message_options *mo, struct error *err)
{
	const char *sender = mo->envelope_from;
	char namebuf[256];
	const char *name = message_full_name(mo, namebuf, sizeof(namebuf));
	struct buf v;
	int rc = -1;

	if (co->from != NULL)
		return put_address_field(head, "From", &co->from, 1, err);
	if (sender == NULL || sender[0] == '\0')
		return error_set(err, EX_USAGE,
		    "no From address for the message (the envelope sender "
		    "is empty): give --from");
	buf_init(&v, HEAD_MAX);
	if (name != NULL && name[0] != '\0') {
		if (append_phrase(&v, name, strlen(name), err) == -1 ||
		    buf_printf(&v, err, " <%s>", sender) == -1)
			goto out;
	} else if (buf_appends(&v, sender, err) == -1)
		goto out;
	rc = mime_fold(head, "From", buf_str(&v), v.len, err);
out:
	buf_free(&v);
	return rc;
}

/* The value of a --header that names field, or NULL. */
static const char *
given_header(const struct compose_options *co, const char *field)
{
	size_t i, n;

	for (i = 0; i < co->n_headers; i++) {
		const char *h = co->headers[i];

		if ((n = header_field_is(h, strlen(h), field)) > 0) {
			h += n;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

static int
put_message_id(
    struct buf *head, const struct message_options *mo, struct error *err)
{
	const char *at =
	    mo->envelope_from != NULL ? strrchr(mo->envelope_from, '@') : NULL;
	const char *domain;
	char rnd[COMPOSE_RANDOM_HEX_MAX + 1];
	struct tm tm;
	time_t now = time(NULL);

	if (at != NULL && at[1] != '\0')
		domain = at + 1;
	else if (mo->hostname != NULL && mo->hostname[0] != '\0')
		domain = mo->hostname;
	else
		domain = "localhost";
	gmtime_r(&now, &tm);
	compose_random_hex(rnd, 16);
	/* RFC 5322 3.6.4: unique; time, pid and randomness make it so. */
	return buf_printf(head, err,
	    "Message-ID: <%04d%02d%02d%02d%02d%02d.%ld.%s@%s>\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)getpid(), rnd, domain);
}

int
compose_head_build(struct buf *head, const struct compose_options *co,
    const struct message_options *mo, struct error *err)
{
	const char *v;
	size_t i;

	buf_init(head, HEAD_MAX);
	if (put_from(head, co, mo, err) == -1)
		return -1;
	if (co->n_to > 0 &&
	    put_address_field(head, "To", co->to, co->n_to, err) == -1)
		return -1;
	/* RFC 5322 3.6.3 allows no To; an empty group says so to people. */
	if (co->n_to == 0 && co->n_cc == 0 &&
	    buf_appends(head, "To: undisclosed-recipients:;\n", err) == -1)
		return -1;
	if (co->n_cc > 0 &&
	    put_address_field(head, "Cc", co->cc, co->n_cc, err) == -1)
		return -1;
	if (co->reply_to != NULL &&
	    put_address_field(head, "Reply-To", &co->reply_to, 1, err) == -1)
		return -1;
	if (co->subject != NULL &&
	    put_text_field(head, "Subject", co->subject, err) == -1)
		return -1;
	if ((v = given_header(co, "Date")) != NULL) {
		if (put_text_field(head, "Date", v, err) == -1)
			return -1;
	} else {
		char date[64];

		header_format_date(time(NULL), date, sizeof(date));
		if (buf_printf(head, err, "Date: %s\n", date) == -1)
			return -1;
	}
	if ((v = given_header(co, "Message-ID")) != NULL) {
		if (put_text_field(head, "Message-ID", v, err) == -1)
			return -1;
	} else if (put_message_id(head, mo, err) == -1)
		return -1;
	for (i = 0; i < co->n_headers; i++) {
		const char *h = co->headers[i], *colon = strchr(h, ':');
		char name[80];

		if (colon == NULL || (size_t)(colon - h) >= sizeof(name))
			return error_set(err, EX_USAGE, "bad --header");
		memcpy(name, h, (size_t)(colon - h));
		name[colon - h] = '\0';
		if (strcasecmp(name, "Date") == 0 ||
		    strcasecmp(name, "Message-ID") == 0)
			continue;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (put_text_field(head, name, v, err) == -1)
			return -1;
	}
	return buf_appends(head, "MIME-Version: 1.0\n", err);
}
