/*
 * Reading the message into the spool in wire form, and the header block:
 * -t recipients, Bcc removal, From fixing, missing From/Date/Message-ID.
 *
 * The input is taken in large blocks and cut into lines with memchr; every
 * line leaves as bytes + CRLF with lone CRs turned into spaces (so no lone
 * CR or LF can reach the wire: SMTP smuggling, SEC Consult 2023) and a
 * leading '.' doubled (RFC 5321 4.5.2).  Only the header block is held in
 * memory, bounded by MESSAGE_HEADER_MAX.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
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
#include "message.h"
#include "queue.h"

/* Large blocks keep the per-byte cost low (DESIGN 9). */
#define READ_BLOCK (64 * 1024)
#define OUT_BLOCK  (64 * 1024)

/* RFC 2047 2: an encoded-word is at most 75 characters; 45 input bytes
 * make 60 base64 characters, plus "=?UTF-8?B?" and "?=". */
#define ENCODED_WORD_INPUT 45

/* RFC 5322 2.1.1: a line is at most 998 characters, so a longer run of
 * field-name characters is body text, not a header field. */
#define FIELD_NAME_MAX 998

enum phase {
	PHASE_HEADER,
	PHASE_BODY,
	PHASE_STOPPED, /* a lone "." ended a terminal's input */
};

/* What the current header-phase line is, decided as early as possible. */
enum line_kind {
	LINE_START, /* nothing seen yet */
	LINE_NAME,  /* field-name characters so far (RFC 5322 3.6.8 ftext) */
	LINE_FIELD, /* name and ':' seen */
	LINE_CONT,  /* folded continuation of the previous field */
	LINE_BODY,  /* not part of a header block */
};

/* How the header block ended, which decides the separator written. */
enum header_end {
	HEADER_END_BLANK, /* by an empty line: written as the separator */
	HEADER_END_LINE,  /* by a line that is no header field */
	HEADER_END_EOF,	  /* by the end of input */
};

struct reader {
	const struct message_options *mo;
	struct message *m;
	struct error *err;

	enum phase phase;
	bool pending_cr;  /* a CR ended the last block */
	bool line_start;  /* body: the next byte begins a line */
	bool dot_pending; /* body, stop_at_dot: the line so far is "." */

	struct buf hdr; /* complete header lines ending '\n', then the
			   current line */
	size_t cur;	/* where the current line starts in hdr */
	enum line_kind kind;
	bool have_field;

	char *out;
	size_t out_len;

	bool failed_content; /* the first content error is kept */
	struct error content;
};

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
};

/* One header field in the header buffer: the raw text (folded lines joined
 * by '\n', no final '\n'), starting with the name. */
struct field {
	size_t off, len;
	size_t name_len;
	enum field_id id;
};

void
message_init(struct message *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	address_list_init(&m->header_rcpts);
}

void
message_free(struct message *m)
{
	if (m->fd != -1)
		close(m->fd);
	if (m->spool_path != NULL) {
		unlink(m->spool_path);
		free(m->spool_path);
	}
	address_list_free(&m->header_rcpts);
	free(m->message_id);
	message_init(m);
}

void
message_format_date(time_t t, char *dst, size_t size)
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

/* ---- output ---------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n, const char *path, struct error *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, EX_IOERR,
			    "cannot write spool file %s: %s", path,
			    strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
out_flush(struct reader *r)
{
	if (r->out_len == 0)
		return 0;
	if (write_all(r->m->fd, r->out, r->out_len, r->m->spool_path, r->err) ==
	    -1)
		return -1;
	r->out_len = 0;
	return 0;
}

static int
out_put(struct reader *r, const char *p, size_t n)
{
	r->m->size += n;
	while (n > 0) {
		size_t room = OUT_BLOCK - r->out_len;

		if (room == 0) {
			if (out_flush(r) == -1)
				return -1;
			continue;
		}
		if (r->out_len == 0 && n >= OUT_BLOCK)
			return write_all(
			    r->m->fd, p, n, r->m->spool_path, r->err);
		if (room > n)
			room = n;
		memcpy(r->out + r->out_len, p, room);
		r->out_len += room;
		p += room;
		n -= room;
	}
	return 0;
}

/* ---- body lines -------------------------------------------------------- */

