/* SPDX-License-Identifier: ISC */
/*
 * The trust rule of fsperm.h: fsperm_check_stat() for one object, and a
 * walk that resolves a path component by component, as the kernel does
 * (path_resolution(7)), checking every directory a name is looked up in:
 * whoever can write one of them can swap what follows.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fsperm.h"

/* Symbolic links followed on one path: the kernel's own limit. */
#define FSPERM_LINKS_MAX 40

static gid_t trusted_group = (gid_t)-1;

void
fsperm_set_group(gid_t gid)
{
	trusted_group = gid;
}

static const char *
writers(unsigned bits)
{
	if (bits == S_IWGRP)
		return "its group";
	if (bits == S_IWOTH)
		return "others";
	return "group and others";
}

int
fsperm_check_stat(
    const char *path, const struct stat *st, unsigned flags, struct error *err)
{
	unsigned long uid = (unsigned long)geteuid();
	unsigned long owner = (unsigned long)st->st_uid;
	unsigned mode = (unsigned)(st->st_mode & 07777);
	unsigned wbits = mode & (S_IWGRP | S_IWOTH);
	bool ancestor = (flags & FSPERM_ANCESTOR) != 0;
	bool dir = ancestor || (flags & FSPERM_DIR) != 0;
	bool secret = (flags & FSPERM_SECRET) != 0;
	bool system = (flags & FSPERM_SYSTEM) != 0;
	const char *kind = dir ? "directory" : "file";

	if (S_ISLNK(st->st_mode))
		return error_set(err, EX_CONFIG,
		    "%s: a symbolic link (owner uid %lu), which is not "
		    "followed here; put the %s itself there",
		    path, owner, kind);
	if (dir && !S_ISDIR(st->st_mode))
		return error_set(err, EX_CONFIG, "%s: not a directory", path);
	if (!dir && !S_ISREG(st->st_mode))
		return error_set(
		    err, EX_CONFIG, "%s: not a regular file", path);
	if (secret && owner != uid && !(system && owner == 0))
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is owned by uid %lu, not by you "
		    "(uid %lu); chown %lu %s",
		    path, owner, uid, uid, path);
	if (owner != uid && owner != 0)
		return error_set(err, EX_CONFIG,
		    "%s: owned by uid %lu (mode %04o), neither you (uid %lu) "
		    "nor root: its owner can change it; chown %lu %s, or use a "
		    "%s of your own",
		    path, owner, mode, uid, uid, path, kind);
	if (secret && system && (mode & 007) != 0)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is readable by others (mode "
		    "%04o); chmod o-rwx %s",
		    path, mode, path);
	if (secret && !system && (mode & 077) != 0)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is readable by group/others "
		    "(mode %04o); chmod %s %s",
		    path, mode, dir ? "700" : "600", path);
	if (trusted_group != (gid_t)-1 && owner == 0 &&
	    st->st_gid == trusted_group)
		wbits &= ~(unsigned)S_IWGRP;
	/* In a sticky directory only root and an entry's owner can remove
	 * or rename the entry: root's (/tmp) is safe to pass through. */
	if (ancestor && owner == 0 && (mode & S_ISVTX) != 0)
		wbits = 0;
	if (wbits == 0)
		return 0;
	if (ancestor)
		return error_set(err, EX_CONFIG,
		    "%s: owner uid %lu, mode %04o: a directory on the way, "
		    "writable by %s, who can replace what is in it; chmod "
		    "go-w %s",
		    path, owner, mode, writers(wbits), path);
	if ((mode & S_ISVTX) != 0)
		return error_set(err, EX_CONFIG,
		    "%s: owner uid %lu, mode %04o: a shared directory, "
		    "writable by %s, who can plant names in it; use a "
		    "directory of your own",
		    path, owner, mode, writers(wbits));
	return error_set(err, EX_CONFIG,
	    "%s: owner uid %lu, mode %04o: writable by %s, who can change "
	    "it; chmod go-w %s",
	    path, owner, mode, writers(wbits), path);
}

/* A path could not be looked at: with FSPERM_MISSING_OK that is for the
 * caller's own open or mkdir to report. */
static int
lookup_failed(const char *where, unsigned flags, int errnum, struct error *err)
{
	if ((flags & FSPERM_MISSING_OK) != 0)
		return 0;
	return error_set(err, EX_CONFIG, "%s: %s", where, strerror(errnum));
}

