/* SPDX-License-Identifier: ISC */
/*
 * A check of INI text for what iniparser 4.1 fails on without saying where,
 * or misreads without saying anything (long lines, NUL bytes, a comment
 * after a section header, ':' in a section name, a trailing backslash,
 * unterminated quotes, duplicates), listing every section and key with its
 * line number so that config.c can say FILE:LINE.  What iniparser makes of
 * a value is iniparser's: the scan only says where the value's text is, so
 * that config.c can compare the two (a value iniparser cut at ';' or '#').
 * Pure: no I/O, and no value is copied, so nothing secret can leak from
 * here.
 */
#ifndef MAILSUB_INILINT_H
#define MAILSUB_INILINT_H

#include <stdbool.h>
#include <stddef.h>

struct error;

/* iniparser 4.1 reads with fgets() into 1024 bytes and fails the whole
 * file on a longer line: 1022 bytes and the newline fit. */
#define INILINT_LINE_MAX 1022
#define INILINT_NAME_MAX 64
/* Far beyond any real file; they bound the quadratic duplicate checks. */
#define INILINT_SECTIONS_MAX 1000
#define INILINT_KEYS_MAX     10000

struct inilint_section {
	char *name; /* lower case, as iniparser stores it */
	unsigned line;
};

struct inilint_key {
	size_t section; /* index into sections */
	char *name;	/* lower case, as iniparser stores it */
	unsigned line;
	/* The value's text as written: from after '=' and the blanks
	 * there to the end of the line less its blanks, as an offset into
	 * the scanned text. */
	size_t value_off, value_len;
	bool quoted; /* it starts with ' or " */
};

struct inilint {
	struct inilint_section *sections;
	size_t n_sections, cap_sections;
	struct inilint_key *keys;
	size_t n_keys, cap_keys;
	unsigned error_line; /* first problem; 0 if none */
	char error[256];     /* what is wrong there: key and
				section names only */
};

/*
 * Scan len bytes of INI text into lint (zeroed by the caller).  A problem
 * does not stop the scan: error_line and error describe the first one, and
 * the lists hold every well-formed line.  Returns -1 only when out of
 * memory (EX_OSERR); inilint_free() releases the lists either way.
 */
int inilint_scan(
    const char *text, size_t len, struct inilint *lint, struct error *err);
void inilint_free(struct inilint *lint);

#endif