static int
body_data(struct reader *r, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (r->line_start) {
		r->line_start = false;
		if (p[0] == '.') {
			/* A terminal's lone "." ends input: wait for the
			 * next byte to know whether this line is just ".". */
			if (r->mo->stop_at_dot && n == 1) {
				r->dot_pending = true;
				return 0;
			}
			/* RFC 5321 4.5.2: transparency. */
			if (out_put(r, ".", 1) == -1)
				return -1;
		}
	} else if (r->dot_pending) {
		r->dot_pending = false;
		if (out_put(r, "..", 2) == -1)
			return -1;
	}
	return out_put(r, p, n);
}

static int
body_eol(struct reader *r)
{
	if (r->dot_pending) {
		r->dot_pending = false;
		r->phase = PHASE_STOPPED;
		return 0;
	}
	r->line_start = true;
	return out_put(r, "\r\n", 2);
}

static int
put_line(struct reader *r, const char *p, size_t n)
{
	if (body_data(r, p, n) == -1)
		return -1;
	return body_eol(r);
}

/* Write folded text (lines separated by '\n') as wire lines. */
static int
put_lines(struct reader *r, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - p) : n;

		if (put_line(r, p, len) == -1)
			return -1;
		if (nl == NULL)
			break;
		n -= len + 1;
		p = nl + 1;
	}
	return 0;
}

/* ---- content errors ------------------------------------------------------ */

/* Content errors do not stop the reading: the whole message is spooled so
 * that the caller can save it (DESIGN 5), and the first error is returned
 * at the end. */
static void
content_error(struct reader *r, const struct error *e)
{
	if (r->failed_content)
		return;
	r->failed_content = true;
	r->content = *e;
}

/* ---- display names and header text ------------------------------------- */

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
	return strchr(" \t\n()<>,;:\"", c) != NULL;
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
	struct reader *r;
	const char *hdr;
	struct field *fields;
	size_t n_fields;
	const char *sender;
	const char *domain; /* default_domain, or NULL */
};

