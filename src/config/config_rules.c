/* SPDX-License-Identifier: ISC */
/*
 * The rules between keys, checked once an account is complete (every
 * layer applied): what goes together (tls_cert_file and tls_key_file,
 * auth and user, the OAuth2 keys), what would send a password in clear,
 * and the warnings for keys that have no effect.  Each key's own check is
 * in config_keys.c.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "address.h"
#include "config.h"
#include "config_keys.h"
#include "config_loader.h"
#include "error.h"
#include "sasl_mechs.h"

/* Whether authentication would send a password (or token). */
static bool
auth_sends_secret(const struct account *a)
{
	const struct sasl_mech *m;
	size_t i;

	if (!sasl_auth_needed(a))
		return false;
	if (a->auth != ACCOUNT_AUTH_LIST)
		return true;
	for (i = 0; i < a->n_auth_mechs; i++) {
		m = sasl_mech_find(a->auth_mechs[i]);
		if (m == NULL || (m->flags & SASL_MECH_PASSWORD))
			return true;
	}
	return false;
}

bool
config_port_tls_mismatch(
    unsigned port, enum account_tls tls, char *why, size_t size)
{
	/* RFC 8314 7.3: 465 is implicit TLS; RFC 6409 and 5321: 587 and
	 * 25 begin in plain text, with STARTTLS (RFC 3207) if at all. */
	if (port == 465 && tls != ACCOUNT_TLS_ON) {
		snprintf(why, size,
		    "port 465 speaks TLS from the first byte: set tls = on "
		    "(with tls = %s mailsub waits for a greeting that never "
		    "comes)",
		    tls == ACCOUNT_TLS_OFF ? "off" : "starttls");
		return true;
	}
	if ((port == 587 || port == 25) && tls == ACCOUNT_TLS_ON) {
		snprintf(why, size,
		    "port %u speaks plain SMTP first: set tls = starttls "
		    "(with tls = on the TLS handshake fails)",
		    port);
		return true;
	}
	return false;
}

/* The sender's domain (mailsub.conf(5), from): a bare from needs one, and
 * without from and a domain only -f can name the sender. */
static int
validate_from(const struct config_loader *ld, const struct account *a,
    size_t sec, const struct config_origin *org, struct error *err)
{
	if (a->default_domain != NULL)
		return 0;
	if (a->from != NULL && address_is_bare(a->from)) {
		error_set(err, EX_CONFIG,
		    "no domain to complete it with (no default_domain, and "
		    "%s names none): write the whole address, from = "
		    "NAME@example.com, or set default_domain",
		    config_mailname_path);
		return config_key_error(ld, org[CONFIG_KEYS_FROM].key, err);
	}
	if (a->from == NULL)
		return config_add_finding(ld->cfg, err, CONFIG_WARNING,
		    ld->lint.sections[sec].line, a->name, NULL,
		    "no from and no domain for the sender (no "
		    "default_domain, and %s names none): mailsub sends "
		    "nothing without -f ADDRESS; set from = ADDRESS",
		    config_mailname_path);
	return 0;
}

