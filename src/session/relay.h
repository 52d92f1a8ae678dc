/* SPDX-License-Identifier: ISC */
/*
 * Reaching the account's relay: each host of the failover list in turn,
 * every address it resolves to, implicit TLS where configured, then the
 * SMTP session up to AUTH.  Joins net, tls, conn and submit; knows nothing
 * of messages or the queue.
 */
#ifndef MAILSUB_RELAY_H
#define MAILSUB_RELAY_H

#include <stdbool.h>

#include "account.h"
#include "conn.h"
#include "error.h"
#include "peer.h"
#include "submit.h"

struct error;

struct relay {
	const struct account *acct; /* relay_open()'s: it must outlive r */
	struct peer peer;	    /* the host being tried, or the last
				       one tried */
	struct conn conn;
	struct submit_session session;
	char ehlo_name[256];
	bool connected;
	char where[300];		 /* "host:port" of the open relay */
	enum submit_phase failed_phase;	 /* where relay_open() failed */
	char earlier[ERROR_MESSAGE_MAX]; /* the failures of the
			      hosts tried before, "; "-separated,
			      or "" */
};

/* mailsub(1), DESCRIPTION: a session (opening and one message) must end
 * within this many times the account's timeout, plus the time the data itself
 * earns (conn_set_deadline); each further message on it gets the same again. */
#define RELAY_DEADLINE_TIMEOUTS 10

/*
 * Connect and open the session.  A connection failure, a 4xx/421 greeting
 * or a TLS handshake failure moves on to the next host; a permanent refusal
 * does not.  On failure err names "HOST:PORT: PHASE: reason" of the last
 * attempt, followed by the earlier ones; r needs no cleanup.  acct is
 * kept, not copied (r->acct, and r->peer borrows from it): it must outlive
 * r.
 */
int relay_open(struct relay *r, const struct account *acct, bool verbose,
    struct error *err);
/* A failure the account's port and TLS mode explain: a greeting that
 * does not come on port 465 without tls = on becomes EX_CONFIG saying
 * "set tls = on".  Called by relay_open(); exported for tests. */
void relay_explain(
    const struct account *a, enum submit_phase phase, struct error *err);

/* Start the deadline of the next message on an open session. */
void relay_next_message(struct relay *r);

/* QUIT and close; a no-op on a relay that is not connected. */
void relay_close(struct relay *r);

#endif
