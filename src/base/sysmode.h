/* SPDX-License-Identifier: ISC */
/*
 * System mode (mailsub(1), SECURITY): mailsub installed setgid to the
 * group mailsub, so that every user and daemon of the machine submits
 * through the accounts of the system file, which only root and that group
 * can read.  This module owns the privilege: the decision at start (keep
 * the group or give it up for good), the clean environment, opening the
 * files a caller names with the caller's own rights, and who the caller
 * is for the queue, the sender rule and the log.
 *
 * The scheme: the group stays the effective group for the whole run, for
 * the three things it is for (reading the system file, the system spool
 * and the system state); the few files a caller names (--attach,
 * --body-file, --html) are opened through sysmode_open_caller(), which
 * gives the group up around that one open(2).  Everything else a run
 * reads comes from the system file, written by root.
 */
#ifndef MAILSUB_SYSMODE_H
#define MAILSUB_SYSMODE_H

#include <stdbool.h>
#include <sys/types.h>

struct error;
struct options;

/* The system state (TLS session and SCRAM caches shared by every caller
 * of the system accounts): $(localstatedir)/lib/mailsub. */
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define SYSMODE_STATE_DIR LOCALSTATEDIR "/lib/mailsub"

/* The PATH, and the whole environment, of a password_command from the
 * system file. */
#define SYSMODE_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * The decision, first thing in main() (before anything is opened).  The
 * process is setgid when its effective group is not its real one.  The
 * group is given up for good (real, effective and saved group set to the
 * real one, and checked) when the caller names a configuration (-C,
 * $MAILSUB_CONFIG), has one of its own ($XDG_CONFIG_HOME/mailsub/
 * config.ini, ~/.config/mailsub/config.ini, looked for with the caller's
 * own rights), or runs a mode that needs no system account (--help,
 * --check-config, --serverinfo, --configure, -bv, ...).  Otherwise the
 * group is kept; for a caller other than root the environment is then
 * emptied (TZ alone is kept: glibc checks it for setgid programs) and core
 * dumps are turned off.  -1 (EX_OSERR) only when giving the group up
 * failed: nothing may run then.
 */
int sysmode_start(const struct options *opts, struct error *err);

/* The group kept by sysmode_start(), or (gid_t)-1 when none. */
gid_t sysmode_group(void);

/* Whether the group is kept for a caller other than root: the caller is
 * not trusted with what the group can read. */
bool sysmode_privileged(void);

/*
 * The configuration chosen for the run is the system file (system) or
 * not.  With the system file a caller other than root is restricted: it
 * sees and acts on its own queued messages only and sends as its own
 * addresses only (mailsub.conf(5), local_senders).  With the group kept,
 * anything but the system file is a bug: -1 (EX_SOFTWARE).
 */
int sysmode_config_chosen(bool system, struct error *err);

/* Whether the run is restricted (above). */
bool sysmode_restricted(void);

/* Whether the run uses the system file and a group is kept: the spool,
 * the state and the log are shared by every user through that group. */
bool sysmode_shared(void);

/* The caller: the real user ID and its login name ("uid123" when the
 * password database has none). */
uid_t sysmode_uid(void);
const char *sysmode_user(void);

/* open(2) of a file the caller named, with the caller's own rights; a
 * file in /proc is refused while the group is kept (the process's own
 * memory is not the caller's to read).  errno is set on -1. */
int sysmode_open_caller(const char *path, int flags);

/* Forget the state (unit tests). */
void sysmode_reset(void);

/* For tests: pretend to be the given caller on the system file (no
 * privilege is involved). */
void sysmode_test_set(bool restricted, uid_t uid, const char *user);

#endif
