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

/* One account: its files, its aliases; 0 when fine.  Warnings are
 * added to *warnings. */
static int
check_account(const struct config *cfg, const struct account *a, FILE *out,
    size_t *warnings)
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
	} else if (al != NULL) {
		/* Skipped lines are warnings: the rest of the file works. */
		size_t n, all, i;
		const char *const *w = aliases_warnings(al, &n, &all);
		char esc[ALIASES_WARNING_MAX * 4 + 1];

		for (i = 0; i < n; i++)
			fprintf(out, "warning: %s\n",
			    error_escape(esc, sizeof(esc), w[i], strlen(w[i])));
		*warnings += all;
		if (all > n)
			fprintf(out,
			    "warning: %s: %zu more lines or targets "
			    "skipped\n",
			    a->aliases, all - n);
	}
	aliases_free(al);
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
	size_t i, warnings = 0;
	unsigned bad = 0;

	if (delivery_load_config(opts, &cfg, err) == -1)
		return -1;
	fprintf(out, "%s: %zu account%s\n", cfg->path, cfg->n_accounts,
	    cfg->n_accounts == 1 ? "" : "s");
	for (i = 0; i < cfg->n_warnings; i++)
		fprintf(out, "warning: %s\n", cfg->warnings[i]);
	for (i = 0; i < cfg->n_accounts; i++)
		bad += check_account(cfg, cfg->accounts[i], out, &warnings);
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
		    cfg->n_warnings + warnings > 0 ? " (with warnings)" : "");
	if (fflush(out) == EOF && bad == 0)
		error_set(err, EX_IOERR, "cannot write the result");
	config_free(cfg);
	return error_is_set(err) ? -1 : 0;
}
