/* SPDX-License-Identifier: ISC */
/*
 * libmagic on demand, for the mailsub binary only: the libmagic functions
 * compose.c calls, each loading libmagic.so.1 the first time it is needed.
 * Only compose mode with an attachment needs it; every other run would
 * otherwise map libmagic and its compression libraries at start-up for
 * nothing (bench/RESULTS.md).  When the library cannot be loaded, magic_open()
 * returns NULL, which compose.c already treats as "no libmagic": the
 * extension table decides.  The unit tests link libmagic itself.
 */
#include "autoconfig.h"

#include "magic_lazy.h"

#ifdef HAVE_LIBMAGIC

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include <magic.h>

/* The soname Debian's libmagic1 ships (file 5.x). */
#define MAGIC_SONAME "libmagic.so.1"

static struct {
	void *handle;
	magic_t (*open)(int);
	void (*close)(magic_t);
	const char *(*buffer)(magic_t, const void *, size_t);
	const char *(*error)(magic_t);
	int (*load)(magic_t, const char *);
} lib;

static int
load_lib(void)
{
	void *h;

	if (lib.handle != NULL)
		return 0;
	h = dlopen(MAGIC_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return -1;
	lib.open = (magic_t(*)(int))dlsym(h, "magic_open");
	lib.close = (void (*)(magic_t))dlsym(h, "magic_close");
	lib.buffer = (const char *(*)(magic_t, const void *, size_t))dlsym(
	    h, "magic_buffer");
	lib.error = (const char *(*)(magic_t))dlsym(h, "magic_error");
	lib.load = (int (*)(magic_t, const char *))dlsym(h, "magic_load");
	if (lib.open == NULL || lib.close == NULL || lib.buffer == NULL ||
	    lib.error == NULL || lib.load == NULL) {
		dlclose(h);
		return -1;
	}
	lib.handle = h;
	return 0;
}

magic_t
magic_open(int flags)
{
	if (load_lib() == -1) {
		errno = ENOSYS;
		return NULL;
	}
	return lib.open(flags);
}

/* The others are only reached with a cookie from magic_open(), so the
 * library is loaded by then. */
void
magic_close(magic_t m)
{
	if (lib.handle != NULL && m != NULL)
		lib.close(m);
}

const char *
magic_buffer(magic_t m, const void *p, size_t n)
{
	return lib.handle != NULL ? lib.buffer(m, p, n) : NULL;
}

const char *
magic_error(magic_t m)
{
	return lib.handle != NULL ? lib.error(m) : "libmagic not loaded";
}

int
magic_load(magic_t m, const char *file)
{
	return lib.handle != NULL ? lib.load(m, file) : -1;
}

int
magic_lazy_version(int *built, int *loaded, const char **path)
{
	int (*version)(void);
	Dl_info info;

	*built = MAGIC_VERSION;
	*loaded = -1;
	*path = MAGIC_SONAME;
	if (load_lib() == -1)
		return -1;
	/* magic_version() came with file 5.13; an older one is "loaded". */
	version = (int (*)(void))dlsym(lib.handle, "magic_version");
	if (version != NULL)
		*loaded = version();
	if (dladdr((void *)lib.open, &info) != 0 && info.dli_fname != NULL)
		*path = info.dli_fname;
	return 0;
}

#else

int
magic_lazy_version(int *built, int *loaded, const char **path)
{
	*built = *loaded = -1;
	*path = NULL;
	return -1;
}

#endif /* HAVE_LIBMAGIC */
