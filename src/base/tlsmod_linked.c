/* SPDX-License-Identifier: ISC */
/*
 * The modules linked in (tlsmod.h): for the unit tests and fuzzers, which
 * link tls.c and auth.c, the loader's functions hand out the modules'
 * structs themselves.  The OAuth2 module's (libcurl, jansson) only to a
 * program that links oauth_http.c: a weak reference, which the others
 * leave unresolved.  In libmailsub.a beside tls.c and auth.c; the binary
 * links tlsmod.c first, which defines the same functions, so the linker
 * never takes this file (nor, through it, GnuTLS or libgsasl) into the
 * binary.
 */
#include "autoconfig.h"

#include "auth.h"
#include "error.h"
#include "oauth_module.h"
#include "tls.h"
#include "tlsmod.h"

const struct tls_module *
tlsmod_tls(struct error *err)
{
	(void)err;
	return &mailsub_tls_module;
}

const struct sasl_module *
tlsmod_sasl(struct error *err)
{
	(void)err;
	return &mailsub_sasl_module;
}

extern const struct oauth_module mailsub_oauth_module __attribute__((weak));

const struct oauth_module *
tlsmod_oauth(struct error *err)
{
	if (&mailsub_oauth_module == NULL) {
		error_set(err, EX_SOFTWARE,
		    "the OAuth2 module is not linked into this program");
		return NULL;
	}
	return &mailsub_oauth_module;
}
