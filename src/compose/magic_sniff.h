/* SPDX-License-Identifier: ISC */
/*
 * What libmagic says of an attachment's first bytes: the one place that
 * calls libmagic (magic_lazy.c loads it on demand in the binary; the unit
 * tests link it).  compose.c decides what to make of the answer.
 */
#ifndef MAILSUB_MAGIC_SNIFF_H
#define MAILSUB_MAGIC_SNIFF_H

#include <stddef.h>

/* Bytes of a file libmagic is shown. */
#define MAGIC_SNIFF_PEEK (64 * 1024)

/*
 * The MIME type ("type/subtype") and charset (or "") libmagic finds in the
 * first MAGIC_SNIFF_PEEK bytes of the file fd; -1 when it cannot tell,
 * cannot be loaded or is not built in (type and charset then ""), or the
 * answer does not fit.  *cookie
 * keeps the loaded database from one call to the next (NULL at first);
 * magic_sniff_end() releases it.
 */
int magic_sniff(void **cookie, int fd, char *type, size_t type_size,
    char *charset, size_t charset_size);
void magic_sniff_end(void *cookie);

#endif
