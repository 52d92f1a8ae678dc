/* SPDX-License-Identifier: ISC */
/*
 * The header block: -t recipients, Bcc and Resent-Bcc removal, From
 * fix/force, bare To/Cc completion, and the missing From, Date and
 * Message-ID.  The block arrives in memory (message.c bounds it); the lines
 * to write leave through a callback.  address_parse_list() judges address
 * syntax; the scanner here only finds where the addresses are in the text
 * so that a field can be rewritten keeping everything else.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "buf.h"
#include "error.h"
#include "header.h"
#include "message.h"

/* RFC 2047 2: an encoded-word is at most 75 characters; 45 input bytes
 * make 60 base64 characters, plus "=?UTF-8?B?" and "?=". */
#define ENCODED_WORD_INPUT 45

enum field_id {
	FIELD_OTHER,
	FIELD_FROM,
	FIELD_TO,
	FIELD_CC,
	FIELD_BCC,
	FIELD_DATE,
	FIELD_MESSAGE_ID,
	FIELD_RESENT_TO,
	FIELD_RESENT_CC,
	FIELD_RESENT_BCC,
	FIELD_SENDER,
	FIELD_RESENT_FROM,
	FIELD_RESENT_SENDER,
};

static const struct {
	const char *name;
	enum field_id id;
} field_names[] = {
    {"From", FIELD_FROM},
    {"To", FIELD_TO},
    {"Cc", FIELD_CC},
    {"Bcc", FIELD_BCC},
    {"Date", FIELD_DATE},
    {"Message-ID", FIELD_MESSAGE_ID},
    {"Resent-To", FIELD_RESENT_TO},
    {"Resent-Cc", FIELD_RESENT_CC},
    {"Resent-Bcc", FIELD_RESENT_BCC},
    {"Sender", FIELD_SENDER},
    {"Resent-From", FIELD_RESENT_FROM},
    {"Resent-Sender", FIELD_RESENT_SENDER},
};

/* One header field in the header buffer: the raw text (folded lines joined
 * by '\n', no final '\n'), starting with the name. */
struct field {
	size_t off, len;
	size_t name_len;
	enum field_id id;
};

static bool
is_special(unsigned char c)
{
	/* RFC 5322 3.2.3 specials, plus controls that cannot stand in an
	 * atom. */
	return strchr("()<>[]:;@\\,.\"", c) != NULL || c < 0x20 || c == 0x7f;
}

static int
append_base64(
    struct buf *b, const unsigned char *p, size_t n, struct error *err)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if (buf_append(b, q, 4, err) == -1)
			return -1;
	}
	return 0;
}

/*
 * Append a display name as an RFC 5322 phrase: plain atoms when possible,
 * a quoted-string when it holds specials, RFC 2047 encoded-words when it
 * holds non-ASCII bytes.  Control characters become spaces, so a name can
 * never add a header line.
 */
static int
append_display(struct buf *b, const char *name, size_t len, struct error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	bool eightbit = false, special = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] >= 0x80)
			eightbit = true;
		else if (is_special(s[i]))
			special = true;
	}
	if (eightbit) {
		i = 0;
		while (i < len) {
			size_t n = len - i;

			if (n > ENCODED_WORD_INPUT) {
				n = ENCODED_WORD_INPUT;
				/* RFC 2047 5: never split a character. */
				while (n > 1 && (s[i + n] & 0xc0) == 0x80)
					n--;
			}
			if (buf_appends(b,
				i == 0 ? "=?UTF-8?B?" : " =?UTF-8?B?",
				err) == -1)
				return -1;
			if (append_base64(b, s + i, n, err) == -1 ||
			    buf_appends(b, "?=", err) == -1)
				return -1;
			i += n;
		}
		return 0;
	}
	if (!special)
		return buf_append(b, name, len, err);
	if (buf_addch(b, '"', err) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		char c = (char)s[i];

		if (s[i] < 0x20 || s[i] == 0x7f)
			c = ' ';
		else if ((c == '"' || c == '\\') &&
			 buf_addch(b, '\\', err) == -1)
			return -1;
		if (buf_addch(b, c, err) == -1)
			return -1;
	}
	return buf_addch(b, '"', err);
}

/* The mailboxes of an address list located in raw header text (folding
 * included), for rewriting it in place.  address_parse_list() is the judge
 * of validity; this only finds where things are. */
