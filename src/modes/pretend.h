/* SPDX-License-Identifier: ISC */
/*
 * -P, --pretend (msmtp(1)): print the settings the run would use -- the
 * account chosen by -a, -f or the default, after the command line's
 * settings -- as a mailsub.conf(5) section, the password as "*", and exit
 * without connecting.
 */
#ifndef MAILSUB_PRETEND_H
#define MAILSUB_PRETEND_H

#include <stdio.h>

struct error;
struct options;

/* Returns 0, or -1 with err set (a configuration error, EX_IOERR). */
int pretend_run(const struct options *opts, FILE *out, struct error *err);

#endif