static const char *
field_value(const struct header_ctx *h, const struct field *f, size_t *len)
{
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

static int
split_fields(struct header_ctx *h, size_t end, struct error *err)
{
	size_t pos = 0, cap = 0;

	h->fields = NULL;
	h->n_fields = 0;
	while (pos < end) {
		const char *line = h->hdr + pos;
		const char *nl = memchr(line, '\n', end - pos);
		size_t len = (size_t)(nl - line), i;
		struct field *f;

		/* Lines in the buffer were classified when they arrived. */
		if (line[0] == ' ' || line[0] == '\t') {
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
		f->name_len =
		    (size_t)((const char *)memchr(line, ':', len) - line);
		f->id = FIELD_OTHER;
		for (i = 0; i < sizeof(field_names) / sizeof(field_names[0]);
		     i++)
			if (strlen(field_names[i].name) == f->name_len &&
			    strncasecmp(
				field_names[i].name, line, f->name_len) == 0)
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
	struct reader *r = h->r;
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
		if (address_complete(tmp.addrs[i], r->mo->aliases, h->domain,
			&r->m->header_rcpts, &e) == -1) {
			error_prefix(&e, "%s header", field_name(f->id));
			goto fail;
		}
	goto out;
fail:
	if (e.exit_code == EX_OSERR) {
		*r->err = e;
		rc = -1;
	} else {
		if (e.exit_code != EX_DATAERR && e.exit_code != EX_CONFIG)
			e.exit_code = EX_DATAERR;
		content_error(r, &e);
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
	struct reader *r = h->r;
	struct address_list l;
	struct insert_ctx c;
	struct buf out;
	const char *v;
	size_t vlen, i, bare = 0, pos;
	int rc;

	address_list_init(&l);
	rc = parse_field(h, f, &l, r->err);
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
		return put_lines(r, h->hdr + f->off, f->len);

	buf_init(&out, MESSAGE_HEADER_MAX * 2);
	if (buf_append(&out, h->hdr + f->off, f->name_len + 1, r->err) == -1)
		goto oom;
	pos = 0;
	for (i = 0; i < c.n; i++) {
		if (buf_append(&out, v + pos, c.at[i] - pos, r->err) == -1 ||
		    buf_addch(&out, '@', r->err) == -1 ||
		    buf_appends(&out, h->domain, r->err) == -1)
			goto oom;
		pos = c.at[i];
	}
	if (buf_append(&out, v + pos, vlen - pos, r->err) == -1)
		goto oom;
	rc = put_lines(r, out.data, out.len);
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
	struct reader *r = h->r;
	struct address_list l;
	struct first_mailbox fm;
	struct buf out, name;
	const char *v;
	size_t vlen, i;
	int rc;

	address_list_init(&l);
	rc = parse_field(h, f, &l, r->err);
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
		return put_lines(r, h->hdr + f->off, f->len);

	v = field_value(h, f, &vlen);
	memset(&fm, 0, sizeof(fm));
	scan_mailboxes(v, vlen, take_first, &fm);
	buf_init(&out, MESSAGE_HEADER_MAX * 2);
	buf_init(&name, MESSAGE_HEADER_MAX);
	if (buf_appends(&out, "From: ", r->err) == -1)
		goto oom;
	if (fm.found && fm.mb.angle && fm.mb.have_tok) {
		/* Already a phrase in the header's own syntax. */
		if (append_unfolded(&out, v + fm.mb.tok_start,
			fm.mb.tok_end - fm.mb.tok_start, r->err) == -1)
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
			if (buf_addch(&name, c[i], r->err) == -1)
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
					name.len - i, r->err) == -1)
			goto oom;
	}
	if (out.len > strlen("From: ")) {
		if (buf_printf(&out, r->err, " <%s>", h->sender) == -1)
			goto oom;
	} else if (buf_appends(&out, h->sender, r->err) == -1)
		goto oom;
	rc = put_line(r, out.data, out.len);
	buf_free(&out);
	buf_free(&name);
	return rc;
oom:
	buf_free(&out);
	buf_free(&name);
	return -1;
}

static int
put_generated_from(struct header_ctx *h)
{
	struct reader *r = h->r;
	const char *name = r->mo->full_name;
	struct buf out;
	int rc = -1;

	buf_init(&out, MESSAGE_HEADER_MAX);
	if (buf_appends(&out, "From: ", r->err) == -1)
		goto out;
	if (name != NULL && *name != '\0') {
		if (append_display(&out, name, strlen(name), r->err) == -1 ||
		    buf_printf(&out, r->err, " <%s>", h->sender) == -1)
			goto out;
	} else if (buf_appends(&out, h->sender, r->err) == -1)
		goto out;
	rc = put_line(r, out.data, out.len);
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
	const struct message_options *mo = h->r->mo;
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

/* Process and write the header block hdr[0, end) and the separator. */
static int
finish_headers(struct reader *r, size_t end, enum header_end how)
{
	const struct message_options *mo = r->mo;
	const struct account *acct = mo->acct;
	struct header_ctx h;
	const struct field *from = NULL, *date = NULL, *msgid = NULL;
	bool resent = false, add, wrote;
	enum account_from_header mode;
	size_t i;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	h.r = r;
	h.hdr = r->hdr.data != NULL ? r->hdr.data : "";
	h.sender = mo->envelope_from != NULL ? mo->envelope_from : "";
	h.domain = acct != NULL && acct->default_domain != NULL &&
			   *acct->default_domain != '\0'
		       ? acct->default_domain
		       : NULL;
	add = acct != NULL && acct->add_headers;
	mode = acct != NULL ? acct->from_header : ACCOUNT_FROM_FIX;
	if (split_fields(&h, end, r->err) == -1)
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

	/* -t (RFC 5322 3.6.6: Resent-* fields describe the resending, so
	 * they alone name the recipients when present). */
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

		free(r->m->message_id);
		r->m->message_id = trimmed_copy(v, vlen);
		if (r->m->message_id == NULL) {
			error_set(r->err, EX_OSERR, "out of memory");
			goto out;
		}
	}

	/* Missing fields first (RFC 5322 3.6 does not order fields). */
	wrote = h.n_fields > 0;
	if (add && from == NULL && *h.sender != '\0') {
		if (put_generated_from(&h) == -1)
			goto out;
		wrote = true;
	}
	if (add && date == NULL) {
		char line[80];

		memcpy(line, "Date: ", 6);
		message_format_date(time(NULL), line + 6, sizeof(line) - 6);
		if (put_line(r, line, strlen(line)) == -1)
			goto out;
		wrote = true;
	}
	if (add && msgid == NULL) {
		char *id;
		struct buf line;

		if (make_message_id(&h, &id, r->err) == -1)
			goto out;
		free(r->m->message_id);
		r->m->message_id = id;
		buf_init(&line, 2048);
		if (buf_printf(&line, r->err, "Message-ID: %s", id) == -1 ||
		    put_line(r, line.data, line.len) == -1) {
			buf_free(&line);
			goto out;
		}
		buf_free(&line);
		wrote = true;
	}

	for (i = 0; i < h.n_fields; i++) {
		const struct field *f = &h.fields[i];
		int w;

		switch (f->id) {
		case FIELD_BCC:
		case FIELD_RESENT_BCC:
			/* DESIGN 3: Bcc never leaves the host. */
			continue;
		case FIELD_FROM:
			if (mode != ACCOUNT_FROM_KEEP && *h.sender != '\0') {
				w = put_from(&h, f, mode == ACCOUNT_FROM_FORCE);
				break;
			}
			w = put_lines(r, h.hdr + f->off, f->len);
			break;
		case FIELD_TO:
		case FIELD_CC:
			if (h.domain != NULL) {
				w = put_completed(&h, f);
				break;
			}
			w = put_lines(r, h.hdr + f->off, f->len);
			break;
		default:
			w = put_lines(r, h.hdr + f->off, f->len);
			break;
		}
		if (w == -1)
			goto out;
	}

	if (how == HEADER_END_BLANK || (how == HEADER_END_LINE && wrote))
		if (out_put(r, "\r\n", 2) == -1)
			goto out;
	rc = 0;
out:
	free(h.fields);
	return rc;
}

/* The header block ended before the current line (which is body). */
static int
end_headers_at_line(struct reader *r, const char *p, size_t n)
{
	size_t cur = r->cur, len = r->hdr.len;

	if (finish_headers(r, cur, HEADER_END_LINE) == -1)
		return -1;
	r->phase = PHASE_BODY;
	r->line_start = true;
	if (body_data(r, r->hdr.data != NULL ? r->hdr.data + cur : "",
		len - cur) == -1 ||
	    body_data(r, p, n) == -1)
		return -1;
	buf_free(&r->hdr);
	return 0;
}

/* Over MESSAGE_HEADER_MAX: spool everything as it is (normalised), fail at
 * the end (FAULTS E 41). */
static int
header_overflow(struct reader *r, const char *p, size_t n)
{
	struct error e;

	r->m->header_too_large = true;
	error_set(&e, EX_DATAERR, "header block larger than %d MiB",
	    MESSAGE_HEADER_MAX / (1024 * 1024));
	content_error(r, &e);
	r->phase = PHASE_BODY;
	r->line_start = true;
	if (put_lines(r, r->hdr.data, r->cur) == -1 ||
	    body_data(r, r->hdr.data + r->cur, r->hdr.len - r->cur) == -1 ||
	    body_data(r, p, n) == -1)
		return -1;
	buf_free(&r->hdr);
	return 0;
}

static int
header_data(struct reader *r, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (r->kind == LINE_START) {
		if (p[0] == ' ' || p[0] == '\t')
			r->kind = r->have_field ? LINE_CONT : LINE_BODY;
		else
			r->kind = LINE_NAME;
	}
	if (r->kind == LINE_NAME) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == ':') {
				/* RFC 5322 3.6.8: at least one ftext. */
				r->kind = r->hdr.len - r->cur + i > 0
					      ? LINE_FIELD
					      : LINE_BODY;
				break;
			}
			if (c < 33 || c > 126) {
				r->kind = LINE_BODY;
				break;
			}
		}
		if (r->kind == LINE_NAME &&
		    r->hdr.len - r->cur + n > FIELD_NAME_MAX)
			r->kind = LINE_BODY;
	}
	if (r->kind == LINE_BODY)
		return end_headers_at_line(r, p, n);
	if (n > MESSAGE_HEADER_MAX - r->hdr.len)
		return header_overflow(r, p, n);
	return buf_append(&r->hdr, p, n, r->err);
}

