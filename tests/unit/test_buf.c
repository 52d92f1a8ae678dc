/* SPDX-License-Identifier: ISC */
/* Unit tests for buf.c: growth, the cap, termination, wiping. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

static void
test_empty_is_empty_string(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_free(&b); /* twice is harmless */
}

/* buf.h: data is never NULL, from buf_init() on and after every release,
 * and an empty buffer is an empty C string. */
static void
test_data_never_null(void **state)
{
	struct error err;
	struct buf b;
	char *p;

	(void)state;
	error_clear(&err);
	buf_init(&b, 16);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_reset(&b);
	assert_string_equal(b.data, "");
	p = buf_detach(&b);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	assert_non_null(b.data);
	assert_int_equal(buf_appends(&b, "abc", &err), 0);
	assert_string_equal(b.data, "abc");
	buf_free(&b);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_appends(&b, "x", &err), 0);
	buf_wipe(&b);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	/* A failed first append leaves it empty, not NULL. */
	assert_int_equal(buf_appends(&b, "0123456789abcdefXYZ", &err), -1);
	assert_non_null(b.data);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void
test_append_grows_and_terminates(void **state)
{
	struct buf b;
	struct error err;
	int i;

	error_clear(&err);
	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_appends(&b, "abc", &err), 0);
	assert_int_equal(b.len, 3000);
	assert_int_equal(b.data[3000], '\0');
	assert_memory_equal(b.data + 2997, "abc", 3);
	buf_free(&b);
}

static void
test_cap_is_enforced(void **state)
{
	struct buf b;
	struct error err;

	error_clear(&err);
	buf_init(&b, 5);
	assert_int_equal(buf_appends(&b, "12345", &err), 0);
	assert_int_equal(buf_addch(&b, 'x', &err), -1);
	assert_int_equal(err.exit_code, EX_DATAERR);
	assert_non_null(strstr(err.message, "5 bytes"));
	assert_string_equal(buf_str(&b), "12345");
	buf_free(&b);
}

static void
test_printf(void **state)
{
	struct buf b;
	struct error err;

	error_clear(&err);
	buf_init(&b, 64);
	assert_int_equal(buf_printf(&b, &err, "%s=%d", "port", 587), 0);
	assert_int_equal(buf_printf(&b, &err, ";%c", 'x'), 0);
	assert_string_equal(buf_str(&b), "port=587;x");
	assert_int_equal(buf_printf(&b, &err, "%0100d", 1), -1);
	buf_free(&b);
}

static void
test_reset_and_detach(void **state)
{
	struct buf b;
	struct error err;
	char *p;

	error_clear(&err);
	buf_init(&b, 64);
	assert_int_equal(buf_appends(&b, "hello", &err), 0);
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_appends(&b, "world", &err), 0);
	p = buf_detach(&b);
	assert_string_equal(p, "world");
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, 0);
	free(p);
	p = buf_detach(&b);
	assert_string_equal(p, "");
	free(p);
}

static void
test_wipe(void **state)
{
	struct buf b;
	struct error err;

	error_clear(&err);
	buf_init(&b, 64);
	assert_int_equal(buf_appends(&b, "secret", &err), 0);
	buf_wipe(&b);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void
test_secure_wipe(void **state)
{
	char s[8] = "secret!";

	secure_wipe(s, sizeof(s));
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(s[i], 0);
	secure_wipe(NULL, 10);
}

static void
test_binary_data(void **state)
{
	struct buf b;
	struct error err;

	error_clear(&err);
	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, "a\0b", 3, &err), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_empty_string),
	    cmocka_unit_test(test_data_never_null),
	    cmocka_unit_test(test_append_grows_and_terminates),
	    cmocka_unit_test(test_cap_is_enforced),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_reset_and_detach),
	    cmocka_unit_test(test_wipe),
	    cmocka_unit_test(test_secure_wipe),
	    cmocka_unit_test(test_binary_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
