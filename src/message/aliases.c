/* SPDX-License-Identifier: ISC */
/*
 * Aliases (aliases(5)) and the completion of bare local names: a sorted
 * array searched with bsearch, loaded once per run.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "address.h"
#include "aliases.h"
#include "buf.h"
#include "error.h"

/* How much of the input an error message quotes. */
#define ADDRESS_QUOTE_MAX 48
/* Bound on alias lookups for one address, so a wide alias tree cannot
 * make one recipient cost minutes. */
#define ALIASES_LOOKUPS_MAX 100000
/* A logical line of an aliases file (with its continuations). */
#define ALIASES_LINE_MAX (1024 * 1024)

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_ctl(char c)
{
	return ((unsigned char)c < 0x20 && !is_wsp(c)) ||
	       (unsigned char)c == 0x7f;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
/* ---------------------------------------------------------------------
 * Aliases (aliases(5)): a sorted array searched with bsearch
 */

struct alias {
	char *name; /* lower case */
	char **targets;
	size_t n_targets;
	size_t line;   /* for "first definition wins" */
	char *warning; /* why a target was skipped, or NULL */
};

struct aliases {
	struct alias *v;
	size_t n;
	size_t cap;
	/* What the loader skipped, "FILE:LINE: ..." (the first
	 * ALIASES_WARNINGS_MAX; n_skipped counts all). */
	char *warnings[ALIASES_WARNINGS_MAX];
	size_t n_warnings;
	size_t n_skipped;
};

/* ASCII-only case folding: the locale must not change alias names. */
static int
name_cmp(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		;
	return (unsigned char)lower(*a) - (unsigned char)lower(*b);
}

static int
alias_sort_cmp(const void *pa, const void *pb)
{
	const struct alias *a = pa, *b = pb;
	int c = name_cmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
alias_find_cmp(const void *key, const void *elem)
{
	return name_cmp(key, ((const struct alias *)elem)->name);
}

static void
alias_clear(struct alias *a)
{
	size_t i;

	for (i = 0; i < a->n_targets; i++)
		free(a->targets[i]);
	free(a->targets);
	free(a->name);
	free(a->warning);
}

void
aliases_free(struct aliases *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		alias_clear(&a->v[i]);
	for (i = 0; i < a->n_warnings; i++)
		free(a->warnings[i]);
	free(a->v);
	free(a);
}

const char *const *
aliases_warnings(const struct aliases *a, size_t *n, size_t *n_skipped)
{
	*n = a != NULL ? a->n_warnings : 0;
	*n_skipped = a != NULL ? a->n_skipped : 0;
	return a != NULL ? (const char *const *)a->warnings : NULL;
}

/* Note something skipped: the text joins the list (while there is
 * room), and *first gets a copy of its own unless it has one already.
 * -1 only when out of memory. */
static int warn(struct aliases *a, char **first, struct error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
warn(struct aliases *a, char **first, struct error *err, const char *fmt, ...)
{
	char text[ALIASES_WARNING_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a->n_skipped++;
	if (a->n_warnings < ALIASES_WARNINGS_MAX) {
		if ((a->warnings[a->n_warnings] = strdup(text)) == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		a->n_warnings++;
	}
	if (first != NULL && *first == NULL && (*first = strdup(text)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	return 0;
}

/*
 * What a local MTA would deliver itself (aliases(5)): "|command", "/file",
 * ":include:" and "\name" (the local mailbox, no further aliasing),
 * quoted or not.  A null client has no local delivery: NULL when the
 * target is an address.
 */
static const char *
local_delivery(const char *v, size_t n)
{
	if (n > 0 && v[0] == '"') {
		v++;
		n--;
	}
	if (n > 0 && v[0] == '|')
		return "a pipe to a command";
	if (n > 0 && v[0] == '/')
		return "a file";
	if (n >= 9 && strncasecmp(v, ":include:", 9) == 0)
		return "an :include: list";
	if (n > 0 && v[0] == '\\')
		return "a local mailbox";
	return NULL;
}

/* The targets of one alias, split at top-level commas (so "Name, Jr."
 * <x@y> is one target), each checked alone: what cannot be sent is
 * skipped with a warning and the rest is kept. */
static int
parse_targets(struct aliases *a, const char *name, const char *v,
    const char *path, size_t line, struct address_list *l, char **why,
    struct error *err)
{
	size_t i = 0, len = strlen(v), j;
	struct address_list one;
	struct error e;

	*why = NULL;
	while (i < len) {
		size_t s, n, depth = 0, m;
		bool quoted = false;
		const char *kind;

		while (i < len && is_wsp(v[i]))
			i++;
		s = i;
		for (; i < len; i++) {
			if (quoted && v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '"')
				quoted = !quoted;
			else if (!quoted && v[i] == '(')
				depth++;
			else if (!quoted && v[i] == ')' && depth > 0)
				depth--;
			else if (!quoted && depth == 0 && v[i] == ',')
				break;
		}
		n = i - s;
		i++;
		while (n > 0 && is_wsp(v[s + n - 1]))
			n--;
		if (n == 0)
			continue; /* obs-addr-list: "a, , b" */
		m = n > ADDRESS_QUOTE_MAX ? ADDRESS_QUOTE_MAX : n;
		if ((kind = local_delivery(v + s, n)) != NULL) {
			if (warn(a, why, err,
				"%s:%zu: alias \"%.*s\": target \"%.*s\" "
				"(%s) skipped: mailsub has no local delivery",
				path, line, ADDRESS_QUOTE_MAX, name, (int)m,
				v + s, kind) == -1)
				return -1;
			continue;
		}
		error_clear(&e);
		address_list_init(&one);
		if (address_parse_list(v + s, n, &one, &e) == -1) {
			address_list_free(&one);
			if (e.exit_code == EX_OSERR) {
				*err = e;
				return -1;
			}
			if (warn(a, why, err,
				"%s:%zu: alias \"%.*s\": target skipped: %s",
				path, line, ADDRESS_QUOTE_MAX, name,
				e.message) == -1)
				return -1;
			continue;
		}
		/* What the relay could never take is dropped here, not when
		 * a message needs the alias. */
		for (j = 0; j < one.n; j++) {
			error_clear(&e);
			if (address_check_envelope(one.addrs[j], &e) == 0) {
				if (address_list_add(l, one.addrs[j], err) ==
				    -1) {
					address_list_free(&one);
					return -1;
				}
				continue;
			}
			if (warn(a, why, err,
				"%s:%zu: alias \"%.*s\": target skipped: %s",
				path, line, ADDRESS_QUOTE_MAX, name,
				e.message) == -1) {
				address_list_free(&one);
				return -1;
			}
		}
		address_list_free(&one);
	}
	return 0;
}

/* One logical line.  A line that is no alias is skipped with a warning;
 * -1 only when out of memory. */
static int
aliases_add_line(struct aliases *a, const char *text, const char *path,
    size_t line, struct error *err)
{
	const char *colon = strchr(text, ':');
	char *why = NULL;
	size_t n, i;
	struct address_list l;
	struct alias *al;
	char *name;

	if (colon == NULL)
		return warn(a, NULL, err, "%s:%zu: missing ':'; line skipped",
		    path, line);
	n = (size_t)(colon - text);
	while (n > 0 && is_wsp(text[n - 1]))
		n--;
	if (n == 0)
		return warn(a, NULL, err,
		    "%s:%zu: empty alias name; line skipped", path, line);
	for (i = 0; i < n; i++)
		if (is_wsp(text[i]) || is_ctl(text[i]) || text[i] == '"' ||
		    text[i] == '@')
			return warn(a, NULL, err,
			    "%s:%zu: bad alias name \"%.*s\"; line skipped",
			    path, line,
			    (int)(n > ADDRESS_QUOTE_MAX ? ADDRESS_QUOTE_MAX
							: n),
			    text);
	if ((name = strndup(text, n)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < n; i++)
		name[i] = lower(name[i]);
	address_list_init(&l);
	if (parse_targets(a, name, colon + 1, path, line, &l, &why, err) == -1)
		goto oom;
	if (l.n == 0 && why == NULL &&
	    warn(a, &why, err, "%s:%zu: alias \"%.*s\" without targets", path,
		line, ADDRESS_QUOTE_MAX, name) == -1)
		goto oom;
	if (a->n == a->cap) {
		size_t ncap = a->cap == 0 ? 32 : a->cap * 2;
		struct alias *p = realloc(a->v, ncap * sizeof(*p));

		if (p == NULL) {
			error_set(err, EX_OSERR, "out of memory");
			goto oom;
		}
		a->v = p;
		a->cap = ncap;
	}
	/* An alias left without targets stays, so that it still wins over a
	 * later definition; it completes like a name without alias. */
	al = &a->v[a->n++];
	al->name = name;
	/* Keep the strings, drop the index. */
	al->targets = l.addrs;
	al->n_targets = l.n;
	al->line = line;
	al->warning = why;
	free(l.slots);
	return 0;
oom:
	free(name);
	free(why);
	address_list_free(&l);
	return -1;
}

static bool
blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || *s == '#';
}

/* The logical line that began at start ends: an alias, or a warning
 * when a physical line of it was bad (bad says why). */
static int
end_logical(struct aliases *a, struct buf *logical, const char *bad,
    const char *path, size_t start, size_t bad_line, struct error *err)
{
	if (start == 0)
		return 0;
	if (bad != NULL)
		return warn(a, NULL, err, "%s:%zu: %s; %s skipped", path,
		    bad_line, bad,
		    bad_line == start ? "line" : "the alias of that line");
	return aliases_add_line(a, buf_str(logical), path, start, err);
}

int
aliases_load(const char *path, struct aliases **out, struct error *err)
{
	FILE *f;
	struct aliases *a;
	struct buf logical;
	char *line = NULL;
	const char *bad = NULL;
	size_t lsize = 0, lineno = 0, start = 0, bad_line = 0, i, j;
	ssize_t got;
	int rc = -1;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		fclose(f);
		return error_set(err, EX_OSERR, "out of memory");
	}
	buf_init(&logical, ALIASES_LINE_MAX);
	/* A bad line never fails the file (a null client must not lose
	 * cron's mail over a line meant for a local MTA): it is skipped
	 * with its alias, and the rest works. */
	for (;;) {
		errno = 0;
		got = getline(&line, &lsize, f);
		if (got == -1) {
			if (ferror(f)) {
				error_set(err, EX_CONFIG, "%s: %s", path,
				    strerror(errno ? errno : EIO));
				goto out;
			}
			break;
		}
		lineno++;
		while (
		    got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		/* Postfix aliases(5): blank and comment lines are skipped
		 * and do not end a logical line. */
		if ((size_t)got == strlen(line) && blank_or_comment(line))
			continue;
		if (line[0] != ' ' && line[0] != '\t') {
			if (end_logical(a, &logical, bad, path, start, bad_line,
				err) == -1)
				goto out;
			buf_reset(&logical);
			start = lineno;
			bad = NULL;
		} else if (start == 0) {
			/* Continuation lines before any alias: one warning
			 * for the run of them. */
			start = lineno;
			bad = "continuation line without an alias";
			bad_line = lineno;
		}
		if (bad != NULL)
			continue;
		if ((size_t)got != strlen(line)) {
			bad = "NUL byte";
			bad_line = lineno;
			continue;
		}
		if (buf_append(&logical, line, (size_t)got, err) == -1) {
			if (err->exit_code == EX_OSERR)
				goto out;
			error_clear(err);
			bad = "alias longer than 1 MiB";
			bad_line = lineno;
		}
	}
	if (end_logical(a, &logical, bad, path, start, bad_line, err) == -1)
		goto out;
	/* First definition wins, like Postfix's duplicate handling. */
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), alias_sort_cmp);
	for (i = j = 0; i < a->n; i++) {
		if (j > 0 && name_cmp(a->v[j - 1].name, a->v[i].name) == 0)
			alias_clear(&a->v[i]);
		else
			a->v[j++] = a->v[i];
	}
	a->n = j;
	*out = a;
	a = NULL;
	rc = 0;
out:
	free(line);
	buf_free(&logical);
	fclose(f);
	aliases_free(a);
	return rc;
}

static const struct alias *
alias_find(const struct aliases *a, const char *name)
{
	if (a == NULL || a->n == 0)
		return NULL;
	return bsearch(name, a->v, a->n, sizeof(*a->v), alias_find_cmp);
}

static int
emit(const char *addr, const char *domain, struct address_list *out,
    struct error *err)
{
	char *full;
	size_t la, ld;
	int rc;

	if (domain == NULL || domain[0] == '\0' || !address_is_bare(addr))
		return address_list_add(out, addr, err);
	la = strlen(addr);
	ld = strlen(domain);
	if ((full = malloc(la + ld + 2)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	memcpy(full, addr, la);
	full[la] = '@';
	memcpy(full + la + 1, domain, ld + 1);
	rc = address_list_add(out, full, err);
	free(full);
	return rc;
}

/* Recursion depth is bounded by ALIASES_DEPTH_MAX and the total work by
 * ALIASES_LOOKUPS_MAX. */
static int
expand(const char *name, const struct aliases *a, const char *domain,
    size_t depth, size_t *lookups, struct address_list *out,
    const char **warning, struct error *err)
{
	char q[ADDRESS_QUOTE_MAX * 4 + 8];
	const struct alias *al;
	size_t i;

	if (++*lookups > ALIASES_LOOKUPS_MAX)
		return error_set(err, EX_CONFIG,
		    "aliases: expanding \"%s\" takes more than %d lookups",
		    error_escape(q, sizeof(q), name, strnlen(name, 48)),
		    ALIASES_LOOKUPS_MAX);
	if ((al = alias_find(a, name)) == NULL)
		return emit(name, domain, out, err);
	if (al->warning != NULL && warning != NULL && *warning == NULL)
		*warning = al->warning;
	/* Nothing left that mailsub can send to: as if not aliased. */
	if (al->n_targets == 0)
		return emit(name, domain, out, err);
	if (depth >= ALIASES_DEPTH_MAX)
		return error_set(err, EX_CONFIG,
		    "aliases: alias loop (or nesting deeper than %d) at \"%s\"",
		    ALIASES_DEPTH_MAX,
		    error_escape(q, sizeof(q), name, strnlen(name, 48)));
	for (i = 0; i < al->n_targets; i++) {
		const char *t = al->targets[i];
		int rc;

		/* "root: root, admin@x" keeps root itself. */
		if (!address_is_bare(t) || name_cmp(t, al->name) == 0)
			rc = emit(t, domain, out, err);
		else
			rc = expand(t, a, domain, depth + 1, lookups, out,
			    warning, err);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
address_complete(const char *addr, const struct aliases *aliases,
    const char *default_domain, struct address_list *out, const char **warning,
    struct error *err)
{
	size_t lookups = 0;

	if (!address_is_bare(addr))
		return address_list_add(out, addr, err);
	return expand(
	    addr, aliases, default_domain, 0, &lookups, out, warning, err);
}
