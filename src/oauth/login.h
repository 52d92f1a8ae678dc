/* SPDX-License-Identifier: ISC */
/*
 * mailsub --oauth2-login ACCOUNT [--paste | --device]: sign in to the
 * account's OAuth2 provider once, so that mailsub keeps its token fresh
 * from then on (oauth.h).  Prints its instructions; the one error line is
 * main.c's.
 */
#ifndef MAILSUB_LOGIN_H
#define MAILSUB_LOGIN_H

#include <stdio.h>

struct error;
struct options;

/* Load the configuration, find the account named by --oauth2-login and
 * sign in: the browser on the loopback listener, --paste, or --device.
 * Instructions to out, a pasted address from stdin. */
int login_run(const struct options *opts, FILE *out, struct error *err);

#endif
