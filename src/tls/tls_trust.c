/* SPDX-License-Identifier: ISC */
/*
 * Trust anchors on demand (tls_trust.h): from a PEM bundle, only the
 * certificates a given chain can lead to.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "fdio.h"
#include "tls_trust.h"

/* Bundles are a few hundred KiB; anything this large is not one. */
#define TRUST_BUNDLE_MAX (16u << 20)

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END	  "-----END CERTIFICATE-----"

/*
 * One DER tag-length-value at *p (before end): the tag, where the content
 * starts and how long it is; *p moves past it.  Definite lengths of up to
 * four octets, as X.509 uses; false when it does not fit.
 */
static bool
der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
    const unsigned char **content, size_t *len)
{
	const unsigned char *q = *p;
	size_t n = 0;

	if (end - q < 2)
		return false;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f) /* multi-octet tags: not in X.509 */
		return false;
	if (*q < 0x80)
		n = *q++;
	else {
		size_t k = *q++ & 0x7f;

		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return false;
		while (k-- > 0)
			n = (n << 8) | *q++;
	}
	if ((size_t)(end - q) < n)
		return false;
	*content = q;
	*len = n;
	*p = q + n;
	return true;
}

bool
tls_trust_der_names(const unsigned char *der, size_t size,
    struct trust_name *issuer, struct trust_name *subject)
{
	const unsigned char *p = der, *end = der + size, *c, *field;
	size_t len;
	unsigned tag;
	int i;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
	if (!der_next(&p, end, &tag, &c, &len) || tag != 0x30)
		return false;
	p = c;
	end = c + len;
	if (!der_next(&p, end, &tag, &c, &len) || tag != 0x30)
		return false;
	p = c;
	end = c + len;
	/* [0] version (optional), serialNumber, signature, issuer,
	 * validity, subject (RFC 5280 4.1). */
	field = p;
	if (!der_next(&p, end, &tag, &c, &len))
		return false;
	if (tag != 0xa0)
		p = field; /* no version: v1 */
	for (i = 0; i < 5; i++) {
		field = p;
		if (!der_next(&p, end, &tag, &c, &len))
			return false;
		if (i == 2 || i == 4) {
			struct trust_name *out = i == 2 ? issuer : subject;

			if (tag != 0x30)
				return false;
			out->der = field;
			out->len = (size_t)(p - field);
		}
	}
	return true;
}

static bool
name_wanted(const struct trust_name *name, const struct trust_name *wanted,
    size_t n_wanted)
{
	size_t i;

	for (i = 0; i < n_wanted; i++)
		if (wanted[i].len == name->len &&
		    memcmp(wanted[i].der, name->der, name->len) == 0)
			return true;
	return false;
}

/* The whole file, NUL-terminated; NULL with errno set on failure. */
static char *
slurp(const char *path, size_t *size)
{
	struct stat st;
	char *data;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > TRUST_BUNDLE_MAX) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (fdio_read_file(fd, (size_t)st.st_size, &data, &got) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	close(fd);
	*size = got;
	return data;
}

int
tls_trust_load_matching(gnutls_certificate_credentials_t cred, const char *path,
    const struct trust_name *wanted, size_t n_wanted)
{
	size_t size, loaded = 0;
	char *data = slurp(path, &size), *p;

	if (data == NULL)
		return -1;
	for (p = strstr(data, PEM_BEGIN); p != NULL; p = strstr(p, PEM_BEGIN)) {
		char *stop = strstr(p, PEM_END);
		gnutls_datum_t pem, der = {NULL, 0};
		struct trust_name issuer, subject;

		if (stop == NULL)
			break;
		stop += strlen(PEM_END);
		pem.data = (unsigned char *)p;
		pem.size = (unsigned)(stop - p);
		p = stop;
		if (gnutls_pem_base64_decode2("CERTIFICATE", &pem, &der) < 0)
			continue;
		if (tls_trust_der_names(
			der.data, der.size, &issuer, &subject) &&
		    name_wanted(&subject, wanted, n_wanted) &&
		    gnutls_certificate_set_x509_trust_mem(
			cred, &der, GNUTLS_X509_FMT_DER) > 0)
			loaded++;
		gnutls_free(der.data);
	}
	free(data);
	return loaded > 0 ? (int)loaded : 0;
}