struct mailbox_span {
	bool have_tok;
	size_t tok_start, tok_end; /* words outside <> and comments */
	bool tok_at;
	bool angle;
	size_t angle_start, angle_end; /* inside <> */
	bool angle_at;
	bool have_comment;
	size_t comment_start, comment_end; /* first comment's contents */
};

typedef int (*mailbox_fn)(void *arg, const struct mailbox_span *mb);

static size_t
skip_quoted(const char *v, size_t n, size_t i)
{
	/* v[i] is the opening quote; returns the index after the closing. */
	for (i++; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		else if (v[i] == '"')
			return i + 1;
	}
	return n;
}

static bool
is_word_delim(char c)
{
	/* strchr() finds the terminating NUL too: a NUL byte in a field
	 * would end a word without being consumed, and scan_mailboxes()
	 * would never move past it (found by tests/fuzz/fuzz_header). */
	return c != '\0' && strchr(" \t\n()<>,;:\"", c) != NULL;
}

static int
emit_mailbox(struct mailbox_span *mb, mailbox_fn fn, void *arg)
{
	int r = 0;

	if (mb->angle || mb->have_tok)
		r = fn(arg, mb);
	memset(mb, 0, sizeof(*mb));
	return r;
}

static int
scan_mailboxes(const char *v, size_t n, mailbox_fn fn, void *arg)
{
	struct mailbox_span mb;
	size_t i = 0, s;

	memset(&mb, 0, sizeof(mb));
	while (i < n) {
		char c = v[i];

		if (c == ' ' || c == '\t' || c == '\n') {
			i++;
		} else if (c == '(') {
			unsigned depth = 1;

			s = ++i;
			while (i < n && depth > 0) {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				else if (v[i] == '(')
					depth++;
				else if (v[i] == ')')
					depth--;
				i++;
			}
			if (!mb.have_comment) {
				mb.have_comment = true;
				mb.comment_start = s;
				mb.comment_end = depth == 0 ? i - 1 : i;
			}
		} else if (c == ',' || c == ';') {
			if (emit_mailbox(&mb, fn, arg) == -1)
				return -1;
			i++;
		} else if (c == ':') {
			/* The words so far named a group (RFC 5322 3.4). */
			memset(&mb, 0, sizeof(mb));
			i++;
		} else if (c == '<') {
			s = ++i;
			mb.angle_at = false;
			while (i < n && v[i] != '>') {
				if (v[i] == '"') {
					i = skip_quoted(v, n, i);
					continue;
				}
				if (v[i] == '@')
					mb.angle_at = true;
				i++;
			}
			mb.angle = true;
			mb.angle_start = s;
			mb.angle_end = i;
			if (i < n)
				i++;
		} else {
			s = i;
			if (c == '"')
				i = skip_quoted(v, n, i);
			else if (c == '>' || c == ')')
				i++; /* stray: address_parse_list judges */
			else
				while (i < n && !is_word_delim(v[i])) {
					if (v[i] == '@')
						mb.tok_at = true;
					i++;
				}
			if (!mb.have_tok) {
				mb.have_tok = true;
				mb.tok_start = s;
			}
			mb.tok_end = i;
		}
	}
	return emit_mailbox(&mb, fn, arg);
}

/* Unfold for parsing: RFC 5322 2.2.3, drop the line breaks. */
static int
unfold(const char *v, size_t n, struct buf *out, struct error *err)
{
	while (n > 0) {
		const char *nl = memchr(v, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - v) : n;

		if (buf_append(out, v, len, err) == -1)
			return -1;
		if (nl == NULL)
			break;
		n -= len + 1;
		v = nl + 1;
	}
	if (out->data == NULL)
		return buf_append(out, "", 0, err);
	return 0;
}

static bool
all_space(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n')
			return false;
	return true;
}

/* ---- the header block --------------------------------------------------- */

struct header_ctx {
	const struct message_options *mo;
	struct message *m;
	struct error *err;
	header_put_fn put;
	void *arg;
	struct header_status *st;
	const char *hdr;
	size_t hdr_len;
	struct field *fields;
	size_t n_fields;
	const char *sender;
	const char *domain; /* default_domain, or NULL */
};

static int
put_line(struct header_ctx *h, const char *p, size_t n)
{
	h->st->lines++;
	return h->put(h->arg, p, n);
}

