/* SPDX-License-Identifier: ISC */
/*
 * The configuration file.  The file (read by config_file.c) is scanned line
 * by line for the inputs iniparser 4.1 fails on or silently misreads, so
 * that every problem is reported as FILE:LINE; only then does iniparser
 * parse it, and its values are copied into struct account with
 * [defaults], inherit and provider presets (config_provider.c) applied.  Each
 * key's own check is in config_keys.c, the rules between keys in
 * config_rules.c, the account choice in config_select.c.  No value from
 * the file is ever echoed in an error or a warning: only key and account
 * names.
 */
/*
 * The configuration file.  The file is read once and scanned line by line
 * for the inputs iniparser 4.1 fails on or silently misreads, so that every
 * problem is reported as FILE:LINE; only then does iniparser parse it, and
 * its values are copied into struct account with [defaults], inherit and
 * provider presets (config_provider.c) applied and every key validated (each
 * key's own check is in config_keys.c).  No value from the file is ever echoed
 * in an error or a warning: only key and account names.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef HAVE_INIPARSER_INIPARSER_H
#include <iniparser/iniparser.h>
#else
#include <iniparser.h>
#endif

#include "buf.h"
#include "config.h"
#include "config_keys.h"
#include "config_loader.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "inilint.h"

#define NAME_MAX_LEN	  INILINT_NAME_MAX
#define INHERIT_DEPTH_MAX 8

int
config_add_finding(struct config *cfg, struct error *err,
    enum config_severity sev, unsigned line, const char *account,
    const char *key, const char *fmt, ...)
{
	char msg[ERROR_MESSAGE_MAX];
	struct config_finding *tmp, *f;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tmp = realloc(cfg->findings, (cfg->n_findings + 1) * sizeof(*tmp));
	if (tmp == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	cfg->findings = tmp;
	f = &tmp[cfg->n_findings];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->line = line;
	if ((account != NULL && (f->account = strdup(account)) == NULL) ||
	    (key != NULL && (f->key = strdup(key)) == NULL) ||
	    (f->message = strdup(msg)) == NULL) {
		free(f->account);
		free(f->key);
		return error_set(err, EX_OSERR, "out of memory");
	}
	cfg->n_findings++;
	return 0;
}

void
config_finding_format(const struct config *cfg, const struct config_finding *f,
    char *dst, size_t size)
{
	char line[16] = "";

	if (f->line != 0)
		snprintf(line, sizeof(line), ":%u", f->line);
	snprintf(dst, size, "%s%s: %s%s%s%s%s%s", cfg->path, line,
	    f->account != NULL ? "[" : "", f->account != NULL ? f->account : "",
	    f->account != NULL ? "]" : "",
	    f->key != NULL ? (f->account != NULL ? " " : "") : "",
	    f->key != NULL ? f->key : "",
	    f->account != NULL || f->key != NULL ? ": " : "");
	snprintf(dst + strlen(dst), size - strlen(dst), "%s", f->message);
}

/* iniparser's messages go here, never to stderr.  The syntax message
 * quotes the line after a newline: dropped, it may hold a secret. */
static char ini_message[256];

static int ini_error(const char *, ...) __attribute__((format(printf, 1, 2)));

static int
ini_error(const char *fmt, ...)
{
	va_list ap;
	char *nl;

	if (ini_message[0] != '\0')
		return 0;
	va_start(ap, fmt);
	vsnprintf(ini_message, sizeof(ini_message), fmt, ap);
	va_end(ap);
	if ((nl = strchr(ini_message, '\n')) != NULL)
		*nl = '\0';
	return 0;
}

/* Keys whose value may hold blanks before a ';' or '#' that belongs to
 * it: a secret, and a command for /bin/sh. */
static bool
cut_always_refused(int id)
{
	return id == CONFIG_KEYS_PASSWORD || id == CONFIG_KEYS_PASSWORD_COMMAND;
}

/*
 * Compare what iniparser made of an unquoted value with its text on the
 * line.  iniparser ends such a value at the first ';' or '#' and drops the
 * rest as a comment.  That is a comment when a blank comes before it
 * ("host = a.example ; the relay"), except for a password or a command,
 * which may hold blanks; glued to the value ("pa#ss") it is not, and
 * mailsub never uses the value cut short (mailsub.conf(5), Syntax).
 */
