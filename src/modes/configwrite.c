/* SPDX-License-Identifier: ISC */
/*
 * --configure ADDRESS --write: make the section as --configure prints it,
 * then add it to the configuration file the way the queue writes a
 * message: a temporary file in the same directory, written whole,
 * fsync'd, renamed over the old one (or linked, for a new file, so that a
 * file made meanwhile is never replaced), then the directory fsync'd.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "configwrite.h"
#include "discover.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "inilint.h"

/* As config_file.c: a configuration file is a few KiB. */
#define FILE_MAX (1024 * 1024)

int
configwrite_path(const struct options *opts, char **path, struct error *err)
{
	const char *env, *home;
	int n;

	*path = NULL;
	if (opts->config_file != NULL && *opts->config_file != '\0')
		env = opts->config_file;
	else if ((env = getenv("MAILSUB_CONFIG")) == NULL || *env == '\0')
		env = NULL;
	if (env != NULL)
		n = asprintf(path, "%s", env);
	else if ((env = getenv("XDG_CONFIG_HOME")) != NULL && env[0] == '/')
		n = asprintf(path, "%s/mailsub/config.ini", env);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/' &&
		 home[1] != '\0')
		n = asprintf(path, "%s/.config/mailsub/config.ini", home);
	else
		return error_set(err, EX_CONFIG,
		    "--write: no home directory for the user's configuration "
		    "file; name the file with -C FILE");
	if (n == -1) {
		*path = NULL;
		return error_set(err, EX_OSERR, "out of memory");
	}
	if ((*path)[0] != '/') {
		free(*path);
		*path = NULL;
		return error_set(err, EX_CONFIG,
		    "--write: the configuration file must be named by an "
		    "absolute path");
	}
	return 0;
}

/* mkdir -p for the directories that are missing, each 0700. */
static int
make_dirs(char *dir, struct error *err)
{
	struct stat st;
	char *slash;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0
					   : error_set(err, EX_CONFIG,
						 "%s: not a directory", dir);
	if (errno != ENOENT)
		return error_set(
		    err, EX_CONFIG, "%s: %s", dir, strerror(errno));
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (make_dirs(dir, err) == -1) {
			*slash = '/';
			return -1;
		}
		*slash = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return error_set(err, EX_CANTCREAT, "cannot create %s: %s", dir,
		    strerror(errno));
	return 0;
}

static int
sync_dir(const char *dir, struct error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd == -1)
		return error_set(
		    err, EX_IOERR, "cannot open %s: %s", dir, strerror(errno));
	if (fsync(fd) == -1)
		rc = error_set(
		    err, EX_IOERR, "cannot fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/*
 * The file as it is: *data NULL and *exists false when there is none.  It
 * must be the user's own regular file, no symbolic link, and trusted.
 */
static int
read_existing(const char *path, struct stat *st, bool *exists, char **data,
    size_t *len, struct error *err)
{
	char *buf;
	size_t n = 0;
	int fd;

	*exists = false;
	*data = NULL;
	*len = 0;
	fd = open(
	    path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 && errno == ELOOP)
		return error_set(err, EX_CONFIG,
		    "%s: a symbolic link; mailsub replaces only the file "
		    "itself: name it with -C",
		    path);
	if (fd == -1)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return error_set(
		    err, EX_CONFIG, "%s: not a regular file", path);
	}
	if (st->st_uid != geteuid()) {
		close(fd);
		return error_set(err, EX_CONFIG,
		    "%s: owned by uid %u; --write changes only a file of your "
		    "own",
		    path, (unsigned)st->st_uid);
	}
	if (fsperm_check_stat(path, st, 0, err) == -1) {
		close(fd);
		return -1;
	}
	if (st->st_size > FILE_MAX) {
		close(fd);
		return error_set(
		    err, EX_CONFIG, "%s: larger than %d bytes", path, FILE_MAX);
	}
	if (fdio_read_file(fd, (size_t)st->st_size + 1, &buf, &n) == -1) {
		int e = errno;

		close(fd);
		if (e == ENOMEM)
			return error_set(err, EX_OSERR, "out of memory");
		return error_set(err, EX_CONFIG, "%s: %s", path, strerror(e));
	}
	close(fd);
	if (n != (size_t)st->st_size) {
		secure_wipe(buf, n);
		free(buf);
		return error_set(
		    err, EX_CONFIG, "%s: changed while being read", path);
	}
	*exists = true;
	*data = buf;
	*len = n;
	return 0;
}

/* The section's name (the first header of text), lower case as iniparser
 * keeps it; whether the file has it already. */
static int
check_section(const char *path, const char *old, size_t old_len,
    const char *text, size_t text_len, char *name, size_t size,
    struct error *err)
{
	struct inilint lint;
	size_t i;
	int rc = -1;