static int
header_eol(struct reader *r)
{
	switch (r->kind) {
	case LINE_START:
		if (finish_headers(r, r->cur, HEADER_END_BLANK) == -1)
			return -1;
		buf_free(&r->hdr);
		r->phase = PHASE_BODY;
		r->line_start = true;
		return 0;
	case LINE_NAME:
	case LINE_BODY:
		/* No colon: not a field, so the body has begun. */
		if (end_headers_at_line(r, NULL, 0) == -1)
			return -1;
		return body_eol(r);
	case LINE_FIELD:
	case LINE_CONT:
		break;
	}
	if (r->hdr.len + 1 > MESSAGE_HEADER_MAX) {
		if (header_overflow(r, NULL, 0) == -1)
			return -1;
		return body_eol(r);
	}
	if (buf_addch(&r->hdr, '\n', r->err) == -1)
		return -1;
	r->have_field = true;
	r->kind = LINE_START;
	r->cur = r->hdr.len;
	return 0;
}

/* ---- line splitting ----------------------------------------------------- */

static bool
any_8bit(const char *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & UINT64_C(0x8080808080808080)) != 0;
}

static int
line_data(struct reader *r, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (!r->m->has_8bit && any_8bit(p, n))
		r->m->has_8bit = true;
	if (!r->m->has_nul && memchr(p, '\0', n) != NULL)
		r->m->has_nul = true;
	switch (r->phase) {
	case PHASE_HEADER:
		return header_data(r, p, n);
	case PHASE_BODY:
		return body_data(r, p, n);
	case PHASE_STOPPED:
		break;
	}
	return 0;
}

