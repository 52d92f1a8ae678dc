/* SPDX-License-Identifier: ISC */
/*
 * Provider presets (mailsub.conf(5) "provider"): what provider = NAME fills
 * in, from the providers' published settings and Thunderbird's ISPDB, and
 * which preset serves an address domain.  Pure data and lookups;
 * config.c decides how a preset layers with the file's own keys.
 */
#ifndef MAILSUB_PRESETS_H
#define MAILSUB_PRESETS_H

#include "account.h"

struct error;

/* A provider preset: what provider = NAME fills in, and the note error
 * hints and --check-config show. */
struct config_provider {
	const char *name;
	const char *host;
	unsigned port;
	enum account_tls tls;
	const char *note; /* e.g. "app password (needs 2-step ...)" */
};

/* The preset called name (case-insensitive), or NULL. */
const struct config_provider *config_provider_find(const char *name);
/* The same, but an unknown name is EX_CONFIG listing the known ones. */
const struct config_provider *config_provider_require(
    const char *name, struct error *err);
/* The preset's note, or NULL for an unknown name. */
const char *config_provider_note(const char *name);
/* The OAuth2 provider whose endpoints the preset's server takes tokens
 * from (ACCOUNT_OAUTH2_NONE: none), and whether it takes nothing else
 * (*only: no password login, so auth = XOAUTH2 by default). */
enum account_oauth2_provider config_provider_oauth2(
    const struct config_provider *p, bool *only);
/* The preset serving addresses @domain (gmail.com -> gmail), or NULL:
 * for --configure. */
const struct config_provider *config_provider_for_domain(const char *domain);
/* The preset whose provider runs the MX host (a domain of its own at
 * Microsoft 365: DOMAIN.mail.protection.outlook.com -> office365), or
 * NULL: for --configure. */
const struct config_provider *config_provider_for_mx(const char *host);

#endif
