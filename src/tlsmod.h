/*
 * TLS and SASL on demand.  tls.c and auth.c, with GnuTLS and libgsasl, are
 * built into a module (mailsub-tls.so) that the mailsub binary loads the
 * first time a run needs TLS or AUTH; tlsmod.c holds the entry points of
 * tls.h and auth.h that forward to it.  A plain run never maps those
 * libraries: loading and relocating them costs more CPU and memory than
 * the rest of a plain submission (bench/RESULTS.md, floors).  The unit
 * tests link tls.c and auth.c directly, as before.
 */
#ifndef MAILSUB_TLSMOD_H
#define MAILSUB_TLSMOD_H

#include "account.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "smtp.h"

/* The module's file name, looked for beside the running executable (the
 * build tree, or a relocated install), then in PKGLIBDIR. */
#define TLSMOD_NAME "mailsub-tls.so"

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

/* In the module (tlsmod_abi.c): TLSMOD_ABI as the module saw it, and the
 * package version it was built from. */
unsigned long tlsmod_abi(void);
const char *tlsmod_version(void);

/* In the binary (tlsmod.c): whether the module is loaded (for tests and
 * -v). */
bool tlsmod_loaded(void);

#endif
