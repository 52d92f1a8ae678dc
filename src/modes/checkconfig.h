/* SPDX-License-Identifier: ISC */
/*
 * --check-config: load and validate the configuration, then check every
 * account's files (password_file mode, TLS files, the aliases file) and
 * show the lint warnings and provider notes, so a user sees every problem
 * at once, each with its file and line.
 */
#ifndef MAILSUB_CHECKCONFIG_H
#define MAILSUB_CHECKCONFIG_H

#include <stdio.h>

struct error;
struct options;

/*
 * Write the findings to out, one per line ("PATH:LINE: ..." where the
 * line is known), then a summary.  Returns 0 when nothing is wrong
 * (warnings alone are not errors), else -1 with err EX_CONFIG (or the
 * load's own error when the file cannot be loaded at all).
 */
int checkconfig_run(const struct options *opts, FILE *out, struct error *err);

#endif
