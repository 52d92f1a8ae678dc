/* SPDX-License-Identifier: ISC */
/*
 * The provider presets (mailsub.conf(5), provider): each provider's
 * published server, port and TLS mode, and what it wants as a password,
 * the address domains each one serves, and lookups in both.  Pure data;
 * config.c decides how a preset layers with the file's own keys.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "config_provider.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The presets.  Each row names where its server, port and TLS mode come
 * from: the provider's published settings page, or Thunderbird's ISPDB
 * (https://github.com/thunderbird/autoconfig, ispdb/NAME).
 */
static const struct config_provider providers[] = {
    /* support.google.com/mail/answer/7126229; ISPDB googlemail.com */
    {"gmail", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    /* support.google.com/a/answer/176600 */
    {"workspace", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    /* support.microsoft.com "POP, IMAP, and SMTP settings for
     * Outlook.com"; ISPDB hotmail.com */
    {"outlook", "smtp-mail.outlook.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2 only (password login ended 2024-09)"},
    /* learn.microsoft.com "How to set up a multifunction device or
     * application to send email using Microsoft 365"; ISPDB office365.com */
    {"office365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    /* godaddy.com help "Server and port settings for Microsoft 365" */
    {"godaddy-m365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    /* godaddy.com help "Workspace Email server settings"; ISPDB
     * secureserver.net */
    {"godaddy", "smtpout.secureserver.net", 465, ACCOUNT_TLS_ON,
	"mailbox password"},
    /* help.yahoo.com SLN4075; ISPDB yahoo.com */
    {"yahoo", "smtp.mail.yahoo.com", 465, ACCOUNT_TLS_ON, "app password"},
    /* help.aol.com "IMAP settings for AOL Mail"; ISPDB aol.com */
    {"aol", "smtp.aol.com", 465, ACCOUNT_TLS_ON, "app password"},
    /* support.apple.com/102525; ISPDB me.com */
    {"icloud", "smtp.mail.me.com", 587, ACCOUNT_TLS_STARTTLS,
	"app-specific password; user is the full address"},
    /* fastmail.help "Server names and ports"; ISPDB messagingengine.com */
    {"fastmail", "smtp.fastmail.com", 465, ACCOUNT_TLS_ON,
	"app password always"},
    /* zoho.com/mail/help/pop-access.html (SMTP server details) */
    {"zoho", "smtp.zoho.com", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.com"},
    {"zoho-eu", "smtp.zoho.eu", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.eu"},
    /* ISPDB gmx.net (gmx.de, .at, .ch: the German service) */
    {"gmx", "mail.gmx.net", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    /* ISPDB gmx.com (gmx.com, gmx.co.uk, gmx.fr, ...: the international
     * service, its own servers) */
    {"gmx-com", "mail.gmx.com", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    /* hilfe.web.de "IMAP, POP3 und SMTP"; ISPDB web.de */
    {"webde", "smtp.web.de", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    /* ISPDB mail.com */
    {"mailcom", "smtp.mail.com", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    /* proton.me/support/smtp-submission */
    {"proton", "smtp.protonmail.ch", 587, ACCOUNT_TLS_STARTTLS,
	"an SMTP token as password"},
    /* yandex.com/support/mail/mail-clients/others.html */
    {"yandex", "smtp.yandex.com", 465, ACCOUNT_TLS_ON, "app password"},
    /* ISPDB mail.ru; help.mail.ru "Mail clients" */
    {"mailru", "smtp.mail.ru", 465, ACCOUNT_TLS_ON,
	"a password for external applications (made in the security "
	"settings)"},
    /* kb.mailbox.org "Configure mail clients"; ISPDB mailbox.org */
    {"mailboxorg", "smtp.mailbox.org", 465, ACCOUNT_TLS_ON,
	"mailbox password (app password with 2FA)"},
    /* posteo.de/en/help "What are the server settings?" */
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

/* The address domains each preset serves; the lists follow the ISPDB
 * file named above each group. */
static const struct {
	const char *domain;
	const char *provider;
} provider_domains[] = {
    /* ISPDB googlemail.com */
    {"gmail.com", "gmail"},
    {"googlemail.com", "gmail"},
    /* ISPDB hotmail.com: Outlook.com's national domains */
    {"outlook.com", "outlook"},
    {"hotmail.com", "outlook"},
    {"live.com", "outlook"},
    {"msn.com", "outlook"},
    {"windowslive.com", "outlook"},
    {"outlook.at", "outlook"},
    {"outlook.be", "outlook"},
    {"outlook.cl", "outlook"},
    {"outlook.cz", "outlook"},
    {"outlook.de", "outlook"},
    {"outlook.dk", "outlook"},
    {"outlook.es", "outlook"},
    {"outlook.fr", "outlook"},
    {"outlook.hu", "outlook"},
    {"outlook.ie", "outlook"},
    {"outlook.in", "outlook"},
    {"outlook.it", "outlook"},
    {"outlook.jp", "outlook"},
    {"outlook.kr", "outlook"},
    {"outlook.lv", "outlook"},
    {"outlook.my", "outlook"},
    {"outlook.ph", "outlook"},
    {"outlook.pt", "outlook"},
    {"outlook.sa", "outlook"},
    {"outlook.sg", "outlook"},
    {"outlook.sk", "outlook"},
    {"outlook.co.id", "outlook"},
    {"outlook.co.il", "outlook"},
    {"outlook.co.th", "outlook"},
    {"outlook.com.ar", "outlook"},
    {"outlook.com.au", "outlook"},
    {"outlook.com.br", "outlook"},
    {"outlook.com.gr", "outlook"},
    {"outlook.com.tr", "outlook"},
    {"outlook.com.vn", "outlook"},
    {"hotmail.be", "outlook"},
    {"hotmail.ca", "outlook"},
    {"hotmail.cl", "outlook"},
    {"hotmail.cz", "outlook"},
    {"hotmail.de", "outlook"},
    {"hotmail.dk", "outlook"},
    {"hotmail.es", "outlook"},
    {"hotmail.fi", "outlook"},
    {"hotmail.fr", "outlook"},
    {"hotmail.gr", "outlook"},
    {"hotmail.hu", "outlook"},
    {"hotmail.it", "outlook"},
    {"hotmail.lt", "outlook"},
    {"hotmail.lv", "outlook"},
    {"hotmail.my", "outlook"},
    {"hotmail.nl", "outlook"},
    {"hotmail.no", "outlook"},
    {"hotmail.ph", "outlook"},
    {"hotmail.rs", "outlook"},
    {"hotmail.se", "outlook"},
    {"hotmail.sg", "outlook"},
    {"hotmail.sk", "outlook"},
    {"hotmail.co.id", "outlook"},
    {"hotmail.co.il", "outlook"},
    {"hotmail.co.in", "outlook"},
    {"hotmail.co.jp", "outlook"},
    {"hotmail.co.kr", "outlook"},
    {"hotmail.co.th", "outlook"},
    {"hotmail.co.uk", "outlook"},
    {"hotmail.co.za", "outlook"},
    {"hotmail.com.ar", "outlook"},
    {"hotmail.com.au", "outlook"},
    {"hotmail.com.br", "outlook"},
    {"hotmail.com.hk", "outlook"},
    {"hotmail.com.tr", "outlook"},
    {"hotmail.com.tw", "outlook"},
    {"hotmail.com.vn", "outlook"},
    {"live.at", "outlook"},
    {"live.be", "outlook"},
    {"live.ca", "outlook"},
    {"live.cl", "outlook"},
    {"live.cn", "outlook"},
    {"live.de", "outlook"},
    {"live.dk", "outlook"},
    {"live.fi", "outlook"},
    {"live.fr", "outlook"},
    {"live.hk", "outlook"},
    {"live.ie", "outlook"},
    {"live.in", "outlook"},
    {"live.it", "outlook"},
    {"live.jp", "outlook"},
    {"live.nl", "outlook"},
    {"live.no", "outlook"},
    {"live.ru", "outlook"},
    {"live.se", "outlook"},
    {"live.co.jp", "outlook"},
    {"live.co.kr", "outlook"},
    {"live.co.uk", "outlook"},
    {"live.co.za", "outlook"},
    {"live.com.ar", "outlook"},
    {"live.com.au", "outlook"},
    {"live.com.mx", "outlook"},
    {"live.com.my", "outlook"},
    {"live.com.ph", "outlook"},
    {"live.com.pt", "outlook"},
    {"live.com.sg", "outlook"},
    {"livemail.tw", "outlook"},
    /* ISPDB yahoo.com */
    {"yahoo.com", "yahoo"},
    {"yahoo.de", "yahoo"},
    {"yahoo.it", "yahoo"},
    {"yahoo.fr", "yahoo"},
    {"yahoo.es", "yahoo"},
    {"yahoo.se", "yahoo"},
    {"yahoo.co.uk", "yahoo"},
    {"yahoo.co.nz", "yahoo"},
    {"yahoo.com.au", "yahoo"},
    {"yahoo.com.ar", "yahoo"},
    {"yahoo.com.br", "yahoo"},
    {"yahoo.com.mx", "yahoo"},
    {"ymail.com", "yahoo"},
    {"rocketmail.com", "yahoo"},
    /* ISPDB aol.com */
    {"aol.com", "aol"},
    /* ISPDB me.com */
    {"icloud.com", "icloud"},
    {"me.com", "icloud"},
    {"mac.com", "icloud"},
    /* ISPDB messagingengine.com (the common Fastmail domains) */
    {"fastmail.com", "fastmail"},
    {"fastmail.fm", "fastmail"},
    /* zoho.com/mail/help: the free and EU services */
    {"zoho.com", "zoho"},
    {"zohomail.com", "zoho"},
    {"zoho.eu", "zoho-eu"},
    {"zohomail.eu", "zoho-eu"},
    /* ISPDB gmx.net */
    {"gmx.net", "gmx"},
    {"gmx.de", "gmx"},
    {"gmx.at", "gmx"},
    {"gmx.ch", "gmx"},
    /* ISPDB gmx.com */
    {"gmx.com", "gmx-com"},
    {"gmx.us", "gmx-com"},
    {"gmx.co.uk", "gmx-com"},
    {"gmx.es", "gmx-com"},
    {"gmx.fr", "gmx-com"},
    {"gmx.ca", "gmx-com"},
    {"gmx.it", "gmx-com"},
    {"gmx.pt", "gmx-com"},
    {"gmx.se", "gmx-com"},
    {"gmx.ie", "gmx-com"},
    {"gmx.li", "gmx-com"},
    /* ISPDB web.de, mail.com */
    {"web.de", "webde"},
    {"mail.com", "mailcom"},
    /* proton.me/support: the Proton domains */
    {"proton.me", "proton"},
    {"protonmail.com", "proton"},
    {"protonmail.ch", "proton"},
    {"pm.me", "proton"},
    /* yandex.com/support */
    {"yandex.com", "yandex"},
    {"yandex.ru", "yandex"},
    /* ISPDB mail.ru */
    {"mail.ru", "mailru"},
    {"bk.ru", "mailru"},
    {"inbox.ru", "mailru"},
    {"list.ru", "mailru"},
    /* ISPDB mailbox.org; posteo.de/en/help */
    {"mailbox.org", "mailboxorg"},
    {"posteo.de", "posteo"},
    {"posteo.net", "posteo"},
};

/*
 * A domain of its own served by a provider: the provider's MX hosts, as
 * Thunderbird's account setup matches them (ISPDB files list their MX
 * hosts as domains).  A pattern matches the MX host itself or any name
 * under it.
 */
static const struct {
	const char *mx;
	const char *provider;
} provider_mx[] = {
    /* learn.microsoft.com "Set up Microsoft 365 DNS records": MX
     * DOMAIN.mail.protection.outlook.com; ISPDB office365.com */
    {"mail.protection.outlook.com", "office365"},
    /* ISPDB hotmail.com: Outlook.com's own MX */
    {"olc.protection.outlook.com", "outlook"},
    /* support.google.com/a/answer/174125: aspmx.l.google.com,
     * alt1.aspmx.l.google.com, aspmx2.googlemail.com, smtp.google.com;
     * ISPDB googlemail.com */
    {"google.com", "workspace"},
    {"googlemail.com", "workspace"},
    /* godaddy.com help "MX records for Workspace Email":
     * mailstore1.secureserver.net, smtp.secureserver.net */
    {"secureserver.net", "godaddy"},
    /* zoho.com/mail/help/adminconsole/configure-email-delivery.html:
     * mx.zoho.com, mx2.zoho.com; mx.zoho.eu for the EU service */
    {"zoho.com", "zoho"},
    {"zoho.eu", "zoho-eu"},
    /* fastmail.help "DNS records for your domain": in1-smtp and
     * in2-smtp.messagingengine.com; ISPDB messagingengine.com */
    {"messagingengine.com", "fastmail"},
    /* support.apple.com/102374 (custom domains): mx01.mail.icloud.com */
    {"mail.icloud.com", "icloud"},
    /* proton.me/support/custom-domain: mail.protonmail.ch,
     * mailsec.protonmail.ch */
    {"protonmail.ch", "proton"},
    /* kb.mailbox.org "Custom domains": mxext1.mailbox.org, ... */
    {"mailbox.org", "mailboxorg"},
    /* yandex.com/support/connect (Yandex 360): mx.yandex.net */
    {"yandex.net", "yandex"},
    /* biz.mail.ru help (VK WorkSpace): emx.mail.ru */
    {"mail.ru", "mailru"},
};

const struct config_provider *
config_provider_for_mx(const char *host)
{
	size_t i, n, m;

	if (host == NULL)
		return NULL;
	n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--; /* the root label */
	for (i = 0; i < NELEM(provider_mx); i++) {
		m = strlen(provider_mx[i].mx);
		if (n < m ||
		    strncasecmp(host + n - m, provider_mx[i].mx, m) != 0)
			continue;
		/* The whole name or a label boundary: evilzoho.com is not
		 * zoho.com. */
		if (n == m || host[n - m - 1] == '.')
			return config_provider_find(provider_mx[i].provider);
	}
	return NULL;
}

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
