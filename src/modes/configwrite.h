/* SPDX-License-Identifier: ISC */
/*
 * --configure ADDRESS --write: the section discover.c makes, added to the
 * configuration file (mailsub.conf(5), FILES) so that the file is never
 * left half written and never gets a second section of the same name.
 */
#ifndef MAILSUB_CONFIGWRITE_H
#define MAILSUB_CONFIGWRITE_H

#include <stdio.h>

struct error;
struct options;

/*
 * The file: -C, else $MAILSUB_CONFIG, else the user's file
 * ($XDG_CONFIG_HOME/mailsub/config.ini, ~/.config/mailsub/config.ini);
 * never /etc/mailsub.conf unless -C names it.  Missing directories are
 * made (0700), a missing file is created (0600); an existing one must be
 * the user's own, trusted (fsperm.h), no symbolic link, and without the
 * section.  The new text goes to a temporary file in the same directory,
 * is loaded as a configuration, fsync'd and renamed over the file (its
 * mode kept).  The section and the path written go to out.  Errors:
 * EX_USAGE for a bad address, EX_CONFIG for the file, EX_CANTCREAT
 * when it cannot be written.
 */
int configwrite_run(const struct options *opts, FILE *out, struct error *err);

/* The path --write would use (malloc'd), without touching anything. */
int configwrite_path(
    const struct options *opts, char **path, struct error *err);

#endif