int
fsperm_check_path(const char *path, unsigned flags, struct error *err)
{
	char done[PATH_MAX], todo[PATH_MAX], cand[PATH_MAX], link[PATH_MAX];
	unsigned own = flags & ~(unsigned)FSPERM_ANCESTOR;
	const char *p, *at = path;
	struct stat st;
	int links = 0, n;

	if (path == NULL || *path == '\0')
		return error_set(err, EX_CONFIG, "an empty path");
	if (path[0] == '/')
		n = snprintf(todo, sizeof(todo), "%s", path);
	else if (getcwd(done, sizeof(done)) == NULL)
		return lookup_failed(path, flags, errno, err);
	else
		n = snprintf(todo, sizeof(todo), "%s/%s", done, path);
	if (n < 0 || (size_t)n >= sizeof(todo))
		return error_set(err, EX_CONFIG, "%s: path too long", path);
	/* done: where the walk is, a real path without symlinks ("" is /). */
	done[0] = '\0';
	at = "/";
	if (lstat("/", &st) == -1)
		return lookup_failed("/", flags, errno, err);
	if (fsperm_check_stat("/", &st, FSPERM_ANCESTOR, err) == -1)
		goto bad;
	p = todo;
	for (;;) {
		const char *c, *rest;
		size_t len;
		bool last;

		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* The path ends where the walk is ("/", "x/.."). */
			at = done[0] != '\0' ? done : "/";
			if (lstat(at, &st) == -1)
				return lookup_failed(at, flags, errno, err);
			if (fsperm_check_stat(at, &st, own, err) == -1)
				goto bad;
			return 0;
		}
		c = p;
		len = strcspn(c, "/");
		for (rest = c + len; *rest == '/'; rest++)
			;
		last = *rest == '\0';
		if (len == 1 && c[0] == '.') {
			p = rest;
			continue;
		}
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = strrchr(done, '/');

			if (slash != NULL)
				*slash = '\0';
			p = rest;
			continue;
		}
		n = snprintf(cand, sizeof(cand), "%s/%.*s", done, (int)len, c);
		if (n < 0 || (size_t)n >= sizeof(cand))
			return error_set(
			    err, EX_CONFIG, "%s: path too long", path);
		at = cand;
		if (lstat(cand, &st) == -1)
			return lookup_failed(cand, flags, errno, err);
		if (S_ISLNK(st.st_mode) &&
		    !(last && (flags & FSPERM_NOFOLLOW) != 0)) {
			ssize_t r;

			if (++links > FSPERM_LINKS_MAX)
				return lookup_failed(cand, flags, ELOOP, err);
			r = readlink(cand, link, sizeof(link) - 1);
			if (r <= 0)
				return lookup_failed(
				    cand, flags, r == 0 ? ENOENT : errno, err);
			link[r] = '\0';
			/* The link lies in done, already checked; what is
			 * left of the path now follows its target. */
			n = snprintf(cand, sizeof(cand), "%s/%s", link, rest);
			if (n < 0 || (size_t)n >= sizeof(cand))
				return error_set(
				    err, EX_CONFIG, "%s: path too long", path);
			memcpy(todo, cand, (size_t)n + 1);
			if (link[0] == '/')
				done[0] = '\0';
			p = todo;
			continue;
		}
		if (last) {
			if (fsperm_check_stat(cand, &st, own, err) == -1)
				goto bad;
			return 0;
		}
		if (!S_ISDIR(st.st_mode))
			return lookup_failed(cand, flags, ENOTDIR, err);
		if (fsperm_check_stat(cand, &st, FSPERM_ANCESTOR, err) == -1)
			goto bad;
		memcpy(done, cand, (size_t)n + 1);
		p = rest;
	}
bad:
	if (strcmp(at, path) != 0)
		error_prefix(err, "%s", path);
	return -1;
}

int
fsperm_check_new_file(const char *path, struct error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else {
		len = slash == path ? 1 : (size_t)(slash - path);
		if (len >= sizeof(dir))
			return error_set(
			    err, EX_CONFIG, "%s: path too long", path);
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	if (fsperm_check_path(dir, FSPERM_DIR | FSPERM_MISSING_OK, err) == -1)
		return -1;
	return fsperm_check_path(
	    path, FSPERM_NOFOLLOW | FSPERM_MISSING_OK, err);
}
