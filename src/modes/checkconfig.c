/* SPDX-License-Identifier: ISC */
/*
 * --check-config: every problem of the configuration in one run.  A load
 * error stops at the first problem (config_load is strict and says where);
 * after that every account is checked on its own so one bad account does
 * not hide another.  The findings are collected first, then written as
 * text or as one JSON object (--json).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "aliases.h"
#include "buf.h"
#include "checkconfig.h"
#include "cli.h"
#include "config.h"
#include "error.h"
#include "oauth.h"
#include "text.h"

enum severity {
	SEV_NOTE,
	SEV_WARNING,
	SEV_ERROR,
};

struct finding {
	enum severity severity;
	char *file; /* NULL: the config file */
	unsigned line;
	const char *account; /* borrowed from the config */
	const char *key;
	char *message;
};

struct report {
	const char *path; /* the config file, or NULL if none was found */
	struct finding *f;
	size_t n;
	struct buf text; /* the text form, in order */
	bool oom;
};

static const char *const sev_names[] = {"note", "warning", "error"};

static void
add(struct report *r, enum severity sev, const char *file, unsigned line,
    const char *account, const char *key, const char *message)
{
	struct finding *tmp;

	if (r->oom)
		return;
	tmp = realloc(r->f, (r->n + 1) * sizeof(*tmp));
	if (tmp == NULL) {
		r->oom = true;
		return;
	}
	r->f = tmp;
	tmp[r->n].severity = sev;
	tmp[r->n].line = line;
	tmp[r->n].account = account;
	tmp[r->n].key = key;
	tmp[r->n].file = file != NULL ? strdup(file) : NULL;
	tmp[r->n].message = strdup(message);
	if (tmp[r->n].message == NULL ||
	    (file != NULL && tmp[r->n].file == NULL)) {
		free(tmp[r->n].file);
		free(tmp[r->n].message);
		r->oom = true;
		return;
	}
	r->n++;
}

