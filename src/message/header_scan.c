/* SPDX-License-Identifier: ISC */
/*
 * The mailbox scanner of header_scan.h: a single pass over an address
 * list that records where words, angle addresses and the first comment
 * are, for header.c to rewrite.  It never judges syntax.
 */
#include "autoconfig.h"

#include <string.h>

#include "header_scan.h"

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
	 * would end a word without being consumed, and header_scan_mailboxes()
	 * would never move past it (found by tests/fuzz/fuzz_header). */
	return c != '\0' && strchr(" \t\n()<>,;:\"", c) != NULL;
}

static int
emit_mailbox(struct header_mailbox *mb, header_mailbox_fn fn, void *arg)
{
	int r = 0;

	if (mb->angle || mb->have_tok)
		r = fn(arg, mb);
	memset(mb, 0, sizeof(*mb));
	return r;
}

int
header_scan_mailboxes(const char *v, size_t n, header_mailbox_fn fn, void *arg)
{
	struct header_mailbox mb;
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