static int
check_cut(const struct config_loader *ld, const struct config_scan_key *k,
    const struct inilint_key *lk, struct error *err)
{
	const char *raw = ld->text + lk->value_off;
	size_t vlen = strlen(k->value), p;
	const char *sec = ld->lint.sections[k->section].name;

	if (lk->quoted)
		return 0;
	if (vlen == lk->value_len && memcmp(raw, k->value, vlen) == 0)
		return 0;
	/* iniparser strips the blanks before what it cut off */
	for (p = vlen; p < lk->value_len && (raw[p] == ' ' || raw[p] == '\t');)
		p++;
	if (vlen > lk->value_len || memcmp(raw, k->value, vlen) != 0 ||
	    p == lk->value_len || (raw[p] != ';' && raw[p] != '#'))
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s] %s: iniparser read the value differently "
		    "from the line; quote the value",
		    ld->path, k->line, sec, k->name);
	if ((p == vlen && vlen > 0) || cut_always_refused(k->id))
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s] %s: iniparser ends an unquoted value at "
		    "'%c' and reads the rest as a comment; quote the value: "
		    "%s = \"...\"%s",
		    ld->path, k->line, sec, k->name, raw[p], k->name,
		    p > vlen ? ", or put the comment on a line of its own"
			     : "");
	return 0;
}

/*
 * Hand iniparser the file already opened and checked (through /dev/fd, so
 * a file swapped after the checks is never read), then check that it saw
 * what the scan saw, and that it kept every value whole.
 */
static int
ini_load(
    struct config_loader *ld, int fd, const struct stat *st, struct error *err)
{
	char fdpath[32], keyname[2 * NAME_MAX_LEN + 2];
	const char *name = ld->path, *lp;
	struct stat fst;
	size_t i;
	unsigned line = 0;

	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	if (stat(fdpath, &fst) == 0 && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino && lseek(fd, 0, SEEK_SET) == 0)
		name = fdpath;
	ini_message[0] = '\0';
	iniparser_set_error_callback(ini_error);
	ld->dict = iniparser_load(name);
	iniparser_set_error_callback(NULL);
	if (ld->dict == NULL) {
		if (ini_message[0] == '\0')
			return error_set(err, EX_OSERR,
			    "%s: iniparser could not load the file (out of "
			    "memory?)",
			    ld->path);
		if ((lp = strrchr(ini_message, '(')) != NULL)
			line = (unsigned)strtoul(lp + 1, NULL, 10);
		return error_set(err, EX_CONFIG,
		    "%s:%u: iniparser rejected the file", ld->path, line);
	}
	/* every entry is a section or a key the scan listed */
	if (iniparser_getnsec(ld->dict) != (int)ld->lint.n_sections ||
	    ld->dict->n != (int)(ld->lint.n_sections + ld->n_keys))
		goto mismatch;
	for (i = 0; i < ld->lint.n_sections; i++) {
		line = ld->lint.sections[i].line;
		if (!iniparser_find_entry(ld->dict, ld->lint.sections[i].name))
			goto mismatch;
	}
	for (i = 0; i < ld->n_keys; i++) {
		struct config_scan_key *k = &ld->keys[i];

		line = k->line;
		snprintf(keyname, sizeof(keyname), "%s:%s",
		    ld->lint.sections[k->section].name, k->name);
		k->value = iniparser_getstring(ld->dict, keyname, NULL);
		if (k->value == NULL)
			goto mismatch;
		if (check_cut(ld, k, &ld->lint.keys[i], err) == -1)
			return -1;
		k->empty = *k->value == '\0';
	}
	return 0;
mismatch:
	return error_set(err, EX_CONFIG,
	    "%s:%u: iniparser read this file differently from mailsub's own "
	    "check",
	    ld->path, line);
}

/* Accounts --------------------------------------------------------------- */

int
config_key_error(const struct config_loader *ld,
    const struct config_scan_key *k, struct error *err)
{
	error_prefix(err, "%s:%u: [%s] %s", ld->path, k->line,
	    ld->lint.sections[k->section].name, k->name);
	return -1;
}

static int
apply_layer(const struct config_loader *ld, struct account *a, size_t sec,
    enum config_origin_kind kind, struct config_origin *org, struct error *err)
{
	size_t i;

