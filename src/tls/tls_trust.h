/* SPDX-License-Identifier: ISC */
/*
 * Trust anchors on demand, for tls_handshake.c.  A bundle such as the system's
 * (/etc/ssl/certs/ca-certificates.crt, some 140 certificates) costs about
 * 70 M instructions to load whole, while a chain needs one or two of its
 * certificates: those whose subject is the issuer (or the subject) of a
 * certificate the server sent.  Loading fewer anchors can only make the
 * verification fail, never pass (GnuTLS still checks every signature),
 * and tls_handshake.c loads the whole bundle when none matches.
 */
#ifndef MAILSUB_TLS_TRUST_H
#define MAILSUB_TLS_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

/* A distinguished name as DER (the Name SEQUENCE, header included),
 * pointing into a certificate. */
struct trust_name {
	const unsigned char *der;
	size_t len;
};

/* The issuer and subject names of a DER certificate; false when it is
 * not one (RFC 5280 4.1 layout). */
bool tls_trust_der_names(const unsigned char *der, size_t size,
    struct trust_name *issuer, struct trust_name *subject);

/* Add to cred, as trust anchors, the certificates of the PEM bundle at
 * path whose subject is one of wanted[0..n_wanted).  The number added (0
 * when none matched), or -1 with errno when the file cannot be read. */
int tls_trust_load_matching(gnutls_certificate_credentials_t cred,
    const char *path, const struct trust_name *wanted, size_t n_wanted);

#endif
