/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for sysmode.c and the sender rule of a restricted caller
 * (delivery.c, mailsub.conf(5) local_senders).  The setgid half (the group
 * kept or given up, the environment, ptrace) needs an installed setgid
 * binary and throwaway users: tests/integration/sysmode.sh.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "delivery.h"
#include "error.h"
#include "sysmode.h"

static int
teardown(void **state)
{
	sysmode_reset();
	return 0;
}

/* Not setgid (as the tests run): nothing kept, nothing changed. */
static void
test_not_setgid(void **state)
{
	struct options opts;
	struct error err;

	memset(&opts, 0, sizeof(opts));
	opts.mode = CLI_MODE_DELIVER;
	setenv("SYSMODE_TEST_MARK", "kept", 1);
	error_clear(&err);
	assert_int_equal(sysmode_start(&opts, &err), 0);
	assert_int_equal(sysmode_group(), (gid_t)-1);
	assert_false(sysmode_privileged());
	assert_string_equal(getenv("SYSMODE_TEST_MARK"), "kept");
	assert_int_equal(sysmode_uid(), getuid());
	assert_true(sysmode_user()[0] != '\0');

	/* The system file restricts a caller other than root; nothing is
	 * shared without the group. */
	assert_int_equal(sysmode_config_chosen(true, &err), 0);
	assert_int_equal(sysmode_restricted(), getuid() != 0);
	assert_false(sysmode_shared());
	assert_int_equal(sysmode_config_chosen(false, &err), 0);
	assert_false(sysmode_restricted());
}

/* Without the group, a caller's file is opened as it is, /proc too. */
static void
test_open_caller_plain(void **state)
{
	int fd = sysmode_open_caller("/proc/self/status", O_RDONLY);

	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(sysmode_open_caller("/nonexistent/x", O_RDONLY), -1);
	assert_int_equal(errno, ENOENT);
}

static struct account account;
static struct options opts;
static struct delivery d;

static void
setup_delivery(const char *user)
{
	static char *senders[] = {"alice:alice@example.org",
	    "alice:*@alice.example.org", "www-data:*@shop.example.com",
	    "*:noreply@example.com"};

	memset(&account, 0, sizeof(account));
	account.name = "relay";
	account.from = "server@example.com";
	account.default_domain = "example.com";
	account.local_senders = senders;
	account.n_local_senders = 4;
	memset(&opts, 0, sizeof(opts));
	opts.account = "relay"; /* no choosing again */
	delivery_init(&d, &opts, NULL);
	d.acct = &account;
	sysmode_test_set(true, 1000, user);
}

static void
test_sender_allowed(void **state)
{
	setup_delivery("alice");
	assert_true(delivery_sender_allowed(&d, ""));
	assert_true(delivery_sender_allowed(&d, "server@example.com"));
	assert_true(delivery_sender_allowed(&d, "SERVER@example.com"));
	assert_true(delivery_sender_allowed(&d, "alice@example.com"));
	assert_true(delivery_sender_allowed(&d, "alice@EXAMPLE.com"));
	assert_true(delivery_sender_allowed(&d, "alice@example.org"));
	assert_true(delivery_sender_allowed(&d, "x@alice.example.org"));
	assert_true(delivery_sender_allowed(&d, "noreply@example.com"));
	assert_false(delivery_sender_allowed(&d, "bob@example.com"));
	assert_false(delivery_sender_allowed(&d, "alice@example.net"));
	assert_false(delivery_sender_allowed(&d, "aliceX@example.com"));
	assert_false(delivery_sender_allowed(&d, "x@shop.example.com"));
	assert_false(delivery_sender_allowed(&d, "root"));

	setup_delivery("www-data");
	assert_true(delivery_sender_allowed(&d, "orders@shop.example.com"));
	assert_false(delivery_sender_allowed(&d, "alice@example.org"));

	/* Not restricted (root, or a config of one's own): anything. */
	sysmode_reset();
	assert_true(delivery_sender_allowed(&d, "ceo@example.com"));
	delivery_free(&d);
}

static void
test_sender_replaced(void **state)
{
	struct error err;

	/* A -f of someone else's: the caller's first listed address. */
	setup_delivery("alice");
	error_clear(&err);
	assert_int_equal(delivery_set_sender(&d, "ceo@example.com", &err), 0);
	assert_string_equal(d.sender, "alice@example.org");
	assert_non_null(strstr(d.sender_warning, "ceo@example.com"));
	assert_non_null(strstr(d.sender_warning, "alice@example.org"));
	/* No -f: the same default, no warning. */
	assert_int_equal(delivery_set_sender(&d, NULL, &err), 0);
	assert_string_equal(d.sender, "alice@example.org");
	assert_string_equal(d.sender_warning, "");
	/* An allowed one stays, a bare own name too. */
	assert_int_equal(
	    delivery_set_sender(&d, "x@alice.example.org", &err), 0);
	assert_string_equal(d.sender, "x@alice.example.org");
	assert_int_equal(delivery_set_sender(&d, "alice", &err), 0);
	assert_string_equal(d.sender, "alice@example.com");
	assert_string_equal(d.sender_warning, "");
	delivery_free(&d);

	/* Nobody listed: the account's from. */
	setup_delivery("bob");
	assert_int_equal(delivery_set_sender(&d, "alice@example.org", &err), 0);
	assert_string_equal(d.sender, "server@example.com");
	assert_non_null(strstr(d.sender_warning, "not bob's"));
	delivery_free(&d);

	/* And without one, bob@default_domain. */
	setup_delivery("bob");
	account.from = NULL;
	assert_int_equal(delivery_set_sender(&d, "ceo@example.com", &err), 0);
	assert_string_equal(d.sender, "bob@example.com");
	delivery_free(&d);

	/* Root (not restricted) keeps any. */
	setup_delivery("root");
	sysmode_reset();
	assert_int_equal(delivery_set_sender(&d, "ceo@example.com", &err), 0);
	assert_string_equal(d.sender, "ceo@example.com");
	assert_string_equal(d.sender_warning, "");
	delivery_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_not_setgid, teardown),
	    cmocka_unit_test_teardown(test_open_caller_plain, teardown),
	    cmocka_unit_test_teardown(test_sender_allowed, teardown),
	    cmocka_unit_test_teardown(test_sender_replaced, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
