/* SPDX-License-Identifier: ISC */
/* Unit tests for text.c: UTF-8, JSON strings, \xHH escaping, base64. */
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
#include "text.h"

static size_t
u8len(const char *s)
{
	return text_utf8_len((const unsigned char *)s, strlen(s));
}

static void
test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(text_utf8_len((const unsigned char *)"", 0), 0);
	assert_int_equal(u8len("a"), 1);
	assert_int_equal(u8len("\xc3\xb6x"), 2);
	assert_int_equal(u8len("\xe2\x82\xac"), 3);
	assert_int_equal(u8len("\xf0\x9f\x93\xa7"), 4);
	assert_int_equal(u8len("\xef\xbf\xbf"), 3);	/* U+FFFF */
	assert_int_equal(u8len("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(u8len("\xed\x9f\xbf"), 3);	/* U+D7FF */
	/* Continuation bytes alone, cut short, bad continuation. */
	assert_int_equal(u8len("\x80"), 0);
	assert_int_equal(u8len("\xbf"), 0);
	assert_int_equal(u8len("\xc3"), 0);
	assert_int_equal(u8len("\xe2\x82"), 0);
	assert_int_equal(u8len("\xc3("), 0);
	assert_int_equal(u8len("\xe2\x82("), 0);
	assert_int_equal(u8len("\xf0\x9f\x93("), 0);
	/* Overlong forms. */
	assert_int_equal(u8len("\xc0\xaf"), 0);
	assert_int_equal(u8len("\xc1\xbf"), 0);
	assert_int_equal(u8len("\xe0\x80\xaf"), 0);
	assert_int_equal(u8len("\xe0\x9f\xbf"), 0);
	assert_int_equal(u8len("\xf0\x80\x80\xaf"), 0);
	assert_int_equal(u8len("\xf0\x8f\xbf\xbf"), 0);
	/* Surrogates, past U+10FFFF, bytes that lead nothing. */
	assert_int_equal(u8len("\xed\xa0\x80"), 0);
	assert_int_equal(u8len("\xed\xbf\xbf"), 0);
	assert_int_equal(u8len("\xf4\x90\x80\x80"), 0);
	assert_int_equal(u8len("\xf5\x80\x80\x80"), 0);
	assert_int_equal(u8len("\xfe"), 0);
	assert_int_equal(u8len("\xff"), 0);
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	assert_true(text_utf8_valid("", 0));
	assert_true(text_utf8_valid("plain", 5));
	assert_true(text_utf8_valid("J\xc3\xb6rg \xe2\x82\xac", 9));
	assert_false(text_utf8_valid("J\xc3", 2));
	assert_false(text_utf8_valid("\xc3(", 2));
	assert_false(text_utf8_valid("a\xed\xa0\x80", 4));
	assert_false(text_utf8_valid("\xe0\x80\xaf", 3));
	assert_false(text_utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(text_utf8_valid("x\x80", 2));
	/* A NUL is a character like any other. */
	assert_true(text_utf8_valid("a\0b", 3));
}

/* Fed one byte at a time, the answer is the same as at once. */
static void
test_utf8_stream(void **state)
{
	static const char *const cases[] = {
	    "",
	    "abc",
	    "\xc3\xb6",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x93\xa7",
	    "\xc3",
	    "\xc3(",
	    "\xe0\x80\xaf",
	    "\xed\xa0\x80",
	    "\xf4\x90\x80\x80",
	    "\x80",
	    "a\xe2\x82\xac\xc3\xb6z",
	    "\xe2\x82\xe2\x82\xac",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i];
		size_t n = strlen(s);
		struct text_utf8 u;

		text_utf8_init(&u);
		for (j = 0; j < n; j++)
			text_utf8_feed(&u, (const unsigned char *)s + j, 1);
		assert_int_equal(text_utf8_done(&u), text_utf8_valid(s, n));
	}
	/* Valid pieces that stop in the middle of a character. */
	{
		struct text_utf8 u;

		text_utf8_init(&u);
		text_utf8_feed(&u, (const unsigned char *)"\xe2", 1);
		assert_false(text_utf8_done(&u));
		text_utf8_feed(&u, (const unsigned char *)"\x82\xac", 2);
		assert_true(text_utf8_done(&u));
	}
}

static void
check_json(const char *in, const char *want)
{
	struct error err;
	struct buf b;

	buf_init(&b, 1024);
	error_clear(&err);
	assert_int_equal(text_json_string(&b, in, &err), 0);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void
test_json_string(void **state)
{
	struct error err;
	struct buf b;

	(void)state;
	check_json("", "\"\"");
	check_json(NULL, "\"\"");
	check_json("a@b.c", "\"a@b.c\"");
	check_json("q\"b\\s", "\"q\\\"b\\\\s\"");
	check_json("\t\n\x1b\x7f", "\"\\u0009\\u000a\\u001b\\u007f\"");
	/* UTF-8 passes; what is not UTF-8 cannot be JSON. */
	check_json("j\xc3\xb6rg", "\"j\xc3\xb6rg\"");
	check_json("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	check_json("\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\"");
	check_json("a\xc3", "\"a\\ufffd\"");
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");		 /* overlong */
	check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	check_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_json("\xff", "\"\\ufffd\"");
	/* Latin-1, as a certificate's T61String may come. */
	check_json("CN=M\xfcller", "\"CN=M\\ufffdller\"");
	/* The buffer's cap is an error, not an overrun. */
	buf_init(&b, 4);
	error_clear(&err);
	assert_int_equal(text_json_string(&b, "abcdef", &err), -1);
	buf_free(&b);
}

/* Outside JSON: U+FFFD as UTF-8, and nothing else changed. */
static void
test_append_utf8_plain(void **state)
{
	struct error err;
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	error_clear(&err);
	assert_int_equal(
	    text_append_utf8(&b, "a\"\\\t\xc3\xb6\xff", false, &err), 0);
	assert_string_equal(buf_str(&b), "a\"\\\t\xc3\xb6\xef\xbf\xbd");
	buf_free(&b);
}

static const char *
esc(const char *s, size_t size, unsigned flags)
{
	static char out[256];

	assert_true(size <= sizeof(out));
	text_escape(out, size, s, strlen(s), flags);
	return out;
}

static void
test_escape(void **state)
{
	char out[8];

	(void)state;
	assert_string_equal(esc("plain text", 256, 0), "plain text");
	assert_string_equal(esc("a\x1b[2J\r\n\\\x7f\xc3\xb6", 256, 0),
	    "a\\x1b[2J\\x0d\\x0a\\x5c\\x7f\\xc3\\xb6");
	assert_string_equal(esc("say \"hi\"", 256, 0), "say \"hi\"");
	assert_string_equal(
	    esc("say \"hi\"", 256, TEXT_ESC_QUOTE | TEXT_ESC_SPACE),
	    "say\\x20\\x22hi\\x22");
	/* Escapes already there: kept with KEEP, escaped again without. */
	assert_string_equal(esc("a\\x1bb", 256, TEXT_ESC_KEEP), "a\\x1bb");
	assert_string_equal(esc("a\\x1bb", 256, 0), "a\\x5cx1bb");
	assert_string_equal(esc("\\x1B", 256, TEXT_ESC_KEEP), "\\x5cx1B");
	assert_string_equal(esc("\\x1", 256, TEXT_ESC_KEEP), "\\x5cx1");
	/* Never cut an escape in half; always terminated. */
	assert_string_equal(esc("abc\x01", 6, 0), "abc");
	assert_string_equal(esc("abcdefgh", 4, 0), "abc");
	assert_int_equal(text_escape(out, sizeof(out), "\x01\x02", 2, 0), 4);
	assert_string_equal(out, "\\x01");
	assert_int_equal(text_escape(out, 0, "x", 1, 0), 0);
	/* The bytes of the length, not of the string (NUL included). */
	assert_int_equal(text_escape(out, sizeof(out), "a\0b", 3, 0), 6);
	assert_memory_equal(out, "a\\x00b", 7);
	/* error_escape() is the same escaper. */
	assert_string_equal(
	    error_escape(out, sizeof(out), "\x1b\\", 2), "\\x1b");
}

static void
check_b64(const char *in, const char *want)
{
	char out[64];
	size_t n = strlen(in);

	assert_int_equal(TEXT_BASE64_LEN(n), strlen(want));
	assert_int_equal(
	    text_base64((const unsigned char *)in, n, out), strlen(want));
	assert_memory_equal(out, want, strlen(want));
}

static void
test_base64(void **state)
{
	(void)state;
	/* RFC 4648 10. */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	check_b64("\xff\xfe\xfd\xfc", "//79/A==");
}

/* text_each_line: every line, the empty ones too, and the first -1 ends
 * the walk. */
struct seen {
	char got[64];
	int calls, stop_at;
};

static int
collect(void *arg, const char *s, size_t len)
{
	struct seen *w = arg;

	if (++w->calls == w->stop_at)
		return -1;
	strncat(w->got, s, len);
	strcat(w->got, "|");
	return 0;
}

static void
test_each_line(void **state)
{
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(text_each_line("a\nbc\n", 5, collect, &w), 0);
	assert_string_equal(w.got, "a|bc|");
	memset(&w, 0, sizeof(w));
	assert_int_equal(text_each_line("a\n\nb", 4, collect, &w), 0);
	assert_string_equal(w.got, "a||b|");
	memset(&w, 0, sizeof(w));
	assert_int_equal(text_each_line("", 0, collect, &w), 0);
	assert_int_equal(w.calls, 0);
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(text_each_line("x\ny\nz", 5, collect, &w), -1);
	assert_string_equal(w.got, "x|");
	assert_int_equal(w.calls, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_len),
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_utf8_stream),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_append_utf8_plain),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_each_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
