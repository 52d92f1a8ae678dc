/* SPDX-License-Identifier: ISC */
/*
 * Completion of bare local names ("root") through an /etc/aliases-format
 * file and default_domain, so cron's MAILTO=root and fail2ban's
 * `sendmail -f fail2ban root` reach real mailboxes.
 */
#ifndef MAILSUB_ALIASES_H
#define MAILSUB_ALIASES_H

#include <stddef.h>

struct address_list;
struct error;

#define ALIASES_DEPTH_MAX 8
/* Warnings aliases_load() keeps (the rest are counted), and their
 * length. */
#define ALIASES_WARNINGS_MAX 50
#define ALIASES_WARNING_MAX  512

struct aliases;

/*
 * Load an /etc/aliases-format file: "name: a, b" lines, continuation lines
 * starting with white space, '#' comments.  Only a file that cannot be
 * opened or read is an error (EX_CONFIG).  What a null client cannot use
 * is skipped with a warning (aliases_warnings()): local-delivery targets
 * (":include:", "|command", "/file", "\name"), targets that are not
 * addresses, and lines that are no alias; the other targets and aliases
 * work.
 */
int aliases_load(const char *path, struct aliases **out, struct error *err);
void aliases_free(struct aliases *a);

/* The warnings of aliases_load(), each "FILE:LINE: what was skipped"
 * with the file's bytes as they are (escape them for a terminal):
 * *n of them (at most ALIASES_WARNINGS_MAX), *n_skipped things skipped in
 * all.  a may be NULL. */
const char *const *aliases_warnings(
    const struct aliases *a, size_t *n, size_t *n_skipped);

/*
 * Complete one address: a bare name is looked up in aliases (recursively,
 * at most ALIASES_DEPTH_MAX deep; a name that maps to itself stops), and
 * any bare result gets "@default_domain".  Results are added to out.  A
 * bare name with no default_domain is left as is; so is a name whose
 * alias has no target left.  aliases may be NULL.  When an alias used
 * had targets skipped and *warning is NULL, *warning is set to why (as
 * aliases_warnings() words it, valid while aliases is); warning may be
 * NULL.
 */
int address_complete(const char *addr, const struct aliases *aliases,
    const char *default_domain, struct address_list *out, const char **warning,
    struct error *err);

#endif
