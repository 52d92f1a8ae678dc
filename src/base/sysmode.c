/* SPDX-License-Identifier: ISC */
/*
 * System mode: the setgid privilege and who the caller is (sysmode.h).
 * The kernel does half of the work for a setgid program: it is not
 * dumpable (no ptrace, no /proc/PID/mem, no core; never undone here), and
 * glibc's dynamic loader runs it in secure mode (AT_SECURE: LD_*,
 * GCONV_PATH, LOCPATH, TMPDIR, HOSTALIASES, LOCALDOMAIN, RES_OPTIONS and
 * the other variables of glibc's unsecure list are removed before main(),
 * and TZ may name only the system's zone files).  The rest is here.
 */
#include "autoconfig.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "fsperm.h"
#include "sysmode.h"

/* statfs(2) f_type of /proc (linux/magic.h). */
#define SYSMODE_PROC_MAGIC 0x9fa0
#define SYSMODE_USER_MAX   64

static struct {
	gid_t group;	 /* kept, or (gid_t)-1 */
	bool privileged; /* kept for a caller other than root */
	bool system;	 /* the run uses the system file */
	bool restricted; /* ... and the caller is not root */
	uid_t uid;
	char user[SYSMODE_USER_MAX];
} sm = {.group = (gid_t)-1};

static void
set_user(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	const char *p;
	bool ok = pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0' &&
		  strlen(pw->pw_name) < sizeof(sm.user);

	/* The name goes into log records and addresses: printable ASCII
	 * without space or the characters of address syntax. */
	for (p = ok ? pw->pw_name : ""; ok && *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>()[]\\\",;:@", *p))
			ok = false;
	sm.uid = uid;
	if (ok)
		snprintf(sm.user, sizeof(sm.user), "%s", pw->pw_name);
	else
		snprintf(
		    sm.user, sizeof(sm.user), "uid%lu", (unsigned long)uid);
}

/* The modes that submit or handle the queue keep the group; the others
 * (diagnostics, --configure, --help) read nothing of the system's. */
static bool
mode_needs_group(enum cli_mode mode)
{
	switch (mode) {
	case CLI_MODE_DELIVER:
	case CLI_MODE_SMTP_STDIO:
	case CLI_MODE_QUEUE_LIST:
	case CLI_MODE_FLUSH:
	case CLI_MODE_QUEUE_DELETE:
	case CLI_MODE_REQUEUE:
		return true;
	default:
		return false;
	}
}

/* Whether path names a file, as config_locate() would find it: anything
 * but "not there" counts.  access(2) looks with the real IDs, the
 * caller's: the answer can only make the run give the group up. */
static bool
caller_has(const char *dir, const char *rest)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s%s", dir, rest);

	if (n < 0 || (size_t)n >= sizeof(path))
		return true;
	return access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

/* The caller names a configuration or has one of its own: the lookup of
 * config_locate() (mailsub.conf(5), FILES) up to the system file. */
static bool
caller_config(const struct options *opts)
{
	const char *env;

	if (opts->config_file != NULL)
		return true;
	env = getenv("MAILSUB_CONFIG");
	if (env != NULL && *env != '\0')
		return true;
	env = getenv("XDG_CONFIG_HOME");
	if (env != NULL && env[0] == '/' &&
	    caller_has(env, "/mailsub/config.ini"))
		return true;
	env = getenv("HOME");
	return env != NULL && *env != '\0' && strcmp(env, "/") != 0 &&
	       caller_has(env, "/.config/mailsub/config.ini");
}

static int
drop_group(struct error *err)
{
	gid_t r = getgid(), rr, e, s;

	/* setresgid: setgid(2) of a process without CAP_SETGID leaves the
	 * saved group, from which the privilege could come back. */
	if (setresgid(r, r, r) == -1 || getresgid(&rr, &e, &s) == -1 ||
	    rr != r || e != r || s != r)
		return error_set(err, EX_OSERR,
		    "cannot give up the group of the setgid program: %s",
		    strerror(errno ? errno : EPERM));
	return 0;
}

/* Nothing of the caller's environment reaches what the group can read:
 * mailsub's own variables (MAILSUB_CONFIG, XDG_*, HOME), the libraries'
 * (GNUTLS_*, MAGIC, ...) and a password_command's. */
static void
clean_environment(void)
{
	const char *tz = getenv("TZ");
	char *keep = tz != NULL ? strdup(tz) : NULL;

	clearenv();
	if (keep != NULL) {
		(void)setenv("TZ", keep, 1);
		free(keep);
	}
}

int
sysmode_start(const struct options *opts, struct error *err)
{
	struct rlimit none = {0, 0};
	gid_t egid = getegid();

	set_user(getuid());
	if (egid == getgid())
		return 0; /* not setgid: the group is the caller's own */
	if (!mode_needs_group(opts->mode) || caller_config(opts))
		return drop_group(err);
	sm.group = egid;
	fsperm_set_group(egid);
	if (sm.uid == 0)
		return 0; /* root can read all this anyway */
	sm.privileged = true;
	clean_environment();
	/* Not dumpable already; and no core even where fs.suid_dumpable
	 * says otherwise. */
	(void)setrlimit(RLIMIT_CORE, &none);
	return 0;
}

gid_t
sysmode_group(void)
{
	return sm.group;
}

bool
sysmode_privileged(void)
{
	return sm.privileged;
}

int
sysmode_config_chosen(bool system, struct error *err)
{
	sm.system = system;
	sm.restricted = system && sm.uid != 0;
	if (sm.privileged && !system)
		return error_set(err, EX_SOFTWARE,
		    "the setgid program chose a configuration other than the "
		    "system file");
	return 0;
}

bool
sysmode_restricted(void)
{
	return sm.restricted;
}

bool
sysmode_shared(void)
{
	return sm.system && sm.group != (gid_t)-1;
}

uid_t
sysmode_uid(void)
{
	return sm.uid;
}

const char *
sysmode_user(void)
{
	if (sm.user[0] == '\0')
		set_user(getuid());
	return sm.user;
}

int
sysmode_open_caller(const char *path, int flags)
{
	struct statfs sfs;
	int fd, saved;

	if (!sm.privileged)
		return open(path, flags);
	if (setegid(getgid()) == -1)
		return -1;
	fd = open(path, flags);
	saved = errno;
	/* Back to the group for the spool; should that fail, the run goes
	 * on without it (the caller's own rights from here) and the spool
	 * says so. */
	if (setegid(sm.group) == -1)
		sm.privileged = false;
	if (fd != -1 && fstatfs(fd, &sfs) == 0 &&
	    sfs.f_type == SYSMODE_PROC_MAGIC) {
		close(fd);
		fd = -1;
		saved = EACCES;
	}
	errno = saved;
	return fd;
}

void
sysmode_reset(void)
{
	memset(&sm, 0, sizeof(sm));
	sm.group = (gid_t)-1;
}

void
sysmode_test_set(bool restricted, uid_t uid, const char *user)
{
	sm.system = restricted;
	sm.restricted = restricted;
	sm.uid = uid;
	snprintf(sm.user, sizeof(sm.user), "%s", user);
}