/* Write folded text (lines separated by '\n') line by line. */
static int
put_lines(struct header_ctx *h, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - p) : n;

		if (put_line(h, p, len) == -1)
			return -1;
		if (nl == NULL)
			break;
		n -= len + 1;
		p = nl + 1;
	}
	return 0;
}

/* Content errors do not stop the processing: the whole message is still
 * spooled so that the caller can save it (mailsub(1), EXIT STATUS); the first
 * is kept. */
static void
content_error(struct header_ctx *h, const struct error *e)
{
	if (h->st->failed)
		return;
	h->st->failed = true;
	h->st->error = *e;
}

static const char *
field_value(const struct header_ctx *h, const struct field *f, size_t *len)
{
	/* A line without ':' (only from a careless caller) has no value. */
	if (f->name_len >= f->len) {
		*len = 0;
		return h->hdr + f->off + f->len;
	}
	*len = f->len - f->name_len - 1;
	return h->hdr + f->off + f->name_len + 1;
}

static const char *
field_name(enum field_id id)
{
	size_t i;

	for (i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (field_names[i].id == id)
			return field_names[i].name;
	return "header";
}

size_t
header_field_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name), i;

	if (len <= n || strncasecmp(line, name, n) != 0)
		return 0;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return i < len && line[i] == ':' ? i + 1 : 0;
}

static int
split_fields(struct header_ctx *h, struct error *err)
{
	size_t pos = 0, cap = 0, end = h->hdr_len;

	h->fields = NULL;
	h->n_fields = 0;
	while (pos < end) {
		const char *line = h->hdr + pos;
		const char *nl = memchr(line, '\n', end - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) : end - pos, i;
		const char *colon;
		struct field *f;

		/* RFC 5322 2.2.3: a line starting with white space
		 * continues the field before it. */
		if ((line[0] == ' ' || line[0] == '\t') && h->n_fields > 0) {
			f = &h->fields[h->n_fields - 1];
			f->len = pos + len - f->off;
			pos += len + 1;
			continue;
		}
		if (h->n_fields == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct field *nf =
			    reallocarray(h->fields, ncap, sizeof(*nf));

			if (nf == NULL)
				return error_set(
				    err, EX_OSERR, "out of memory");
			h->fields = nf;
			cap = ncap;
		}
		f = &h->fields[h->n_fields++];
		f->off = pos;
		f->len = len;
		colon = memchr(line, ':', len);
		f->name_len = colon != NULL ? (size_t)(colon - line) : len;
		f->id = FIELD_OTHER;
		for (i = 0; colon != NULL &&
			    i < sizeof(field_names) / sizeof(field_names[0]);
		     i++)
			if (header_field_is(line, len, field_names[i].name) ==
			    f->name_len + 1)
				f->id = field_names[i].id;
		pos += len + 1;
	}
	return 0;
}

/* -t: the recipients of one field, completed, into m->header_rcpts.
 * Returns -1 only for a hard (EX_OSERR) error. */
static int
collect_rcpts(struct header_ctx *h, const struct field *f)
{
	struct address_list tmp;
	struct buf text;
	struct error e;
	const char *v;
	size_t vlen, i;
	int rc = 0;

	v = field_value(h, f, &vlen);
	if (all_space(v, vlen))
		return 0;
	error_clear(&e);
	address_list_init(&tmp);
	buf_init(&text, MESSAGE_HEADER_MAX);
	if (unfold(v, vlen, &text, &e) == -1)
		goto fail;
	if (address_parse_list(text.data, text.len, &tmp, &e) == -1) {
		error_prefix(&e, "%s header", field_name(f->id));
		goto fail;
	}
	for (i = 0; i < tmp.n; i++)
		if (address_complete(tmp.addrs[i], h->mo->aliases, h->domain,
			&h->m->header_rcpts, &h->m->alias_warning, &e) == -1) {
			error_prefix(&e, "%s header", field_name(f->id));
			goto fail;
		}
	goto out;
fail:
	if (e.exit_code == EX_OSERR) {
		*h->err = e;
		rc = -1;
	} else {
		if (e.exit_code != EX_DATAERR && e.exit_code != EX_CONFIG)
			e.exit_code = EX_DATAERR;
		content_error(h, &e);
	}
out:
	buf_free(&text);
	address_list_free(&tmp);
	return rc;
}

/* Parse a field's address list; 1 if it parsed, 0 if not, -1 out of
 * memory. */
static int
parse_field(const struct header_ctx *h, const struct field *f,
    struct address_list *out, struct error *err)
{
	struct buf text;
	struct error e;
	const char *v;
	size_t vlen;
	int rc = 1;

