/*
 * Aliases (aliases(5)) and the completion of bare local names: a sorted
 * array searched with bsearch, loaded once per run.
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
	size_t line; /* for "first definition wins" */
};

struct aliases {
	struct alias *v;
	size_t n;
	size_t cap;
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
}

void
aliases_free(struct aliases *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		alias_clear(&a->v[i]);
	free(a->v);
	free(a);
}

/*
 * Refuse what a local MTA would run or write (aliases(5)): "|command",
 * "/file" and ":include:" targets, quoted or not.  Top-level commas only,
 * so "Name, Jr." <x@y> is one target.
 */
static int
refuse_local_delivery(
    const char *v, const char *path, size_t line, struct error *err)
{
	char q[ADDRESS_QUOTE_MAX * 4 + 8];
	size_t i = 0, len = strlen(v);

	while (i < len) {
		size_t s, n, depth = 0;
		bool quoted = false;
		const char *kind = NULL;

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
		if (n > 0 && v[s] == '"') {
			s++;
			n--;
		}
		if (n > 0 && v[s] == '|')
			kind = "pipe to a command";
		else if (n > 0 && v[s] == '/')
			kind = "file";
		else if (n >= 9 && strncasecmp(v + s, ":include:", 9) == 0)
			kind = ":include:";
		if (kind != NULL) {
			size_t m = n;

			while (m > 0 && is_wsp(v[s + m - 1]))
				m--;
			if (m > ADDRESS_QUOTE_MAX)
				m = ADDRESS_QUOTE_MAX;
			return error_set(err, EX_CONFIG,
			    "%s:%zu: %s target \"%s\" not supported (mailsub "
			    "only submits mail)",
			    path, line, kind,
			    error_escape(q, sizeof(q), v + s, m));
		}
	}
	return 0;
}

static int
aliases_add_line(struct aliases *a, const char *text, const char *path,
    size_t line, struct error *err)
{
	char q[ADDRESS_QUOTE_MAX * 4 + 8];
	const char *colon = strchr(text, ':');
	size_t n, i;
	struct address_list l;
	struct alias *al;

	if (colon == NULL)
		return error_set(
		    err, EX_CONFIG, "%s:%zu: missing ':'", path, line);
	n = (size_t)(colon - text);
	while (n > 0 && is_wsp(text[n - 1]))
		n--;
	if (n == 0)
		return error_set(
		    err, EX_CONFIG, "%s:%zu: empty alias name", path, line);
	for (i = 0; i < n; i++)
		if (is_wsp(text[i]) || is_ctl(text[i]) || text[i] == '"' ||
		    text[i] == '@')
			return error_set(err, EX_CONFIG,
			    "%s:%zu: bad alias name \"%s\"", path, line,
			    error_escape(q, sizeof(q), text,
				n > ADDRESS_QUOTE_MAX ? ADDRESS_QUOTE_MAX : n));
	if (refuse_local_delivery(colon + 1, path, line, err) == -1)
		return -1;
	address_list_init(&l);
	if (address_parse_list(colon + 1, strlen(colon + 1), &l, err) == -1) {
		address_list_free(&l);
		err->exit_code = EX_CONFIG;
		error_prefix(err, "%s:%zu", path, line);
		return -1;
	}
	if (l.n == 0) {
		address_list_free(&l);
		return error_set(err, EX_CONFIG,
		    "%s:%zu: alias without targets", path, line);
	}
	if (a->n == a->cap) {
		size_t ncap = a->cap == 0 ? 32 : a->cap * 2;
		struct alias *p = realloc(a->v, ncap * sizeof(*p));

		if (p == NULL) {
			address_list_free(&l);
			return error_set(err, EX_OSERR, "out of memory");
		}
		a->v = p;
		a->cap = ncap;
	}
	al = &a->v[a->n];
	if ((al->name = strndup(text, n)) == NULL) {
		address_list_free(&l);
		return error_set(err, EX_OSERR, "out of memory");
	}
	for (i = 0; i < n; i++)
		al->name[i] = lower(al->name[i]);
	/* Keep the strings, drop the index. */
	al->targets = l.addrs;
	al->n_targets = l.n;
	al->line = line;
	free(l.slots);
	a->n++;
	return 0;
}

static bool
blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || *s == '#';
}

int
aliases_load(const char *path, struct aliases **out, struct error *err)
{
	FILE *f;
	struct aliases *a;
	struct buf logical;
	char *line = NULL;
	size_t lsize = 0, lineno = 0, start = 0, i, j;
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
		if ((size_t)got != strlen(line)) {
			error_set(
			    err, EX_CONFIG, "%s:%zu: NUL byte", path, lineno);
			goto out;
		}
		/* Postfix aliases(5): blank and comment lines are skipped
		 * and do not end a logical line. */
		if (blank_or_comment(line))
			continue;
		if (line[0] == ' ' || line[0] == '\t') {
			if (start == 0) {
				error_set(err, EX_CONFIG,
				    "%s:%zu: continuation line without an "
				    "alias",
				    path, lineno);
				goto out;
			}
		} else {
			if (start != 0 && aliases_add_line(a, buf_str(&logical),
					      path, start, err) == -1)
				goto out;
			buf_reset(&logical);
			start = lineno;
		}
		if (buf_append(&logical, line, (size_t)got, err) == -1) {
			err->exit_code = EX_CONFIG;
			error_prefix(err, "%s:%zu", path, lineno);
			goto out;
		}
	}
	if (start != 0 &&
	    aliases_add_line(a, buf_str(&logical), path, start, err) == -1)
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
    size_t depth, size_t *lookups, struct address_list *out, struct error *err)
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
			rc = expand(t, a, domain, depth + 1, lookups, out, err);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
address_complete(const char *addr, const struct aliases *aliases,
    const char *default_domain, struct address_list *out, struct error *err)
{
	size_t lookups = 0;

	if (!address_is_bare(addr))
		return address_list_add(out, addr, err);
	return expand(addr, aliases, default_domain, 0, &lookups, out, err);
}
