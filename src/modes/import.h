/* SPDX-License-Identifier: ISC */
/*
 * --import-msmtprc [FILE]: read an msmtp configuration (FILE, else
 * ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config, as msmtp(1) looks) and
 * print its mailsub.conf(5) equivalent (msmtprc.h) on out.
 */
#ifndef MAILSUB_IMPORT_H
#define MAILSUB_IMPORT_H

#include <stdio.h>

struct error;

/* Returns 0, or -1: EX_NOINPUT when there is no file to read, EX_DATAERR
 * for what msmtp would refuse too, EX_IOERR when out cannot be written. */
int import_run(const char *path, FILE *out, struct error *err);

#endif
