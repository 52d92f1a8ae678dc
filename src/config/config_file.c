/* SPDX-License-Identifier: ISC */
/*
 * The configuration's files: which one a run reads (-C, $MAILSUB_CONFIG,
 * the user's, the system's), reading it bounded with its permissions
 * checked, and the files and directories an account names
 * (config_check_account_files()).  config.c parses what is read here.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "config.h"
#include "config_keys.h"
#include "config_loader.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "queue.h"

/* A configuration file is a few KiB; anything past this is a mistake. */
#define FILE_MAX (1024 * 1024)

/*
 * A file holding a password: no symbolic link (name the file itself), and
 * the rule of fsperm.h for secrets; the system file may be owned by root
 * and readable by a group (admins grant access that way).
 */
int
config_file_check_secret(const char *path, const struct stat *lst,
    const struct stat *st, bool system, struct error *err)
{
	if (S_ISLNK(lst->st_mode))
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is a symbolic link; name the "
		    "file itself",
		    path);
	if (!S_ISREG(st->st_mode) || lst->st_dev != st->st_dev ||
	    lst->st_ino != st->st_ino)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is not a regular file", path);
	return fsperm_check_stat(
	    path, st, FSPERM_SECRET | (system ? FSPERM_SYSTEM : 0), err);
}

/*
 * Read the whole file, bounded, refusing anything but a regular file; whose
 * it is, config_load() checks next (its content is never printed).
 */
int
config_file_read(const char *path, int *fd_out, char **data, size_t *len,
    struct stat *lst, struct stat *st, struct error *err)
{
	char *buf;
	size_t n = 0;
	int fd;

	if (lstat(path, lst) == -1)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	/* O_NONBLOCK: a FIFO planted as the config must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) == -1) {
		error_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		error_set(err, EX_CONFIG, "%s: not a regular file", path);
		goto fail;
	}
	if (st->st_size > FILE_MAX) {
		error_set(
		    err, EX_CONFIG, "%s: larger than %d bytes", path, FILE_MAX);
		goto fail;
	}
	/* One byte more than fstat said, to notice a growing file. */
	if (fdio_read_file(fd, (size_t)st->st_size + 1, &buf, &n) == -1) {
		if (errno == ENOMEM)
			error_set(err, EX_OSERR, "out of memory");
		else
			error_set(
			    err, EX_CONFIG, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (n > (size_t)st->st_size) {
		error_set(err, EX_CONFIG, "%s: changed while being read", path);
		secure_wipe(buf, n);
		free(buf);
		goto fail;
	}
	*data = buf;
	*len = n;
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Lookup ----------------------------------------------------------------- */

static bool
path_exists(const char *p)
{
	struct stat st;

	/* Anything but "not there" counts, so that an unreadable file is
	 * reported instead of silently skipped. */
	return stat(p, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static int
explicit_path(const char *p, const char *how, char **path, struct error *err)
{
	struct stat st;

	if (*p == '\0')
		return error_set(err, EX_CONFIG, "%s: empty file name", how);
	if (stat(p, &st) == -1 || access(p, R_OK) == -1)
		return error_set(
		    err, EX_CONFIG, "%s (%s): %s", p, how, strerror(errno));
	return (*path = config_keys_dup(p, err)) != NULL ? 0 : -1;
}

int
config_locate(
    const char *cli_path, char **path, bool *system, struct error *err)
{
	const char *env, *home;
	char *cand[3] = {NULL, NULL, NULL};
	size_t n = 0, i;
	struct buf tried;
	int rc = -1;

	*path = NULL;
	*system = false;
	if (cli_path != NULL)
		return explicit_path(cli_path, "-C", path, err);
	env = getenv("MAILSUB_CONFIG");
	if (env != NULL && *env != '\0')
		return explicit_path(env, "$MAILSUB_CONFIG", path, err);
	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is ignored. */
	env = getenv("XDG_CONFIG_HOME");
	if (env != NULL && env[0] == '/' &&
	    (cand[n++] = config_keys_join(env, "/mailsub/config.ini", err)) ==
		NULL)
		goto out;
	/* sudo and cron run with HOME=/ or no HOME: no user file then. */
	home = getenv("HOME");
	if (home != NULL && *home != '\0' && strcmp(home, "/") != 0) {
		if ((cand[n] = config_keys_join(
			 home, "/.config/mailsub/config.ini", err)) == NULL)
			goto out;
		if (n > 0 && strcmp(cand[0], cand[n]) == 0)
			free(cand[n]);
		else
			n++;
	}
	if ((cand[n++] = config_keys_dup(CONFIG_SYSTEM_PATH, err)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (path_exists(cand[i])) {
			*path = cand[i];
			*system = i == n - 1;
			cand[i] = NULL;
			rc = 0;
			goto out;
		}
	}
	buf_init(&tried, ERROR_MESSAGE_MAX);
	for (i = 0; i < n; i++)
		if (buf_printf(&tried, NULL, "%s%s", i ? ", " : "", cand[i]) ==
		    -1)
			break; /* capped: the message says what fits */
	error_set(err, EX_CONFIG,
	    "no configuration file (tried %s); create one or use -C FILE, see "
	    "mailsub.conf(5)",
	    buf_str(&tried));
	buf_free(&tried);
out:
	for (i = 0; i < n; i++)
		free(cand[i]);
	return rc;
}

/* Files an account names ------------------------------------------------- */

/* A file the account reads: trusted (fsperm.h) and readable. */
static int
check_file(const struct account *acct, const char *key, const char *path,
    unsigned flags, struct error *err)
{
	if (path == NULL)
		return 0;
	if (fsperm_check_path(path, flags, err) == 0) {
		if (access(path, R_OK) == 0)
			return 0;
		error_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
	}
	error_prefix(err, "%s: %s", acct->name, key);
	return -1;
}

int
config_check_account_files(const struct account *acct, struct error *err)
{
	if (check_file(acct, "password_file", acct->password_file,
		FSPERM_SECRET | FSPERM_NOFOLLOW |
		    (acct->system ? FSPERM_SYSTEM : 0),
		err) == -1 ||
	    check_file(acct, "tls_trust_file", acct->tls_trust_file, 0, err) ==
		-1 ||
	    check_file(acct, "tls_cert_file", acct->tls_cert_file, 0, err) ==
		-1 ||
	    check_file(acct, "tls_key_file", acct->tls_key_file, 0, err) ==
		-1 ||
	    check_file(acct, "aliases", acct->aliases, 0, err) == -1 ||
	    check_file(acct, "oauth2_trust_file", acct->oauth2_trust_file, 0,
		err) == -1 ||
	    check_file(acct, "oauth2_client_secret_file",
		acct->oauth2_client_secret_file,
		FSPERM_SECRET | FSPERM_NOFOLLOW |
		    (acct->system ? FSPERM_SYSTEM : 0),
		err) == -1)
		return -1;
	/* The directories a run writes: the queue, the state (cache) and
	 * the logfile's. */
	if (acct->queue_dir != NULL &&
	    queue_check(acct->queue_dir, err) == -1) {
		error_prefix(err, "%s: queue_dir", acct->name);
		return -1;
	}
	if (cache_check(err) == -1) {
		error_prefix(err, "%s: state directory", acct->name);
		return -1;
	}
	if (acct->logfile != NULL && *acct->logfile != '\0' &&
	    fsperm_check_new_file(acct->logfile, err) == -1) {
		error_prefix(err, "%s: logfile", acct->name);
		return -1;
	}
	return 0;
}
