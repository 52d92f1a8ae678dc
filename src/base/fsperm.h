/* SPDX-License-Identifier: ISC */
/*
 * What mailsub trusts on disk (mailsub.conf(5), FILES AND PERMISSIONS), in
 * the manner of OpenSSH's StrictModes: a file it takes a secret, a command
 * or a recipient from, and a directory it writes, must be owned by the user
 * or root and writable by nobody else, and so must every directory on the
 * way to it; a root-owned sticky directory such as /tmp may be on the way,
 * but is never trusted itself.  Every such check in mailsub is this one.
 */
#ifndef MAILSUB_FSPERM_H
#define MAILSUB_FSPERM_H

#include <sys/stat.h>
#include <sys/types.h>

struct error;

enum fsperm_flags {
	FSPERM_DIR = 1 << 0,	    /* a directory; else a regular file */
	FSPERM_NOFOLLOW = 1 << 1,   /* the last component is no symlink */
	FSPERM_MISSING_OK = 1 << 2, /* may not exist yet: it is about to be
				     * made; what exists on the way is
				     * checked */
	FSPERM_SECRET = 1 << 3,	    /* holds a password: the user's own, no
				     * access for group or others */
	FSPERM_SYSTEM = 1 << 4,	    /* with FSPERM_SECRET, of the system
				     * config: root may own it, its group
				     * read it */
	FSPERM_ANCESTOR = 1 << 5,   /* a directory on the way to the object
				     * (a root-owned sticky one is fine) */
};

/*
 * Check path and every directory in which a component of it is looked up,
 * following symbolic links (at most 40) unless FSPERM_NOFOLLOW refuses one
 * as the last component.  0 when all is trusted; else -1 with EX_CONFIG
 * naming the path, its owner and mode, and the fix (chmod go-w ..., chown
 * ...).  With FSPERM_MISSING_OK a path that does not exist, or cannot be
 * looked at (every later use of it fails the same way), is 0.
 */
int fsperm_check_path(const char *path, unsigned flags, struct error *err);

/* The rule for one object already stat'ed (or fstat'ed: the file that was
 * opened), path only for the message.  Pure apart from geteuid(). */
int fsperm_check_stat(
    const char *path, const struct stat *st, unsigned flags, struct error *err);

/*
 * A file mailsub creates or appends to (the logfile): the directory it is
 * in is one mailsub writes (not merely on the way: /tmp is refused), and the
 * file, if it exists, is no symlink and is trusted like the rest.  A
 * missing directory is 0: opening the file then fails on its own.
 */
int fsperm_check_new_file(const char *path, struct error *err);

/* The one group that may also write what mailsub trusts, when root owns
 * it: the hook for a system installation's own group.  (gid_t)-1, the
 * default, is none. */
void fsperm_set_group(gid_t gid);

#endif