static void text(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text(struct report *r, const char *fmt, ...)
{
	char line[ERROR_MESSAGE_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (buf_appends(&r->text, line, NULL) == -1 ||
	    buf_addch(&r->text, '\n', NULL) == -1)
		r->oom = true;
}

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

static const char *
tls_key(enum account_tls tls)
{
	switch (tls) {
	case ACCOUNT_TLS_ON:
		return "on";
	case ACCOUNT_TLS_OFF:
		return "off";
	case ACCOUNT_TLS_STARTTLS:
		break;
	}
	return "starttls";
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

/* One account: its files, its aliases, its provider's note. */
static void
check_account(
    struct report *r, const struct config *cfg, const struct account *a)
{
	struct error err;
	struct aliases *al = NULL;
	const char *note;
	char line[ERROR_MESSAGE_MAX * 2];

	text(r, "[%s]: %s:%u, %s%s%s%s", a->name,
	    a->n_hosts > 0 ? a->hosts[0] : "(no host)", a->port,
	    tls_name(a->tls), a->user ? ", user " : "", a->user ? a->user : "",
	    cfg->default_account != NULL &&
		    strcasecmp(cfg->default_account, a->name) == 0
		? " (default)"
		: "");
	error_clear(&err);
	if (config_check_account_files(a, &err) == -1) {
		text(r, "%s: %s", a->config_path, err.message);
		add(r, SEV_ERROR, NULL, 0, a->name, NULL, err.message);
	}
	error_clear(&err);
	if (a->aliases != NULL && aliases_load(a->aliases, &al, &err) == -1) {
		text(r, "%s", err.message);
		add(r, SEV_ERROR, a->aliases, 0, a->name, "aliases",
		    err.message);
	} else if (al != NULL) {
		/* Skipped lines are notes: an MTA's aliases file holds
		 * entries a null client has no use for, and the rest of the
		 * file works. */
		size_t n, all, i;
		const char *const *w = aliases_warnings(al, &n, &all);
		char esc[ALIASES_WARNING_MAX * 4 + 1];

		for (i = 0; i < n; i++) {
			error_escape(esc, sizeof(esc), w[i], strlen(w[i]));
			text(r, "note: %s", esc);
			add(r, SEV_NOTE, a->aliases, 0, a->name, "aliases",
			    w[i]);
		}
		if (all > n) {
			snprintf(line, sizeof(line),
			    "%s: %zu more lines or targets skipped", a->aliases,
			    all - n);
			text(r, "note: %s", line);
			add(r, SEV_NOTE, a->aliases, 0, a->name, "aliases",
			    line);
		}
	}
	aliases_free(al);
	if (a->default_domain_mailname) {
		snprintf(line, sizeof(line), "default_domain is %s, from %s",
		    a->default_domain, config_mailname_path);
		text(r, "[%s]: %s", a->name, line);
		add(r, SEV_NOTE, NULL, 0, a->name, "default_domain", line);
	}
	if (oauth_enabled(a) && a->auth == ACCOUNT_AUTH_LIST) {
		char state[ERROR_MESSAGE_MAX];
		char path[4096];
		int bad;

		error_clear(&err);
		if (oauth_token_path(a, path, sizeof(path), &err) == -1)
			snprintf(path, sizeof(path), "(none)");
		bad = oauth_status(a, state, sizeof(state));
		snprintf(line, sizeof(line), "OAuth2 token %.400s: %.500s",
		    path, state);
		text(r, "[%s]: %s", a->name, line);
		add(r, bad ? SEV_WARNING : SEV_NOTE, NULL, 0, a->name,
		    "oauth2_client_id", line);
	} else if (needs_token(a)) {
		snprintf(line, sizeof(line),
		    "auth = XOAUTH2 or OAUTHBEARER needs a token: set "
		    "oauth2_client_id and run mailsub --oauth2-login %s "
		    "(mailsub.conf(5), OAUTH2), or a password_command that "
		    "prints one",
		    a->name);
		text(r, "[%s]: %s", a->name, line);
		add(r, SEV_ERROR, NULL, 0, a->name, "auth", line);
	}
	if (a->provider != NULL &&
	    (note = config_provider_note(a->provider)) != NULL) {
		snprintf(
		    line, sizeof(line), "provider %s: %s", a->provider, note);
		text(r, "[%s]: %s", a->name, line);
		add(r, SEV_NOTE, NULL, 0, a->name, "provider", line);
	}
}

/* What the load found besides errors, in the order of the file. */
static void
check_findings(struct report *r, const struct config *cfg)
{
	char line[ERROR_MESSAGE_MAX * 2];
	size_t i;

	for (i = 0; i < cfg->n_findings; i++) {
		const struct config_finding *f = &cfg->findings[i];

		config_finding_format(cfg, f, line, sizeof(line));
		text(r, "%s: %s",
		    f->severity == CONFIG_WARNING ? "warning" : "note", line);
		add(r, f->severity == CONFIG_WARNING ? SEV_WARNING : SEV_NOTE,
		    NULL, f->line, f->account, f->key, f->message);
	}
}

/* JSON ------------------------------------------------------------------- */

static int
json_str(struct buf *b, const char *s, struct error *err)
{
	if (s == NULL)
		return buf_appends(b, "null", err);
	return text_json_string(b, s, err);
}

static int
json_file(struct buf *b, bool *first, const char *path, const char *kind,
    const char *account, struct error *err)
{
	if (path == NULL)
		return 0;
	if (buf_appends(b, *first ? "" : ",", err) == -1 ||
	    buf_appends(b, "{\"path\":", err) == -1 ||
	    json_str(b, path, err) == -1 ||
	    buf_appends(b, ",\"kind\":", err) == -1 ||
	    json_str(b, kind, err) == -1 ||
	    buf_appends(b, ",\"account\":", err) == -1 ||
	    json_str(b, account, err) == -1 || buf_addch(b, '}', err) == -1)
		return -1;
	*first = false;
	return 0;
}

static int
json_files(struct buf *b, const struct report *r, const struct config *cfg,
    struct error *err)
{
	bool first = true;
	size_t i;

	if (buf_appends(b, "\"files\":[", err) == -1 ||
	    json_file(b, &first, r->path, "config", NULL, err) == -1)
		return -1;
	for (i = 0; cfg != NULL && i < cfg->n_accounts; i++) {
		const struct account *a = cfg->accounts[i];

		if (json_file(b, &first, a->password_file, "password_file",
			a->name, err) == -1 ||
		    json_file(b, &first, a->tls_trust_file, "tls_trust_file",
			a->name, err) == -1 ||
		    json_file(b, &first, a->tls_cert_file, "tls_cert_file",
			a->name, err) == -1 ||
		    json_file(b, &first, a->tls_key_file, "tls_key_file",
			a->name, err) == -1 ||
		    json_file(b, &first, a->aliases, "aliases", a->name, err) ==
			-1 ||
		    json_file(b, &first, a->logfile, "logfile", a->name, err) ==
			-1 ||
		    json_file(b, &first, a->queue_dir, "queue_dir", a->name,
			err) == -1)
			return -1;
	}
	return buf_addch(b, ']', err);
}

static int
json_accounts(struct buf *b, const struct config *cfg, struct error *err)
{
	size_t i, j;

	if (buf_appends(b, "\"accounts\":[", err) == -1)
		return -1;
	for (i = 0; cfg != NULL && i < cfg->n_accounts; i++) {
		const struct account *a = cfg->accounts[i];
		bool dflt = cfg->default_account != NULL &&
			    strcasecmp(cfg->default_account, a->name) == 0;

		if (buf_appends(b, i ? ",{\"name\":" : "{\"name\":", err) ==
			-1 ||
		    json_str(b, a->name, err) == -1 ||
		    buf_appends(b, ",\"hosts\":[", err) == -1)
			return -1;
		for (j = 0; j < a->n_hosts; j++)
			if ((j > 0 && buf_addch(b, ',', err) == -1) ||
			    json_str(b, a->hosts[j], err) == -1)
				return -1;
		if (buf_printf(b, err, "],\"port\":%u,\"tls\":", a->port) ==
			-1 ||
		    json_str(b, tls_key(a->tls), err) == -1 ||
		    buf_appends(b, ",\"provider\":", err) == -1 ||
		    json_str(b, a->provider, err) == -1 ||
		    buf_appends(b, ",\"user\":", err) == -1 ||
		    json_str(b, a->user, err) == -1 ||
		    buf_appends(b, ",\"from\":", err) == -1 ||
		    json_str(b, a->from, err) == -1 ||
		    buf_appends(b, ",\"default_domain\":", err) == -1 ||
		    json_str(b, a->default_domain, err) == -1 ||
		    buf_appends(b, ",\"default_domain_from\":", err) == -1 ||
		    json_str(b,
			a->default_domain == NULL    ? NULL
			: a->default_domain_mailname ? config_mailname_path
						     : "default_domain",
			err) == -1 ||
		    buf_printf(b, err, ",\"default\":%s}",
			dflt ? "true" : "false") == -1)
			return -1;
	}
	return buf_addch(b, ']', err);
}

static int
json_problems(struct buf *b, const struct report *r, struct error *err)
{
	size_t i;

	if (buf_appends(b, "\"problems\":[", err) == -1)
		return -1;
	for (i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];

		if (buf_appends(b,
			i ? ",{\"severity\":" : "{\"severity\":", err) == -1 ||
		    json_str(b, sev_names[f->severity], err) == -1 ||
		    buf_appends(b, ",\"file\":", err) == -1 ||
		    json_str(b, f->file != NULL ? f->file : r->path, err) == -1)
			return -1;
		if (f->line != 0
			? buf_printf(b, err, ",\"line\":%u", f->line) == -1
			: buf_appends(b, ",\"line\":null", err) == -1)
			return -1;
		if (buf_appends(b, ",\"account\":", err) == -1 ||
		    json_str(b, f->account, err) == -1 ||
		    buf_appends(b, ",\"key\":", err) == -1 ||
		    json_str(b, f->key, err) == -1 ||
		    buf_appends(b, ",\"message\":", err) == -1 ||
		    json_str(b, f->message, err) == -1 ||
		    buf_addch(b, '}', err) == -1)
			return -1;
	}
	return buf_addch(b, ']', err);
}

static int
write_json(const struct report *r, const struct config *cfg, bool ok, FILE *out,
    struct error *err)
{
	struct buf b;
	int rc = -1;

	buf_init(&b, 16 * 1024 * 1024);
	if (buf_addch(&b, '{', err) == -1 ||
	    json_files(&b, r, cfg, err) == -1 ||
	    buf_addch(&b, ',', err) == -1 ||
	    json_accounts(&b, cfg, err) == -1 ||
	    buf_addch(&b, ',', err) == -1 || json_problems(&b, r, err) == -1 ||
	    buf_printf(&b, err, ",\"ok\":%s}\n", ok ? "true" : "false") == -1)
		goto out;
	if (fwrite(b.data, 1, b.len, out) != b.len) {
		error_set(err, EX_IOERR, "cannot write the result");
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* An error "PATH:LINE: what" (or "PATH: what") of the config file as
 * file, line and message. */
static void
add_load_error(struct report *r, const struct error *lerr)
{
	const char *m = lerr->message;
	size_t plen = r->path != NULL ? strlen(r->path) : 0;
	unsigned line = 0;
	char *end;

	if (plen > 0 && strncmp(m, r->path, plen) == 0 && m[plen] == ':') {
		m += plen + 1;
		if (*m >= '0' && *m <= '9') {
			unsigned long l = strtoul(m, &end, 10);

			if (*end == ':' && l <= 0xffffffUL) {
				line = (unsigned)l;
				m = end + 1;
			}
		}
		while (*m == ' ')
			m++;
	}
	add(r, SEV_ERROR, NULL, line, NULL, NULL, m);
}

int
checkconfig_run(const struct options *opts, FILE *out, struct error *err)
{
	struct report r;
	struct config *cfg = NULL;
	struct error lerr;
	char *path = NULL;
	bool system = false;
	size_t i, notes = 0, bad = 0;

	memset(&r, 0, sizeof(r));
	buf_init(&r.text, 16 * 1024 * 1024);
	error_clear(&lerr);
	if (config_locate(opts->config_file, &path, &system, &lerr) == 0) {
		r.path = path;
		config_load(path, system, &cfg, &lerr);
	}
	if (cfg == NULL) {
		/* Nothing more can be checked: the load's own error. */
		*err = lerr;
		if (opts->json) {
			add_load_error(&r, &lerr);
			if (!r.oom)
				write_json(&r, NULL, false, out, &lerr);
		}
		goto out;
	}
	text(&r, "%s: %zu account%s", cfg->path, cfg->n_accounts,
	    cfg->n_accounts == 1 ? "" : "s");
	check_findings(&r, cfg);
	for (i = 0; i < cfg->n_accounts; i++)
		check_account(&r, cfg, cfg->accounts[i]);
	{
		/* What a caller without -a (cron, sudo, PHP) gets. */
		const struct account *a;
		struct error serr;

		error_clear(&serr);
		if (config_select(cfg, opts->account, NULL, &a, &serr) == -1) {
			text(&r, "%s", serr.message);
			add_load_error(&r, &serr);
		}
	}
	for (i = 0; i < r.n; i++) {
		if (r.f[i].severity == SEV_NOTE)
			notes++;
		else
			bad++;
	}
	if (bad == 0)
		text(&r, "%s: ok%s", cfg->path,
		    notes > 0 ? " (with notes)" : "");
	if (r.oom) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (opts->json) {
		if (write_json(&r, cfg, bad == 0, out, err) == -1)
			goto out;
	} else if (fwrite(r.text.data, 1, r.text.len, out) != r.text.len) {
		error_set(err, EX_IOERR, "cannot write the result");
		goto out;
	}
	/* A warning counts: mailsub would do other than the file says. */
	if (bad > 0)
		error_set(err, EX_CONFIG, "%s: %zu problem%s found", cfg->path,
		    bad, bad == 1 ? "" : "s");
out:
	if (fflush(out) == EOF && !error_is_set(err))
		error_set(err, EX_IOERR, "cannot write the result");
	for (i = 0; i < r.n; i++) {
		free(r.f[i].file);
		free(r.f[i].message);
	}
	free(r.f);
	buf_free(&r.text);
	config_free(cfg);
	free(path);
	return error_is_set(err) ? -1 : 0;
}
