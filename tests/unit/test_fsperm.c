/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for fsperm.c: the rule for one object on hand-made stat
 * buffers (other owners need no root there), and the walk over real
 * directories: every directory on the way, symbolic links followed or
 * refused, missing paths, "..", loops, the logfile's directory.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fsperm.h"

static char base[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test_fsperm.XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	fsperm_set_group((gid_t)-1);
	snprintf(
	    cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_of(char *dst, const char *name)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", base, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void
make_dir(const char *name, mode_t mode)
{
	char p[PATH_MAX];

	path_of(p, name);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
make_file(const char *name, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	path_of(p, name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
make_link(const char *target, const char *name)
{
	char p[PATH_MAX];

	path_of(p, name);
	assert_int_equal(symlink(target, p), 0);
}

/* A stat buffer of type (S_IFDIR...) and mode, owned by uid. */
static struct stat
fake(mode_t type, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = type | mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

static void
stat_ok(mode_t type, mode_t mode, uid_t uid, unsigned flags)
{
	struct stat st = fake(type, mode, uid, 0);
	struct error err;

	error_clear(&err);
	if (fsperm_check_stat("/x", &st, flags, &err) != 0)
		fail_msg("mode %04o uid %lu flags %u: %s", (unsigned)mode,
		    (unsigned long)uid, flags, err.message);
}

static void
stat_bad(mode_t type, mode_t mode, uid_t uid, unsigned flags, const char *want)
{
	struct stat st = fake(type, mode, uid, 0);
	struct error err;

	error_clear(&err);
	if (fsperm_check_stat("/x", &st, flags, &err) != -1)
		fail_msg("mode %04o uid %lu flags %u: accepted", (unsigned)mode,
		    (unsigned long)uid, flags);
	assert_int_equal(err.exit_code, EX_CONFIG);
	if (strstr(err.message, want) == NULL)
		fail_msg("'%s' does not say '%s'", err.message, want);
	assert_non_null(strstr(err.message, "/x"));
}

static void
test_owner(void **state)
{
	uid_t me = geteuid(), other = me == 12345 ? 12346 : 12345;

	(void)state;
	stat_ok(S_IFREG, 0644, me, 0);
	stat_ok(S_IFREG, 0644, 0, 0);
	stat_ok(S_IFDIR, 0755, 0, FSPERM_DIR);
	stat_bad(S_IFREG, 0600, other, 0, "owned by uid 12345");
	stat_bad(S_IFREG, 0600, other, 0, "chown");
	stat_bad(S_IFDIR, 0700, other, FSPERM_DIR, "mode 0700");
	stat_bad(S_IFDIR, 0755, other, FSPERM_ANCESTOR, "owned by uid");
	/* A secret is the user's own; the system file's may be root's. */
	stat_bad(S_IFREG, 0600, other, FSPERM_SECRET, "holds a password");
	if (me != 0) {
		stat_bad(S_IFREG, 0600, 0, FSPERM_SECRET, "owned by uid 0");
		stat_ok(S_IFREG, 0640, 0, FSPERM_SECRET | FSPERM_SYSTEM);
	}
}

static void
test_write_bits(void **state)
{
	uid_t me = geteuid();

	(void)state;
	stat_bad(S_IFREG, 0664, me, 0, "writable by its group");
	stat_bad(S_IFREG, 0646, me, 0, "writable by others");
	stat_bad(S_IFREG, 0666, me, 0, "chmod go-w /x");
	stat_bad(S_IFDIR, 0777, me, FSPERM_DIR, "mode 0777");
	stat_bad(S_IFDIR, 0770, 0, FSPERM_ANCESTOR, "a directory on the way");
	/* Sticky and root's: fine on the way (/tmp), never the object. */
	stat_ok(S_IFDIR, 01777, 0, FSPERM_ANCESTOR);
	stat_bad(S_IFDIR, 01777, 0, FSPERM_DIR, "a shared directory");
	if (me != 0)
		stat_bad(S_IFDIR, 01777, me, FSPERM_ANCESTOR, "mode 1777");
	/* Readable is fine, group-writable never (unless the hook). */
	stat_ok(S_IFREG, 0444, me, 0);
	stat_bad(S_IFREG, 0660, 0, FSPERM_SECRET | FSPERM_SYSTEM,
	    "writable by its group");
}

static void
test_secret_bits(void **state)
{
	uid_t me = geteuid();

	(void)state;
	stat_ok(S_IFREG, 0600, me, FSPERM_SECRET);
	stat_ok(S_IFREG, 0400, me, FSPERM_SECRET);
	stat_bad(S_IFREG, 0640, me, FSPERM_SECRET,
	    "readable by group/others (mode 0640); chmod 600 /x");
	stat_bad(S_IFREG, 0604, me, FSPERM_SECRET, "0604");
	stat_bad(S_IFDIR, 0750, me, FSPERM_SECRET | FSPERM_DIR, "chmod 700");
	stat_ok(S_IFREG, 0640, me, FSPERM_SECRET | FSPERM_SYSTEM);
	stat_bad(S_IFREG, 0644, me, FSPERM_SECRET | FSPERM_SYSTEM,
	    "readable by others (mode 0644)");
}

static void
test_types(void **state)
{
	uid_t me = geteuid();

	(void)state;
	stat_bad(S_IFLNK, 0777, me, 0, "symbolic link");
	stat_bad(S_IFDIR, 0700, me, 0, "not a regular file");
	stat_bad(S_IFIFO, 0600, me, 0, "not a regular file");
	stat_bad(S_IFREG, 0600, me, FSPERM_DIR, "not a directory");
	stat_bad(S_IFREG, 0600, me, FSPERM_ANCESTOR, "not a directory");
}

/* The hook for a system installation's group: only root's objects, only
 * that group, only write. */
static void
test_group_hook(void **state)
{
	struct stat st = fake(S_IFDIR, 02770, 0, 4242);
	struct error err;

	(void)state;
	error_clear(&err);
	assert_int_equal(fsperm_check_stat("/x", &st, FSPERM_DIR, &err), -1);
	fsperm_set_group(4242);
	assert_int_equal(fsperm_check_stat("/x", &st, FSPERM_DIR, &err), 0);
	st.st_mode = S_IFDIR | 02777;
	assert_int_equal(fsperm_check_stat("/x", &st, FSPERM_DIR, &err), -1);
	assert_non_null(strstr(err.message, "writable by others"));
	st = fake(S_IFDIR, 02770, 0, 4243);
	assert_int_equal(fsperm_check_stat("/x", &st, FSPERM_DIR, &err), -1);
	if (geteuid() != 0) {
		st = fake(S_IFDIR, 02770, geteuid(), 4242);
		assert_int_equal(
		    fsperm_check_stat("/x", &st, FSPERM_DIR, &err), -1);
	}
	fsperm_set_group((gid_t)-1);
	st = fake(S_IFDIR, 02770, 0, 4242);
	assert_int_equal(fsperm_check_stat("/x", &st, FSPERM_DIR, &err), -1);
}

static void
path_ok(const char *name, unsigned flags)
{
	char p[PATH_MAX];
	struct error err;

	path_of(p, name);
	error_clear(&err);
	if (fsperm_check_path(p, flags, &err) != 0)
		fail_msg("%s: %s", p, err.message);
}

/* Refused, and the message names the path given and the culprit. */
static void
path_bad(
    const char *name, unsigned flags, const char *culprit, const char *want)
{
	char p[PATH_MAX], c[PATH_MAX];
	struct error err;

	path_of(p, name);
	path_of(c, culprit);
	error_clear(&err);
	if (fsperm_check_path(p, flags, &err) != -1)
		fail_msg("%s: accepted", p);
	assert_int_equal(err.exit_code, EX_CONFIG);
	if (strstr(err.message, p) == NULL || strstr(err.message, c) == NULL ||
	    strstr(err.message, want) == NULL)
		fail_msg("'%s' does not name %s, %s and '%s'", err.message, p,
		    c, want);
}

static void
chmod_at(const char *name, mode_t mode)
{
	char p[PATH_MAX];

	path_of(p, name);
	assert_int_equal(chmod(p, mode), 0);
}

static void
test_walk(void **state)
{
	char cwd[PATH_MAX];
	struct error err;

	(void)state;
	/* base is mktemp -d (ours, 0700) under /tmp (root's, 1777). */
	make_dir("a", 0755);
	make_dir("a/b", 0700);
	make_file("a/b/f", 0600);
	path_ok("a/b/f", 0);
	path_ok("a/b", FSPERM_DIR);
	path_ok("a/b/f", FSPERM_SECRET);
	path_ok("a//b/./f", 0);
	path_ok("a/b/../b/f", 0);
	/* Every directory on the way counts, not only the last. */
	chmod_at("a", 0777);
	path_bad("a/b/f", 0, "a", "a directory on the way");
	chmod_at("a", 0775);
	path_bad("a/b/f", 0, "a", "writable by its group");
	chmod_at("a", 0755);
	/* The object itself. */
	chmod_at("a/b/f", 0666);
	path_bad("a/b/f", 0, "a/b/f", "mode 0666");
	chmod_at("a/b/f", 0600);
	path_bad("a/b/f", FSPERM_DIR, "a/b/f", "not a directory");
	path_bad("a/b", 0, "a/b", "not a regular file");
	/* A relative path is walked from the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(base), 0);
	error_clear(&err);
	assert_int_equal(fsperm_check_path("a/b/f", 0, &err), 0);
	chmod_at("a", 0777);
	assert_int_equal(fsperm_check_path("a/b/f", 0, &err), -1);
	assert_non_null(strstr(err.message, "a/b/f: "));
	chmod_at("a", 0755);
	assert_int_equal(chdir(cwd), 0);
	/* "/" itself. */
	assert_int_equal(fsperm_check_path("/", FSPERM_DIR, &err), 0);
}

static void
test_links(void **state)
{
	char p[PATH_MAX], target[PATH_MAX];
	struct error err;

	(void)state;
	make_dir("real", 0700);
	make_dir("real/q", 0700);
	make_file("real/q/f", 0600);
	/* A link is followed when the way to it and to its target is
	 * trusted: absolute and relative targets, links in the middle. */
	path_of(target, "real");
	make_link(target, "abs");
	make_link("real/q", "rel");
	path_ok("abs/q/f", 0);
	path_ok("rel/f", 0);
	path_ok("abs", FSPERM_DIR);
	/* ... but not as the last component under FSPERM_NOFOLLOW. */
	path_bad("abs", FSPERM_DIR | FSPERM_NOFOLLOW, "abs", "symbolic link");
	path_ok("abs/q", FSPERM_DIR | FSPERM_NOFOLLOW);
	/* The target's way is checked too: a link out of a trusted
	 * directory into one others can write is refused. */
	make_dir("open", 0700);
	make_file("open/f", 0600);
	chmod_at("open", 0777);
	make_link("open/f", "to-open");
	path_bad("to-open", 0, "open", "a directory on the way");
	/* A link in a directory others can write is refused where it
	 * lies, whatever it points to. */
	path_of(target, "real/q/f");
	make_link(target, "open/l");
	path_bad("open/l", 0, "open", "a directory on the way");
	/* A loop ends. */
	make_link("loop2", "loop1");
	make_link("loop1", "loop2");
	path_of(p, "loop1");
	error_clear(&err);
	assert_int_equal(fsperm_check_path(p, 0, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	/* "..": after a link, the parent of where the link led (the kernel's
	 * rule). */
	path_ok("rel/../q/f", 0);
}

static void
test_missing(void **state)
{
	struct error err;

	(void)state;
	make_dir("d", 0700);
	path_ok("d/no/such/thing", FSPERM_DIR | FSPERM_MISSING_OK);
	path_bad("d/no", FSPERM_DIR, "d/no", "No such file");
	/* What exists on the way is checked even so. */
	chmod_at("d", 0777);
	path_bad("d/no/such", FSPERM_DIR | FSPERM_MISSING_OK, "d",
	    "a directory on the way");
	chmod_at("d", 0700);
	error_clear(&err);
	assert_int_equal(fsperm_check_path("", 0, &err), -1);
}

static void
test_new_file(void **state)
{
	char p[PATH_MAX], target[PATH_MAX];
	struct error err;

	(void)state;
	make_dir("logs", 0700);
	path_of(p, "logs/mailsub.log");
	error_clear(&err);
	assert_int_equal(fsperm_check_new_file(p, &err), 0); /* not yet */
	make_file("logs/mailsub.log", 0600);
	assert_int_equal(fsperm_check_new_file(p, &err), 0);
	/* Its directory must be one nobody else writes: sticky too. */
	chmod_at("logs", 01777);
	assert_int_equal(fsperm_check_new_file(p, &err), -1);
	assert_non_null(strstr(err.message, "mode 1777"));
	chmod_at("logs", 0700);
	/* The file is never a link, even to a file of ours. */
	make_file("other", 0600);
	path_of(target, "other");
	make_link(target, "logs/link.log");
	path_of(p, "logs/link.log");
	assert_int_equal(fsperm_check_new_file(p, &err), -1);
	assert_non_null(strstr(err.message, "symbolic link"));
	/* /tmp itself (1777) is no place for one. */
	assert_int_equal(
	    fsperm_check_new_file("/tmp/fsperm-test-none.log", &err), -1);
	assert_non_null(strstr(err.message, "/tmp"));
	/* A missing directory is for the open to report. */
	path_of(p, "nodir/x.log");
	assert_int_equal(fsperm_check_new_file(p, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_owner),
	    cmocka_unit_test(test_write_bits),
	    cmocka_unit_test(test_secret_bits),
	    cmocka_unit_test(test_types),
	    cmocka_unit_test_teardown(test_group_hook, teardown),
	    cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
