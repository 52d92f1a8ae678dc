/*
 * Relay connection with failover.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "net.h"
#include "oauth.h"
#include "relay.h"
#include "tls.h"

/* Only failures that another relay could cure move on to the next host:
 * an unreachable or busy server, or a TLS handshake that did not complete.
 * A permanent refusal (5xx) would be the same everywhere. */
static bool
worth_next_host(const struct error *err, enum submit_phase phase)
{
	if (err->exit_code == EX_TEMPFAIL)
		return true;
	if (err->exit_code == EX_NOHOST)
		return true;
	return phase == SUBMIT_PHASE_TLS && err->exit_code == EX_UNAVAILABLE;
}

static int
open_one(struct relay *r, const char *host, bool verbose,
    enum submit_phase *phase, struct error *err)
{
	struct transport t;
	struct account  *a = &r->acct;

	a->current_host = host;
	snprintf(r->where, sizeof(r->where), "%s:%u", host, a->port);
	*phase = SUBMIT_PHASE_CONNECT;
	log_verbose("connecting to %s (%s)", r->where,
	    a->tls == ACCOUNT_TLS_ON ? "implicit TLS" :
	    a->tls == ACCOUNT_TLS_STARTTLS ? "STARTTLS" : "no TLS");
	if (net_connect(host, a->port, a->source_ip,
		(int)a->connect_timeout * 1000, &t, err) == -1) {
		error_prefix(err, "connect");
		return -1;
	}
	t.starttls = tls_upgrade;
	if (a->tls == ACCOUNT_TLS_ON) {
		*phase = SUBMIT_PHASE_TLS;
		if (tls_upgrade(&t, a, err) == -1) {
			t.close(t.ctx);
			error_prefix(err, "TLS");
			return -1;
		}
	}
	conn_init(&r->conn, &t, (int)a->timeout * 1000);
	relay_next_message(r);
	if (verbose) {
		r->conn.trace = log_transcript;
		r->conn.trace_arg = NULL;
	}
	memset(&r->session, 0, sizeof(r->session));
	r->session.ehlo_name = r->ehlo_name;
	if (submit_open(&r->session, &r->conn, a, err) == -1) {
		*phase = r->session.phase;
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
	    (long long)RELAY_DEADLINE_TIMEOUTS * r->acct.timeout * 1000);
}

/* Keep the failures of earlier hosts: "(after a:25: connect: ...)".  The
 * last attempt stays in front, so the line keeps its HOST:PORT: form. */
static void
add_attempt(char *earlier, size_t size, const struct error *err)
{
	size_t n = strlen(earlier);

	if (n + 3 >= size)
		return;
	snprintf(earlier + n, size - n, "%s%.300s", n ? "; " : "",
	    err->message);
}

int
relay_open(struct relay *r, const struct account *acct, bool verbose,
    struct error *err)
{
	enum submit_phase phase = SUBMIT_PHASE_CONNECT;
	size_t            i;

	memset(r, 0, sizeof(*r));
	r->acct = *acct;
	if (acct->domain != NULL)
		snprintf(r->ehlo_name, sizeof(r->ehlo_name), "%s",
		    acct->domain);
	else
		net_local_fqdn(r->ehlo_name, sizeof(r->ehlo_name));
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
			if (!worth_next_host(err, phase))
				break;
			log_verbose("%s; trying the next host", err->message);
			add_attempt(r->earlier, sizeof(r->earlier), err);
		}
	}
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
