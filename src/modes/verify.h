/* SPDX-License-Identifier: ISC */
/*
 * -bv: verify without sending.  Load the configuration, choose the
 * account, check the sender and recipient syntax (with aliases and
 * default_domain), connect and authenticate to the relay, QUIT.  Nothing
 * is read from stdin and nothing is sent.
 */
#ifndef MAILSUB_VERIFY_H
#define MAILSUB_VERIFY_H

#include <stdio.h>

struct error;
struct options;

/*
 * Run the checks in order and write what was verified to out: one line
 * per recipient as completed ("mailsub: ACCOUNT: recipient ADDR") and
 * "mailsub: ACCOUNT: HOST:PORT: verified (...)".  Returns 0, or -1 with
 * err set to the failure's exit code and "ACCOUNT: ..." text.
 */
int verify_run(const struct options *opts, FILE *out, struct error *err);

#endif
