/* SPDX-License-Identifier: ISC */
/*
 * --version: the package version, the libraries built with and loaded,
 * the module directory and the configuration file (version.c; in the
 * binary only, beside the module loader).
 */
#ifndef MAILSUB_VERSION_H
#define MAILSUB_VERSION_H

#include <stdio.h>

struct options;

/* Print it all on out; 0, or 70 when a module cannot be loaded (its line
 * says why). */
int version_run(const struct options *opts, FILE *out);

#endif