static int
line_eol(struct reader *r)
{
	switch (r->phase) {
	case PHASE_HEADER:
		return header_eol(r);
	case PHASE_BODY:
		return body_eol(r);
	case PHASE_STOPPED:
		break;
	}
	return 0;
}

/*
 * Cut a block into lines: LF and CRLF end a line, a lone CR becomes a
 * space (in place: the block is ours).  A CR at the end of a block is held
 * until the next byte shows whether an LF follows.
 */
static int
feed(struct reader *r, char *p, size_t n)
{
	char *end = p + n;

	while (p < end && r->phase != PHASE_STOPPED) {
		char *lf, *stop, *s, *cr;
		size_t len;

		if (r->pending_cr) {
			r->pending_cr = false;
			if (*p == '\n') {
				p++;
				if (line_eol(r) == -1)
					return -1;
				continue;
			}
			if (line_data(r, " ", 1) == -1)
				return -1;
			continue;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		stop = lf != NULL ? lf : end;
		len = (size_t)(stop - p);
		for (s = p; (cr = memchr(s, '\r', (size_t)(stop - s))) != NULL;
		     s = cr + 1) {
			if (cr + 1 < stop) {
				*cr = ' ';
				continue;
			}
			/* The CR right before the LF, or at block end. */
			len--;
			if (lf == NULL)
				r->pending_cr = true;
			break;
		}
		if (line_data(r, p, len) == -1)
			return -1;
		if (lf == NULL)
			break;
		if (line_eol(r) == -1)
			return -1;
		p = lf + 1;
	}
	return 0;
}

static int
finish_input(struct reader *r)
{
	bool open_line;

	if (r->pending_cr) {
		/* A lone CR at the very end: a space, like any lone CR. */
		r->pending_cr = false;
		if (line_data(r, " ", 1) == -1)
			return -1;
	}
	if (r->phase == PHASE_HEADER)
		open_line = r->kind != LINE_START;
	else
		open_line = !r->line_start || r->dot_pending;
	/* A last line without a newline is terminated. */
	if (r->phase != PHASE_STOPPED && open_line && line_eol(r) == -1)
		return -1;
	if (r->phase == PHASE_HEADER) {
		if (finish_headers(r, r->cur, HEADER_END_EOF) == -1)
			return -1;
		buf_free(&r->hdr);
		r->phase = PHASE_BODY;
	}
	return out_flush(r);
}

static ssize_t
read_block(int fd, char *p, size_t n, struct error *err)
{
	for (;;) {
		ssize_t got = read(fd, p, n);

		if (got >= 0)
			return got;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* A non-blocking stdin: wait for it. */
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				break;
			continue;
		}
		break;
	}
	error_set(
	    err, EX_IOERR, "cannot read the message: %s", strerror(errno));
	return -1;
}