	v = field_value(h, f, &vlen);
	buf_init(&text, MESSAGE_HEADER_MAX);
	error_clear(&e);
	if (unfold(v, vlen, &text, err) == -1) {
		buf_free(&text);
		return -1;
	}
	if (address_parse_list(text.data, text.len, out, &e) == -1) {
		rc = 0;
		if (e.exit_code == EX_OSERR) {
			*err = e;
			rc = -1;
		}
	}
	buf_free(&text);
	return rc;
}

struct insert_ctx {
	const char *v;
	size_t at[64];
	size_t n;
};

static int
note_bare(void *arg, const struct mailbox_span *mb)
{
	struct insert_ctx *c = arg;
	size_t end;

	if (mb->angle) {
		if (mb->angle_at || mb->angle_end == mb->angle_start)
			return 0;
		end = mb->angle_end;
	} else {
		if (mb->tok_at)
			return 0;
		end = mb->tok_end;
	}
	if (c->n == sizeof(c->at) / sizeof(c->at[0]))
		return -1; /* too many to rewrite; leave the field alone */
	c->at[c->n++] = end;
	return 0;
}

/* To and Cc: "root" becomes "root@default_domain" in what is written
 * (relays reject bare names), keeping everything else of the text. */
static int
put_completed(struct header_ctx *h, const struct field *f)
{
	struct address_list l;
	struct insert_ctx c;
	struct buf out;
	const char *v;
	size_t vlen, i, bare = 0, pos;
	int rc;

	address_list_init(&l);
	rc = parse_field(h, f, &l, h->err);
	if (rc == -1)
		return -1;
	for (i = 0; rc == 1 && i < l.n; i++)
		if (address_is_bare(l.addrs[i]))
			bare++;
	address_list_free(&l);
	v = field_value(h, f, &vlen);
	c.v = v;
	c.n = 0;
	if (rc != 1 || bare == 0 ||
	    scan_mailboxes(v, vlen, note_bare, &c) == -1 || c.n == 0)
		return put_lines(h, h->hdr + f->off, f->len);

	buf_init(&out, MESSAGE_HEADER_MAX * 2);
	if (buf_append(&out, h->hdr + f->off, f->name_len + 1, h->err) == -1)
		goto oom;
	pos = 0;
	for (i = 0; i < c.n; i++) {
		if (buf_append(&out, v + pos, c.at[i] - pos, h->err) == -1 ||
		    buf_addch(&out, '@', h->err) == -1 ||
		    buf_appends(&out, h->domain, h->err) == -1)
			goto oom;
		pos = c.at[i];
	}
	if (buf_append(&out, v + pos, vlen - pos, h->err) == -1)
		goto oom;
	rc = put_lines(h, out.data, out.len);
	buf_free(&out);
	return rc;
oom:
	buf_free(&out);
	return -1;
}

struct first_mailbox {
	bool found;
	struct mailbox_span mb;
};

static int
take_first(void *arg, const struct mailbox_span *mb)
{
	struct first_mailbox *fm = arg;

	if (!fm->found) {
		fm->found = true;
		fm->mb = *mb;
	}
	return 0;
}

/* Append text without its folding line breaks. */
static int
append_unfolded(struct buf *b, const char *p, size_t n, struct error *err)
{
	size_t i, s = 0;

	for (i = 0; i <= n; i++)
		if (i == n || p[i] == '\n') {
			if (buf_append(b, p + s, i - s, err) == -1)
				return -1;
			s = i + 1;
		}
	return 0;
}

/*
 * from_header = fix: a From whose address is a bare local name (cron's
 * "root (Cron Daemon)") becomes the envelope sender, keeping the name;
 * force: every From does.  The display name is the phrase before <...>,
 * else the first comment.
 */
