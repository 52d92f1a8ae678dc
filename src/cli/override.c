/* SPDX-License-Identifier: ISC */
/*
 * msmtp's command-line settings over mailsub's accounts.  Each value means
 * what the msmtprc command of the same name means (msmtprc.h converts it),
 * so --tls is msmtp's "TLS on, STARTTLS unless --tls-starttls=off" and not
 * mailsub.conf's tls = on (implicit TLS).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "config_keys.h"
#include "error.h"
#include "msmtprc.h"
#include "override.h"

bool
override_replaces_config(const struct options *o)
{
	return cli_setting_find(o, "host") != NULL;
}

static void
clear_str(char **p)
{
	free(*p);
	*p = NULL;
}

/* msmtp's empty argument: the key as if it were never set. */
static void
unset(struct account *a, const char *key)
{
	if (strcmp(key, "user") == 0)
		clear_str(&a->user);
	else if (strcmp(key, "password") == 0 ||
		 strcmp(key, "password_command") == 0)
		config_keys_clear_password(a);
	else if (strcmp(key, "tls_trust_file") == 0)
		clear_str(&a->tls_trust_file);
	else if (strcmp(key, "tls_fingerprint") == 0)
		clear_str(&a->tls_fingerprint);
	else if (strcmp(key, "tls_key_file") == 0)
		clear_str(&a->tls_key_file);
	else if (strcmp(key, "tls_cert_file") == 0)
		clear_str(&a->tls_cert_file);
	else if (strcmp(key, "tls_priorities") == 0)
		clear_str(&a->tls_priorities);
	else if (strcmp(key, "tls_server_name") == 0)
		clear_str(&a->tls_server_name);
	else if (strcmp(key, "logfile") == 0)
		clear_str(&a->logfile);
	else if (strcmp(key, "aliases") == 0)
		clear_str(&a->aliases);
	else if (strcmp(key, "source_ip") == 0)
		clear_str(&a->source_ip);
	else if (strcmp(key, "domain") == 0)
		clear_str(&a->domain);
	else if (strcmp(key, "dsn_notify") == 0)
		clear_str(&a->dsn_notify);
	else if (strcmp(key, "dsn_return") == 0)
		clear_str(&a->dsn_return);
	/* port and timeout keep the account's (or the built-in) value. */
}

static bool
mech_needs_password(const char *m)
{
	return strcmp(m, "EXTERNAL") != 0 && strcmp(m, "GSSAPI") != 0;
}

/* Whether authentication would send a password or token
 * (mailsub.conf(5), auth). */
static bool
sends_secret(const struct account *a)
{
	size_t i;

	switch (a->auth) {
	case ACCOUNT_AUTH_OFF:
		return false;
	case ACCOUNT_AUTH_DEFAULT:
		return a->user != NULL;
	case ACCOUNT_AUTH_ON:
		return true;
	case ACCOUNT_AUTH_LIST:
		for (i = 0; i < a->n_auth_mechs; i++)
			if (mech_needs_password(a->auth_mechs[i]))
				return true;
		return false;
	}
	return true;
}

/* The rules mailsub.conf(5) states across keys, for what the command
 * line changed; the file's own were checked when it was loaded. */
static int
recheck(const struct account *a, struct error *err)
{
	size_t i;
	bool remote = false;

	if (a->n_hosts == 0)
		return error_set(err, EX_USAGE, "no host: give --host");
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL))
		return error_set(err, EX_USAGE,
		    "--tls-cert-file and --tls-key-file go together");
	if (a->tls == ACCOUNT_TLS_OFF && a->tls_fingerprint != NULL)
		return error_set(err, EX_USAGE,
		    "--tls-fingerprint needs TLS, but TLS is off");
	if ((a->auth == ACCOUNT_AUTH_ON ||
		(a->auth == ACCOUNT_AUTH_LIST && sends_secret(a))) &&
	    a->user == NULL)
		return error_set(err, EX_USAGE,
		    "authentication is on but no user is set: give --user");
	for (i = 0; i < a->n_hosts; i++)
		if (!config_keys_is_loopback(a->hosts[i]))
			remote = true;
	/* RFC 8314 3: no password over a link anyone can read. */
	if (a->tls == ACCOUNT_TLS_OFF && remote && sends_secret(a) &&
	    !a->allow_plaintext_auth)
		return error_set(err, EX_USAGE,
		    "TLS is off with authentication: the password would cross "
		    "the network in clear; give --tls");
	return 0;
}

