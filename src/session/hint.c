/* SPDX-License-Identifier: ISC */
/*
 * The hints.  Each rule names the reply it recognises: the reply code and
 * enhanced status code (RFC 3463) where the provider documents one, and
 * the account's provider, host or greeting for whose server it is.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "error.h"
#include "hint.h"
#include "config_provider.h"

/* Case-insensitive strstr. */
static bool
has(const char *s, const char *what)
{
	size_t n = strlen(what);

	if (s == NULL)
		return false;
	for (; *s != '\0'; s++)
		if (strncasecmp(s, what, n) == 0)
			return true;
	return false;
}

/* The host or a name under it (smtp.gmail.com under gmail.com). */
static bool
host_under(const char *host, const char *domain)
{
	size_t n, m = strlen(domain);

	if (host == NULL)
		return false;
	n = strlen(host);
	return n >= m && strcasecmp(host + n - m, domain) == 0 &&
	       (n == m || host[n - m - 1] == '.');
}

static bool
provider_is(const struct account *a, const char *name)
{
	return a != NULL && a->provider != NULL &&
	       strcasecmp(a->provider, name) == 0;
}

/* Google's servers: the gmail and workspace presets, smtp.gmail.com, or a
 * greeting ending in "gsmtp" as Google's do. */
static bool
is_google(const struct hint_facts *f)
{
	return provider_is(f->acct, "gmail") ||
	       provider_is(f->acct, "workspace") ||
	       host_under(f->host, "gmail.com") ||
	       host_under(f->host, "googlemail.com") ||
	       host_under(f->host, "google.com") || has(f->greeting, "gsmtp");
}

/* A reply code at the start of the server's words in the line: "... AUTH
 * ...: 535 5.7.8 ..." */
static bool
reply_is(const char *message, const char *code)
{
	size_t n = strlen(code);
	const char *p;

	/* The code as a word: " 530 " or " 530-", not " 5300". */
	for (p = message; (p = strstr(p, code)) != NULL; p += n)
		if (p > message && p[-1] == ' ' &&
		    (p[n] == ' ' || p[n] == '-' || p[n] == '\0'))
			return true;
	return false;
}

const char *
hint_for(const struct hint_facts *f, char *buf, size_t size)
{
	const char *note;

	/* The server refused the login: its 5xx to AUTH. */
	if (f->phase == SUBMIT_PHASE_AUTH && f->class == ERROR_CLASS_PERMFAIL) {
		/* learn.microsoft.com, "Enable or disable SMTP AUTH in
		 * Exchange Online": 535 5.7.139 Authentication
		 * unsuccessful, SmtpClientAuthentication is disabled. */
		if (has(f->message, "5.7.139")) {
			snprintf(buf, size,
			    "Microsoft has SMTP AUTH turned off for this "
			    "mailbox or the whole organisation: an "
			    "administrator turns on \"Authenticated SMTP\" "
			    "for the mailbox in the Microsoft 365 admin "
			    "center, or use OAuth2 (auth = xoauth2, "
			    "mailsub.conf(5))");
			return buf;
		}
		/* support.google.com/mail/answer/185833: 535 5.7.8
		 * "Username and Password not accepted" for an account
		 * password once 2-step verification is on. */
		if (reply_is(f->message, "535") && is_google(f)) {
			snprintf(buf, size,
			    "Google takes an app password here, not the "
			    "account's password: turn on 2-step verification "
			    "and make one at "
			    "https://myaccount.google.com/apppasswords, or "
			    "use OAuth2 (auth = xoauth2)");
			return buf;
		}
	}
	/* A server that refuses a client which did not log in often says
	 * only "Access denied" (554 5.7.1, RFC 3463 5.7.1: delivery not
	 * authorized) to the first RCPT, or 530 (RFC 4954 6).  The server's
	 * refusal, not a line of ours that has a number in it ("message is
	 * 5301234 bytes"). */
	if (f->class == ERROR_CLASS_PERMFAIL && f->acct != NULL &&
	    f->acct->user == NULL &&
	    (f->phase == SUBMIT_PHASE_RCPT || f->phase == SUBMIT_PHASE_MAIL) &&
	    ((reply_is(f->message, "554") &&
		 has(f->message, "access denied")) ||
		reply_is(f->message, "530"))) {
		snprintf(buf, size,
		    "this account does not log in (no user), and the server "
		    "probably wants it to: set user and a password source "
		    "(mailsub.conf(5))");
		return buf;
	}
	/* mailsub.conf(5), PROVIDERS: the note is what error messages
	 * remind about.  For every failure the caller is told is a login's
	 * (77, mailsub(1)), the server's or ours (no OAuth2 token yet). */
	if (f->exit_code == EX_NOPERM && f->acct != NULL &&
	    f->acct->provider != NULL &&
	    (note = config_provider_note(f->acct->provider)) != NULL) {
		snprintf(buf, size, "%s: %s", f->acct->provider, note);
		return buf;
	}
	return NULL;
}
