/*
 * TLS and SASL on demand.  tls.c with GnuTLS is built into mailsub-tls.so,
 * auth.c with libgsasl into mailsub-sasl.so; the mailsub binary loads each
 * the first time a run needs it, and tlsmod.c holds the entry points of
 * tls.h and auth.h that forward to them.  A plain run maps neither
 * library, a TLS run without AUTH maps no libgsasl (nor the libraries it
 * pulls in): loading and relocating them costs more CPU than the rest of
 * a plain submission (bench/RESULTS.md, floors).  The unit tests link
 * tls.c and auth.c directly.
 */
#ifndef MAILSUB_TLSMOD_H
#define MAILSUB_TLSMOD_H

#include "account.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "smtp.h"

/* The modules' file names, looked for beside the running executable (the
 * build tree, or a relocated install), then in PKGLIBDIR. */
#define TLSMOD_TLS_NAME  "mailsub-tls.so"
#define TLSMOD_SASL_NAME "mailsub-sasl.so"

/*
 * Both sides must agree on the structures they pass: the module exports
 * tlsmod_abi(), computed from the same expression when it was built, and a
 * module from another build is refused rather than trusted.
 */
#define TLSMOD_ABI                                                             \
	((unsigned long)sizeof(struct account) * 1u +                          \
	    (unsigned long)sizeof(struct conn) * 3u +                          \
	    (unsigned long)sizeof(struct transport) * 7u +                     \
	    (unsigned long)sizeof(struct tls_info) * 11u +                     \
	    (unsigned long)sizeof(struct smtp_caps) * 13u +                    \
	    (unsigned long)sizeof(struct smtp_reply) * 17u +                   \
	    (unsigned long)sizeof(struct error) * 19u +                        \
	    (unsigned long)sizeof(struct buf) * 23u)

/* In each module (tlsmod_abi.c): TLSMOD_ABI as the module saw it, and the
 * package version it was built from. */
unsigned long tlsmod_abi(void);
const char *tlsmod_version(void);

/* In the binary (tlsmod.c): whether a module is loaded (for tests and
 * -v). */
bool tlsmod_loaded(void);

#endif
