/* SPDX-License-Identifier: ISC */
/*
 * The envelope of one message (RFC 5321 3.3): the reverse-path, the
 * forward-paths and what rides on MAIL and RCPT.  One type from the caller
 * to the wire: built here from the message and the options, written into
 * and read back from a queue file as "key: value" lines (queue_file.c
 * frames them), sent by submit.c.  A new MAIL or RCPT parameter is a field
 * here.
 */
#ifndef MAILSUB_ENVELOPE_H
#define MAILSUB_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

struct account;
struct error;
struct message;
struct options;

/* Addresses are plain addr-specs; every string is owned (envelope_free). */
struct envelope {
	char *sender; /* "" for the null reverse-path */
	char **rcpts;
	size_t n_rcpts;
	char *dsn_notify;    /* "never" or "success,failure,delay"; NULL */
	char *dsn_return;    /* "full" or "hdrs"; NULL */
	char *dsn_envid;     /* NULL */
	bool body_8bit;	     /* request BODY=8BITMIME */
	bool needs_smtputf8; /* an address is not ASCII (RFC 6531) */
};

void envelope_init(struct envelope *env);
void envelope_free(struct envelope *env);

/*
 * The envelope of msg from sender ("" for the null sender) to rcpts[0..n),
 * with -N/-R/-V/-B from o over the account's dsn_notify and dsn_return;
 * without -B the body is 8BITMIME when msg has 8-bit bytes.  Everything
 * is copied.  EX_OSERR when out of memory (env is then empty).
 */
int envelope_build(struct envelope *env, const char *sender, char *const *rcpts,
    size_t n_rcpts, const struct message *msg, const struct options *o,
    const struct account *a, struct error *err);

/* Sets needs_smtputf8 from the addresses. */
void envelope_derive(struct envelope *env);

/* ---- the envelope in a queue file (queue.h shows the whole format) ---- */

/* Writes one "key: value" line; queue_file.c's, which checks the
 * value. */
typedef int (*envelope_put_fn)(
    void *arg, const char *key, const char *value, struct error *err);

/*
 * The envelope's lines, in this order: sender, one rcpt per recipient,
 * dsn-notify, dsn-return and dsn-envid when set, body.  An empty
 * recipient is EX_SOFTWARE; put's failures are passed on.
 */
int envelope_write(const struct envelope *env, envelope_put_fn put, void *arg,
    struct error *err);

/* Reading a queue file's lines into env. */
struct envelope_reader {
	struct envelope *env;
	size_t rcpt_cap;
	bool body_seen;
};

void envelope_reader_init(struct envelope_reader *r, struct envelope *env);

/*
 * One line: 1 when key is not the envelope's (left to the caller), 0 when
 * taken, -1 on a duplicate, an empty rcpt or a bad body (EX_DATAERR, the
 * message naming the key) or out of memory (EX_OSERR).
 */
int envelope_read_field(struct envelope_reader *r, const char *key,
    const char *value, struct error *err);

/* Whether the lines read hold a whole envelope (sender and body); then
 * the derived fields are set (envelope_derive()). */
bool envelope_read_done(struct envelope_reader *r);

#endif
