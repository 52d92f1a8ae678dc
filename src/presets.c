/*
 * The provider presets: the table of DESIGN.md section 2 (each provider's
 * published server, port and TLS mode, and what it wants as a password),
 * the address domains each one serves, and lookups in both.  Pure data;
 * config.c decides how a preset layers with the file's own keys.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "presets.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The table of DESIGN.md section 2 (providers' published settings). */
static const struct config_provider providers[] = {
    {"gmail", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    {"workspace", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    {"outlook", "smtp-mail.outlook.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2 only (password login ended 2024-09)"},
    {"office365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    {"godaddy-m365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    {"godaddy", "smtpout.secureserver.net", 465, ACCOUNT_TLS_ON,
	"mailbox password"},
    {"yahoo", "smtp.mail.yahoo.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"aol", "smtp.aol.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"icloud", "smtp.mail.me.com", 587, ACCOUNT_TLS_STARTTLS,
	"app-specific password; user is the full address"},
    {"fastmail", "smtp.fastmail.com", 465, ACCOUNT_TLS_ON,
	"app password always"},
    {"zoho", "smtp.zoho.com", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.com"},
    {"zoho-eu", "smtp.zoho.eu", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.eu"},
    {"gmx", "mail.gmx.net", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"webde", "smtp.web.de", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"mailcom", "smtp.mail.com", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"proton", "smtp.protonmail.ch", 587, ACCOUNT_TLS_STARTTLS,
	"an SMTP token as password"},
    {"yandex", "smtp.yandex.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"mailboxorg", "smtp.mailbox.org", 465, ACCOUNT_TLS_ON,
	"mailbox password (app password with 2FA)"},
    {"posteo", "posteo.de", 465, ACCOUNT_TLS_ON,
	"mailbox password (app password with 2FA)"},
};

/* Which presets' servers take OAuth2 tokens, and from whom. */
static const struct {
	const char *provider;
	enum account_oauth2_provider oauth2;
	bool only; /* no password login any more */
} provider_oauth2[] = {
    {"gmail", ACCOUNT_OAUTH2_GOOGLE, false},
    {"workspace", ACCOUNT_OAUTH2_GOOGLE, false},
    {"outlook", ACCOUNT_OAUTH2_MICROSOFT, true},
    {"office365", ACCOUNT_OAUTH2_MICROSOFT, true},
    {"godaddy-m365", ACCOUNT_OAUTH2_MICROSOFT, true},
};

static const struct {
	const char *domain;
	const char *provider;
} provider_domains[] = {
    {"gmail.com", "gmail"},
    {"googlemail.com", "gmail"},
    {"outlook.com", "outlook"},
    {"hotmail.com", "outlook"},
    {"live.com", "outlook"},
    {"msn.com", "outlook"},
    {"yahoo.com", "yahoo"},
    {"aol.com", "aol"},
    {"icloud.com", "icloud"},
    {"me.com", "icloud"},
    {"mac.com", "icloud"},
    {"fastmail.com", "fastmail"},
    {"fastmail.fm", "fastmail"},
    {"zoho.com", "zoho"},
    {"zohomail.com", "zoho"},
    {"zoho.eu", "zoho-eu"},
    {"zohomail.eu", "zoho-eu"},
    {"gmx.net", "gmx"},
    {"gmx.de", "gmx"},
    {"gmx.at", "gmx"},
    {"gmx.ch", "gmx"},
    {"web.de", "webde"},
    {"mail.com", "mailcom"},
    {"proton.me", "proton"},
    {"protonmail.com", "proton"},
    {"protonmail.ch", "proton"},
    {"pm.me", "proton"},
    {"yandex.com", "yandex"},
    {"yandex.ru", "yandex"},
    {"mailbox.org", "mailboxorg"},
    {"posteo.de", "posteo"},
    {"posteo.net", "posteo"},
};

const struct config_provider *
config_provider_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NELEM(providers); i++)
		if (strcasecmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

const char *
config_provider_note(const char *name)
{
	const struct config_provider *p = config_provider_find(name);

	return p != NULL ? p->note : NULL;
}

enum account_oauth2_provider
config_provider_oauth2(const struct config_provider *p, bool *only)
{
	size_t i;

	*only = false;
	for (i = 0; p != NULL && i < NELEM(provider_oauth2); i++) {
		if (strcmp(provider_oauth2[i].provider, p->name) == 0) {
			*only = provider_oauth2[i].only;
			return provider_oauth2[i].oauth2;
		}
	}
	return ACCOUNT_OAUTH2_NONE;
}

const struct config_provider *
config_provider_for_domain(const char *domain)
{
	size_t i;

	if (domain == NULL)
		return NULL;
	for (i = 0; i < NELEM(provider_domains); i++)
		if (strcasecmp(provider_domains[i].domain, domain) == 0)
			return config_provider_find(
			    provider_domains[i].provider);
	return NULL;
}

static void
provider_names(char *dst, size_t size)
{
	size_t i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < NELEM(providers) && o < size; i++) {
		int n = snprintf(dst + o, size - o, "%s%s", i ? ", " : "",
		    providers[i].name);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

const struct config_provider *
config_provider_require(const char *name, struct error *err)
{
	const struct config_provider *p = config_provider_find(name);
	char names[512];

	if (p == NULL) {
		provider_names(names, sizeof(names));
		error_set(
		    err, EX_CONFIG, "unknown provider (known: %s)", names);
	}
	return p;
}
