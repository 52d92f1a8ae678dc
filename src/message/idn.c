/* SPDX-License-Identifier: ISC */
/*
 * libidn2 through dlopen, as magic_lazy.c does libmagic: mailsub maps it
 * only when an address with a non-ASCII domain meets a server without
 * SMTPUTF8 (RFC 6531), which is rare, instead of at every start.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "idn.h"

#ifdef HAVE_LIBIDN2
#include <idn2.h>

/* The soname of libidn2 2.x (Debian's libidn2-0). */
#define IDN2_SONAME "libidn2.so.0"

static struct {
	void *handle;
	int (*to_ascii)(const char *, char **, int);
	const char *(*strerror)(int);
	void (*free)(void *);
} lib;

static int
load_lib(void)
{
	void *h;

	if (lib.handle != NULL)
		return 0;
	if ((h = dlopen(IDN2_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	lib.to_ascii =
	    (int (*)(const char *, char **, int))dlsym(h, "idn2_to_ascii_8z");
	lib.strerror = (const char *(*)(int))dlsym(h, "idn2_strerror");
	lib.free = (void (*)(void *))dlsym(h, "idn2_free");
	if (lib.to_ascii == NULL || lib.strerror == NULL || lib.free == NULL) {
		dlclose(h);
		return -1;
	}
	lib.handle = h;
	return 0;
}

int
idn_to_ascii(const char *domain, char *out, size_t size, struct error *err)
{
	char *a = NULL;
	int r;

	if (load_lib() == -1)
		return error_set(err, EX_DATAERR,
		    "the domain is not ASCII, the server lacks SMTPUTF8, and "
		    "libidn2 (%s) cannot be loaded to convert it",
		    IDN2_SONAME);
	r = lib.to_ascii(domain, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (r != IDN2_OK)
		return error_set(err, EX_DATAERR,
		    "the domain is not a valid IDN: %s", lib.strerror(r));
	if (strlen(a) >= size) {
		lib.free(a);
		return error_set(err, EX_DATAERR, "the domain is too long");
	}
	strcpy(out, a);
	lib.free(a);
	return 0;
}

#else /* !HAVE_LIBIDN2 */

int
idn_to_ascii(const char *domain, char *out, size_t size, struct error *err)
{
	(void)domain;
	(void)out;
	(void)size;
	return error_set(err, EX_DATAERR,
	    "the domain is not ASCII, the server lacks SMTPUTF8, and this "
	    "mailsub was built without libidn2");
}

#endif
