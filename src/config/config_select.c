/* SPDX-License-Identifier: ISC */
/*
 * Account choice (config.h): -a NAME, else the first account whose senders
 * patterns match the envelope sender, else [defaults] account, else the
 * only account.
 */
#include "autoconfig.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "inilint.h"

bool
config_sender_matches(const char *pattern, const char *address)
{
	const char *at;

	if (pattern == NULL || address == NULL || *pattern == '\0')
		return false;
	if (strcasecmp(pattern, address) == 0)
		return true;
	if (pattern[0] == '*' && pattern[1] == '@' &&
	    strpbrk(pattern + 2, "*?[") == NULL) {
		/* The whole domain, not a suffix: *@example.com must not
		 * match a@evil-example.com or a@b@example.com. */
		at = strchr(address, '@');
		return at != NULL && at != address &&
		       strchr(at + 1, '@') == NULL &&
		       strcasecmp(at + 1, pattern + 2) == 0;
	}
	return fnmatch(pattern, address, FNM_CASEFOLD) == 0;
}

static void
config_names(const struct config *cfg, char *dst, size_t size)
{
	size_t i, o = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; i < cfg->n_accounts && o < size; i++) {
		n = snprintf(dst + o, size - o, "%s%s", i ? ", " : "",
		    cfg->accounts[i]->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static const struct account *
account_by_name(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++)
		if (strcasecmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

int
config_select(const struct config *cfg, const char *account_name,
    const char *envelope_from, const struct account **out, struct error *err)
{
	char names[300], shown[2 * INILINT_NAME_MAX];
	size_t i, j;

	*out = NULL;
	config_names(cfg, names, sizeof(names));
	if (account_name != NULL) {
		if ((*out = account_by_name(cfg, account_name)) != NULL)
			return 0;
		error_escape(shown, sizeof(shown), account_name,
		    strnlen(account_name, INILINT_NAME_MAX));
		return error_set(err, EX_CONFIG,
		    "%s: no account named %s (known: %s)", cfg->path, shown,
		    names);
	}
	if (envelope_from != NULL && *envelope_from != '\0') {
		for (i = 0; i < cfg->n_accounts; i++) {
			const struct account *a = cfg->accounts[i];

			for (j = 0; j < a->n_senders; j++) {
				if (config_sender_matches(
					a->senders[j], envelope_from)) {
					*out = a;
					return 0;
				}
			}
		}
	}
	if (cfg->default_account != NULL &&
	    (*out = account_by_name(cfg, cfg->default_account)) != NULL)
		return 0;
	if (cfg->n_accounts == 1) {
		*out = cfg->accounts[0];
		return 0;
	}
	return error_set(err, EX_CONFIG,
	    "%s: several accounts and none chosen: use -a NAME, or set account "
	    "in [defaults] (known: %s)",
	    cfg->path, names);
}
