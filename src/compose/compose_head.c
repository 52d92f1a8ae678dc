/* SPDX-License-Identifier: ISC */
/*
 * The header block of a composed message.  Arguments become header text
 * here: unstructured text that is not plain ASCII as RFC 2047
 * encoded-words, everything folded (mime.c), addresses checked with
 * address.c.  Display names and the generated From, Date and Message-ID
 * are header_gen.c's (header.h), as for a message read from stdin.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "compose.h"
#include "compose_head.h"
#include "error.h"
#include "fdio.h"
#include "header.h"
#include "mime.h"

/* The header block is held in memory, like message.c's. */
#define HEAD_MAX HEADER_BLOCK_MAX

/* ---- small helpers ------------------------------------------------------- */

static bool
is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
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
		rc = header_phrase(b, buf_str(&plain), plain.len, err);
		buf_free(&plain);
		if (rc == -1)
			return -1;
	} else if (header_phrase(b, name, nlen, err) == -1)
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
    const struct header_options *ho, struct error *err)
{
	const char *sender = ho->envelope_from;
	char namebuf[256];

	if (co->from != NULL)
		return put_address_field(head, "From", &co->from, 1, err);
	if (sender == NULL || sender[0] == '\0')
		return error_set(err, EX_USAGE,
		    "no From address for the message (the envelope sender "
		    "is empty): give --from");
	return header_from_field(
	    head, header_full_name(ho, namebuf, sizeof(namebuf)), sender, err);
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
    struct buf *head, const struct header_options *ho, struct error *err)
{
	char *id;
	int rc;

	if (header_message_id(ho->envelope_from, ho->hostname, &id, err) == -1)
		return -1;
	rc = buf_printf(head, err, "Message-ID: %s\n", id);
	free(id);
	return rc;
}

int
compose_head_build(struct buf *head, const struct compose_options *co,
    const struct header_options *ho, struct error *err)
{
	const char *v;
	size_t i;

	buf_init(head, HEAD_MAX);
	if (put_from(head, co, ho, err) == -1)
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
	} else if (put_message_id(head, ho, err) == -1)
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
