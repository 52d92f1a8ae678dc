/* SPDX-License-Identifier: ISC */
/*
 * The account settings of the command line (msmtp's --host, --port, --tls,
 * ...; struct cli_setting) over the configuration: applied to the accounts
 * of the loaded file, or, with --host, to an account of their own with no
 * file read at all (msmtp(1): "do not use any configuration file data").
 * Values are checked as the configuration's are; a bad one is EX_USAGE.
 */
#ifndef MAILSUB_OVERRIDE_H
#define MAILSUB_OVERRIDE_H

#include <stdbool.h>

struct config;
struct error;
struct options;

/* The name of the account --host makes, and its "file". */
#define OVERRIDE_ACCOUNT_NAME "cmdline"
#define OVERRIDE_CONFIG_PATH  "(command line)"

/* Whether --host was given: then no configuration file is read. */
bool override_replaces_config(const struct options *opts);

/* A configuration with one account made of the command line's settings
 * (TLS and port defaults as for a file's account). */
int override_config_new(
    const struct options *opts, struct config **out, struct error *err);

/* Apply the command line's settings to every account of cfg (the one that
 * is chosen is the one that matters; -a and senders still choose it). */
int override_apply(
    struct config *cfg, const struct options *opts, struct error *err);

#endif
