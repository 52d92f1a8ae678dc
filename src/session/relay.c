/* SPDX-License-Identifier: ISC */
/*
 * Relay connection with failover.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "interrupt.h"
#include "log.h"
#include "net.h"
#include "oauth.h"
#include "relay.h"
#include "tls.h"
#include "tlsmod.h"

/* The socket transport's starttls(), and implicit TLS: the TLS module's
 * upgrade, the module loaded the first time (tlsmod.h). */
static int
upgrade_through_module(
    struct transport *t, const struct peer *peer, struct error *err)
{
	const struct tls_module *tls = tlsmod_tls(err);

	if (tls == NULL)
		return -1;
	return tls->upgrade(t, peer, err);
}

/* Only failures that another relay could cure move on to the next host:
 * an unreachable or busy server, a link that broke or could not be
 * secured, a temporary refusal (error_worth_other_host()).  A permanent
 * refusal, a protocol violation or a local fault would be the same
 * everywhere. */
static bool
worth_next_host(const struct error *err)
{
	if (interrupt_caught())
		return false; /* the run is over, not this host */
	return error_worth_other_host(err);
}

void
relay_explain(
    const struct account *a, enum submit_phase phase, struct error *err)
{
	char msg[ERROR_MESSAGE_MAX];

	/* RFC 8314 7.3: a server on 465 waits for the TLS ClientHello and
	 * says nothing; waiting for its greeting can only time out or end
	 * in its hanging up.  No retry cures that: it is the account. */
	if (phase == SUBMIT_PHASE_GREETING && err->exit_code == EX_TEMPFAIL &&
	    a->port == 465 && a->tls != ACCOUNT_TLS_ON) {
		snprintf(msg, sizeof(msg),
		    "%.300s; port 465 speaks TLS from the first byte: set "
		    "tls = on",
		    err->message);
		error_set(err, EX_CONFIG, "%s", msg);
	}
}

static int
open_one(struct relay *r, const char *host, bool verbose,
    enum submit_phase *phase, struct error *err)
{
	struct transport t;
	const struct peer *p = &r->peer;

	peer_from_account(&r->peer, r->acct, host);
	snprintf(r->where, sizeof(r->where), "%s:%u", p->host, p->port);
	*phase = SUBMIT_PHASE_CONNECT;
	log_verbose("connecting to %s (%s)", r->where,
	    p->tls == ACCOUNT_TLS_ON	     ? "implicit TLS"
	    : p->tls == ACCOUNT_TLS_STARTTLS ? "STARTTLS"
					     : "no TLS");
	if (net_connect(p->host, p->port, p->source_ip,
		(int)p->connect_timeout * 1000, &t, err) == -1) {
		error_prefix(err, "connect");
		return -1;
	}
	t.starttls = upgrade_through_module;
	if (p->tls == ACCOUNT_TLS_ON) {
		*phase = SUBMIT_PHASE_TLS;
		if (upgrade_through_module(&t, p, err) == -1) {
			t.close(t.ctx);
			error_prefix(err, "TLS");
			return -1;
		}
	}
	conn_init(&r->conn, &t, (int)p->timeout * 1000);
	relay_next_message(r);
	if (verbose) {
		r->conn.trace = log_transcript;
		r->conn.trace_arg = NULL;
	}
	memset(&r->session, 0, sizeof(r->session));
	r->session.ehlo_name = r->ehlo_name;
	if (submit_open(&r->session, &r->conn, r->acct, p, err) == -1) {
		*phase = r->session.phase;
		relay_explain(r->acct, *phase, err);
		conn_free(&r->conn);
		return -1;
	}
	r->connected = true;
	return 0;
}

void
relay_next_message(struct relay *r)
{
	conn_set_deadline(&r->conn,
	    (long long)RELAY_DEADLINE_TIMEOUTS * r->peer.timeout * 1000);
}

/* Keep the failures of earlier hosts: "(after a:25: connect: ...)".  The
 * last attempt stays in front, so the line keeps its HOST:PORT: form. */
static void
add_attempt(char *earlier, size_t size, const struct error *err)
{
	size_t n = strlen(earlier);

	if (n + 3 >= size)
		return;
	snprintf(
	    earlier + n, size - n, "%s%.300s", n ? "; " : "", err->message);
}

int
relay_open(struct relay *r, const struct account *acct, bool verbose,
    struct error *err)
{
	enum submit_phase phase = SUBMIT_PHASE_CONNECT;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->acct = acct;
	if (acct->domain != NULL)
		snprintf(
		    r->ehlo_name, sizeof(r->ehlo_name), "%s", acct->domain);
	else {
		net_local_fqdn(r->ehlo_name, sizeof(r->ehlo_name));
		/* RFC 5321 4.1.4: the client's FQDN.  A host name without
		 * a dot is none: the system's mail domain is closer. */
		if (acct->mailname != NULL &&
		    (strchr(r->ehlo_name, '.') == NULL ||
			strcmp(r->ehlo_name, "localhost.localdomain") == 0))
			snprintf(r->ehlo_name, sizeof(r->ehlo_name), "%s",
			    acct->mailname);
	}
	if (acct->n_hosts == 0)
		return error_set(err, EX_CONFIG, "no host configured");
	/* Any HTTPS to the token endpoint before the SMTP session, not in
	 * the middle of it (oauth.h). */
	if (oauth_prepare(acct, err) == -1)
		return -1;
	for (i = 0; i < acct->n_hosts; i++) {
		error_clear(err);
		if (open_one(r, acct->hosts[i], verbose, &phase, err) == 0)
			return 0;
		error_prefix(err, "%s", r->where);
		if (i + 1 < acct->n_hosts) {
			if (!worth_next_host(err))
				break;
			log_verbose("%s; trying the next host", err->message);
			add_attempt(r->earlier, sizeof(r->earlier), err);
		}
	}
	r->failed_phase = phase;
	if (r->earlier[0] != '\0') {
		char msg[ERROR_MESSAGE_MAX];

		snprintf(msg, sizeof(msg), "%.250s (after %.250s)",
		    err->message, r->earlier);
		memcpy(err->message, msg, sizeof(err->message));
	}
	return -1;
}

void
relay_close(struct relay *r)
{
	if (!r->connected)
		return;
	submit_close(&r->session);
	conn_free(&r->conn);
	r->connected = false;
}
