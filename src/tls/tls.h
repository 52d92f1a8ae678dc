/* SPDX-License-Identifier: ISC */
/*
 * TLS over a connected socket with GnuTLS: credentials, certificate
 * verification (system store or tls_trust_file, hostname, validity),
 * sha256 pinning, client certificates, session resumption.  The only GnuTLS
 * user; everything else sees a struct transport.  Built into the module
 * mailsub-tls.so, whose one export is mailsub_tls_module: the core gets it
 * from tlsmod_tls() (tlsmod.h) and calls through it; the unit tests link
 * tls.c and may call the functions themselves.
 */
#ifndef MAILSUB_TLS_H
#define MAILSUB_TLS_H

#include "conn.h"
#include "tlsmod.h"

struct error;
struct buf;
struct peer;

/*
 * The version of struct tls_module and of everything passed through it.
 * Bump it whenever struct tls_module, a type it passes or reaches (struct
 * transport, peer, tls_info, error, buf), or a function of the binary
 * that tls.c, tls_handshake.c, tls_cert.c or tls_trust.c calls changes
 * (tlsmod.h).  5: upgrade() takes the peer, not the account.  6: sha256().
 */
#define TLS_MODULE_ABI 6

struct tls_module {
	struct module_head head; /* {TLS_MODULE_ABI, PACKAGE_VERSION} */

	/*
	 * Replace the socket transport *t by a TLS transport over the same
	 * descriptor after a complete, verified handshake, with the peer's
	 * TLS settings (peer.h).  The server name is tls_server_name, else
	 * the host being connected to (peer->host).  Failures are
	 * EX_UNAVAILABLE naming the cause
	 * (issuer unknown, name mismatch, expired, not yet valid, pin
	 * mismatch, handshake alert); a timeout or reset during the
	 * handshake is EX_TEMPFAIL.  On failure *t is left as it was (the
	 * caller closes it).  tls_upgrade().
	 */
	int (*upgrade)(
	    struct transport *t, const struct peer *peer, struct error *err);

	/* Describe the peer's certificate chain for --serverinfo (text or
	 * JSON fragment) into out.  tls_describe_chain(). */
	int (*describe_chain)(const struct transport *t, bool json,
	    struct buf *out, struct error *err);

	/* For --version: the GnuTLS version the module was built with and
	 * the one it runs with.  tls_versions(). */
	void (*versions)(const char **built, const char **loaded);

	/* The SHA-256 of n bytes at p into out, for the OAuth2 module's
	 * PKCE challenge (RFC 7636 4.2), so that GnuTLS has one owner;
	 * -1 when GnuTLS fails.  tls_sha256() (tls_cert.h). */
	int (*sha256)(const void *p, size_t n, unsigned char out[32]);
};

extern TLSMOD_EXPORT const struct tls_module mailsub_tls_module;

/* The entry points themselves, in tls.c and tls_handshake.c (for the unit
 * tests). */
int tls_upgrade(
    struct transport *t, const struct peer *peer, struct error *err);
int tls_describe_chain(
    const struct transport *t, bool json, struct buf *out, struct error *err);
void tls_versions(const char **built, const char **loaded);

#endif