static int
put_from(struct header_ctx *h, const struct field *f, bool force)
{
	struct address_list l;
	struct first_mailbox fm;
	struct buf out, name;
	const char *v;
	size_t vlen, i;
	int rc;

	address_list_init(&l);
	rc = parse_field(h, f, &l, h->err);
	if (rc == -1)
		return -1;
	if (rc == 1 && l.n == 1 && strcmp(l.addrs[0], h->sender) == 0)
		rc = 0; /* already right: keep the text as it is */
	else if (rc == 1 && !force)
		rc = l.n == 1 && address_is_bare(l.addrs[0]);
	else
		rc = force;
	address_list_free(&l);
	if (!rc)
		return put_lines(h, h->hdr + f->off, f->len);

	v = field_value(h, f, &vlen);
	memset(&fm, 0, sizeof(fm));
	scan_mailboxes(v, vlen, take_first, &fm);
	buf_init(&out, MESSAGE_HEADER_MAX * 2);
	buf_init(&name, MESSAGE_HEADER_MAX);
	if (buf_appends(&out, "From: ", h->err) == -1)
		goto oom;
	if (fm.found && fm.mb.angle && fm.mb.have_tok) {
		/* Already a phrase in the header's own syntax. */
		if (append_unfolded(&out, v + fm.mb.tok_start,
			fm.mb.tok_end - fm.mb.tok_start, h->err) == -1)
			goto oom;
	} else if (fm.found && fm.mb.have_comment) {
		const char *c = v + fm.mb.comment_start;
		size_t clen = fm.mb.comment_end - fm.mb.comment_start;

		/* Comment text: drop the folding and quoted-pair escapes,
		 * then quote it as a phrase. */
		for (i = 0; i < clen; i++) {
			if (c[i] == '\n')
				continue;
			if (c[i] == '\\' && i + 1 < clen)
				i++;
			if (buf_addch(&name, c[i], h->err) == -1)
				goto oom;
		}
		while (name.len > 0 && (name.data[name.len - 1] == ' ' ||
					   name.data[name.len - 1] == '\t'))
			name.data[--name.len] = '\0';
		i = 0;
		while (i < name.len &&
		       (name.data[i] == ' ' || name.data[i] == '\t'))
			i++;
		if (i < name.len && append_display(&out, name.data + i,
					name.len - i, h->err) == -1)
			goto oom;
	}
	if (out.len > strlen("From: ")) {
		if (buf_printf(&out, h->err, " <%s>", h->sender) == -1)
			goto oom;
	} else if (buf_appends(&out, h->sender, h->err) == -1)
		goto oom;
	rc = put_line(h, out.data, out.len);
	buf_free(&out);
	buf_free(&name);
	return rc;
oom:
	buf_free(&out);
	buf_free(&name);
	return -1;
}

/*
 * Whether every address of f is one the caller may use (mo->sender_ok,
 * mailsub.conf(5) local_senders; a bare name is completed first): 1 yes,
 * 0 no (or f holds no address that parses), 2 no but f is one bare name,
 * -1 on error.
 */
static int
senders_ok(struct header_ctx *h, const struct field *f)
{
	struct address_list l;
	size_t i;
	int rc;

	address_list_init(&l);
	rc = parse_field(h, f, &l, h->err);
	if (rc == 1 && l.n == 0)
		rc = 0;
	for (i = 0; rc == 1 && i < l.n; i++) {
		const char *a = l.addrs[i];
		char *full = NULL;

		if (address_is_bare(a) && h->domain != NULL) {
			if (asprintf(&full, "%s@%s", a, h->domain) == -1) {
				rc = error_set(
				    h->err, EX_OSERR, "out of memory");
				break;
			}
			a = full;
		}
		if (!h->mo->sender_ok(h->mo->sender_ok_arg, a))
			rc = 0;
		free(full);
	}
	/* One bare name (cron's "root"): not the caller's, but what
	 * from_header = fix rewrites for everyone. */
	if (rc == 0 && l.n == 1 && address_is_bare(l.addrs[0]))
		rc = 2;
	address_list_free(&l);
	return rc;
}

static int
put_generated_from(struct header_ctx *h)
{
	char namebuf[256];
	const char *name = message_full_name(h->mo, namebuf, sizeof(namebuf));
	struct buf out;
	int rc = -1;

	buf_init(&out, MESSAGE_HEADER_MAX);
	if (buf_appends(&out, "From: ", h->err) == -1)
		goto out;
	if (name != NULL && *name != '\0') {
		if (append_display(&out, name, strlen(name), h->err) == -1 ||
		    buf_printf(&out, h->err, " <%s>", h->sender) == -1)
			goto out;
	} else if (buf_appends(&out, h->sender, h->err) == -1)
		goto out;
	rc = put_line(h, out.data, out.len);
out:
	buf_free(&out);
	return rc;
}

