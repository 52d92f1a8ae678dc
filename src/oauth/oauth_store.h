/* SPDX-License-Identifier: ISC */
/*
 * The token file of an account (oauth_store.c), for oauth.c's refresh
 * policy: where it is, reading the newest whole copy, writing it durably,
 * and the lock parallel runs take before a refresh.  The file's format is
 * oauth_tokens_parse() and oauth_tokens_format() in oauth.h.
 */
#ifndef MAILSUB_OAUTH_STORE_H
#define MAILSUB_OAUTH_STORE_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>

#include "account.h"
#include "error.h"
#include "oauth.h"

/* A file name in the store: the account's stem and a suffix. */
#define OAUTH_NAME_MAX (3 * 128 + 16)

/* Where the account's files are: the directory (made, 0700, checked) and
 * the stem of the names in it. */
struct oauth_store {
	char dir[PATH_MAX];
	char token[OAUTH_NAME_MAX];  /* STEM.token */
	char token2[OAUTH_NAME_MAX]; /* STEM.token.2: a system account's */
	char lock[OAUTH_NAME_MAX];   /* STEM.lock */
	int dfd;
	int lock_fd;
	bool system;	       /* the system state: root's, slots in place */
	gid_t gid;	       /* its group, for the files root makes */
	const char *current;   /* the slot oauth_store_read() took, or NULL */
	long long cur_updated; /* and its stamp */
};

/* Find (with make: create) the account's directory and name its files;
 * oauth_store_close() releases s even after a failure. */
int oauth_store_locate(const struct account *acct, struct oauth_store *s,
    bool make, struct error *err);

/* Close the directory and the lock (releasing it). */
void oauth_store_close(struct oauth_store *s);

/* Read the account's tokens into t (the newer whole slot of a system
 * account): 0 read, 1 no file yet, -1 err. */
int oauth_store_read(
    struct oauth_store *s, struct oauth_tokens *t, struct error *err);

/* Stamp t later than the copy it replaces. */
void oauth_store_stamp(const struct oauth_store *s, struct oauth_tokens *t);

/* Write t durably (a new file renamed over the old one, or a system slot
 * rewritten in place). */
int oauth_store_write(
    struct oauth_store *s, const struct oauth_tokens *t, struct error *err);

/* Take the account's lock, waiting at most wait_s seconds (EX_TEMPFAIL
 * then). */
int oauth_store_lock(struct oauth_store *s, unsigned wait_s, struct error *err);

#endif
