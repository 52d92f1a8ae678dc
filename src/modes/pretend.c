/* SPDX-License-Identifier: ISC */
/*
 * -P: the resolved account as mailsub.conf(5) would write it, so what a
 * run will do can be read before it does it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "pretend.h"

static const char *
tls_value(enum account_tls tls)
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

static const char *
facility_name(int f)
{
	static const struct {
		int f;
		const char *name;
	} names[] = {{LOG_MAIL, "mail"}, {LOG_USER, "user"},
	    {LOG_DAEMON, "daemon"}, {LOG_LOCAL0, "local0"},
	    {LOG_LOCAL1, "local1"}, {LOG_LOCAL2, "local2"},
	    {LOG_LOCAL3, "local3"}, {LOG_LOCAL4, "local4"},
	    {LOG_LOCAL5, "local5"}, {LOG_LOCAL6, "local6"},
	    {LOG_LOCAL7, "local7"}};
	size_t i;

	if (f < 0)
		return "off";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].f == f)
			return names[i].name;
	return "on";
}

static void
key(FILE *out, const char *k, const char *v)
{
	if (v != NULL)
		fprintf(out, "%s = %s\n", k, v);
}

static void
list(FILE *out, const char *k, char *const *items, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	fprintf(out, "%s = ", k);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i > 0 ? ", " : "", items[i]);
	fputc('\n', out);
}

static void
print_account(const struct delivery *d, FILE *out)
{
	const struct account *a = d->acct;
	char *const *mechs = a->auth_mechs;

	fprintf(out, "; the account this run would use, from %s\n[%s]\n",
	    a->config_path, a->name);
	list(out, "host", a->hosts, a->n_hosts);
	fprintf(out, "port = %u\ntls = %s\n", a->port, tls_value(a->tls));
	key(out, "provider", a->provider);
	key(out, "domain", a->domain);
	key(out, "source_ip", a->source_ip);
	fprintf(out, "timeout = %u\nconnect_timeout = %u\n", a->timeout,
	    a->connect_timeout);
	key(out, "tls_trust_file", a->tls_trust_file);
	key(out, "tls_fingerprint", a->tls_fingerprint);
	key(out, "tls_cert_file", a->tls_cert_file);
	key(out, "tls_key_file", a->tls_key_file);
	key(out, "tls_priorities", a->tls_priorities);
	key(out, "tls_server_name", a->tls_server_name);
	switch (a->auth) {
	case ACCOUNT_AUTH_DEFAULT:
		fprintf(out, "auth = %s\n", a->user != NULL ? "on" : "off");
		break;
	case ACCOUNT_AUTH_ON:
		fputs("auth = on\n", out);
		break;
	case ACCOUNT_AUTH_OFF:
		fputs("auth = off\n", out);
		break;
	case ACCOUNT_AUTH_LIST:
		list(out, "auth", mechs, a->n_auth_mechs);
		break;
	}
	key(out, "user", a->user);
	/* msmtp(1): "An asterisk will be printed instead of your
	 * password." */
	if (a->has_password)
		fputs("password = *\n", out);
	key(out, "password_file", a->password_file);
	key(out, "password_command", a->password_command);
	if (a->allow_plaintext_auth)
		fputs("allow_plaintext_auth = on\n", out);
	key(out, "from", a->from);
	list(out, "senders", a->senders, a->n_senders);
	key(out, "default_domain", a->default_domain);
	key(out, "aliases", a->aliases);
	key(out, "dsn_notify", a->dsn_notify);
	key(out, "dsn_return", a->dsn_return);
	key(out, "queue_dir", a->queue_dir);
	key(out, "logfile", a->logfile);
	fprintf(out, "syslog = %s\n", facility_name(a->syslog_facility));
	fprintf(out, "; envelope sender: <%s>\n", d->sender);
}

int
pretend_run(const struct options *opts, FILE *out, struct error *err)
{
	struct config *cfg = NULL;
	struct delivery d;
	int rc = -1;

	delivery_init(&d, opts, NULL);
	if (delivery_load_config(opts, &cfg, err) == 0) {
		d.cfg = cfg;
		if (delivery_select(&d, opts->envelope_from, err) == 0 &&
		    delivery_set_sender(&d, opts->envelope_from, err) == 0) {
			print_account(&d, out);
			rc = 0;
		}
	}
	if (fflush(out) == EOF && rc == 0)
		rc = error_set(err, EX_IOERR, "cannot write the result");
	delivery_free(&d);
	config_free(cfg);
	return rc;
}
