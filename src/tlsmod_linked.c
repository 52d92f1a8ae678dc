/* SPDX-License-Identifier: ISC */
/*
 * The modules linked in (tlsmod.h): for the unit tests and fuzzers, which
 * link tls.c and auth.c, the loader's functions hand out the modules'
 * structs themselves.  In libmailsub.a beside tls.c and auth.c; the binary
 * links tlsmod.c first, which defines the same functions, so the linker
 * never takes this file (nor, through it, GnuTLS or libgsasl) into the
 * binary.
 */
#include "autoconfig.h"

#include "auth.h"
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
