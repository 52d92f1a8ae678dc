/*
 * The modules' directory and dlopen (module.h).
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "module.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/mailsub"
#endif

/* The module beside the executable (/proc/self/exe, so a symlink such as
 * /usr/sbin/sendmail finds the real directory), into path. */
static int
beside_exe(const char *file, char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(path, size, "%s/%s", exe, file) >= size)
		return -1;
	return access(path, F_OK);
}

void *
module_open(const char *file, const char *what, char *path,
    unsigned long path_size, struct error *err)
{
	void *h;

	if (beside_exe(file, path, path_size) == -1)
		snprintf(path, path_size, "%s/%s", PKGLIBDIR, file);
	/* RTLD_NOW: a missing symbol shows here, not in the middle of a
	 * handshake. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();

		error_set(err, EX_SOFTWARE, "cannot load the %s module: %s",
		    what, why != NULL ? why : path);
	}
	return h;
}
