/* SPDX-License-Identifier: ISC */
/*
 * The header block: -t recipients, Bcc and Resent-Bcc removal, From
 * fix/force, bare To/Cc completion, and the missing From, Date and
 * Message-ID.  The block arrives in memory (message.c bounds it); the lines
 * to write leave through a callback.  address_parse_list() judges address
 * syntax; header_scan.c only finds where the addresses are in the text so
 * that a field can be rewritten keeping everything else, and header_gen.c
 * makes the fields mailsub adds.  Past 800 lines as one job: splitting the
 * block into fields and rewriting them share the field spans and the
 * context of one pass (struct header_ctx).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account.h"
#include "address.h"
#include "buf.h"
#include "error.h"
#include "fdio.h"
#include "header.h"
#include "header_scan.h"
#include "text.h"

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
	const struct header_options *ho;
	struct header_result *res;
	struct error *err;
	header_put_fn put;
	void *arg;
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
	h->res->lines++;
	return h->put(h->arg, p, n);
}

static int
put_line_cb(void *arg, const char *p, size_t n)
{
	return put_line(arg, p, n);
}

/* Write folded text (lines separated by '\n') line by line. */
static int
put_lines(struct header_ctx *h, const char *p, size_t n)
{
	return text_each_line(p, n, put_line_cb, h);
}

/* Content errors do not stop the processing: the whole message is still
 * spooled so that the caller can save it (mailsub(1), EXIT STATUS); the first
 * is kept. */
static void
content_error(struct header_ctx *h, const struct error *e)
{
	if (h->res->failed)
		return;
	h->res->failed = true;
	h->res->error = *e;
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

/* -t: the recipients of one field, completed, into res->rcpts.
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
	buf_init(&text, HEADER_BLOCK_MAX);
	if (unfold(v, vlen, &text, &e) == -1)
		goto fail;
	if (address_parse_list(text.data, text.len, &tmp, &e) == -1) {
		error_prefix(&e, "%s header", field_name(f->id));
		goto fail;
	}
	for (i = 0; i < tmp.n; i++)
		if (address_complete(tmp.addrs[i], h->ho->aliases, h->domain,
			&h->res->rcpts, &h->res->alias_warning, &e) == -1) {
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
	buf_init(&text, HEADER_BLOCK_MAX);
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
note_bare(void *arg, const struct header_mailbox *mb)
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
	    header_scan_mailboxes(v, vlen, note_bare, &c) == -1 || c.n == 0)
		return put_lines(h, h->hdr + f->off, f->len);

	buf_init(&out, HEADER_BLOCK_MAX * 2);
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
	struct header_mailbox mb;
};

static int
take_first(void *arg, const struct header_mailbox *mb)
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
	header_scan_mailboxes(v, vlen, take_first, &fm);
	buf_init(&out, HEADER_BLOCK_MAX * 2);
	buf_init(&name, HEADER_BLOCK_MAX);
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
		if (i < name.len && header_phrase(&out, name.data + i,
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
 * Whether every address of f is one the caller may use (ho->sender_ok,
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
		if (!h->ho->sender_ok(h->ho->sender_ok_arg, a))
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
	const char *name = header_full_name(h->ho, namebuf, sizeof(namebuf));
	struct buf out;
	int rc = -1;

	buf_init(&out, HEADER_BLOCK_MAX);
	/* The folded lines, without the last line's '\n'. */
	if (header_from_field(&out, name, h->sender, h->err) == 0)
		rc = put_lines(h, out.data, out.len - 1);
	buf_free(&out);
	return rc;
}

