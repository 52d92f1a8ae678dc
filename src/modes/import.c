/* SPDX-License-Identifier: ISC */
/*
 * --import-msmtprc: the file's I/O around msmtprc_translate().  The file
 * may hold a password, so every copy of its text is wiped.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "import.h"
#include "msmtprc.h"

#define MSMTPRC_FILE_MAX (1024 * 1024)

/* msmtp(1), FILES: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config. */
static int
locate(char *path, size_t size, struct error *err)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char xdgpath[4096];

	if (home != NULL && home[0] != '\0') {
		snprintf(path, size, "%s/.msmtprc", home);
		if (access(path, F_OK) == 0)
			return 0;
	}
	if (xdg != NULL && xdg[0] == '/')
		snprintf(xdgpath, sizeof(xdgpath), "%s/msmtp/config", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(
		    xdgpath, sizeof(xdgpath), "%s/.config/msmtp/config", home);
	else
		xdgpath[0] = '\0';
	if (xdgpath[0] != '\0' && access(xdgpath, F_OK) == 0) {
		snprintf(path, size, "%s", xdgpath);
		return 0;
	}
	return error_set(err, EX_NOINPUT,
	    "no msmtp configuration (tried ~/.msmtprc and %s): name the "
	    "file, mailsub --import-msmtprc FILE",
	    xdgpath[0] != '\0' ? xdgpath : "$XDG_CONFIG_HOME/msmtp/config");
}

static int
read_file(const char *path, struct buf *text, struct error *err)
{
	char block[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return error_set(
		    err, EX_NOINPUT, "%s: %s", path, strerror(errno));
	for (;;) {
		n = read(fd, block, sizeof(block));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(text, block, (size_t)n, err) == -1) {
			err->exit_code = EX_DATAERR;
			error_prefix(err, "%s", path);
			n = -2;
			break;
		}
	}
	secure_wipe(block, sizeof(block));
	if (n == -1)
		error_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

int
import_run(const char *path, FILE *out, struct error *err)
{
	char found[4096];
	struct buf text, ini;
	int rc = -1;

	if (path == NULL) {
		if (locate(found, sizeof(found), err) == -1)
			return -1;
		path = found;
	}
	buf_init(&text, MSMTPRC_FILE_MAX);
	buf_init(&ini, 4 * MSMTPRC_FILE_MAX);
	if (read_file(path, &text, err) == 0 &&
	    msmtprc_translate(buf_str(&text), text.len, path, &ini, err) == 0) {
		if (fwrite(buf_str(&ini), 1, ini.len, out) != ini.len ||
		    fflush(out) == EOF)
			error_set(err, EX_IOERR, "cannot write the result");
		else
			rc = 0;
	}
	buf_wipe(&text);
	buf_wipe(&ini);
	return rc;
}