	/* A layer naming a password source replaces the inherited one;
	 * the same for the OAuth2 client secret. */
	for (i = 0; i < ld->n_keys; i++) {
		if (ld->keys[i].section == sec && !ld->keys[i].empty &&
		    config_keys_is_password_source(ld->keys[i].id)) {
			config_keys_clear_password(a);
			break;
		}
	}
	for (i = 0; i < ld->n_keys; i++) {
		if (ld->keys[i].section == sec &&
		    config_keys_is_client_secret_source(ld->keys[i].id)) {
			config_keys_clear_client_secret(a);
			break;
		}
	}
	for (i = 0; i < ld->n_keys; i++) {
		const struct config_scan_key *k = &ld->keys[i];

		if (k->section != sec || k->empty ||
		    k->id == CONFIG_KEYS_INHERIT ||
		    k->id == CONFIG_KEYS_ACCOUNT)
			continue;
		if (config_keys_apply(
			a, (enum config_keys_id)k->id, k->value, err) == -1)
			return config_key_error(ld, k, err);
		org[k->id].kind = kind;
		org[k->id].key = k;
	}
	return 0;
}

static const struct config_scan_key *
section_key(const struct config_loader *ld, size_t sec, int id)
{
	size_t i;

	for (i = 0; i < ld->n_keys; i++)
		if (ld->keys[i].section == sec && ld->keys[i].id == id &&
		    !ld->keys[i].empty)
			return &ld->keys[i];
	return NULL;
}

