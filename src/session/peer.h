/* SPDX-License-Identifier: ISC */
/*
 * struct peer: the server being tried, as the layers below submit.c see
 * it (net.c, conn.c, the TLS module, and AUTH for the host it names):
 * where to connect, how to secure the link and how long to wait.  Plain
 * data, no behaviour.  relay.c fills one per host of the failover list
 * with peer_from_account(), the one place these are copied from the
 * account; the account itself stays the source of the credentials.
 *
 * Every string is borrowed from the account (and host from its list of
 * hosts): a peer lives no longer than the account it was made from.
 */
#ifndef MAILSUB_PEER_H
#define MAILSUB_PEER_H

#include "account.h"

struct peer {
	const char *account; /* its name: the TLS session ticket is per
				account and server (cache.h) */
	const char *host;    /* the host being tried */
	unsigned port;
	const char *source_ip;	  /* or NULL */
	unsigned timeout;	  /* seconds per I/O step */
	unsigned connect_timeout; /* seconds */

	/* TLS (mailsub.conf(5)): the mode, and each setting NULL when
	 * unset */
	enum account_tls tls;
	const char *tls_trust_file;
	const char *tls_fingerprint; /* "sha256:..." */
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_priorities;
	const char *tls_server_name;
};

/*
 * p for host (one of acct->hosts, or any name the caller chose) on the
 * account's port with its TLS settings and timeouts.  The EHLO name is
 * not here: it names this client, not the server, and relay.c works it
 * out once for all hosts.
 */
void peer_from_account(
    struct peer *p, const struct account *acct, const char *host);

#endif