static char *
trimmed_copy(const char *v, size_t n)
{
	struct buf b;
	size_t s = 0;

	buf_init(&b, HEADER_BLOCK_MAX);
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

/* The fields header_process() looks for before it writes anything. */
struct header_found {
	const struct field *from, *date, *msgid;
	bool resent; /* a Resent-To, -Cc or -Bcc is present */
};

/* The first From, Date and Message-ID, and whether Resent-* names
 * recipients. */
static void
find_fields(const struct header_ctx *h, struct header_found *fd)
{
	size_t i;

	memset(fd, 0, sizeof(*fd));
	for (i = 0; i < h->n_fields; i++) {
		const struct field *f = &h->fields[i];

		if (f->id == FIELD_RESENT_TO || f->id == FIELD_RESENT_CC ||
		    f->id == FIELD_RESENT_BCC)
			fd->resent = true;
		else if (f->id == FIELD_FROM && fd->from == NULL)
			fd->from = f;
		else if (f->id == FIELD_DATE && fd->date == NULL)
			fd->date = f;
		else if (f->id == FIELD_MESSAGE_ID && fd->msgid == NULL)
			fd->msgid = f;
	}
}

/* -t: the recipients of To, Cc and Bcc, or of the Resent-* ones. */
static int
read_recipients(struct header_ctx *h, bool resent)
{
	size_t i;

	for (i = 0; i < h->n_fields; i++) {
		enum field_id id = h->fields[i].id;
		bool use =
		    resent
			? id == FIELD_RESENT_TO || id == FIELD_RESENT_CC ||
			      id == FIELD_RESENT_BCC
			: id == FIELD_TO || id == FIELD_CC || id == FIELD_BCC;

		if (use && collect_rcpts(h, &h->fields[i]) == -1)
			return -1;
	}
	return 0;
}

/* The message's own Message-ID, trimmed and unfolded, into the result. */
static int
keep_message_id(struct header_ctx *h, const struct field *msgid)
{
	size_t vlen;
	const char *v = field_value(h, msgid, &vlen);

	free(h->res->message_id);
	h->res->message_id = trimmed_copy(v, vlen);
	if (h->res->message_id == NULL)
		return error_set(h->err, EX_OSERR, "out of memory");
	return 0;
}

/* add_headers: the From, Date and Message-ID the message lacks. */
static int
put_missing(struct header_ctx *h, const struct header_found *fd)
{
	if (fd->from == NULL && *h->sender != '\0' &&
	    put_generated_from(h) == -1)
		return -1;
	if (fd->date == NULL) {
		char line[80];

		h->res->date = h->ho->date != 0 ? h->ho->date : time(NULL);
		memcpy(line, "Date: ", 6);
		header_format_date(h->res->date, line + 6, sizeof(line) - 6);
		if (put_line(h, line, strlen(line)) == -1)
			return -1;
	}
	if (fd->msgid == NULL) {
		char *id;
		struct buf line;

		if (h->ho->message_id != NULL) {
			if ((id = strdup(h->ho->message_id)) == NULL)
				return error_set(
				    h->err, EX_OSERR, "out of memory");
		} else if (header_message_id(
			       h->sender, h->ho->hostname, &id, h->err) == -1)
			return -1;
		free(h->res->message_id);
		h->res->message_id = id;
		buf_init(&line, 2048);
		if (buf_printf(&line, h->err, "Message-ID: %s", id) == -1 ||
		    put_line(h, line.data, line.len) == -1) {
			buf_free(&line);
			return -1;
		}
		buf_free(&line);
	}
	return 0;
}

/* A From field: kept, fixed or forced as from_header says, and replaced
 * by the caller's address when it names one the caller may not use. */
static int
put_from_field(
    struct header_ctx *h, const struct field *f, enum account_from_header mode)
{
	const struct header_options *ho = h->ho;
	int w;

	/* A From the caller may not use becomes the caller's address (the
	 * envelope sender, already checked). */
	if (ho->sender_ok != NULL) {
		const char *env = h->sender;
		int ok = senders_ok(h, f);

		if (ok == -1)
			return -1;
		if (*h->sender == '\0' && ho->own_address != NULL)
			h->sender = ho->own_address;
		if (ok != 1 && *h->sender != '\0') {
			if (ok == 0 || mode == ACCOUNT_FROM_KEEP)
				h->res->sender_warning =
				    "a From header naming another address was "
				    "replaced";
			w = put_from(h, f, true);
			h->sender = env;
			return w;
		}
		h->sender = env;
	}
	if (mode != ACCOUNT_FROM_KEEP && *h->sender != '\0')
		return put_from(h, f, mode == ACCOUNT_FROM_FORCE);
	return put_lines(h, h->hdr + f->off, f->len);
}

/* A Sender, Resent-From or Resent-Sender: removed when it names an address
 * the caller may not use. */
static int
put_sender_field(struct header_ctx *h, const struct field *f)
{
	if (h->ho->sender_ok != NULL) {
		int ok = senders_ok(h, f);

		if (ok == -1)
			return -1;
		if (ok != 1) {
			h->res->sender_warning =
			    "a Sender or Resent-From header naming another "
			    "address was removed";
			return 0;
		}
	}
	return put_lines(h, h->hdr + f->off, f->len);
}

/* Every field of the message in order, Bcc left out, the address fields
 * rewritten as the account says. */
static int
put_fields(struct header_ctx *h, enum account_from_header mode)
{
	size_t i;

	for (i = 0; i < h->n_fields; i++) {
		const struct field *f = &h->fields[i];
		int w;

		switch (f->id) {
		case FIELD_BCC:
		case FIELD_RESENT_BCC:
			/* mailsub(1), DESCRIPTION: Bcc never leaves the host.
			 */
			continue;
		case FIELD_FROM:
			w = put_from_field(h, f, mode);
			break;
		case FIELD_SENDER:
		case FIELD_RESENT_FROM:
		case FIELD_RESENT_SENDER:
			w = put_sender_field(h, f);
			break;
		case FIELD_TO:
		case FIELD_CC:
			if (h->domain != NULL) {
				w = put_completed(h, f);
				break;
			}
			w = put_lines(h, h->hdr + f->off, f->len);
			break;
		default:
			w = put_lines(h, h->hdr + f->off, f->len);
			break;
		}
		if (w == -1)
			return -1;
	}
	return 0;
}

/*
 * The header_process() steps in order: -t recipients (RFC 5322 3.6.6:
 * Resent-* fields describe the resending, so they alone name the
 * recipients when present), the Message-ID, the missing fields (first:
 * RFC 5322 3.6 does not order fields), then every field with Bcc left out
 * and From, To and Cc rewritten as the account says.
 */
int
header_process(const char *text, size_t len, const struct header_options *ho,
    header_put_fn put, void *arg, struct header_result *res, struct error *err)
{
	const struct account *acct = ho->acct;
	struct header_ctx h;
	struct header_found fd;
	enum account_from_header mode;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	h.ho = ho;
	h.res = res;
	h.err = err;
	h.put = put;
	h.arg = arg;
	h.hdr = text != NULL ? text : "";
	h.hdr_len = text != NULL ? len : 0;
	h.sender = ho->envelope_from != NULL ? ho->envelope_from : "";
	h.domain = acct != NULL && acct->default_domain != NULL &&
			   *acct->default_domain != '\0'
		       ? acct->default_domain
		       : NULL;
	mode = acct != NULL ? acct->from_header : ACCOUNT_FROM_FIX;
	if (split_fields(&h, err) == -1)
		return -1;

	find_fields(&h, &fd);
	if (ho->read_recipients && read_recipients(&h, fd.resent) == -1)
		goto out;
	if (fd.msgid != NULL && keep_message_id(&h, fd.msgid) == -1)
		goto out;
	if (acct != NULL && acct->add_headers && put_missing(&h, &fd) == -1)
		goto out;
	if (put_fields(&h, mode) == -1)
		goto out;
	rc = 0;
out:
	free(h.fields);
	return rc;
}

void
header_result_init(struct header_result *res)
{
	memset(res, 0, sizeof(*res));
	address_list_init(&res->rcpts);
}

void
header_result_free(struct header_result *res)
{
	address_list_free(&res->rcpts);
	free(res->message_id);
	header_result_init(res);
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
