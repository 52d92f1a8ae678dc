/* SPDX-License-Identifier: ISC */
/*
 * The cache of small secrets (cache.h): one file per entry under a
 * directory that only the user can enter, every open checked on the
 * descriptor (owner, mode, type) so that a symlink or a file planted by
 * someone else is never read or written.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "sysmode.h"

/* Only the user: no group or other bits (fsperm.h's rule for secrets).
 * In the system state (sysmode.h) an entry is the system accounts', made
 * by whichever caller ran: any owner, the group's, nothing for others;
 * only mailsub, through the group, can reach that directory. */
static bool
private_to_us(const char *path, const struct stat *st)
{
	struct error err;

	if (sysmode_shared())
		return S_ISREG(st->st_mode) && (st->st_mode & 07137) == 0 &&
		       st->st_gid == sysmode_group();
	return fsperm_check_stat(path, st, FSPERM_SECRET, &err) == 0;
}

/* mkdir -p with mode 0700 for what is created; the system state is root's
 * to make (0770, the group's), a caller's directory there would be
 * refused by every other caller. */
static bool
make_dirs(char *path)
{
	struct stat st;
	char *p;

	if (sysmode_shared()) {
		if (lstat(path, &st) == 0)
			return true;
		if (geteuid() != 0)
			return false;
		for (p = path + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0755) == -1 && errno != EEXIST) {
				*p = '/';
				return false;
			}
			*p = '/';
		}
		return (mkdir(path, 0770) == 0 || errno == EEXIST) &&
		       chown(path, 0, sysmode_group()) == 0 &&
		       chmod(path, 0770) == 0;
	}

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return false;
		}
		*p = '/';
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* BASE/mailsub[/leaf] for the XDG base directory in env, else
 * $HOME/fallback; false when there is neither (or HOME is /). */
static bool
xdg_path(const char *env, const char *fallback, const char *leaf, char *out,
    size_t size)
{
	const char *base = getenv(env);
	const char *home = getenv("HOME");
	int n;

	/* XDG base directories must be absolute; otherwise ignored. */
	if (base != NULL && base[0] == '/')
		n = snprintf(out, size, "%s/mailsub%s%s", base,
		    leaf != NULL ? "/" : "", leaf != NULL ? leaf : "");
	else if (home != NULL && home[0] == '/' && strcmp(home, "/") != 0)
		n = snprintf(out, size, "%s/%s/mailsub%s%s", home, fallback,
		    leaf != NULL ? "/" : "", leaf != NULL ? leaf : "");
	else
		return false;
	return n >= 0 && (size_t)n < size;
}

/* Where the cache is, made or not; false when there is none. */
static bool
cache_path(char *out, size_t size)
{
	int n;

	if (!sysmode_shared())
		return xdg_path("XDG_CACHE_HOME", ".cache", NULL, out, size);
	n = snprintf(out, size, "%s/cache", SYSMODE_STATE_DIR);
	return n >= 0 && (size_t)n < size;
}

/* The directory of secrets: the user's alone, and the way to it trusted;
 * the system state root's and the group's (FSPERM_SYSTEM). */
#define CACHE_DIR_RULE                                                         \
	(FSPERM_DIR | FSPERM_NOFOLLOW | FSPERM_SECRET |                        \
	    (sysmode_shared() ? FSPERM_SYSTEM : 0))

/* The directory at out made (mkdir -p) and checked. */
static bool
private_dir(char *out)
{
	struct error err;

	/* Nothing is made where someone else could reach it. */
	if (fsperm_check_path(out, CACHE_DIR_RULE | FSPERM_MISSING_OK, &err) ==
		-1 ||
	    !make_dirs(out))
		return false;
	return fsperm_check_path(out, CACHE_DIR_RULE, &err) == 0;
}

bool
cache_dir(char *out, size_t size)
{
	return cache_path(out, size) && private_dir(out);
}

bool
cache_state_dir(const char *leaf, char *out, size_t size)
{
	return xdg_path("XDG_STATE_HOME", ".local/state", leaf, out, size) &&
	       private_dir(out);
}

int
cache_check(struct error *err)
{
	char path[4096];

	if (!cache_path(path, sizeof(path)))
		return 0;
	return fsperm_check_path(
	    path, FSPERM_DIR | FSPERM_NOFOLLOW | FSPERM_MISSING_OK, err);
}

bool
cache_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CACHE_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
}

static int
open_dir(void)
{
	char dir[4096];

	if (!cache_dir(dir, sizeof(dir)))
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

bool
cache_load(const char *name, unsigned char *out, size_t size, size_t *len)
{
	struct stat st;
	ssize_t got;
	int dfd, fd;

	*len = 0;
	if (!cache_name_ok(name) || (dfd = open_dir()) == -1)
		return false;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd == -1)
		return false;
	if (fstat(fd, &st) == -1 || !private_to_us(name, &st) ||
	    st.st_size <= 0 || (unsigned long long)st.st_size > size ||
	    st.st_size > CACHE_VALUE_MAX) {
		close(fd);
		return false;
	}
	got = fdio_read_full(fd, out, (size_t)st.st_size);
	close(fd);
	if (got != (ssize_t)st.st_size) {
		secure_wipe(out, (size_t)st.st_size);
		return false;
	}
	*len = (size_t)got;
	return true;
}

bool
cache_store(const char *name, const void *p, size_t n)
{
	char tmp[CACHE_NAME_MAX + 32];
	bool ok = true;
	int dfd, fd;

	/* A file a caller of the setgid program made would be the caller's
	 * own, to read outside mailsub: the shared cache (a SCRAM entry
	 * logs in as the system account) is written by root's runs only
	 * (mailsub(1), SECURITY CONSIDERATIONS). */
	if (sysmode_shared() && geteuid() != 0)
		return false;
	if (!cache_name_ok(name) || n == 0 || n > CACHE_VALUE_MAX ||
	    (dfd = open_dir()) == -1)
		return false;
	snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		close(dfd);
		return false;
	}
	/* Every caller of the system accounts reads it (whatever umask). */
	if (sysmode_shared() && (fchown(fd, (uid_t)-1, sysmode_group()) == -1 ||
				    fchmod(fd, 0640) == -1))
		ok = false;
	if (ok && fdio_write_all(fd, p, n, false) == -1)
		ok = false;
	if (close(fd) == -1)
		ok = false;
	if (ok && renameat(dfd, tmp, dfd, name) == -1)
		ok = false;
	if (!ok)
		(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	return ok;
}

void
cache_forget(const char *name)
{
	int dfd;

	if (!cache_name_ok(name) || (dfd = open_dir()) == -1)
		return;
	(void)unlinkat(dfd, name, 0);
	close(dfd);
}
