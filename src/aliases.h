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

struct aliases;

/* Load an /etc/aliases-format file: "name: a, b" lines, continuation lines
 * starting with white space, '#' comments.  ":include:", "|command" and
 * "/file" targets are EX_CONFIG errors naming the file and line. */
int aliases_load(const char *path, struct aliases **out, struct error *err);
void aliases_free(struct aliases *a);

/*
 * Complete one address: a bare name is looked up in aliases (recursively,
 * at most ALIASES_DEPTH_MAX deep; a name that maps to itself stops), and
 * any bare result gets "@default_domain".  Results are added to out.  A
 * bare name with no default_domain is left as is.  aliases may be NULL.
 */
int address_complete(const char *addr, const struct aliases *aliases,
    const char *default_domain, struct address_list *out, struct error *err);

#endif
