/* SPDX-License-Identifier: ISC */
/*
 * Address lists (RFC 5322 3.4), envelope address checks (RFC 5321 4.1.2)
 (aliases live in aliases.c).  The list parser is a flat tokenizer plus a loop
 * over addresses: no recursion, so hostile headers cost linear time and
 * bounded stack.  Past 800 lines as one job: what an address is, in a
 * header (RFC 5322) or in the envelope (RFC 5321); the tokenizer is most
 * of it, and the list's duplicate index and the envelope checks find the
 * domain by the same rule (unquoted_at()).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "address.h"
#include "buf.h"
#include "error.h"
#include "text.h"

/* Comments nest (RFC 5322 3.2.2); nobody needs more than this. */
#define ADDRESS_COMMENT_DEPTH_MAX 32
/* How much of the input an error message quotes. */
#define ADDRESS_QUOTE_MAX 48

/* ---------------------------------------------------------------------
 * Address lists with a duplicate index
 */

static size_t
unquoted_at(const char *a, size_t len)
{
	size_t i, at = len;
	bool q = false;

	for (i = 0; i < len; i++) {
		if (q && a[i] == '\\' && i + 1 < len)
			i++;
		else if (a[i] == '"')
			q = !q;
		else if (!q && a[i] == '@')
			at = i;
	}
	return at;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the whole address in lower case: addresses addr_equal
 * calls equal (the domain in any case) hash alike, in one pass; local
 * parts that differ only in case collide, and addr_equal tells them
 * apart. */
static uint32_t
addr_hash(const char *a)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *a != '\0'; a++) {
		h ^= (unsigned char)lower(*a);
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* RFC 5321 2.4: the local part may be case-sensitive, the domain is not. */
static bool
addr_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	size_t ata = unquoted_at(a, la), atb = unquoted_at(b, lb);

	if (la != lb || ata != atb)
		return false;
	if (memcmp(a, b, ata) != 0)
		return false;
	for (i = ata; i < la; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

void
address_list_init(struct address_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
address_list_free(struct address_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->addrs[i]);
	free(l->addrs);
	free(l->slots);
	memset(l, 0, sizeof(*l));
}

/*
 * Each slot holds an index + 1 (0: empty) and that address's hash, side by
 * side: a probe touches one place, compares strings only on equal
 * hashes, and growing the table hashes nothing again.  Linear probing,
 * load <= 1/2.
 */
static void
index_put(struct address_list *l, size_t idx, uint32_t hash)
{
	size_t mask = l->n_slots - 1;
	size_t s = hash & mask;

	while (l->slots[s].idx1 != 0)
		s = (s + 1) & mask;
	l->slots[s].idx1 = (uint32_t)idx + 1;
	l->slots[s].hash = hash;
}

static int
index_rebuild(struct address_list *l, size_t want, struct error *err)
{
	size_t n = 16, i, old_n = l->n_slots;
	struct address_slot *slots, *old = l->slots;
	/* Growing a table that indexes every address: move the hashes. */
	bool reuse = old != NULL && l->n_indexed == l->n;

	if (want >= UINT32_MAX / 2)
		return error_set(err, EX_USAGE, "too many addresses");
	while (n < want * 2)
		n *= 2;
	slots = calloc(n, sizeof(*slots));
	if (slots == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	l->slots = slots;
	l->n_slots = n;
	if (reuse) {
		for (i = 0; i < old_n; i++)
			if (old[i].idx1 != 0)
				index_put(l, old[i].idx1 - 1, old[i].hash);
	} else {
		for (i = 0; i < l->n; i++)
			index_put(l, i, addr_hash(l->addrs[i]));
	}
	free(old);
	l->n_indexed = l->n;
	return 0;
}

static bool
index_contains(const struct address_list *l, const char *addr, uint32_t hash)
{
	size_t mask = l->n_slots - 1;
	size_t s = hash & mask;

	while (l->slots[s].idx1 != 0) {
		size_t idx = l->slots[s].idx1 - 1;

		if (l->slots[s].hash == hash && idx < l->n &&
		    addr_equal(l->addrs[idx], addr))
			return true;
		s = (s + 1) & mask;
	}
	return false;
}

/* Room in addrs for want addresses. */
static int
reserve_addrs(struct address_list *l, size_t want, struct error *err)
{
	size_t ncap = l->cap == 0 ? 8 : l->cap;
	char **p;

	if (want <= l->cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sizeof(*p))
			return error_set(err, EX_OSERR, "out of memory");
		ncap *= 2;
	}
	p = realloc(l->addrs, ncap * sizeof(*p));
	if (p == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	l->addrs = p;
	l->cap = ncap;
	return 0;
}

int
address_list_reserve(struct address_list *l, size_t n, struct error *err)
{
	if (n > SIZE_MAX - l->n)
		return error_set(err, EX_OSERR, "out of memory");
	if (reserve_addrs(l, l->n + n, err) == -1)
		return -1;
	if (l->slots == NULL || l->n_indexed != l->n ||
	    (l->n + n) * 2 > l->n_slots)
		return index_rebuild(l, l->n + n, err);
	return 0;
}

int
address_list_add(struct address_list *l, const char *addr, struct error *err)
{
	char *copy;
	uint32_t hash;

	/* Rebuild when the table is too full, or when someone changed the
	 * array behind our back. */
	if (l->slots == NULL || l->n_indexed != l->n ||
	    (l->n + 1) * 2 > l->n_slots)
		if (index_rebuild(l, l->n + 1, err) == -1)
			return -1;
	hash = addr_hash(addr);
	if (index_contains(l, addr, hash))
		return 0;
	if (reserve_addrs(l, l->n + 1, err) == -1)
		return -1;
	if ((copy = strdup(addr)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	l->addrs[l->n] = copy;
	index_put(l, l->n, hash);
	l->n++;
	l->n_indexed = l->n;
	return 0;
}

/* ---------------------------------------------------------------------
 * Tokenizer for RFC 5322 3.2 lexical tokens
 */

enum tok_type {
	TOK_END,
	TOK_ATOM,    /* run of atext; "." is a special of its own */
	TOK_QUOTED,  /* quoted-string, quotes included */
	TOK_LITERAL, /* domain-literal, brackets included */
	TOK_SPECIAL, /* one of < > : ; @ , . */
};

struct token {
	enum tok_type type;
	size_t start;
	size_t len;
	char ch; /* for TOK_SPECIAL */
};

struct lexer {
	const char *s;
	size_t len;
	size_t pos;
};

static bool
is_wsp(char c)
{
	/* FWS (RFC 5322 3.2.2): CRLF followed by WSP folds.  A bare CR or LF
	 * is folding done badly; either way it is white space here. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_ctl(char c)
{
	return ((unsigned char)c < 0x20 && !is_wsp(c)) ||
	       (unsigned char)c == 0x7f;
}

static bool
is_special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static int
syntax_error(
    const struct lexer *lx, size_t at, const char *what, struct error *err)
{
	char q[ADDRESS_QUOTE_MAX * 4 + 8];
	size_t n = lx->len > ADDRESS_QUOTE_MAX ? ADDRESS_QUOTE_MAX : lx->len;

	error_escape(q, sizeof(q), lx->s, n);
	return error_set(err, EX_DATAERR, "%s at byte %zu of \"%s%s\"", what,
	    at, q, n < lx->len ? "..." : "");
}

/* Skip white space and comments (CFWS). */
static int
skip_cfws(struct lexer *lx, struct error *err)
{
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];
		size_t open, depth;

		if (is_wsp(c)) {
			lx->pos++;
			continue;
		}
		if (c != '(')
			return 0;
		open = lx->pos++;
		depth = 1;
		while (depth > 0) {
			if (lx->pos >= lx->len)
				return syntax_error(
				    lx, open, "unbalanced '('", err);
			c = lx->s[lx->pos++];
			if (c == '\\') {
				if (lx->pos >= lx->len)
					return syntax_error(
					    lx, open, "unbalanced '('", err);
				c = lx->s[lx->pos++];
			} else if (c == '(') {
				if (++depth > ADDRESS_COMMENT_DEPTH_MAX)
					return syntax_error(lx, lx->pos - 1,
					    "comments nested too deeply", err);
			} else if (c == ')')
				depth--;
			if (is_ctl(c))
				return syntax_error(lx, lx->pos - 1,
				    "control character in comment", err);
		}
	}
	return 0;
}

/* Scan a quoted-string or domain-literal from its opening character. */
static int
scan_delimited(struct lexer *lx, char close, struct token *t, struct error *err)
{
	const char *what =
	    close == '"' ? "unterminated quoted string" : "unbalanced '['";

	lx->pos++;
	for (;;) {
		char c;

		if (lx->pos >= lx->len)
			return syntax_error(lx, t->start, what, err);
		c = lx->s[lx->pos++];
		if (c == close)
			break;
		if (c == '\\') {
			/* quoted-pair (RFC 5322 3.2.1); a CR or LF in one
			 * would reach the SMTP command line. */
			if (lx->pos >= lx->len)
				return syntax_error(lx, t->start, what, err);
			c = lx->s[lx->pos++];
			if (is_ctl(c) || c == '\r' || c == '\n')
				return syntax_error(lx, lx->pos - 1,
				    "control character after '\\'", err);
			continue;
		}
		if (is_ctl(c))
			return syntax_error(
			    lx, lx->pos - 1, "control character", err);
		if (close == ']' && c == '[')
			return syntax_error(
			    lx, lx->pos - 1, "'[' inside '[...]'", err);
	}
	t->len = lx->pos - t->start;
	return 0;
}

static int
next_token(struct lexer *lx, struct token *t, struct error *err)
{
	char c;

	if (skip_cfws(lx, err) == -1)
		return -1;
	t->start = lx->pos;
	t->len = 0;
	t->ch = 0;
	if (lx->pos >= lx->len) {
		t->type = TOK_END;
		return 0;
	}
	c = lx->s[lx->pos];
	if (c == '"') {
		t->type = TOK_QUOTED;
		return scan_delimited(lx, '"', t, err);
	}
	if (c == '[') {
		t->type = TOK_LITERAL;
		return scan_delimited(lx, ']', t, err);
	}
	if (is_ctl(c))
		return syntax_error(lx, lx->pos, "control character", err);
	if (c == ')')
		return syntax_error(lx, lx->pos, "unbalanced ')'", err);
	if (c == ']')
		return syntax_error(lx, lx->pos, "unbalanced ']'", err);
	if (c == '\\')
		return syntax_error(lx, lx->pos, "'\\' outside quotes", err);
	if (is_special(c)) {
		t->type = TOK_SPECIAL;
		t->ch = c;
		t->len = 1;
		lx->pos++;
		return 0;
	}
	/* atext, plus 8-bit bytes (RFC 6532 3.2) and encoded words. */
	t->type = TOK_ATOM;
	while (lx->pos < lx->len) {
		c = lx->s[lx->pos];
		if (is_wsp(c) || is_ctl(c) || is_special(c))
			break;
		lx->pos++;
	}
	t->len = lx->pos - t->start;
	return 0;
}

static bool
tok_is(const struct token *t, char c)
{
	return t->type == TOK_SPECIAL && t->ch == c;
}

/* Whether t ends an addr-spec: END or a special listed in stop. */
static bool
tok_stops(const struct token *t, const char *stop)
{
	return t->type == TOK_END ||
	       (t->type == TOK_SPECIAL && strchr(stop, t->ch) != NULL);
}

/* Append a token's text without the CR/LF of folding. */
static int
append_token(struct buf *b, const struct lexer *lx, const struct token *t,
    struct error *err)
{
	size_t i;

	if (t->type == TOK_QUOTED || t->type == TOK_LITERAL) {
		for (i = t->start; i < t->start + t->len; i++) {
			char c = lx->s[i];

			if (c == '\r' || c == '\n')
				continue;
			/* White space inside a domain-literal is FWS. */
			if (t->type == TOK_LITERAL && is_wsp(c))
				continue;
			if (buf_addch(b, c, err) == -1)
				return -1;
		}
		return 0;
	}
	return buf_append(b, lx->s + t->start, t->len, err);
}

/*
 * Read an addr-spec (or a bare local part) from *t up to a token in stop,
 * joining its tokens without white space: obs-local-part and obs-domain
 * allow CFWS around the dots (RFC 5322 4.4).  On return *t is the stop
 * token.
 */
static int
read_addr_spec(struct lexer *lx, struct token *t, const char *stop,
    struct buf *out, struct error *err)
{
	size_t first = t->start;
	bool word = false, any_word = false;

	buf_reset(out);
	/* Local part: words and dots.  Dots are loose (RFC 5322 obs forms
	 * and real addresses such as "a..b@x"), words must be separated. */
	while (!tok_stops(t, stop) && !tok_is(t, '@')) {
		if (t->type == TOK_ATOM || t->type == TOK_QUOTED) {
			if (word)
				return syntax_error(lx, t->start,
				    "two words without '<address>' or ','",
				    err);
			word = any_word = true;
		} else if (tok_is(t, '.'))
			word = false;
		else if (t->type == TOK_LITERAL)
			return syntax_error(
			    lx, t->start, "'[...]' in a local part", err);
		else
			return syntax_error(
			    lx, t->start, "unexpected special character", err);
		if (append_token(out, lx, t, err) == -1 ||
		    next_token(lx, t, err) == -1)
			return -1;
	}
	if (!any_word)
		return syntax_error(lx, first, "empty local part", err);
	if (tok_stops(t, stop))
		return 0;

	/* Domain: dot-atom or a domain-literal. */
	if (buf_addch(out, '@', err) == -1 || next_token(lx, t, err) == -1)
		return -1;
	if (t->type == TOK_LITERAL) {
		if (append_token(out, lx, t, err) == -1 ||
		    next_token(lx, t, err) == -1)
			return -1;
	} else {
		for (;;) {
			if (t->type != TOK_ATOM)
				return syntax_error(lx, t->start,
				    tok_stops(t, stop) && out->len > 0 &&
					    out->data[out->len - 1] == '@'
					? "missing domain"
					: "bad domain",
				    err);
			if (append_token(out, lx, t, err) == -1 ||
			    next_token(lx, t, err) == -1)
				return -1;
			if (!tok_is(t, '.'))
				break;
			if (buf_addch(out, '.', err) == -1 ||
			    next_token(lx, t, err) == -1)
				return -1;
		}
	}
	if (!tok_stops(t, stop))
		return syntax_error(lx, t->start,
		    t->type == TOK_SPECIAL && t->ch == '@'
			? "second '@'"
			: "text after the domain (missing ','?)",
		    err);
	return 0;
}

/* obs-route (RFC 5322 4.4): "@a,@b:" before the addr-spec; dropped. */
static int
skip_route(struct lexer *lx, struct token *t, struct error *err)
{
	while (!tok_is(t, ':')) {
		if (tok_is(t, ',')) {
			if (next_token(lx, t, err) == -1)
				return -1;
			continue;
		}
		if (!tok_is(t, '@'))
			return syntax_error(
			    lx, t->start, "bad route in '<...>'", err);
		if (next_token(lx, t, err) == -1)
			return -1;
		if (t->type == TOK_LITERAL) {
			if (next_token(lx, t, err) == -1)
				return -1;
			continue;
		}
		while (t->type == TOK_ATOM || tok_is(t, '.'))
			if (next_token(lx, t, err) == -1)
				return -1;
	}
	return next_token(lx, t, err);
}

/*
 * Look ahead from *t to what ends the current phrase or addr-spec: '<',
 * ':', ',', ';' or the end.  The lexer is restored.
 */
static int
peek_terminator(struct lexer *lx, const struct token *t, struct token *end,
    struct error *err)
{
	size_t save = lx->pos;

	*end = *t;
	while (!tok_stops(end, "<:,;")) {
		if (tok_is(end, '>'))
			return syntax_error(
			    lx, end->start, "unbalanced '>'", err);
		if (next_token(lx, end, err) == -1)
			return -1;
	}
	lx->pos = save;
	return 0;
}

static int
parse_angle(
    struct lexer *lx, struct token *t, struct buf *spec, struct error *err)
{
	size_t open = t->start;

	if (next_token(lx, t, err) == -1)
		return -1;
	if (tok_is(t, '>'))
		return syntax_error(lx, open, "empty address '<>'", err);
	if (tok_is(t, '@') && skip_route(lx, t, err) == -1)
		return -1;
	if (t->type == TOK_END)
		return syntax_error(lx, open, "unbalanced '<'", err);
	if (tok_is(t, '<'))
		return syntax_error(
		    lx, t->start, "unexpected character inside '<...>'", err);
	if (read_addr_spec(lx, t, "<>:;,", spec, err) == -1)
		return -1;
	if (!tok_is(t, '>'))
		return syntax_error(lx, t->type == TOK_END ? open : t->start,
		    t->type == TOK_END ? "unbalanced '<'"
				       : "unexpected character inside '<...>'",
		    err);
	return next_token(lx, t, err);
}

/* RFC 5322 3.2.3 atext, ASCII only. */
static bool
is_ascii_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return memchr("!#$%&'*+-/=?^_`{|}~", c, 19) != NULL;
}

/* address.h; 10,000 recipients are 10,000 of these (bench S5). */
bool
address_is_plain(const char *text, size_t len)
{
	size_t i, ats = 0;
	bool after_sep = true; /* at the start, after a '.' or the '@' */

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.' || c == '@') {
			if (after_sep || (c == '@' && ats++ > 0))
				return false;
			after_sep = true;
		} else if (is_ascii_atext(c))
			after_sep = false;
		else
			return false;
	}
	return ats == 1 && !after_sep;
}

int
address_parse_list(
    const char *text, size_t len, struct address_list *out, struct error *err)
{
	struct lexer lx = {text, len, 0};
	struct token t, end;
	struct buf spec;
	bool in_group = false;
	int rc = -1;

	if (address_is_plain(text, len) && len <= ADDRESS_MAX) {
		char one[ADDRESS_MAX + 1];

		memcpy(one, text, len);
		one[len] = '\0';
		return address_list_add(out, one, err);
	}
	buf_init(&spec, len + 1);
	if (next_token(&lx, &t, err) == -1)
		goto out;
	while (t.type != TOK_END) {
		/* obs-addr-list allows empty elements: "a@x,,b@y". */
		if (tok_is(&t, ',')) {
			if (next_token(&lx, &t, err) == -1)
				goto out;
			continue;
		}
		if (tok_is(&t, ';')) {
			if (!in_group) {
				syntax_error(
				    &lx, t.start, "';' outside a group", err);
				goto out;
			}
			in_group = false;
			if (next_token(&lx, &t, err) == -1)
				goto out;
			continue;
		}
		if (peek_terminator(&lx, &t, &end, err) == -1)
			goto out;
		if (tok_is(&end, ':')) {
			/* group = display-name ":" [group-list] ";" */
			if (in_group) {
				syntax_error(
				    &lx, end.start, "nested group", err);
				goto out;
			}
			if (end.start == t.start) {
				syntax_error(
				    &lx, t.start, "group without a name", err);
				goto out;
			}
			while (t.start < end.start) {
				if (t.type == TOK_LITERAL || tok_is(&t, '@')) {
					syntax_error(&lx, t.start,
					    "bad group name", err);
					goto out;
				}
				if (next_token(&lx, &t, err) == -1)
					goto out;
			}
			in_group = true;
			if (next_token(&lx, &t, err) == -1)
				goto out;
			continue;
		}
		if (tok_is(&end, '<')) {
			/* name-addr: the display name (words, encoded words,
			 * obs-phrase dots) carries nothing we need. */
			while (t.start < end.start)
				if (next_token(&lx, &t, err) == -1)
					goto out;
			if (parse_angle(&lx, &t, &spec, err) == -1)
				goto out;
			if (!tok_stops(&t, ",;")) {
				syntax_error(&lx, t.start,
				    "text after '>' (missing ','?)", err);
				goto out;
			}
		} else if (read_addr_spec(&lx, &t, ",;", &spec, err) == -1)
			goto out;
		/* A ';' outside a group is reported at the top of the loop. */
		if (address_list_add(out, buf_str(&spec), err) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&spec);
	return rc;
}

/* ---------------------------------------------------------------------
 * Envelope checks
 */

int
address_check_envelope(const char *addr, struct error *err)
{
	char q[ADDRESS_QUOTE_MAX * 4 + 8];
	size_t len = strlen(addr), i, ats = 0, at = 0;
	bool quoted = false, escaped = false;
	const char *why = NULL, *first = NULL;

	/* Most addresses hold nothing but printable ASCII outside quotes
	 * and brackets: count the '@' and go straight to the last checks. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>')
			break;
		if (c == '@') {
			ats++;
			at = i;
		}
	}
	/* Otherwise one pass from the start; a control character could end
	 * the SMTP command line (RFC 5321 4.1.2 allows none in a path),
	 * escaped or not, so it is named before anything found earlier. */
	if (i < len) {
		ats = 0;
		at = 0;
	}
	for (i = i < len ? 0 : len; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c < 0x20 || c == 0x7f) {
			why = "control character";
			break;
		}
		if (first != NULL)
			continue;
		if (escaped)
			escaped = false;
		else if (quoted) {
			if (c == '\\')
				escaped = true;
			else if (c == '"')
				quoted = false;
		} else if (c == '"')
			quoted = true;
		else if (c == '<' || c == '>')
			first = "angle bracket";
		else if (c == ' ')
			first = "space outside quotes";
		else if (c == '@') {
			ats++;
			at = i;
		}
	}
	if (why == NULL)
		why = first;
	if (why == NULL) {
		if (len == 0)
			why = "empty address";
		else if (quoted)
			why = "unbalanced quote";
		else if (ats > 1)
			why = "more than one '@'";
		else if (ats == 1 && at == 0)
			why = "empty local part";
		else if (ats == 1 && at == len - 1)
			why = "empty domain";
		else if (len > ADDRESS_MAX)
			why = "longer than 256 octets (RFC 5321 4.5.3.1.3)";
		else if (!address_is_ascii(addr) && !text_utf8_valid(addr, len))
			why = "not UTF-8 (RFC 6531 3.3)";
	}
	if (why == NULL)
		return 0;
	error_escape(q, sizeof(q), addr,
	    len > ADDRESS_QUOTE_MAX ? ADDRESS_QUOTE_MAX : len);
	return error_set(err, EX_USAGE, "invalid address \"%s%s\": %s", q,
	    len > ADDRESS_QUOTE_MAX ? "..." : "", why);
}

bool
address_is_bare(const char *addr)
{
	size_t len;

	/* Without quotes any '@' is unquoted: two quick scans. */
	if (strchr(addr, '"') == NULL)
		return strchr(addr, '@') == NULL;
	len = strlen(addr);
	return unquoted_at(addr, len) == len;
}

bool
address_is_ascii(const char *addr)
{
	for (; *addr != '\0'; addr++)
		if ((unsigned char)*addr >= 0x80)
			return false;
	return true;
}