int
message_read(int in_fd, const char *spool_dir, const struct message_options *mo,
    struct message *m, struct error *err)
{
	struct reader r;
	char id[QUEUE_ID_MAX];
	char *in = NULL;
	struct buf path;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.mo = mo;
	r.m = m;
	r.err = err;
	r.phase = PHASE_HEADER;
	r.line_start = true;
	r.kind = LINE_START;
	buf_init(&r.hdr, MESSAGE_HEADER_MAX + 1);
	m->size = 0;
	m->input_bytes = 0;

	queue_make_id(id, sizeof(id));
	buf_init(&path, 4096 + QUEUE_ID_MAX);
	if (buf_printf(&path, err, "%s/spool-%s", spool_dir, id) == -1) {
		buf_free(&path);
		return -1;
	}
	m->fd = open(path.data,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (m->fd == -1) {
		error_set(err, EX_CANTCREAT, "cannot create spool file %s: %s",
		    path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	m->spool_path = buf_detach(&path);

	in = malloc(READ_BLOCK);
	r.out = malloc(OUT_BLOCK);
	if (in == NULL || r.out == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto hard;
	}
	while (r.phase != PHASE_STOPPED) {
		ssize_t got = read_block(in_fd, in, READ_BLOCK, err);

		if (got < 0)
			goto hard;
		if (got == 0)
			break;
		m->input_bytes += (unsigned long long)got;
		if (feed(&r, in, (size_t)got) == -1)
			goto hard;
	}
	if (finish_input(&r) == -1)
		goto hard;

	if (r.failed_content) {
		*err = r.content;
	} else if (m->has_nul) {
		/* FAULTS 14: refused, never silently truncated. */
		error_set(err, EX_DATAERR, "message contains NUL bytes");
	} else {
		rc = 0;
	}
	goto out;
hard:
	/* The spool is useless now: the caller still holds the message. */
	close(m->fd);
	m->fd = -1;
	unlink(m->spool_path);
	free(m->spool_path);
	m->spool_path = NULL;
out:
	buf_free(&r.hdr);
	free(r.out);
	free(in);
	return rc;
}
