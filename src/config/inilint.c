/* SPDX-License-Identifier: ISC */
/*
 * The INI check: one pass over the text, line by line, finding the lines
 * iniparser 4.1 (iniparser_load, iniparser_line) would fail on or misread,
 * so that each is reported with its line number, and where every section,
 * key and value is.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inilint.h"
#include "text.h"

static void problem(struct inilint *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Keep the first problem only: later ones may be its echo. */
static void
problem(struct inilint *lint, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (lint->error_line != 0)
		return;
	lint->error_line = line;
	va_start(ap, fmt);
	vsnprintf(lint->error, sizeof(lint->error), fmt, ap);
	va_end(ap);
}

static void *
grow_array(void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return p;
	ncap = *cap != 0 ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		return NULL;
	np = realloc(p, ncap * size);
	if (np == NULL)
		return NULL;
	*cap = ncap;
	return np;
}

/* What iniparser's strstrip() removes, less the control characters that
 * are refused before it matters. */
static bool
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Names are kept to a small alphabet: they appear in messages, and an
 * account name is typed after -a. */
static bool
name_char(int c, bool section)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-')
		return true;
	return section && (c == '.' || c == '@' || c == '+');
}

/* s..e is the stripped line, starting with '['. */
static int
section_line(struct inilint *lint, const char *s, const char *e, unsigned line,
    long *cur, struct error *err)
{
	const char *close = memchr(s, ']', (size_t)(e - s));
	const char *n, *ne, *rest, *p;
	struct inilint_section *tmp;
	char *name;
	size_t i;

	/* iniparser takes a line for a header only when it also ends in
	 * ']': anything else becomes a syntax error or, with a '=' in a
	 * trailing comment, a key of the previous section. */
	if (close == NULL) {
		problem(lint, line, "unterminated section header (no ']')");
		return 0;
	}
	for (rest = close + 1; rest < e && is_blank((unsigned char)*rest);)
		rest++;
	if (rest < e) {
		if (*rest == ';' || *rest == '#')
			problem(lint, line,
			    "comment after a section header (iniparser cannot "
			    "parse it); put the comment on a line of its own");
		else
			problem(lint, line, "text after the section header");
		return 0;
	}
	for (n = s + 1; n < close && is_blank((unsigned char)*n);)
		n++;
	for (ne = close; ne > n && is_blank((unsigned char)ne[-1]);)
		ne--;
	if (n == ne) {
		problem(lint, line, "empty section name");
		return 0;
	}
	if (memchr(n, ':', (size_t)(ne - n)) != NULL) {
		problem(lint, line,
		    "section name contains ':' (iniparser uses it to separate "
		    "section and key)");
		return 0;
	}
	for (p = n; p < ne; p++) {
		if (!name_char((unsigned char)*p, true)) {
			problem(lint, line,
			    "a section name may hold only letters, digits and "
			    ". _ - @ +");
			return 0;
		}
	}
	if (ne - n > INILINT_NAME_MAX) {
		problem(lint, line, "section name longer than %d bytes",
		    INILINT_NAME_MAX);
		return 0;
	}
	if ((name = strndup(n, (size_t)(ne - n))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	lower(name);
	for (i = 0; i < lint->n_sections; i++) {
		if (strcmp(lint->sections[i].name, name) == 0) {
			/* iniparser would merge the two silently */
			problem(lint, line,
			    "[%s] appears twice (first on line %u); section "
			    "names are case-insensitive",
			    name, lint->sections[i].line);
			free(name);
			*cur = (long)i;
			return 0;
		}
	}
	if (lint->n_sections == INILINT_SECTIONS_MAX) {
		problem(
		    lint, line, "more than %d sections", INILINT_SECTIONS_MAX);
		free(name);
		return 0;
	}
	tmp = grow_array(lint->sections, &lint->cap_sections, lint->n_sections,
	    sizeof(*tmp));
	if (tmp == NULL) {
		free(name);
		return error_set(err, EX_OSERR, "out of memory");
	}
	lint->sections = tmp;
	tmp[lint->n_sections].name = name;
	tmp[lint->n_sections].line = line;
	*cur = (long)lint->n_sections++;
	return 0;
}

/* s..e is the stripped line: key = value. */
static int
key_line(struct inilint *lint, const char *text, const char *s, const char *e,
    unsigned line, long cur, struct error *err)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ke, *v, *p, *sec;
	struct inilint_key *tmp;
	char *name;
	size_t i;

	if (eq == NULL) {
		problem(lint, line,
		    "not a [section] header, key = value line or comment");
		return 0;
	}
	for (ke = eq; ke > s && is_blank((unsigned char)ke[-1]);)
		ke--;
	if (ke == s) {
		problem(lint, line, "'=' without a key name before it");
		return 0;
	}
	for (p = s; p < ke; p++) {
		if (!name_char((unsigned char)*p, false)) {
			problem(lint, line,
			    "a key name may hold only letters, digits, _ and "
			    "-");
			return 0;
		}
	}
	if (ke - s > INILINT_NAME_MAX) {
		problem(lint, line, "key name longer than %d bytes",
		    INILINT_NAME_MAX);
		return 0;
	}
	if ((name = strndup(s, (size_t)(ke - s))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	lower(name);
	if (cur < 0) {
		/* iniparser files it under the empty section: never read */
		problem(lint, line, "%s: key outside any [section]", name);
		free(name);
		return 0;
	}
	sec = lint->sections[cur].name;
	for (v = eq + 1; v < e && is_blank((unsigned char)*v);)
		v++;
	if (v < e && (*v == '"' || *v == '\'')) {
		/* iniparser takes the text up to the next quote of the same
		 * kind and drops the rest of the line unseen. */
		const char *q = memchr(v + 1, *v, (size_t)(e - v - 1));

		if (q == NULL) {
			problem(lint, line, "[%s] %s: unterminated quote", sec,
			    name);
		} else {
			for (q++; q < e && is_blank((unsigned char)*q);)
				q++;
			if (q < e && *q != ';' && *q != '#')
				problem(lint, line,
				    "[%s] %s: text after the closing quote",
				    sec, name);
		}
	}
	for (i = 0; i < lint->n_keys; i++) {
		if (lint->keys[i].section == (size_t)cur &&
		    strcmp(lint->keys[i].name, name) == 0) {
			/* iniparser keeps the last one silently */
			problem(lint, line,
			    "[%s] %s: set twice (first on line %u); key names "
			    "are case-insensitive",
			    sec, name, lint->keys[i].line);
			free(name);
			return 0;
		}
	}
	if (lint->n_keys == INILINT_KEYS_MAX) {
		problem(lint, line, "more than %d keys", INILINT_KEYS_MAX);
		free(name);
		return 0;
	}
	tmp =
	    grow_array(lint->keys, &lint->cap_keys, lint->n_keys, sizeof(*tmp));
	if (tmp == NULL) {
		free(name);
		return error_set(err, EX_OSERR, "out of memory");
	}
	lint->keys = tmp;
	tmp[lint->n_keys].section = (size_t)cur;
	tmp[lint->n_keys].name = name;
	tmp[lint->n_keys].line = line;
	tmp[lint->n_keys].value_off = (size_t)(v - text);
	tmp[lint->n_keys].value_len = (size_t)(e - v);
	tmp[lint->n_keys].quoted = v < e && (*v == '"' || *v == '\'');
	lint->n_keys++;
	return 0;
}

static int
scan_line(struct inilint *lint, const char *text, const char *line, size_t len,
    unsigned lineno, long *cur, struct error *err)
{
	const char *s = line, *e = line + len;
	size_t i;

	if (len > INILINT_LINE_MAX) {
		problem(lint, lineno,
		    "line longer than %d bytes (iniparser's limit)",
		    INILINT_LINE_MAX);
		return 0;
	}
	/* fgets() would go on past a NUL that strlen() stops at */
	if (memchr(line, '\0', len) != NULL) {
		problem(lint, lineno, "NUL byte");
		return 0;
	}
	if (!text_utf8_valid(line, len)) {
		problem(lint, lineno, "invalid UTF-8");
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t' && !(c == '\r' && i == len - 1)) ||
		    c == 0x7f) {
			problem(lint, lineno, "control character 0x%02x", c);
			return 0;
		}
	}
	while (s < e && is_blank((unsigned char)*s))
		s++;
	while (e > s && is_blank((unsigned char)e[-1]))
		e--;
	if (s == e)
		return 0;
	/* iniparser joins a line ending in a backslash with the next one,
	 * even a comment, which then swallows the next key. */
	if (e[-1] == '\\') {
		problem(lint, lineno,
		    "line ends in '\\', which iniparser joins with the next "
		    "line; quote the value");
		return 0;
	}
	if (*s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return section_line(lint, s, e, lineno, cur, err);
	return key_line(lint, text, s, e, lineno, *cur, err);
}

int
inilint_scan(
    const char *text, size_t len, struct inilint *lint, struct error *err)
{
	size_t pos = 0;
	unsigned lineno = 0;
	long cur = -1;

	/* Windows editors start UTF-8 files with U+FEFF; iniparser would
	 * read it as part of the first line. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		problem(
		    lint, 1, "UTF-8 byte-order mark; save the file without it");
		pos = 3;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen =
		    nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (scan_line(
			lint, text, text + pos, llen, lineno, &cur, err) == -1)
			return -1;
		pos += llen + (nl != NULL ? 1 : 0);
	}
	return 0;
}

void
inilint_free(struct inilint *lint)
{
	size_t i;

	if (lint == NULL)
		return;
	for (i = 0; i < lint->n_sections; i++)
		free(lint->sections[i].name);
	free(lint->sections);
	for (i = 0; i < lint->n_keys; i++)
		free(lint->keys[i].name);
	free(lint->keys);
	lint->sections = NULL;
	lint->keys = NULL;
	lint->n_sections = lint->n_keys = 0;
	lint->cap_sections = lint->cap_keys = 0;
}