static int
apply_one(struct account *a, const struct cli_setting *cs, bool *tls,
    bool *starttls, bool *port_given, struct error *err)
{
	struct msmtprc_setting s;
	int id;

	msmtprc_convert(cs->key, cs->value != NULL ? cs->value : "", &s);
	switch (s.kind) {
	case MSMTPRC_TLS:
		if (strcmp(s.key, "tls") == 0)
			*tls = s.flag;
		else
			*starttls = s.flag;
		return 0;
	case MSMTPRC_IGNORE:
		return 0;
	case MSMTPRC_REFUSE:
		return error_set(err, EX_USAGE, "--%s: %s", cs->option, s.why);
	case MSMTPRC_UNSET:
		if (strcmp(s.key, "port") == 0)
			*port_given = false;
		unset(a, s.key);
		return 0;
	case MSMTPRC_SET:
		break;
	}
	if ((id = config_keys_find(s.key)) < 0)
		return error_set(err, EX_SOFTWARE, "no key %s", s.key);
	if (config_keys_is_password_source(id))
		config_keys_clear_password(a);
	if (config_keys_apply(a, (enum config_keys_id)id, s.value, err) == -1) {
		if (err->exit_code == EX_CONFIG)
			err->exit_code = EX_USAGE;
		error_prefix(err, "--%s", cs->option);
		return -1;
	}
	if (id == CONFIG_KEYS_PORT)
		*port_given = true;
	return 0;
}

static int
apply_account(
    struct account *a, const struct options *o, bool fresh, struct error *err)
{
	enum account_tls was = a->tls;
	bool tls = a->tls != ACCOUNT_TLS_OFF;
	bool starttls = a->tls != ACCOUNT_TLS_ON;
	bool port_given = false;
	size_t i;

	for (i = 0; i < o->n_settings; i++)
		if (apply_one(a, &o->settings[i], &tls, &starttls, &port_given,
			err) == -1)
			return -1;
	a->tls = !tls	    ? ACCOUNT_TLS_OFF
		 : starttls ? ACCOUNT_TLS_STARTTLS
			    : ACCOUNT_TLS_ON;
	/* The port follows a TLS mode the command line changed, unless the
	 * file or the command line named one. */
	if (!port_given &&
	    (fresh ||
		(a->tls != was && a->port == config_keys_default_port(was))))
		a->port = config_keys_default_port(a->tls);
	return recheck(a, err);
}

int
override_apply(struct config *cfg, const struct options *o, struct error *err)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++)
		if (apply_account(cfg->accounts[i], o, false, err) == -1) {
			error_prefix(err, "%s", cfg->accounts[i]->name);
			return -1;
		}
	return 0;
}

int
override_config_new(
    const struct options *o, struct config **out, struct error *err)
{
	struct config *cfg;
	struct account *a;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->accounts = calloc(1, sizeof(*cfg->accounts))) == NULL) {
		free(cfg);
		return error_set(err, EX_OSERR, "out of memory");
	}
	if ((cfg->path = config_keys_dup(OVERRIDE_CONFIG_PATH, err)) == NULL ||
	    (a = config_keys_account_new(OVERRIDE_ACCOUNT_NAME,
		 OVERRIDE_CONFIG_PATH, false, err)) == NULL) {
		config_free(cfg);
		return -1;
	}
	cfg->accounts[cfg->n_accounts++] = a;
	if (config_keys_default_queue_dir(false, &a->queue_dir, err) == -1 ||
	    apply_account(a, o, true, err) == -1) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}
