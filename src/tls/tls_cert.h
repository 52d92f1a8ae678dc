/* SPDX-License-Identifier: ISC */
/*
 * Certificates in words, for tls.c and tls_handshake.c (inside the TLS
 * module): what a
 * failed verification means, the one-line summary of -v, and the chain
 * --serverinfo prints.
 */
#ifndef MAILSUB_TLS_CERT_H
#define MAILSUB_TLS_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>

struct buf;
struct error;

#define TLS_SHA256_LEN 32

/* SHA-256 of n bytes (a DER certificate, a PKCE verifier); -1 on
 * failure.  Also the module's sha256() (tls.h). */
int tls_sha256(const void *p, size_t n, unsigned char out[TLS_SHA256_LEN]);
/* t as 2006-01-02T15:04:05Z, or "unknown". */
void tls_format_time(time_t t, char *out, size_t size);
/* p[0..n) in upper-case hex, colon-separated if asked; out holds 3n+1. */
void tls_hex(const unsigned char *p, size_t n, bool colons, char *out);
/* The peer's leaf certificate (DER), or NULL. */
const gnutls_datum_t *tls_peer_leaf(gnutls_session_t session);
/* The verification status bits as the causes a user can act on. */
void tls_describe_status(gnutls_session_t session, unsigned status,
    const char *hostname, char *out, size_t size);
/* One line on the leaf certificate (malloc'd), or NULL. */
char *tls_summarise_peer(gnutls_session_t session);
/* Certificate i of a chain (DER) as text, or as one JSON object (a comma
 * before it when i > 0), onto out.  Its names are the server's bytes:
 * escaped for a terminal, or kept valid UTF-8 for JSON (RFC 8259 8.1). */
int tls_describe_cert(struct buf *out, const gnutls_datum_t *der, unsigned i,
    bool json, struct error *err);
/* Every certificate the peer sent, as text or a JSON array, onto out. */
int tls_describe_peers(
    gnutls_session_t session, bool json, struct buf *out, struct error *err);

#endif
