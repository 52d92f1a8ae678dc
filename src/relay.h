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
#include "submit.h"

struct error;

struct relay {
	struct account        acct;     /* shallow copy; current_host set */
	struct conn           conn;
	struct submit_session session;
	char                  ehlo_name[256];
	bool                  connected;
	char                  where[300]; /* "host:port" of the open relay */
};

/*
 * Connect and open the session.  A connection failure, a 4xx/421 greeting
 * or a TLS handshake failure moves on to the next host; a permanent refusal
 * does not.  On failure err names "HOST:PORT: PHASE: reason" of the last
 * attempt; r needs no cleanup.
 */
int relay_open(struct relay *r, const struct account *acct, bool verbose,
    struct error *err);
/* QUIT and close; a no-op on a relay that is not connected. */
void relay_close(struct relay *r);

#endif