/* Cross-key rules, once the account is complete. */
int
config_rules_account(const struct config_loader *ld, struct account *a,
    size_t sec, const struct config_origin *org, struct error *err)
{
	const struct config_scan_key *k;
	char why[200];
	size_t i;
	bool remote = false;

	if (a->n_hosts == 0)
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s]: no host (set host or provider here or in "
		    "[defaults])",
		    ld->path, ld->lint.sections[sec].line, a->name);
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL)) {
		k = org[a->tls_cert_file != NULL ? CONFIG_KEYS_TLS_CERT_FILE
						 : CONFIG_KEYS_TLS_KEY_FILE]
			.key;
		error_set(err, EX_CONFIG,
		    "tls_cert_file and tls_key_file go together");
		return config_key_error(ld, k, err);
	}
	if (a->tls == ACCOUNT_TLS_OFF && a->tls_fingerprint != NULL) {
		error_set(err, EX_CONFIG, "a pin needs TLS, but tls = off");
		return config_key_error(
		    ld, org[CONFIG_KEYS_TLS_FINGERPRINT].key, err);
	}
	if ((a->auth == ACCOUNT_AUTH_ON ||
		(a->auth == ACCOUNT_AUTH_LIST && auth_sends_secret(a))) &&
	    a->user == NULL) {
		error_set(
		    err, EX_CONFIG, "authentication is on but no user is set");
		return config_key_error(ld, org[CONFIG_KEYS_AUTH].key, err);
	}
	for (i = 0; i < a->n_hosts; i++)
		if (!config_keys_is_loopback(a->hosts[i]))
			remote = true;
	/* RFC 8314 3: no password over a link anyone can read
	 * (mailsub.conf(5), allow_plaintext_auth). */
	if (a->tls == ACCOUNT_TLS_OFF && remote && auth_sends_secret(a)) {
		if (!a->allow_plaintext_auth) {
			k = org[CONFIG_KEYS_TLS].key;
			if (k == NULL)
				return error_set(err, EX_CONFIG,
				    "%s:%u: [%s]: tls = off with "
				    "authentication would send the password in "
				    "clear; set allow_plaintext_auth = on",
				    ld->path, ld->lint.sections[sec].line,
				    a->name);
			error_set(err, EX_CONFIG,
			    "tls = off with authentication would send the "
			    "password in clear; set allow_plaintext_auth = on");
			return config_key_error(ld, k, err);
		}
		if (config_add_finding(ld->cfg, err, CONFIG_NOTE, 0, a->name,
			NULL,
			"allow_plaintext_auth = on: the password crosses the "
			"network unencrypted") == -1)
			return -1;
	}
	if (a->auth == ACCOUNT_AUTH_DEFAULT && a->user == NULL &&
	    (a->has_password || a->password_file != NULL ||
		a->password_command != NULL) &&
	    config_add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name, NULL,
		"a password is set but no user, so mailsub will not "
		"authenticate") == -1)
		return -1;
	if (a->tls == ACCOUNT_TLS_OFF &&
	    (a->tls_trust_file != NULL || a->tls_cert_file != NULL ||
		a->tls_server_name != NULL || a->tls_priorities != NULL) &&
	    config_add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name, NULL,
		"tls = off, so the tls_* keys have no effect") == -1)
		return -1;
	k = org[CONFIG_KEYS_PORT].key != NULL ? org[CONFIG_KEYS_PORT].key
					      : org[CONFIG_KEYS_TLS].key;
	if (config_port_tls_mismatch(a->port, a->tls, why, sizeof(why)) &&
	    config_add_finding(ld->cfg, err, CONFIG_WARNING,
		k != NULL ? k->line : ld->lint.sections[sec].line, a->name,
		NULL, "%s", why) == -1)
		return -1;
	return validate_from(ld, a, sec, org, err);
}

static bool
auth_names_oauth(const struct account *a)
{
	size_t i;

	if (a->auth != ACCOUNT_AUTH_LIST)
		return false;
	for (i = 0; i < a->n_auth_mechs; i++)
		if (strcmp(a->auth_mechs[i], "XOAUTH2") == 0 ||
		    strcmp(a->auth_mechs[i], "OAUTHBEARER") == 0)
			return true;
	return false;
}

/* The OAuth2 keys together (mailsub.conf(5) OAUTH2). */
int
config_rules_oauth2(const struct config_loader *ld, struct account *a,
    const struct config_origin *org, struct error *err)
{
	bool has_secret = a->has_oauth2_client_secret ||
			  a->oauth2_client_secret_file != NULL ||
			  a->oauth2_client_secret_command != NULL;

	if (a->oauth2_client_id == NULL) {
		if (has_secret &&
		    config_add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name,
			"oauth2_client_secret",
			"an OAuth2 client secret is set but no "
			"oauth2_client_id, so it is not used") == -1)
			return -1;
		return 0;
	}
	if (a->oauth2_provider == ACCOUNT_OAUTH2_NONE) {
		error_set(err, EX_CONFIG,
		    "needs oauth2_provider = google, microsoft or custom (or a "
		    "provider preset that has one)");
		return config_key_error(
		    ld, org[CONFIG_KEYS_OAUTH2_CLIENT_ID].key, err);
	}
	if (a->oauth2_provider == ACCOUNT_OAUTH2_CUSTOM &&
	    a->oauth2_token_url == NULL) {
		error_set(err, EX_CONFIG,
		    "oauth2_provider = custom needs oauth2_token_url (and "
		    "oauth2_auth_url or oauth2_device_url to log in)");
		return config_key_error(ld,
		    org[CONFIG_KEYS_OAUTH2_PROVIDER].key != NULL
			? org[CONFIG_KEYS_OAUTH2_PROVIDER].key
			: org[CONFIG_KEYS_OAUTH2_CLIENT_ID].key,
		    err);
	}
	if (a->oauth2_tenant != NULL &&
	    a->oauth2_provider != ACCOUNT_OAUTH2_MICROSOFT &&
	    config_add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name,
		"oauth2_tenant",
		"oauth2_tenant is for oauth2_provider = microsoft only; it "
		"has no effect here") == -1)
		return -1;
	if (a->auth != ACCOUNT_AUTH_OFF && !auth_names_oauth(a) &&
	    config_add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name,
		"oauth2_client_id",
		"oauth2_client_id is set but auth names neither XOAUTH2 nor "
		"OAUTHBEARER, so no token is used") == -1)
		return -1;
	return 0;
}