static void
random_bytes(unsigned char *p, size_t n)
{
	ssize_t got = getrandom(p, n, GRND_NONBLOCK);

	if (got != (ssize_t)n) {
		/* Uniqueness still comes from time and pid. */
		struct timespec ts;
		size_t i;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < n; i++)
			p[i] = (unsigned char)((unsigned long)ts.tv_nsec >>
					       (i % 4 * 8));
	}
}

static int
make_message_id(struct header_ctx *h, char **out, struct error *err)
{
	const struct message_options *mo = h->mo;
	const char *at = strrchr(h->sender, '@');
	const char *domain;
	unsigned char rnd[8];
	struct tm tm;
	time_t now = time(NULL);
	struct buf b;
	size_t i;

	if (at != NULL && at[1] != '\0')
		domain = at + 1;
	else if (mo->hostname != NULL && *mo->hostname != '\0')
		domain = mo->hostname;
	else
		domain = "localhost";
	gmtime_r(&now, &tm);
	random_bytes(rnd, sizeof(rnd));
	buf_init(&b, 1024);
	if (buf_printf(&b, err, "<%04d%02d%02d%02d%02d%02d.%ld.",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (long)getpid()) == -1)
		goto fail;
	for (i = 0; i < sizeof(rnd); i++)
		if (buf_printf(&b, err, "%02x", rnd[i]) == -1)
			goto fail;
	if (buf_printf(&b, err, "@%s>", domain) == -1)
		goto fail;
	*out = buf_detach(&b);
	return 0;
fail:
	buf_free(&b);
	if (err->exit_code != EX_OSERR)
		error_set(err, EX_DATAERR, "domain too long for a Message-ID");
	return -1;
}

