/* SPDX-License-Identifier: ISC */
/*
 * libmagic's answer for a buffer (magic_sniff.h): its database is opened
 * once per run, on the first attachment, and closed by the caller.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBMAGIC
#include <magic.h>
#endif

#include "magic_sniff.h"

int
magic_sniff(void **cookie, int fd, char *type, size_t type_size, char *charset,
    size_t charset_size)
{
#ifdef HAVE_LIBMAGIC
	const char *found = NULL, *cs;
	unsigned char *peek;
	ssize_t got;
	size_t tl;

	type[0] = '\0';
	charset[0] = '\0';
	if ((peek = malloc(MAGIC_SNIFF_PEEK)) == NULL)
		return -1;
	got = pread(fd, peek, MAGIC_SNIFF_PEEK, 0);
	if (got > 0 && *cookie == NULL) {
		magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING);

		if (m != NULL && magic_load(m, NULL) == -1) {
			magic_close(m);
			m = NULL;
		}
		*cookie = m;
	}
	if (got > 0 && *cookie != NULL)
		found = magic_buffer(*cookie, peek, (size_t)got);
	free(peek);
	if (found == NULL)
		return -1;
	/* "text/plain; charset=us-ascii" */
	tl = strcspn(found, "; ");
	if (tl >= type_size)
		return -1;
	memcpy(type, found, tl);
	type[tl] = '\0';
	cs = strstr(found, "charset=");
	if (cs != NULL && strlen(cs + 8) < charset_size)
		memcpy(charset, cs + 8, strlen(cs + 8) + 1);
	return 0;
#else
	(void)cookie;
	(void)fd;
	(void)type_size;
	(void)charset_size;
	type[0] = '\0';
	charset[0] = '\0';
	return -1;
#endif
}

void
magic_sniff_end(void *cookie)
{
#ifdef HAVE_LIBMAGIC
	if (cookie != NULL)
		magic_close(cookie);
#else
	(void)cookie;
#endif
}
