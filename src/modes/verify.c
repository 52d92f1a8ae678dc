/* SPDX-License-Identifier: ISC */
/*
 * -bv: everything a delivery does before it reads the message, plus the
 * relay login, so an administrator can test a setup (and cron's or
 * sudo's bare "root") without sending anything.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "relay.h"
#include "verify.h"

static int
verify_delivery(struct delivery *d, FILE *out, struct error *err)
{
	const struct options *o = d->opts;
	struct relay relay;
	size_t i;

	if (delivery_select(d, o->envelope_from, err) == -1)
		return -1;
	if (delivery_set_sender(d, o->envelope_from, err) == -1)
		return -1;
	for (i = 0; i < o->n_recipients; i++)
		if (delivery_add_recipients(d, o->recipients[i], err) == -1)
			return -1;
	fprintf(out, "mailsub: %s: sender %s\n", d->acct->name,
	    d->sender[0] != '\0' ? d->sender : "<>");
	for (i = 0; i < d->rcpts.n; i++)
		fprintf(out, "mailsub: %s: recipient %s\n", d->acct->name,
		    d->rcpts.addrs[i]);
	if (relay_open(&relay, d->acct, o->verbose, err) == -1) {
		delivery_hint(d, &relay, relay.failed_phase, err);
		return -1;
	}
	fprintf(out, "mailsub: %s: %s: verified (%s%s%s)\n", d->acct->name,
	    relay.where, relay.session.tls_active ? "TLS" : "no TLS",
	    relay.session.authenticated ? ", authenticated as " : ", no login",
	    relay.session.authenticated && d->acct->user ? d->acct->user : "");
	relay_close(&relay);
	return 0;
}

int
verify_run(const struct options *opts, FILE *out, struct error *err)
{
	struct config *cfg = NULL;
	struct delivery d;
	int rc = -1;

	delivery_init(&d, opts, NULL);
	if (delivery_load_config(opts, &cfg, err) == 0) {
		d.cfg = cfg;
		rc = verify_delivery(&d, out, err);
		if (rc == -1 && d.hint[0] != '\0') {
			size_t n = strlen(err->message);

			snprintf(err->message + n, sizeof(err->message) - n,
			    "; hint: %s", d.hint);
		}
		if (rc == -1 && d.acct != NULL)
			error_prefix(err, "%s", d.acct->name);
	}
	if (fflush(out) == EOF && rc == 0)
		rc = error_set(err, EX_IOERR, "cannot write the result");
	delivery_free(&d);
	config_free(cfg);
	return rc;
}
