/* SPDX-License-Identifier: ISC */
/*
 * Small secrets kept between runs, so that the next run of a cron job
 * skips work the last one did: TLS session tickets (tls.c) and SCRAM
 * salted passwords (auth.c, RFC 5802 5.1).  Both let their holder act as
 * the user towards one server, so they are kept like a password: one file
 * each, mode 0600, in a directory of mode 0700 owned by the user,
 * $XDG_CACHE_HOME/mailsub (default ~/.cache/mailsub); in the system
 * state (sysmode.h) for the system file.
 * Everything here is best effort: a cache that cannot be read or written
 * is simply not used, and no caller fails because of it.
 */
#ifndef MAILSUB_CACHE_H
#define MAILSUB_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* A cache entry is small: a TLS session is a few KiB. */
#define CACHE_VALUE_MAX 16384
/* Entry names: [A-Za-z0-9._-], not starting with a dot. */
#define CACHE_NAME_MAX 128

/* The cache directory, made (mode 0700) when missing, into out.  False
 * when there is none: no HOME (or HOME=/, as for daemons and sudo) and no
 * XDG_CACHE_HOME, or a directory that is not the user's alone, or one on
 * a way that is not trusted (fsperm.h). */
bool cache_dir(char *out, size_t size);
/* The same for another directory of mailsub's state (leaf "oauth2":
 * $XDG_STATE_HOME/mailsub/oauth2), with the same checks. */
bool cache_state_dir(const char *leaf, char *out, size_t size);

struct error;

/* Whether what exists of the cache directory and the way to it
 * (fsperm.h) can be trusted: 0, or EX_CONFIG naming the path.  No
 * cache (no HOME) is 0.  A cache that is trusted but not the user's alone
 * is not an error: it is simply not used. */
int cache_check(struct error *err);

/* Whether name is a valid entry name (pure; for tests). */
bool cache_name_ok(const char *name);

/* Read the entry into out (at most size bytes); its length to *len.
 * False when missing, unreadable, not the user's alone, or too large. */
bool cache_load(const char *name, unsigned char *out, size_t size, size_t *len);

/* Replace the entry atomically (a temporary file renamed over it).  No
 * fsync: losing an entry costs one full handshake or one PBKDF2. */
bool cache_store(const char *name, const void *p, size_t n);

/* Remove the entry (a stale SCRAM value after a failed login). */
void cache_forget(const char *name);

#endif
