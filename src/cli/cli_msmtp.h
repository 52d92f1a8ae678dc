/* SPDX-License-Identifier: ISC */
/*
 * msmtp's long options (msmtp(1) 1.8.23) that mailsub's own option table
 * does not have: those carried over with msmtp's meaning (account settings,
 * --pretend, --read-envelope-from, ...) and, for every other one, the line
 * that says what to do instead.  Internal to cli.c; the settings are
 * applied by override.c.
 */
#ifndef MAILSUB_CLI_MSMTP_H
#define MAILSUB_CLI_MSMTP_H

#include <stdbool.h>
#include <stddef.h>

struct error;
struct options;

enum cli_msmtp_arg {
	CLI_MSMTP_ARG_NONE,
	CLI_MSMTP_ARG_OPTIONAL, /* only as --name=value */
	CLI_MSMTP_ARG_REQUIRED, /* --name=value or --name value; may be "" */
};

/* Whether name (n bytes, after the "--") is one of these options; *arg
 * says how it takes its argument. */
bool cli_msmtp_find(const char *name, size_t n, enum cli_msmtp_arg *arg);

/* Apply the option found by cli_msmtp_find(); value is NULL when none
 * was given.  A refused option or value is EX_USAGE with what to do
 * instead. */
int cli_msmtp_apply(struct options *o, const char *name, size_t n,
    const char *value, struct error *err);

#endif
