/* SPDX-License-Identifier: ISC */
/*
 * Hints: one sentence for the failures where the server's words do not
 * say what to do (a 535 from Gmail that wants an app password, Microsoft's
 * 5.7.139, a 554 "Access denied" to a client that did not log in), and
 * the provider preset's note.  Pure: it reads the failure, the phase and
 * the account; the exit code is never changed by a hint.
 */
#ifndef MAILSUB_HINT_H
#define MAILSUB_HINT_H

#include <stddef.h>

#include "error.h"
#include "submit.h"

struct account;

struct hint_facts {
	const struct account *acct;
	const char *host;	 /* the host that answered, or NULL */
	const char *greeting;	 /* its greeting line, or NULL */
	enum submit_phase phase; /* where the dialogue ended */
	int exit_code;
	enum error_class class; /* a hint on the server's words needs its
				   refusal, ERROR_CLASS_PERMFAIL */
	const char *message;	/* the failure line, with the server's reply */
};

/* The hint for f into buf (without "hint: "), or NULL when there is none. */
const char *hint_for(const struct hint_facts *f, char *buf, size_t size);

#endif
