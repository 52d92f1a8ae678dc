/* SPDX-License-Identifier: ISC */
/*
 * Certificates in words (tls_cert.h).
 */
#include "autoconfig.h"

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "tls_cert.h"

int
tls_sha256(const void *p, size_t n, unsigned char out[TLS_SHA256_LEN])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) < 0)
		return -1;
	return 0;
}

void
tls_format_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "unknown");
}

void
tls_hex(const unsigned char *p, size_t n, bool colons, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		if (colons && i > 0)
			*out++ = ':';
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 0xf];
	}
	*out = '\0';
}

/* The peer's leaf certificate (DER), or NULL. */
const gnutls_datum_t *
tls_peer_leaf(gnutls_session_t session)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;

	certs = gnutls_certificate_get_peers(session, &n);
	return certs != NULL && n > 0 ? &certs[0] : NULL;
}

/* Names the certificate covers (DNS and IP subjectAltNames), for the
 * name-mismatch message. */
static void
cert_names(gnutls_x509_crt_t crt, char *out, size_t size)
{
	char name[256];
	size_t len, used = 0;
	unsigned i;
	int type;

	out[0] = '\0';
	for (i = 0; i < 8 && used + 1 < size; i++) {
		len = sizeof(name);
		type = gnutls_x509_crt_get_subject_alt_name(
		    crt, i, name, &len, NULL);
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			name[sizeof(name) - 1] = '\0';
		} else if (type == GNUTLS_SAN_IPADDRESS &&
			   (len == 4 || len == 16)) {
			char ip[INET6_ADDRSTRLEN];

			if (inet_ntop(len == 4 ? AF_INET : AF_INET6, name, ip,
				sizeof(ip)) == NULL)
				continue;
			snprintf(name, sizeof(name), "%s", ip);
		} else {
			continue;
		}
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    used > 0 ? ", " : "", name);
	}
	if (used >= size)
		out[size - 1] = '\0';
}

/* Turn the verification status bits into the causes a user can act on. */
void
tls_describe_status(gnutls_session_t session, unsigned status,
    const char *hostname, char *out, size_t size)
{
	const gnutls_datum_t *leaf = tls_peer_leaf(session);
	gnutls_x509_crt_t crt = NULL;
	char when[32], names[200];
	size_t used = 0;

#define ADD(...)                                                               \
	do {                                                                   \
		if (used < size)                                               \
			used += (size_t)snprintf(out + used, size - used,      \
			    "%s", used > 0 ? "; " : "");                       \
		if (used < size)                                               \
			used += (size_t)snprintf(                              \
			    out + used, size - used, __VA_ARGS__);             \
	} while (0)

	out[0] = '\0';
	if (leaf != NULL &&
	    (gnutls_x509_crt_init(&crt) < 0 ||
		gnutls_x509_crt_import(crt, leaf, GNUTLS_X509_FMT_DER) < 0)) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		crt = NULL;
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		unsigned char fp[TLS_SHA256_LEN];
		char fphex[TLS_SHA256_LEN * 3 + 1];

		ADD("issuer unknown (not signed by a trusted CA; see "
		    "tls_trust_file)");
		/* The pin that would trust this certificate alone, in the
		 * form mailsub.conf(5) takes: for a self-signed server,
		 * once its owner has confirmed it. */
		if (leaf != NULL &&
		    tls_sha256(leaf->data, leaf->size, fp) == 0) {
			tls_hex(fp, sizeof(fp), true, fphex);
			ADD("its pin: tls_fingerprint = sha256:%s", fphex);
		}
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		ADD("issuer is not a CA");
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		names[0] = '\0';
		if (crt != NULL)
			cert_names(crt, names, sizeof(names));
		if (names[0] != '\0')
			ADD("name mismatch (certificate is for %s, not %s)",
			    names, hostname);
		else
			ADD("name mismatch (certificate is not for %s)",
			    hostname);
	}
	if (status & GNUTLS_CERT_EXPIRED) {
		if (crt != NULL) {
			tls_format_time(
			    gnutls_x509_crt_get_expiration_time(crt), when,
			    sizeof(when));
			ADD("expired (not after %s)", when);
		} else
			ADD("expired");
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		if (crt != NULL) {
			tls_format_time(
			    gnutls_x509_crt_get_activation_time(crt), when,
			    sizeof(when));
			ADD("not yet valid (not before %s)", when);
		} else
			ADD("not yet valid");
	}
	if (status & GNUTLS_CERT_REVOKED)
		ADD("revoked");
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		ADD("insecure algorithm");
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		ADD("bad signature");
	if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		ADD("issuer constraints violated");
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		ADD("not a TLS server certificate");
	if (status &
	    (GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID_OCSP_STATUS))
		ADD("OCSP status missing or invalid");
	if (out[0] == '\0') {
		gnutls_datum_t text = {NULL, 0};

		if (gnutls_certificate_verification_status_print(
			status, GNUTLS_CRT_X509, &text, 0) == 0 &&
		    text.data != NULL)
			ADD("%s", (const char *)text.data);
		else
			ADD("verification status 0x%x", status);
		gnutls_free(text.data);
	}