static char *
trimmed_copy(const char *v, size_t n)
{
	struct buf b;
	size_t s = 0;

	buf_init(&b, MESSAGE_HEADER_MAX);
	while (s < n && (v[s] == ' ' || v[s] == '\t' || v[s] == '\n'))
		s++;
	while (
	    n > s && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n'))
		n--;
	if (append_unfolded(&b, v + s, n - s, NULL) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/*
 * The header_process() steps in order: -t recipients (RFC 5322 3.6.6:
 * Resent-* fields describe the resending, so they alone name the
 * recipients when present), the Message-ID, the missing fields (first:
 * RFC 5322 3.6 does not order fields), then every field with Bcc left out
 * and From, To and Cc rewritten as the account says.
 */
int
header_process(const char *text, size_t len, const struct message_options *mo,
    header_put_fn put, void *arg, struct message *m, struct header_status *st,
    struct error *err)
{
	const struct account *acct = mo->acct;
	struct header_ctx h;
	const struct field *from = NULL, *date = NULL, *msgid = NULL;
	bool resent = false, add;
	enum account_from_header mode;
	size_t i;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	memset(&h, 0, sizeof(h));
	h.mo = mo;
	h.m = m;
	h.err = err;
	h.put = put;
	h.arg = arg;
	h.st = st;
	h.hdr = text != NULL ? text : "";
	h.hdr_len = text != NULL ? len : 0;
	h.sender = mo->envelope_from != NULL ? mo->envelope_from : "";
	h.domain = acct != NULL && acct->default_domain != NULL &&
			   *acct->default_domain != '\0'
		       ? acct->default_domain
		       : NULL;
	add = acct != NULL && acct->add_headers;
	mode = acct != NULL ? acct->from_header : ACCOUNT_FROM_FIX;
	if (split_fields(&h, err) == -1)
		return -1;

	for (i = 0; i < h.n_fields; i++) {
		const struct field *f = &h.fields[i];

		if (f->id == FIELD_RESENT_TO || f->id == FIELD_RESENT_CC ||
		    f->id == FIELD_RESENT_BCC)
			resent = true;
		else if (f->id == FIELD_FROM && from == NULL)
			from = f;
		else if (f->id == FIELD_DATE && date == NULL)
			date = f;
		else if (f->id == FIELD_MESSAGE_ID && msgid == NULL)
			msgid = f;
	}

	if (mo->read_recipients)
		for (i = 0; i < h.n_fields; i++) {
			enum field_id id = h.fields[i].id;
			bool use = resent ? id == FIELD_RESENT_TO ||
						id == FIELD_RESENT_CC ||
						id == FIELD_RESENT_BCC
					  : id == FIELD_TO || id == FIELD_CC ||
						id == FIELD_BCC;

			if (use && collect_rcpts(&h, &h.fields[i]) == -1)
				goto out;
		}

	if (msgid != NULL) {
		size_t vlen;
		const char *v = field_value(&h, msgid, &vlen);

		free(m->message_id);
		m->message_id = trimmed_copy(v, vlen);
		if (m->message_id == NULL) {
			error_set(err, EX_OSERR, "out of memory");
			goto out;
		}
	}

	if (add && from == NULL && *h.sender != '\0' &&
	    put_generated_from(&h) == -1)
		goto out;
	if (add && date == NULL) {
		char line[80];

		memcpy(line, "Date: ", 6);
		header_format_date(time(NULL), line + 6, sizeof(line) - 6);
		if (put_line(&h, line, strlen(line)) == -1)
			goto out;
	}
	if (add && msgid == NULL) {
		char *id;
		struct buf line;

		if (make_message_id(&h, &id, err) == -1)
			goto out;
		free(m->message_id);
		m->message_id = id;
		buf_init(&line, 2048);
		if (buf_printf(&line, err, "Message-ID: %s", id) == -1 ||
		    put_line(&h, line.data, line.len) == -1) {
			buf_free(&line);
			goto out;
		}
		buf_free(&line);
	}

	for (i = 0; i < h.n_fields; i++) {
		const struct field *f = &h.fields[i];
		int w;

		switch (f->id) {
		case FIELD_BCC:
		case FIELD_RESENT_BCC:
			/* mailsub(1), DESCRIPTION: Bcc never leaves the host.
			 */
			continue;
		case FIELD_FROM:
			/* A From the caller may not use becomes the caller's
			 * address (the envelope sender, already checked). */
			if (mo->sender_ok != NULL) {
				const char *env = h.sender;
				int ok = senders_ok(&h, f);

				if (ok == -1)
					goto out;
				if (*h.sender == '\0' &&
				    mo->own_address != NULL)
					h.sender = mo->own_address;
				if (ok != 1 && *h.sender != '\0') {
					if (ok == 0 ||
					    mode == ACCOUNT_FROM_KEEP)
						m->sender_warning =
						    "a From header naming "
						    "another address was "
						    "replaced";
					w = put_from(&h, f, true);
					h.sender = env;
					break;
				}
				h.sender = env;
			}
			if (mode != ACCOUNT_FROM_KEEP && *h.sender != '\0') {
				w = put_from(&h, f, mode == ACCOUNT_FROM_FORCE);
				break;
			}
			w = put_lines(&h, h.hdr + f->off, f->len);
			break;
		case FIELD_SENDER:
		case FIELD_RESENT_FROM:
		case FIELD_RESENT_SENDER:
			if (mo->sender_ok != NULL) {
				int ok = senders_ok(&h, f);

				if (ok == -1)
					goto out;
				if (ok != 1) {
					m->sender_warning =
					    "a Sender or "
					    "Resent-From header naming "
					    "another address was removed";
					continue;
				}
			}
			w = put_lines(&h, h.hdr + f->off, f->len);
			break;
		case FIELD_TO:
		case FIELD_CC:
			if (h.domain != NULL) {
				w = put_completed(&h, f);
				break;
			}
			w = put_lines(&h, h.hdr + f->off, f->len);
			break;
		default:
			w = put_lines(&h, h.hdr + f->off, f->len);
			break;
		}
		if (w == -1)
			goto out;
	}
	rc = 0;
out:
	free(h.fields);
	return rc;
}

int
header_from_address(const char *text, size_t len, char **out, struct error *err)
{
	struct header_ctx h;
	struct address_list l;
	size_t i;
	int rc = 0;

	*out = NULL;
	memset(&h, 0, sizeof(h));
	h.hdr = text != NULL ? text : "";
	h.hdr_len = text != NULL ? len : 0;
	if (split_fields(&h, err) == -1)
		return -1;
	for (i = 0; i < h.n_fields; i++)
		if (h.fields[i].id == FIELD_FROM)
			break;
	if (i < h.n_fields) {
		address_list_init(&l);
		rc = parse_field(&h, &h.fields[i], &l, err);
		/* RFC 5322 3.6.2: several authors need a Sender; the first
		 * author is still the one msmtp takes. */
		if (rc == 1 && l.n > 0 && (*out = strdup(l.addrs[0])) == NULL)
			rc = error_set(err, EX_OSERR, "out of memory");
		address_list_free(&l);
	}
	free(h.fields);
	return rc == -1 ? -1 : 0;
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
