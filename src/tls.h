/*
 * TLS over a connected socket with GnuTLS: credentials, certificate
 * verification (system store or tls_trust_file, hostname, validity),
 * sha256 pinning, client certificates, session resumption.  The only GnuTLS
 * user; everything else sees a struct transport.
 */
#ifndef MAILSUB_TLS_H
#define MAILSUB_TLS_H

#include "conn.h"

struct account;
struct error;
struct buf;

/*
 * Replace the socket transport *t by a TLS transport over the same
 * descriptor after a complete, verified handshake.  The server name is
 * tls_server_name, else the host being connected to (acct->current_host).
 * Failures are EX_UNAVAILABLE naming the cause (issuer unknown, name
 * mismatch, expired, not yet valid, pin mismatch, handshake alert); a
 * timeout or reset during the handshake is EX_TEMPFAIL.  On failure *t is
 * left as it was (the caller closes it).
 */
int tls_upgrade(struct transport *t, const struct account *acct,
    struct error *err);

/* Describe the peer's certificate chain for --serverinfo (text or JSON
 * fragment) into out. */
int tls_describe_chain(const struct transport *t, bool json, struct buf *out,
    struct error *err);

#endif