	memset(&lint, 0, sizeof(lint));
	if (inilint_scan(text, text_len, &lint, err) == -1)
		goto out;
	if (lint.n_sections != 1 || lint.error_line != 0) {
		error_set(
		    err, EX_SOFTWARE, "--configure made no valid section");
		goto out;
	}
	snprintf(name, size, "%s", lint.sections[0].name);
	inilint_free(&lint);
	memset(&lint, 0, sizeof(lint));
	if (inilint_scan(old, old_len, &lint, err) == -1)
		goto out;
	if (lint.error_line != 0) {
		error_set(err, EX_CONFIG,
		    "%s:%u: %s; fix the file before adding to it", path,
		    lint.error_line, lint.error);
		goto out;
	}
	for (i = 0; i < lint.n_sections; i++) {
		if (strcasecmp(lint.sections[i].name, name) == 0) {
			error_set(err, EX_CONFIG,
			    "%s:%u: [%s] exists already; edit it there, or "
			    "remove it first",
			    path, lint.sections[i].line, name);
			goto out;
		}
	}
	rc = 0;
out:
	inilint_free(&lint);
	return rc;
}

/* Write all of b to a new temporary file in dir; its name to tmp. */
static int
write_temp(const char *dir, const struct buf *b, mode_t mode, char **tmp,
    struct error *err)
{
	int fd;

	if (asprintf(tmp, "%s/.config.ini.XXXXXX", dir) == -1) {
		*tmp = NULL;
		return error_set(err, EX_OSERR, "out of memory");
	}
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd == -1) {
		error_set(err, EX_CANTCREAT, "cannot create a file in %s: %s",
		    dir, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (fdio_write_all(fd, buf_str(b), b->len, false) == -1 ||
	    fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		error_set(err, EX_CANTCREAT, "cannot write %s: %s", *tmp,
		    strerror(errno));
		close(fd);
		unlink(*tmp);
		return -1;
	}
	if (close(fd) == -1) {
		error_set(err, EX_CANTCREAT, "cannot write %s: %s", *tmp,
		    strerror(errno));
		unlink(*tmp);
		return -1;
	}
	return 0;
}

/* The file still the one read (or still absent). */
static bool
unchanged(const char *path, bool existed, const struct stat *was)
{
	struct stat now;

	if (lstat(path, &now) == -1)
		return !existed && errno == ENOENT;
	return existed && now.st_dev == was->st_dev &&
	       now.st_ino == was->st_ino && now.st_size == was->st_size &&
	       now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == was->st_mtim.tv_nsec;
}

int
configwrite_run(const struct options *opts, FILE *out, struct error *err)
{
	char *path = NULL, *dir = NULL, *old = NULL, *tmp = NULL;
	char *text = NULL, name[INILINT_NAME_MAX + 1], *slash;
	size_t old_len = 0, text_len = 0;
	struct config *cfg = NULL;
	struct stat st;
	struct buf b;
	bool exists = false;
	FILE *f;
	int rc = -1;

	buf_init(&b, 2 * FILE_MAX);
	memset(&st, 0, sizeof(st));
	if ((f = open_memstream(&text, &text_len)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	if (discover_run(opts->mode_argument, f, err) == -1) {
		fclose(f);
		goto out;
	}
	if (fclose(f) == EOF) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (configwrite_path(opts, &path, err) == -1)
		goto out;
	if ((dir = strdup(path)) == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* The directory holds the file mailsub trusts: made 0700 if new,
	 * trusted like the file (fsperm.h) either way. */
	if (make_dirs(dir, err) == -1 ||
	    fsperm_check_path(dir, FSPERM_DIR, err) == -1)
		goto out;
	if (read_existing(path, &st, &exists, &old, &old_len, err) == -1 ||
	    check_section(path, old, old_len, text, text_len, name,
		sizeof(name), err) == -1)
		goto out;
	if (old_len > 0 &&
	    (buf_append(&b, old, old_len, err) == -1 ||
		(old[old_len - 1] != '\n' && buf_addch(&b, '\n', err) == -1) ||
		buf_addch(&b, '\n', err) == -1))
		goto out;
	if (buf_append(&b, text, text_len, err) == -1 ||
	    write_temp(
		dir, &b, exists ? (st.st_mode & 07777) : 0600, &tmp, err) == -1)
		goto out;
	/* What mailsub will read: the whole file must still load. */
	if (config_load(
		tmp, strcmp(path, CONFIG_SYSTEM_PATH) == 0, &cfg, err) == -1) {
		error_prefix(
		    err, "%s not changed, the result would not load", path);
		goto out;
	}
	if (!unchanged(path, exists, &st)) {
		error_set(err, EX_CONFIG,
		    "%s: changed while the section was being added; run "
		    "again",
		    path);
		goto out;
	}
	if (exists ? rename(tmp, path) == -1 : link(tmp, path) == -1) {
		error_set(err, errno == EEXIST ? EX_CONFIG : EX_CANTCREAT,
		    "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (!exists)
		unlink(tmp);
	free(tmp);
	tmp = NULL;
	if (sync_dir(dir, err) == -1)
		goto out;
	if (fwrite(text, 1, text_len, out) != text_len ||
	    fprintf(out, "; [%s] added to %s\n", name, path) < 0 ||
	    fflush(out) == EOF) {
		error_set(err, EX_IOERR, "cannot write the section");
		goto out;
	}
	rc = 0;
out:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	config_free(cfg);
	buf_wipe(&b); /* the file may hold a password */
	if (old != NULL) {
		secure_wipe(old, old_len);
		free(old);
	}
	free(text);
	free(dir);
	free(path);
	return rc;
}
