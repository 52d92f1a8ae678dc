/* SPDX-License-Identifier: ISC */
/*
 * The loadable modules and their loader.  tls.c with GnuTLS is built into
 * mailsub-tls.so, auth.c with libgsasl into mailsub-sasl.so, oauth_http.c
 * and oauth_flow.c with libcurl and jansson into mailsub-oauth.so (struct
 * oauth_module in oauth_module.h).  Each module
 * exports one symbol, a const struct of entry points named
 * mailsub_NAME_module (struct tls_module in tls.h, struct sasl_module in
 * auth.h) whose first member is a struct module_head.  The core asks the
 * loader for the struct (tlsmod_tls(), tlsmod_sasl()) where it needs the
 * module and calls through it: tls->upgrade(...).  The loader (tlsmod.c,
 * in the binary) dlopens the file the first time, so a plain run maps
 * neither library and a TLS run without AUTH maps no libgsasl (nor the
 * libraries it pulls in): loading and relocating them costs more CPU than
 * the rest of a plain submission (bench/RESULTS.md, floors).  The unit
 * tests link tls.c and auth.c, and tlsmod_linked.c hands them the same
 * structs without dlopen.
 *
 * A new module: its header declares struct NAME_module (a struct
 * module_head first, then function pointers) and NAME_MODULE_ABI, its
 * source defines mailsub_NAME_module with TLSMOD_EXPORT; tlsmod.c gets
 * one line in its table and a tlsmod_NAME(), tlsmod_linked.c the same
 * function, Makefile.am the .so.
 */
#ifndef MAILSUB_TLSMOD_H
#define MAILSUB_TLSMOD_H

#include <stdbool.h>
#include <stddef.h>

struct error;
struct oauth_module;
struct sasl_module;
struct tls_module;

/* The modules' file names, looked for beside the running executable (the
 * build tree, or a relocated install), then in PKGLIBDIR. */
#define TLSMOD_TLS_NAME	  "mailsub-tls.so"
#define TLSMOD_SASL_NAME  "mailsub-sasl.so"
#define TLSMOD_OAUTH_NAME "mailsub-oauth.so"

/*
 * What the loader checks before it trusts a module: abi must be the
 * NAME_MODULE_ABI the binary was built with, version its PACKAGE_VERSION;
 * a module from another build is refused.  Each NAME_MODULE_ABI is an
 * explicit number, bumped (in the same commit) whenever its struct, any
 * type passed through it or reachable from one (struct account, peer,
 * conn, transport, tls_info, smtp_caps, smtp_reply, error, buf, sasl_mech), or
 * a function or table of the binary the module calls (tlsmod.c,
 * module_imports) changes.  This struct itself never changes.
 */
struct module_head {
	unsigned abi;	     /* NAME_MODULE_ABI */
	const char *version; /* PACKAGE_VERSION */
};

/* On the module's struct: the one symbol the module exports (modules are
 * built with -fvisibility=hidden). */
#define TLSMOD_EXPORT __attribute__((visibility("default")))

/*
 * The module's entry points, loading it on first use; NULL with err set
 * (EX_SOFTWARE: cannot load it, or it is from another build).  A failure
 * is not remembered: the next call tries again.
 */
const struct tls_module *tlsmod_tls(struct error *err);
const struct sasl_module *tlsmod_sasl(struct error *err);
const struct oauth_module *tlsmod_oauth(struct error *err);

/* In the binary (tlsmod.c): whether a module is loaded (for tests and
 * -v). */
bool tlsmod_loaded(void);

/* In the binary (tlsmod.c): the path the module file (TLSMOD_*_NAME) is
 * loaded from in this run, into path (for --version). */
void tlsmod_path(const char *file, char *path, size_t size);

#endif
