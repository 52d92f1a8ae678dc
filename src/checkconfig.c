/*
 * --check-config: every problem of the configuration in one run.  A load
 * error stops at the first problem (config_load is strict and says where);
 * after that every account is checked on its own so one bad account does
 * not hide another.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "aliases.h"
#include "checkconfig.h"
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "error.h"
#include "oauth.h"

static const char *
tls_name(enum account_tls tls)
{
	switch (tls) {
	case ACCOUNT_TLS_ON:
		return "implicit TLS";
	case ACCOUNT_TLS_OFF:
		return "no TLS";
	case ACCOUNT_TLS_STARTTLS:
		break;
	}
	return "STARTTLS";
}

/* An OAuth mechanism is all the account allows, and nothing gives it a
 * token. */
static bool
needs_token(const struct account *a)
{
	size_t i;

	if (a->auth != ACCOUNT_AUTH_LIST || a->has_password ||
	    a->password_file != NULL || a->password_command != NULL)
		return false;
	for (i = 0; i < a->n_auth_mechs; i++)
		if (strcmp(a->auth_mechs[i], "XOAUTH2") != 0 &&
		    strcmp(a->auth_mechs[i], "OAUTHBEARER") != 0)
			return false;
	return a->n_auth_mechs > 0;
}

/* One account: its files, its aliases; 0 when fine. */
static int
check_account(const struct config *cfg, const struct account *a, FILE *out)
{
	struct error err;
	struct aliases *al = NULL;
	const char *note;
	int bad = 0;

	fprintf(out, "[%s]: %s:%u, %s%s%s%s\n", a->name,
	    a->n_hosts > 0 ? a->hosts[0] : "(no host)", a->port,
	    tls_name(a->tls), a->user ? ", user " : "", a->user ? a->user : "",
	    cfg->default_account != NULL &&
		    strcasecmp(cfg->default_account, a->name) == 0
		? " (default)"
		: "");
	error_clear(&err);
	if (config_check_account_files(a, &err) == -1) {
		fprintf(out, "%s: %s\n", a->config_path, err.message);
		bad = 1;
	}
	error_clear(&err);
	if (a->aliases != NULL && aliases_load(a->aliases, &al, &err) == -1) {
		fprintf(out, "%s\n", err.message);
		bad = 1;
	}
	aliases_free(al);
	if (oauth_enabled(a) && a->auth == ACCOUNT_AUTH_LIST) {
		char state[ERROR_MESSAGE_MAX];
		char path[4096];

		if (oauth_token_path(a, path, sizeof(path), &err) == -1)
			snprintf(path, sizeof(path), "(none)");
		bad |= oauth_status(a, state, sizeof(state));
		fprintf(
		    out, "[%s]: OAuth2 token %s: %s\n", a->name, path, state);
	} else if (needs_token(a)) {
		fprintf(out,
		    "[%s]: auth = XOAUTH2 or OAUTHBEARER needs a token: set "
		    "oauth2_client_id and run mailsub --oauth2-login %s "
		    "(mailsub.conf(5), OAUTH2), or a password_command that "
		    "prints one\n",
		    a->name, a->name);
		bad = 1;
	}
	if (a->provider != NULL &&
	    (note = config_provider_note(a->provider)) != NULL)
		fprintf(
		    out, "[%s]: provider %s: %s\n", a->name, a->provider, note);
	return bad;
}

int
checkconfig_run(const struct options *opts, FILE *out, struct error *err)
{
	struct config *cfg = NULL;
	size_t i;
	unsigned bad = 0;

	if (delivery_load_config(opts, &cfg, err) == -1)
		return -1;
	fprintf(out, "%s: %zu account%s\n", cfg->path, cfg->n_accounts,
	    cfg->n_accounts == 1 ? "" : "s");
	for (i = 0; i < cfg->n_warnings; i++)
		fprintf(out, "warning: %s\n", cfg->warnings[i]);
	for (i = 0; i < cfg->n_accounts; i++)
		bad += check_account(cfg, cfg->accounts[i], out);
	{
		/* What a caller without -a (cron, sudo, PHP) gets. */
		const struct account *a;
		struct error serr;

		error_clear(&serr);
		if (config_select(cfg, opts->account, NULL, &a, &serr) == -1) {
			fprintf(out, "%s\n", serr.message);
			bad++;
		}
	}
	if (bad > 0)
		error_set(err, EX_CONFIG, "%s: %u problem%s found", cfg->path,
		    bad, bad == 1 ? "" : "s");
	else
		fprintf(out, "%s: ok%s\n", cfg->path,
		    cfg->n_warnings > 0 ? " (with warnings)" : "");
	if (fflush(out) == EOF && bad == 0)
		error_set(err, EX_IOERR, "cannot write the result");
	config_free(cfg);
	return error_is_set(err) ? -1 : 0;
}
