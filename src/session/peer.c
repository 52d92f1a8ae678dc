/* SPDX-License-Identifier: ISC */
/*
 * The server being tried, from the account (peer.h).
 */
#include "autoconfig.h"

#include <string.h>

#include "account.h"
#include "peer.h"

void
peer_from_account(struct peer *p, const struct account *acct, const char *host)
{
	memset(p, 0, sizeof(*p));
	p->account = acct->name;
	p->host = host;
	p->port = acct->port;
	p->source_ip = acct->source_ip;
	p->timeout = acct->timeout;
	p->connect_timeout = acct->connect_timeout;
	p->tls = acct->tls;
	p->tls_trust_file = acct->tls_trust_file;
	p->tls_fingerprint = acct->tls_fingerprint;
	p->tls_cert_file = acct->tls_cert_file;
	p->tls_key_file = acct->tls_key_file;
	p->tls_priorities = acct->tls_priorities;
	p->tls_server_name = acct->tls_server_name;
}