#undef ADD
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
}

/* One line on the leaf certificate, for -v. */
char *
tls_summarise_peer(gnutls_session_t session)
{
	const gnutls_datum_t *leaf = tls_peer_leaf(session);
	gnutls_x509_crt_t crt;
	gnutls_datum_t subject = {NULL, 0}, issuer = {NULL, 0};
	unsigned char fp[TLS_SHA256_LEN];
	char fphex[TLS_SHA256_LEN * 3 + 1], until[32];
	char *s = NULL;
	size_t size;

	if (leaf == NULL || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, leaf, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn3(crt, &subject, 0) == 0 &&
	    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) == 0 &&
	    tls_sha256(leaf->data, leaf->size, fp) == 0) {
		tls_hex(fp, sizeof(fp), false, fphex);
		tls_format_time(gnutls_x509_crt_get_expiration_time(crt), until,
		    sizeof(until));
		size = subject.size + issuer.size + sizeof(fphex) + 100;
		s = malloc(size);
		if (s != NULL)
			snprintf(s, size,
			    "%s, issued by %s, valid until %s, "
			    "sha256:%s",
			    (const char *)subject.data,
			    (const char *)issuer.data, until, fphex);
	}
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	gnutls_x509_crt_deinit(crt);
	return s;
}

int
tls_describe_cert(struct buf *out, const gnutls_datum_t *der, unsigned i,
    bool json, struct error *err)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t subject = {NULL, 0}, issuer = {NULL, 0};
	unsigned char fp[TLS_SHA256_LEN];
	char fphex[TLS_SHA256_LEN * 3 + 1], from[32], until[32];
	char esc_s[600], esc_i[600];
	int rc = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return error_set(err, EX_OSERR, "out of memory");
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn3(crt, &subject, 0) < 0 ||
	    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) < 0 ||
	    tls_sha256(der->data, der->size, fp) == -1) {
		error_set(
		    err, EX_PROTOCOL, "certificate %u cannot be parsed", i);
		goto done;
	}
	/* Printed as mailsub.conf(5)'s tls_fingerprint takes it, so the
	 * line can be pasted into the account. */
	tls_hex(fp, sizeof(fp), true, fphex);
	tls_format_time(
	    gnutls_x509_crt_get_activation_time(crt), from, sizeof(from));
	tls_format_time(
	    gnutls_x509_crt_get_expiration_time(crt), until, sizeof(until));
	if (json) {
		if (buf_printf(out, err, "%s{\"subject\":", i > 0 ? "," : "") ==
			-1 ||
		    text_json_string(out, (const char *)subject.data, err) ==
			-1 ||
		    buf_appends(out, ",\"issuer\":", err) == -1 ||
		    text_json_string(out, (const char *)issuer.data, err) ==
			-1 ||
		    buf_printf(out, err,
			",\"not_before\":\"%s\",\"not_after\":\"%s\","
			"\"sha256\":\"%s\",\"tls_fingerprint\":\"sha256:%s\"}",
			from, until, fphex, fphex) == -1)
			goto done;
	} else {
		/* The server chose these bytes: escape before printing. */
		error_escape(esc_s, sizeof(esc_s), (const char *)subject.data,
		    subject.size);
		error_escape(esc_i, sizeof(esc_i), (const char *)issuer.data,
		    issuer.size);
		if (buf_printf(out, err,
			"certificate %u:\n  subject: %s\n  issuer: %s\n"
			"  not before: %s\n  not after: %s\n"
			"  tls_fingerprint = sha256:%s\n",
			i, esc_s, esc_i, from, until, fphex) == -1)
			goto done;
	}
	rc = 0;
done:
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int
tls_describe_peers(
    gnutls_session_t session, bool json, struct buf *out, struct error *err)
{
	const gnutls_datum_t *certs;
	unsigned n = 0, i;

	certs = gnutls_certificate_get_peers(session, &n);
	if (json && buf_addch(out, '[', err) == -1)
		return -1;
	for (i = 0; certs != NULL && i < n; i++)
		if (tls_describe_cert(out, &certs[i], i, json, err) == -1)
			return -1;
	if (json && buf_addch(out, ']', err) == -1)
		return -1;
	return 0;
}