static long
section_find(const struct config_loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < ld->lint.n_sections; i++)
		if (strcasecmp(ld->lint.sections[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void
account_names(const struct config_loader *ld, char *dst, size_t size)
{
	size_t i, o = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; i < ld->lint.n_sections && o < size; i++) {
		if ((long)i == ld->defaults)
			continue;
		n = snprintf(dst + o, size - o, "%s%s", o ? ", " : "",
		    ld->lint.sections[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* The inherit chain of an account: chain[0] the account, then parents. */
static int
inherit_chain(const struct config_loader *ld, size_t sec, size_t *chain,
    size_t *depth, struct error *err)
{
	const struct config_scan_key *k;
	char names[300];
	size_t n = 1, i, cur = sec;
	long parent;

	chain[0] = sec;
	while ((k = section_key(ld, cur, CONFIG_KEYS_INHERIT)) != NULL) {
		parent = section_find(ld, k->value);
		if (parent < 0 || parent == ld->defaults) {
			account_names(ld, names, sizeof(names));
			error_set(err, EX_CONFIG,
			    parent < 0 ? "names no account (known: %s)"
				       : "[defaults] is inherited by every "
					 "account already (known: %s)",
			    names);
			return config_key_error(ld, k, err);
		}
		for (i = 0; i < n; i++) {
			if (chain[i] == (size_t)parent) {
				struct buf b;
				size_t j;

				buf_init(&b, 256);
				/* Capped: a long chain is cut short. */
				for (j = 0; j < n; j++)
					if (buf_printf(&b, NULL, "%s -> ",
						ld->lint.sections[chain[j]]
						    .name) == -1)
						break;
				error_set(err, EX_CONFIG,
				    "inheritance cycle: %s%s", buf_str(&b),
				    ld->lint.sections[parent].name);
				buf_free(&b);
				return config_key_error(ld, k, err);
			}
		}
		if (n > INHERIT_DEPTH_MAX) {
			error_set(err, EX_CONFIG,
			    "inherit chain deeper than %d", INHERIT_DEPTH_MAX);
			return config_key_error(ld, k, err);
		}
		chain[n++] = (size_t)parent;
		cur = (size_t)parent;
	}
	*depth = n;
	return 0;
}

static bool
has_password_source(const struct account *a)
{
	return a->has_password || a->password_file != NULL ||
	       a->password_command != NULL;
}

/*
 * mailsub.conf(5) OAUTH2: with oauth2_client_id and no auth key, auth is
 * XOAUTH2; a preset whose provider takes nothing else (Outlook.com,
 * Microsoft 365) says XOAUTH2 too for an account with a user, unless it
 * gives a password (a tenant that still allows basic authentication).  An auth
 * key of the account or [defaults] wins over both.
 */
static int
oauth2_defaults(struct account *a, bool preset_oauth2_only,
    struct config_origin *org, struct error *err)
{
	if (org[CONFIG_KEYS_AUTH].kind != CONFIG_ORIGIN_NONE ||
	    a->auth != ACCOUNT_AUTH_DEFAULT)
		return 0;
	if (a->oauth2_client_id != NULL) {
		/* Errors about auth name the key that turned it on. */
		org[CONFIG_KEYS_AUTH] = org[CONFIG_KEYS_OAUTH2_CLIENT_ID];
		return config_keys_apply(a, CONFIG_KEYS_AUTH, "XOAUTH2", err);
	}
	if (preset_oauth2_only && a->user != NULL && !has_password_source(a)) {
		org[CONFIG_KEYS_AUTH].kind = CONFIG_ORIGIN_PRESET;
		return config_keys_apply(a, CONFIG_KEYS_AUTH, "XOAUTH2", err);
	}
	return 0;
}

/*
 * Layers, weakest first: built-in defaults, [defaults], the provider
 * preset (host, tls; it beats [defaults] so that a preset account keeps a
 * matching port and TLS mode), then the inherited accounts, oldest first,
 * and the account itself.
 */
static int
resolve_account(struct config_loader *ld, size_t sec, struct account **out,
    struct error *err)
{
	size_t chain[INHERIT_DEPTH_MAX + 1], depth, i;
	struct config_origin org[CONFIG_KEYS_COUNT];
	const struct config_scan_key *pk = NULL, *k;
	const struct config_provider *preset = NULL;
	struct account *a;
	bool oauth2_only = false;

	*out = NULL;
	memset(org, 0, sizeof(org));
	if (inherit_chain(ld, sec, chain, &depth, err) == -1)
		return -1;
	if (ld->defaults >= 0)
		pk =
		    section_key(ld, (size_t)ld->defaults, CONFIG_KEYS_PROVIDER);
	for (i = depth; i-- > 0;)
		if ((k = section_key(ld, chain[i], CONFIG_KEYS_PROVIDER)) !=
		    NULL)
			pk = k;
	if (pk != NULL &&
	    (preset = config_provider_require(pk->value, err)) == NULL)
		return config_key_error(ld, pk, err);
	if ((a = config_keys_account_new(ld->lint.sections[sec].name, ld->path,
		 ld->system, err)) == NULL)
		return -1;
	if (ld->defaults >= 0 && apply_layer(ld, a, (size_t)ld->defaults,
				     CONFIG_ORIGIN_DEFAULTS, org, err) == -1)
		goto fail;
	if (preset != NULL) {
		if (config_keys_apply(a, CONFIG_KEYS_HOST, preset->host, err) ==
		    -1)
			goto fail;
		a->tls = preset->tls;
		org[CONFIG_KEYS_HOST].kind = org[CONFIG_KEYS_TLS].kind =
		    CONFIG_ORIGIN_PRESET;
		org[CONFIG_KEYS_HOST].key = org[CONFIG_KEYS_TLS].key = NULL;
		if (config_provider_oauth2(preset, &oauth2_only) !=
		    ACCOUNT_OAUTH2_NONE) {
			a->oauth2_provider =
			    config_provider_oauth2(preset, &oauth2_only);
			org[CONFIG_KEYS_OAUTH2_PROVIDER].kind =
			    CONFIG_ORIGIN_PRESET;
			org[CONFIG_KEYS_OAUTH2_PROVIDER].key = NULL;
		}
	}
	for (i = depth; i-- > 0;)
		if (apply_layer(
			ld, a, chain[i], CONFIG_ORIGIN_ACCOUNT, org, err) == -1)
			goto fail;
	/* The port follows the TLS mode unless the account names one: a
	 * preset's port only fits the preset's own TLS mode. */
	if (org[CONFIG_KEYS_PORT].kind != CONFIG_ORIGIN_ACCOUNT) {
		if (preset != NULL)
			a->port = a->tls == preset->tls
				      ? preset->port
				      : config_keys_default_port(a->tls);
		else if (org[CONFIG_KEYS_PORT].kind == CONFIG_ORIGIN_NONE)
			a->port = config_keys_default_port(a->tls);
	}
	if (oauth2_defaults(a, oauth2_only, org, err) == -1)
		goto fail;
	if (a->queue_dir == NULL && config_keys_default_queue_dir(
					ld->system, &a->queue_dir, err) == -1) {
		error_prefix(err, "%s: [%s]", ld->path, a->name);
		goto fail;
	}
	/* Debian's convention: /etc/mailname is the domain of the mail the
	 * system sends. */
	if (!ld->mailname_read) {
		if (config_keys_mailname(&ld->mailname, err) == -1) {
			error_prefix(err, "%s: [%s]", ld->path, a->name);
			goto fail;
		}
		ld->mailname_read = true;
	}
	if (ld->mailname != NULL &&
	    (a->mailname = config_keys_dup(ld->mailname, err)) == NULL)
		goto fail;
	if (a->default_domain == NULL && a->mailname != NULL) {
		if ((a->default_domain = config_keys_dup(a->mailname, err)) ==
		    NULL)
			goto fail;
		a->default_domain_mailname = true;
	}
	if (config_rules_account(ld, a, sec, org, err) == -1 ||
	    config_rules_oauth2(ld, a, org, err) == -1)
		goto fail;
	*out = a;
	return 0;
fail:
	config_keys_account_free(a);
	return -1;
}

/* Checks that need only the scan: unknown and misplaced keys, empty
 * values, one password source per section. */
static int
check_keys(const struct config_loader *ld, struct error *err)
{
	size_t i, j;

	for (i = 0; i < ld->n_keys; i++) {
		const struct config_scan_key *k = &ld->keys[i];
		bool in_defaults = (long)k->section == ld->defaults;

		if (k->id < 0 ||
		    (k->id == CONFIG_KEYS_ACCOUNT && !in_defaults)) {
			error_set(err, EX_CONFIG, "unknown key%s",
			    k->id == CONFIG_KEYS_ACCOUNT
				? " (account belongs in [defaults])"
				: "");
			return config_key_error(ld, k, err);
		}
		if (k->id == CONFIG_KEYS_INHERIT && in_defaults) {
			error_set(err, EX_CONFIG, "not allowed in [defaults]");
			return config_key_error(ld, k, err);
		}
		if (k->empty && k->id == CONFIG_KEYS_HOST) {
			error_set(err, EX_CONFIG,
			    "empty value: an account needs a host; leave the "
			    "line out to take the one of [defaults], the "
			    "provider or an inherited account");
			return config_key_error(ld, k, err);
		}
		/* An empty value is the key not set (mailsub.conf(5)):
		 * configuration tools write one for a key they leave unset. */
		if (k->empty) {
			if (config_add_finding(ld->cfg, err, CONFIG_NOTE,
				k->line, ld->lint.sections[k->section].name,
				k->name,
				"empty value: the key is not set") == -1)
				return -1;
			continue;
		}
		if (config_keys_is_client_secret_source(k->id)) {
			for (j = 0; j < i; j++) {
				if (ld->keys[j].section != k->section ||
				    ld->keys[j].empty ||
				    !config_keys_is_client_secret_source(
					ld->keys[j].id))
					continue;
				error_set(err, EX_CONFIG,
				    "only one of oauth2_client_secret, "
				    "oauth2_client_secret_file and "
				    "oauth2_client_secret_command may be set "
				    "(%s is on line %u)",
				    ld->keys[j].name, ld->keys[j].line);
				return config_key_error(ld, k, err);
			}
		}
		if (!config_keys_is_password_source(k->id))
			continue;
		for (j = 0; j < i; j++) {
			if (ld->keys[j].section == k->section &&
			    !ld->keys[j].empty &&
			    config_keys_is_password_source(ld->keys[j].id)) {
				error_set(err, EX_CONFIG,
				    "only one of password, password_file and "
				    "password_command may be set (%s is on "
				    "line %u)",
				    ld->keys[j].name, ld->keys[j].line);
				return config_key_error(ld, k, err);
			}
		}
	}
	return 0;
}

static int
build_config(struct config_loader *ld, struct error *err)
{
	struct config *cfg = ld->cfg;
	const struct config_scan_key *k;
	size_t i;
	char names[300];

	if (check_keys(ld, err) == -1)
		return -1;
	cfg->accounts = calloc(ld->lint.n_sections + 1, sizeof(*cfg->accounts));
	if (cfg->accounts == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < ld->lint.n_sections; i++) {
		if ((long)i == ld->defaults)
			continue;
		if (resolve_account(
			ld, i, &cfg->accounts[cfg->n_accounts], err) == -1)
			return -1;
		cfg->n_accounts++;
	}
	if (cfg->n_accounts == 0)
		return error_set(err, EX_CONFIG,
		    "%s: no account: add a [NAME] section with host (see "
		    "mailsub.conf(5))",
		    ld->path);
	if (ld->defaults >= 0 && (k = section_key(ld, (size_t)ld->defaults,
				      CONFIG_KEYS_ACCOUNT)) != NULL) {
		long s = section_find(ld, k->value);

		if (s < 0 || s == ld->defaults) {
			account_names(ld, names, sizeof(names));
			error_set(err, EX_CONFIG,
			    "names no account (known: %s)", names);
			return config_key_error(ld, k, err);
		}
		if ((cfg->default_account = config_keys_dup(
			 ld->lint.sections[s].name, err)) == NULL)
			return -1;
	}
	return 0;
}

/* Name every key the scan found and find [defaults]. */
static int
index_keys(struct config_loader *ld, struct error *err)
{
	const struct inilint *lint = &ld->lint;
	size_t i;

	for (i = 0; i < lint->n_sections; i++)
		if (strcmp(lint->sections[i].name, "defaults") == 0)
			ld->defaults = (long)i;
	if (lint->n_keys == 0)
		return 0;
	ld->keys = calloc(lint->n_keys, sizeof(*ld->keys));
	if (ld->keys == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < lint->n_keys; i++) {
		const struct inilint_key *lk = &lint->keys[i];
		struct config_scan_key *k = &ld->keys[i];

		k->section = lk->section;
		k->name = lk->name;
		k->line = lk->line;
		k->id = config_keys_find(lk->name);
		if (k->id == CONFIG_KEYS_PASSWORD ||
		    k->id == CONFIG_KEYS_OAUTH2_CLIENT_SECRET)
			ld->has_password = true;
	}
	ld->n_keys = lint->n_keys;
	return 0;
}

static void
loader_free(struct config_loader *ld)
{
	int j;

	inilint_free(&ld->lint);
	free(ld->keys);
	free(ld->mailname);
	if (ld->dict != NULL) {
		/* iniparser frees without clearing: the values include the
		 * password. */
		for (j = 0; j < ld->dict->size; j++)
			if (ld->dict->val[j] != NULL)
				secure_wipe(
				    ld->dict->val[j], strlen(ld->dict->val[j]));
		iniparser_freedict(ld->dict);
	}
}

int
config_load(
    const char *path, bool system, struct config **out, struct error *err)
{
	struct config_loader ld;
	struct stat lst, st;
	char *data = NULL;
	size_t len = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.system = system;
	ld.defaults = -1;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	if ((ld.cfg->path = config_keys_dup(path, err)) == NULL)
		goto out;
	ld.cfg->system = system;
	if (config_file_read(path, &fd, &data, &len, &lst, &st, err) == -1)
		goto out;
	ld.text = data;
	if (inilint_scan(data, len, &ld.lint, err) == -1 ||
	    index_keys(&ld, err) == -1)
		goto out;
	/* The permission checks come before syntax errors: they are the
	 * ones that matter when both apply.  Every config is trusted input
	 * (fsperm.h), not only one with a secret: its keys choose the
	 * server a password goes to, the commands run and the files written.
	 * The walk checks the way to the file; fsperm_check_stat() the file
	 * that was opened. */
	if (ld.has_password &&
	    config_file_check_secret(path, &lst, &st, system, err) == -1)
		goto out;
	if (fsperm_check_path(path, 0, err) == -1 ||
	    fsperm_check_stat(path, &st, 0, err) == -1)
		goto out;
	if (ld.lint.error_line != 0) {
		error_set(err, EX_CONFIG, "%s:%u: %s", path, ld.lint.error_line,
		    ld.lint.error);
		goto out;
	}
	if (ini_load(&ld, fd, &st, err) == -1 || build_config(&ld, err) == -1)
		goto out;
	*out = ld.cfg;
	ld.cfg = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (data != NULL) {
		secure_wipe(data, len);
		free(data);
	}
	loader_free(&ld);
	config_free(ld.cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_accounts; i++)
		config_keys_account_free(cfg->accounts[i]);
	free(cfg->accounts);
	for (i = 0; i < cfg->n_findings; i++) {
		free(cfg->findings[i].account);
		free(cfg->findings[i].key);
		free(cfg->findings[i].message);
	}
	free(cfg->findings);
	free(cfg->default_account);
	free(cfg->path);
	free(cfg);
}
