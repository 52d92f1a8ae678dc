/* SPDX-License-Identifier: ISC */
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
#include "config_provider.h" /* config_provider_find() and the rest */

struct error;

/* iniparser 4.1 fails a whole load on a line longer than this. */
#define CONFIG_INI_LINE_MAX 1024
/* The system file: $(sysconfdir)/mailsub.conf, /etc/mailsub.conf in a
 * package (configure --sysconfdir=/etc). */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_SYSTEM_PATH SYSCONFDIR "/mailsub.conf"
/* The system's mail domain, one line: the Debian convention. */
#define CONFIG_MAILNAME_PATH "/etc/mailname"

/* Where /etc/mailname is read: CONFIG_MAILNAME_PATH; only the unit tests
 * point it elsewhere. */
extern const char *config_mailname_path;

/* What --check-config reports besides errors: a warning is something
 * that makes mailsub do other than the file seems to say (its check then
 * fails); a note is for information. */
enum config_severity {
	CONFIG_NOTE,
	CONFIG_WARNING,
};

struct config_finding {
	enum config_severity severity;
	unsigned line; /* in the config file; 0 = none */
	char *account; /* section name, or NULL */
	char *key;     /* key name, or NULL */
	char *message; /* what, never a value from the file */
};

struct config {
	char *path;
	bool system;		   /* the system-wide file */
	struct account **accounts; /* every section but [defaults] */
	size_t n_accounts;
	char *default_account;		 /* [defaults] account, or NULL */
	struct config_finding *findings; /* for --check-config */
	size_t n_findings;
};

/* A finding as one line: "PATH:LINE: [account] key: message" (the parts
 * that are set), into dst. */
void config_finding_format(const struct config *cfg,
    const struct config_finding *f, char *dst, size_t size);

/*
 * Find the file: cli_path (-C), else $MAILSUB_CONFIG, else
 * $XDG_CONFIG_HOME/mailsub/config.ini (~/.config/...), else
 * /etc/mailsub.conf.  None found: EX_CONFIG naming every path searched.
 * The result is malloc'd.
 */
int config_locate(
    const char *cli_path, char **path, bool *system, struct error *err);

/*
 * Load and validate the whole file.  Errors are EX_CONFIG and name the
 * file, the account, the key and the line where possible; a file holding a
 * secret that others can read, or owned by someone else, is EX_CONFIG
 * naming the file and its mode.  Values are never echoed for secret keys.
 */
int config_load(
    const char *path, bool system, struct config **out, struct error *err);
void config_free(struct config *cfg);

/*
 * Choose the account: account_name (-a) if given; else the first account
 * whose senders match envelope_from; else [defaults] account; else the only
 * account.  Unknown or ambiguous: EX_CONFIG listing the known names.
 */
int config_select(const struct config *cfg, const char *account_name,
    const char *envelope_from, const struct account **out, struct error *err);

/* Check that the files the account reads (password_file, tls files,
 * aliases) exist and are trusted, and that the directories it writes
 * (queue_dir, the state directory, the logfile's) are trusted (fsperm.h):
 * EX_CONFIG naming the path otherwise.  For --check-config and before
 * use. */
int config_check_account_files(const struct account *acct, struct error *err);

/* Whether the port says one TLS mode and tls another (465 is implicit
 * TLS, 587 and 25 plain text first): then why holds the fix.  The TLS
 * module calls it with its peer's (tlsmod.c, module_imports). */
bool config_port_tls_mismatch(
    unsigned port, enum account_tls tls, char *why, size_t size);

/* Whether address matches a senders pattern (exact, case-insensitive;
 * "*@domain"; fnmatch(3) wildcards).  Pure; exported for tests. */
bool config_sender_matches(const char *pattern, const char *address);

#endif
