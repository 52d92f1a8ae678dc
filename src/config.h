/*
 * The configuration file: lookup order, [defaults], accounts, inherit,
 * provider presets, validation of every key, permission checks on files
 * holding secrets, and account choice.  The only iniparser user: every
 * string is copied out of iniparser's dictionary before it is freed.
 */
#ifndef MAILSUB_CONFIG_H
#define MAILSUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "presets.h" /* config_provider_find() and the rest */

struct error;

/* iniparser 4.1 fails a whole load on a line longer than this. */
#define CONFIG_INI_LINE_MAX 1024
#define CONFIG_SYSTEM_PATH "/etc/mailsub.conf"

struct config {
	char            *path;
	bool             system;      /* the system-wide file */
	struct account **accounts;    /* every section but [defaults] */
	size_t           n_accounts;
	char            *default_account; /* [defaults] account, or NULL */
	char           **warnings;    /* lint findings for --check-config */
	size_t           n_warnings;
};

/*
 * Find the file: cli_path (-C), else $MAILSUB_CONFIG, else
 * $XDG_CONFIG_HOME/mailsub/config.ini (~/.config/...), else
 * /etc/mailsub.conf.  None found: EX_CONFIG naming every path searched.
 * The result is malloc'd.
 */
int config_locate(const char *cli_path, char **path, bool *system,
    struct error *err);

/*
 * Load and validate the whole file.  Errors are EX_CONFIG and name the
 * file, the account, the key and the line where possible; a file holding a
 * secret that others can read, or owned by someone else, is EX_CONFIG
 * naming the file and its mode.  Values are never echoed for secret keys.
 */
int config_load(const char *path, bool system, struct config **out,
    struct error *err);
void config_free(struct config *cfg);

/*
 * Choose the account: account_name (-a) if given; else the first account
 * whose senders match envelope_from; else [defaults] account; else the only
 * account.  Unknown or ambiguous: EX_CONFIG listing the known names.
 */
int config_select(const struct config *cfg, const char *account_name,
    const char *envelope_from, const struct account **out,
    struct error *err);

/* Check that the files the account reads (password_file, tls files,
 * aliases) exist and are trusted, and that the directories it writes
 * (queue_dir, the state directory, the logfile's) are trusted (fsperm.h):
 * EX_CONFIG naming the path otherwise.  For --check-config and before
 * use. */
int config_check_account_files(const struct account *acct,
    struct error *err);

/* Whether address matches a senders pattern (exact, case-insensitive;
 * "*@domain"; fnmatch(3) wildcards).  Pure; exported for tests. */
bool config_sender_matches(const char *pattern, const char *address);

#endif
