/*
 * Finding and opening mailsub's loadable modules (mailsub-tls.so,
 * mailsub-sasl.so, mailsub-oauth.so): beside the running executable (the
 * build tree, or a relocated install), else in PKGLIBDIR.  What a module
 * exports and how its build is checked is each loader's business
 * (tlsmod.c, oauth.c).
 */
#ifndef MAILSUB_MODULE_H
#define MAILSUB_MODULE_H

struct error;

/* dlopen the module file (RTLD_NOW | RTLD_LOCAL); what names it in the
 * error ("TLS": "cannot load the TLS module: ...", EX_SOFTWARE).  path
 * gets the file's full name, for messages. */
void *module_open(const char *file, const char *what, char *path,
    unsigned long path_size, struct error *err);

#endif
