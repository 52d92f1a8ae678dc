/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for cache.c: names, the directory's and files' permissions,
 * round trips, and every way an entry is refused.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"

static char base[64];
static char dir[4096];

static int
setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/test_cache.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	setenv("XDG_STATE_HOME", base, 1);
	snprintf(dir, sizeof(dir), "%s/mailsub/cache", base);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_names(void **state)
{
	assert_true(cache_name_ok("tls-session-0A1b"));
	assert_true(cache_name_ok("scram-SCRAM-SHA-256-work.mail_1"));
	assert_false(cache_name_ok(""));
	assert_false(cache_name_ok(".hidden"));
	assert_false(cache_name_ok("a/b"));
	assert_false(cache_name_ok(".."));
	assert_false(cache_name_ok("a b"));
	assert_false(cache_name_ok("a\nb"));
	char long_name[CACHE_NAME_MAX + 1];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(cache_name_ok(long_name));
}

static void
test_round_trip(void **state)
{
	unsigned char out[64];
	struct stat st;
	char path[4200];
	size_t len;

	assert_false(cache_load("entry", out, sizeof(out), &len));
	assert_true(cache_store("entry", "secret one", 10));
	assert_true(cache_load("entry", out, sizeof(out), &len));
	assert_int_equal(len, 10);
	assert_memory_equal(out, "secret one", 10);
	/* Replaced whole. */
	assert_true(cache_store("entry", "two", 3));
	assert_true(cache_load("entry", out, sizeof(out), &len));
	assert_int_equal(len, 3);
	assert_memory_equal(out, "two", 3);
	/* Kept like a password. */
	snprintf(path, sizeof(path), "%s/entry", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Too large for the caller's buffer: refused, not cut. */
	assert_true(cache_store("big", "0123456789", 10));
	assert_false(cache_load("big", out, 4, &len));
	cache_forget("entry");
	assert_false(cache_load("entry", out, sizeof(out), &len));
	assert_false(cache_store("bad/name", "x", 1));
	assert_false(cache_store("empty", "", 0));
}

static void
test_refused_files(void **state)
{
	unsigned char out[64];
	char path[4200], target[4200];
	size_t len;
	int fd;

	assert_true(cache_store("mode", "v", 1));
	snprintf(path, sizeof(path), "%s/mode", dir);
	/* Readable by the group: someone may have changed it. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_false(cache_load("mode", out, sizeof(out), &len));
	/* A symlink is never followed. */
	snprintf(target, sizeof(target), "%s/target", base);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_false(cache_load("link", out, sizeof(out), &len));
	/* A directory the group can enter is not used at all. */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_false(cache_store("other", "v", 1));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(cache_store("other", "v", 1));
}

static void
test_no_directory(void **state)
{
	char d[4096];
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	/* Relative XDG_STATE_HOME is ignored (XDG base directory spec);
	 * HOME=/ (sudo, daemons) gives no cache. */
	setenv("XDG_STATE_HOME", "relative/dir", 1);
	setenv("HOME", "/", 1);
	assert_false(cache_dir(d, sizeof(d)));
	unsetenv("HOME");
	assert_false(cache_dir(d, sizeof(d)));
	assert_false(cache_store("x", "v", 1));
	/* HOME is used when XDG_STATE_HOME is unset. */
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", base, 1);
	assert_true(cache_dir(d, sizeof(d)));
	assert_non_null(strstr(d, "/.local/state/mailsub/cache"));
	/* Too long a path. */
	setenv("XDG_STATE_HOME", base, 1);
	assert_false(cache_dir(d, 10));
	if (saved_home != NULL) {
		setenv("HOME", saved_home, 1);
		free(saved_home);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_refused_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
