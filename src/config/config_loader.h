/* SPDX-License-Identifier: ISC */
/*
 * What config.c (reading the file, layering the accounts) shares with
 * config_rules.c (the cross-key rules): the state of one config_load() and
 * the two ways to report on a key.  Internal to the configuration; the rest
 * of the tree sees config.h.
 */
#ifndef MAILSUB_CONFIG_LOADER_H
#define MAILSUB_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/stat.h>

#include "account.h"
#include "config.h"
#include "config_keys.h"
#include "error.h"
#include "inilint.h"

struct _dictionary_;

/* Where a resolved value came from, for port defaults and messages. */
enum config_origin_kind {
	CONFIG_ORIGIN_NONE,
	CONFIG_ORIGIN_DEFAULTS,
	CONFIG_ORIGIN_PRESET,
	CONFIG_ORIGIN_ACCOUNT, /* the account itself or an account it inherits
				*/
};

/* A key as the scan found it, with what config.c adds. */
struct config_scan_key {
	size_t section;
	const char *name; /* borrowed from the lint */
	unsigned line;
	int id;		   /* enum config_keys_id, or -1 */
	const char *value; /* borrowed from iniparser's dictionary */
	bool empty;	   /* an empty value: the key is not set */
};

/* Which layer set a key of an account, and where. */
struct config_origin {
	enum config_origin_kind kind;
	const struct config_scan_key *key;
};

/* One config_load(): the file, its scan and what is built from it. */
struct config_loader {
	const char *path;
	const char *text; /* the file as read, for the values as written */
	bool system;
	struct config *cfg;
	struct inilint lint;
	struct config_scan_key *keys;
	size_t n_keys;
	bool has_password;
	long defaults;		   /* index of [defaults], or -1 */
	struct _dictionary_ *dict; /* iniparser's dictionary: only config.c
				     includes iniparser */
	char *mailname;		   /* /etc/mailname's domain, once read */
	bool mailname_read;
};

/* Prefix err with the key's FILE:LINE, section and name; returns -1. */
int config_key_error(const struct config_loader *ld,
    const struct config_scan_key *k, struct error *err);

/* Add a warning or note to cfg (line 0: the account's). */
int config_add_finding(struct config *cfg, struct error *err,
    enum config_severity sev, unsigned line, const char *account,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The cross-key rules of a complete account (section sec), with org[]
 * saying which key set each value (config_rules.c). */
int config_rules_account(const struct config_loader *ld, struct account *a,
    size_t sec, const struct config_origin *org, struct error *err);

/* The OAuth2 keys together (mailsub.conf(5) OAUTH2). */
int config_rules_oauth2(const struct config_loader *ld, struct account *a,
    const struct config_origin *org, struct error *err);

/*
 * Read the whole file at path, bounded, refusing anything but a regular
 * file; *lst is lstat's, *st the opened file's (config_file.c).
 */
int config_file_read(const char *path, int *fd_out, char **data, size_t *len,
    struct stat *lst, struct stat *st, struct error *err);

/* A configuration file holding a password: no symbolic link, and the rule
 * of fsperm.h for secrets (FSPERM_SYSTEM for the system file). */
int config_file_check_secret(const char *path, const struct stat *lst,
    const struct stat *st, bool system, struct error *err);

#endif
