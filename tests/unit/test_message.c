/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for message.c: wire form (line endings, lone CR, dot-stuffing,
 * SMTP smuggling variants), read-block boundaries, NUL bytes, the header
 * block (-t, Resent-*, Bcc removal, From fix/force/keep, added Date and
 * Message-ID, bare To/Cc completion) and its size limit.
 *
 * Input is fed from a forked writer through an AF_UNIX SOCK_SEQPACKET
 * socket: every packet is exactly one read(2), so block boundaries land
 * precisely where a test puts them.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "buf.h"
#include "error.h"
#include "header.h"
#include "message.h"
#include "stream.h"

static char tmpdir[64];
static struct account account;
static struct message_options mo;

struct run {
	int rc;
	struct error err;
	struct message m;
	char *out;
	size_t out_len;
};

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_message.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	memset(&account, 0, sizeof(account));
	account.name = "test";
	account.syslog_facility = -1;
	account.from_header = ACCOUNT_FROM_FIX;
	account.add_headers = false;
	memset(&mo, 0, sizeof(mo));
	mo.header.envelope_from = "alice@example.com";
	mo.header.hostname = "host.example.net";
	mo.header.acct = &account;
	return 0;
}

static int
teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	return rmdir(tmpdir);
}

static size_t
count_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A writer process sending data as packets: the first of `first` bytes
 * (0: none special), then pieces of `chunk` bytes. */
static int
spawn_writer(
    const char *data, size_t len, size_t first, size_t chunk, pid_t *pid)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	*pid = fork();
	assert_true(*pid != -1);
	if (*pid == 0) {
		size_t off = 0;

		close(sv[0]);
		if (first > 0 && first <= len) {
			if (write(sv[1], data, first) != (ssize_t)first)
				_exit(1);
			off = first;
		}
		while (off < len) {
			size_t n = len - off < chunk ? len - off : chunk;
			ssize_t w = write(sv[1], data + off, n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		close(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

static void
read_spool(struct run *r)
{
	struct stat st;

	r->out = NULL;
	r->out_len = 0;
	if (r->m.fd == -1)
		return;
	assert_int_equal(fstat(r->m.fd, &st), 0);
	r->out = malloc((size_t)st.st_size + 1);
	assert_non_null(r->out);
	assert_int_equal(
	    pread(r->m.fd, r->out, (size_t)st.st_size, 0), st.st_size);
	r->out[st.st_size] = '\0';
	r->out_len = (size_t)st.st_size;
}

static void
run_split(const char *in, size_t len, size_t first, size_t chunk, struct run *r)
{
	pid_t pid;
	int status, fd;

	fd = spawn_writer(in, len, first, chunk, &pid);
	message_init(&r->m);
	error_clear(&r->err);
	r->rc = message_read(fd, tmpdir, &mo, &r->m, &r->err);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	read_spool(r);
}

static void
run_len(const char *in, size_t len, struct run *r)
{
	run_split(in, len, 0, 65536, r);
}

static void
run(const char *in, struct run *r)
{
	run_len(in, strlen(in), r);
}

static void
run_free(struct run *r)
{
	message_free(&r->m);
	free(r->out);
	r->out = NULL;
}

/* Every CR is followed by LF, every LF preceded by CR, the data ends in
 * CRLF, and no line is a lone "." (which would end DATA early). */
static void
assert_wire(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			assert_true(i + 1 < n && p[i + 1] == '\n');
		if (p[i] == '\n')
			assert_true(i > 0 && p[i - 1] == '\r');
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '.')
			assert_false(i + 2 < n && p[i + 1] == '\r');
	}
	if (n > 0) {
		assert_true(n >= 2);
		assert_memory_equal(p + n - 2, "\r\n", 2);
	}
}

/* Body-only input (no header block, add_headers off) comes out exactly
 * as expected, at once and in 1-byte reads. */
static void
expect_wire(const char *in, size_t len, const char *want)
{
	struct run r;
	size_t chunks[] = {65536, 1, 2, 3};
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run_split(in, len, 0, chunks[i], &r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.out_len, strlen(want));
		assert_memory_equal(r.out, want, r.out_len);
		assert_int_equal(r.m.size, strlen(want));
		assert_int_equal(r.m.input_bytes, len);
		assert_wire(r.out, r.out_len);
		run_free(&r);
	}
}

static void
expect(const char *in, const char *want)
{
	expect_wire(in, strlen(in), want);
}

static const char *
find_line(const char *out, const char *prefix)
{
	const char *p = out;
	size_t n = strlen(prefix);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0)
			return p;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

static void
assert_has_line(const char *out, const char *line)
{
	char *want;

	want = malloc(strlen(line) + 3);
	assert_non_null(want);
	sprintf(want, "%s\r\n", line);
	if (strncmp(out, want, strlen(want)) != 0) {
		char *w2 = malloc(strlen(line) + 5);

		assert_non_null(w2);
		sprintf(w2, "\r\n%s\r\n", line);
		if (strstr(out, w2) == NULL)
			fail_msg("line \"%s\" missing in:\n%s", line, out);
		free(w2);
	}
	free(want);
}

static void
assert_matches(const char *s, const char *re)
{
	regex_t rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0);
	if (regexec(&rx, s, 0, NULL, 0) != 0)
		fail_msg("/%s/ does not match:\n%s", re, s);
	regfree(&rx);
}

static bool
has_rcpt(const struct message *m, const char *a)
{
	size_t i;

	for (i = 0; i < m->header_rcpts.n; i++)
		if (strcmp(m->header_rcpts.addrs[i], a) == 0)
			return true;
	return false;
}

/* ---- line endings -------------------------------------------------------- */

static void
test_lf_becomes_crlf(void **state)
{
	expect("hello\nworld\n", "hello\r\nworld\r\n");
}

static void
test_crlf_is_kept(void **state)
{
	expect("hello\r\nworld\r\n", "hello\r\nworld\r\n");
}

static void
test_lone_cr_becomes_space(void **state)
{
	expect("a\rb\n", "a b\r\n");
	expect("a\r\rb\r\n", "a  b\r\n");
	expect("\rx\n", " x\r\n");
}

static void
test_mixed_endings(void **state)
{
	expect("a\r\nb\nc\rd\r\n\n", "a\r\nb\r\nc d\r\n\r\n");
}

static void
test_missing_final_newline(void **state)
{
	expect("abc", "abc\r\n");
	expect("abc\ndef", "abc\r\ndef\r\n");
}

static void
test_trailing_lone_cr(void **state)
{
	/* A CR at the very end has no LF after it: a space, then the
	 * missing line end. */
	expect("abc\r", "abc \r\n");
}

static void
test_empty_input(void **state)
{
	struct run r;

	run("", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out_len, 0);
	assert_int_equal(r.m.size, 0);
	assert_int_equal(r.m.input_bytes, 0);
	assert_null(r.m.message_id);
	run_free(&r);
}

static void
test_empty_input_with_headers(void **state)
{
	struct run r;

	/* tests/FAULTS.md 10: a message made of the generated headers. */
	account.add_headers = true;
	run("", &r);
	assert_int_equal(r.rc, 0);
	assert_has_line(r.out, "From: alice@example.com");
	assert_non_null(find_line(r.out, "Date: "));
	assert_non_null(find_line(r.out, "Message-ID: <"));
	assert_wire(r.out, r.out_len);
	run_free(&r);
}

static void
test_empty_lines_only(void **state)
{
	expect("\n\n\n", "\r\n\r\n\r\n");
}

/* ---- SMTP smuggling (tests/FAULTS.md 8) --------------------------------- */

static void
test_smuggling_lf_dot_crlf(void **state)
{
	expect("Subject: x\n\nbody\n.\r\nMAIL FROM:<evil@x>\r\n",
	    "Subject: x\r\n\r\nbody\r\n..\r\nMAIL FROM:<evil@x>\r\n");
}

static void
test_smuggling_lf_dot_lf(void **state)
{
	expect("Subject: x\n\nbody\n.\nMAIL FROM:<evil@x>\n",
	    "Subject: x\r\n\r\nbody\r\n..\r\nMAIL FROM:<evil@x>\r\n");
}

static void
test_smuggling_cr_dot_cr(void **state)
{
	expect("Subject: x\n\nbody\r.\rMAIL FROM:<evil@x>\r\n",
	    "Subject: x\r\n\r\nbody . MAIL FROM:<evil@x>\r\n");
}

static void
test_smuggling_crlf_dot_lf(void **state)
{
	expect("Subject: x\n\nbody\r\n.\nMAIL FROM:<evil@x>\r\n",
	    "Subject: x\r\n\r\nbody\r\n..\r\nMAIL FROM:<evil@x>\r\n");
}

static void
test_smuggling_more_variants(void **state)
{
	static const char *const payloads[] = {
	    "\r\n.\r\n",
	    "\n.\r\n",
	    "\n.\n",
	    "\r.\r",
	    "\r\n.\n",
	    "\r.\n",
	    "\n.\r",
	    "\r\n.\r",
	    "\r\n\r\n.\r\n",
	    "\n\n.\n\n",
	    ".\r\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		char in[256];
		struct run r;
		int n;

		n = snprintf(in, sizeof(in),
		    "Subject: x\n\nbody%sMAIL FROM:<e@x>\r\nRCPT TO:<v@y>"
		    "\r\nDATA\r\nsmuggled\r\n",
		    payloads[i]);
		run_len(in, (size_t)n, &r);
		assert_int_equal(r.rc, 0);
		assert_wire(r.out, r.out_len);
		/* The smuggled commands stay inside the body. */
		assert_non_null(strstr(r.out, "MAIL FROM:<e@x>\r\n"));
		run_free(&r);
	}
}

/* ---- dot-stuffing (tests/FAULTS.md 9) ---------------------------------- */

static void
test_dot_stuffing(void **state)
{
	expect(".\n", "..\r\n");
	expect("..\n", "...\r\n");
	expect(".a\n", "..a\r\n");
	expect("a.\n.b\n", "a.\r\n..b\r\n");
	expect("a\n.", "a\r\n..\r\n");
	expect("a\r\n.\r\n", "a\r\n..\r\n");
}

static void
test_dot_after_lone_cr_is_not_line_start(void **state)
{
	/* "\r." is not a line start: the CR is a space. */
	expect("a\r.b\n", "a .b\r\n");
}

static void
test_unstuff_round_trip(void **state)
{
	static const char in[] = "x\n.\n..\n...\n.a\nb\n";
	struct run r;
	char un[64];
	size_t i, o = 0;
	bool bol = true;

	run(in, &r);
	assert_int_equal(r.rc, 0);
	for (i = 0; i < r.out_len; i++) {
		if (bol && r.out[i] == '.') {
			bol = false;
			continue; /* the stuffed dot */
		}
		bol = false;
		if (r.out[i] == '\r')
			continue;
		un[o++] = r.out[i];
		if (r.out[i] == '\n')
			bol = true;
	}
	un[o] = '\0';
	assert_string_equal(un, in);
	run_free(&r);
}

/* ---- stop_at_dot ------------------------------------------------------------
 */

static void
test_stop_at_dot(void **state)
{
	struct run r;

	mo.stop_at_dot = true;
	run("Subject: x\n\na\n.\nnot read\n", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "Subject: x\r\n\r\na\r\n");
	run_free(&r);

	run("a\r\n.\r\nb\r\n", &r);
	assert_string_equal(r.out, "a\r\n");
	run_free(&r);

	/* At the very start (still in the header phase). */
	run(".\nrest\n", &r);
	assert_int_equal(r.out_len, 0);
	run_free(&r);

	/* Only a line that is exactly "." stops. */
	run("..\n.a\n. \nz\n", &r);
	assert_string_equal(r.out, "...\r\n..a\r\n.. \r\nz\r\n");
	run_free(&r);

	/* A "." split from its LF by a block boundary. */
	run_split("a\n.\nb\n", 6, 3, 1, &r);
	assert_string_equal(r.out, "a\r\n");
	run_free(&r);
}

static void
test_dot_without_stop_at_dot(void **state)
{
	mo.stop_at_dot = false;
	expect("a\n.\nb\n", "a\r\n..\r\nb\r\n");
}

/* ---- NUL, 8-bit, sizes ------------------------------------------------------
 */

static void
test_nul_is_spooled_then_refused(void **state)
{
	static const char in[] = "Subject: x\n\na\0b\nmore\n";
	struct run r;

	run_len(in, sizeof(in) - 1, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	assert_non_null(strstr(r.err.message, "NUL"));
	assert_true(r.m.has_nul);
	assert_true(r.m.fd != -1);
	assert_int_equal(r.out_len, 25);
	assert_memory_equal(r.out, "Subject: x\r\n\r\na\0b\r\nmore\r\n", 25);
	run_free(&r);
	assert_int_equal(count_files(), 0);
}

static void
test_nul_in_header(void **state)
{
	static const char in[] = "Subject: a\0b\n\nbody\n";
	struct run r;

	run_len(in, sizeof(in) - 1, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	assert_true(r.m.has_nul);
	assert_int_equal(r.out_len, sizeof(in) - 1 + 3);
	run_free(&r);
}

static void
test_8bit_flag(void **state)
{
	struct run r;

	run("Subject: x\n\nplain\n", &r);
	assert_false(r.m.has_8bit);
	run_free(&r);
	run("Subject: x\n\ncaf\xc3\xa9\n", &r);
	assert_true(r.m.has_8bit);
	assert_false(r.m.has_nul);
	run_free(&r);
}

static void
test_sizes(void **state)
{
	struct run r;

	run("a\nb\r\n", &r);
	assert_int_equal(r.m.size, 6);
	assert_int_equal(r.m.input_bytes, 5);
	run_free(&r);
}

/* ---- block boundaries ------------------------------------------------------
 */

static void
test_every_split_point(void **state)
{
	static const char in[] = "Subject: a\r\n b\rc\n\r\n.x\r\n.\r\ny\r\r\n"
				 "\r\rz\n.\n\r";
	size_t len = sizeof(in) - 1, k;
	struct run whole, r;

	run_len(in, len, &whole);
	assert_int_equal(whole.rc, 0);
	assert_wire(whole.out, whole.out_len);
	for (k = 1; k < len; k++) {
		run_split(in, len, k, 65536, &r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.out_len, whole.out_len);
		assert_memory_equal(r.out, whole.out, r.out_len);
		run_free(&r);
	}
	run_split(in, len, 0, 1, &r);
	assert_memory_equal(r.out, whole.out, whole.out_len);
	run_free(&r);
	run_free(&whole);
}

static void
test_cr_lf_across_blocks(void **state)
{
	struct run r;

	/* CR ends one read, LF starts the next: one CRLF. */
	run_split("ab\r\ncd\n", 7, 3, 65536, &r);
	assert_string_equal(r.out, "ab\r\ncd\r\n");
	run_free(&r);
	/* CR ends one read, something else starts the next: a space. */
	run_split("ab\rcd\n", 6, 3, 65536, &r);
	assert_string_equal(r.out, "ab cd\r\n");
	run_free(&r);
}

static void
test_pipe_tiny_writes(void **state)
{
	char *in, *want;
	size_t i, n = 0, w = 0;
	int p[2], status;
	pid_t pid;
	struct run r;

	/* A plain pipe, as stdin usually is, written 1-7 bytes at a time. */
	in = malloc(200000);
	want = malloc(300000);
	assert_non_null(in);
	assert_non_null(want);
	for (i = 0; i < 3000; i++) {
		static const char *const pieces[] = {
		    "line\n", ".dot\r\n", "x\ry\n", "\n"};
		static const char *const wires[] = {
		    "line\r\n", "..dot\r\n", "x y\r\n", "\r\n"};
		const char *s = pieces[i % 4], *t = wires[i % 4];

		memcpy(in + n, s, strlen(s));
		n += strlen(s);
		memcpy(want + w, t, strlen(t));
		w += strlen(t);
	}
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		size_t off = 0, k = 1;

		close(p[0]);
		while (off < n) {
			size_t c = k < n - off ? k : n - off;
			ssize_t x = write(p[1], in + off, c);

			if (x <= 0)
				_exit(1);
			off += (size_t)x;
			k = k % 7 + 1;
		}
		_exit(0);
	}
	close(p[1]);
	message_init(&r.m);
	error_clear(&r.err);
	r.rc = message_read(p[0], tmpdir, &mo, &r.m, &r.err);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	read_spool(&r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out_len, w);
	assert_memory_equal(r.out, want, w);
	run_free(&r);
	free(in);
	free(want);
}

/* ---- header block
 * ------------------------------------------------------------ */

static void
test_folding_is_kept(void **state)
{
	expect("Subject: a\n b\n\tc\n\nbody\n",
	    "Subject: a\r\n b\r\n\tc\r\n\r\nbody\r\n");
}

static void
test_no_header_block(void **state)
{
	struct run r;

	/* The first line is no header field: generated headers, an empty
	 * line, then everything as body. */
	account.add_headers = true;
	run("hello world\nTo: x@y\n", &r);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\r\n\r\nhello world\r\nTo: x@y\r\n"));
	assert_non_null(find_line(r.out, "From: "));
	run_free(&r);

	/* A continuation line first is no header either. */
	account.add_headers = false;
	run(" indented\nx\n", &r);
	assert_string_equal(r.out, " indented\r\nx\r\n");
	run_free(&r);
}

static void
test_header_ends_at_non_field_line(void **state)
{
	struct run r;

	/* "Bad Header" has a space in the name: the body has begun, an
	 * empty line is put before it, and what follows is body text. */
	mo.header.read_recipients = true;
	run("Subject: x\nBad Header: y\nBcc: z@x\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "Subject: x\r\n\r\nBad Header: y\r\n"
				   "Bcc: z@x\r\n\r\nbody\r\n");
	assert_int_equal(r.m.header_rcpts.n, 0);
	run_free(&r);
}

static void
test_header_cr_injection(void **state)
{
	struct run r;

	/* tests/FAULTS.md 13: a stray CR cannot start a new header line. */
	mo.header.read_recipients = true;
	run("To: a@x\nSubject: hi\rBcc: evil@x\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_has_line(r.out, "Subject: hi Bcc: evil@x");
	assert_false(has_rcpt(&r.m, "evil@x"));
	assert_true(has_rcpt(&r.m, "a@x"));
	assert_wire(r.out, r.out_len);
	run_free(&r);
}

static void
test_dot_field_name_is_stuffed(void **state)
{
	expect(".x: y\n\nb\n", "..x: y\r\n\r\nb\r\n");
}

static void
test_bcc_always_removed(void **state)
{
	struct run r;

	mo.header.read_recipients = false;
	run("To: a@x\nBcc: b@y,\n c@z\nResent-Bcc: d@w\nSubject: s\n\n"
	    "Bcc: in body\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "To: a@x\r\nSubject: s\r\n\r\n"
				   "Bcc: in body\r\n");
	assert_int_equal(r.m.header_rcpts.n, 0);
	run_free(&r);
}

static void
test_t_to_cc_bcc(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: Ann <a@x>, b@y\nCc: \"Doe, C\" <c@z>\nBCC: d@w\n"
	    "Subject: s\n\nbody\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 4);
	assert_true(has_rcpt(&r.m, "a@x"));
	assert_true(has_rcpt(&r.m, "b@y"));
	assert_true(has_rcpt(&r.m, "c@z"));
	assert_true(has_rcpt(&r.m, "d@w"));
	assert_null(strstr(r.out, "d@w"));
	assert_null(strstr(r.out, "BCC"));
	run_free(&r);
}

static void
test_t_folded_and_duplicates(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: a@x,\n b@y\nCc: a@X, b@y\nBcc: a@x\n\n", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 2);
	assert_true(has_rcpt(&r.m, "a@x"));
	assert_true(has_rcpt(&r.m, "b@y"));
	run_free(&r);
}

static void
test_t_resent_only(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: a@x\nCc: c@x\nResent-To: r@x\nResent-Cc: rc@x\n"
	    "Resent-Bcc: rb@x\n\nbody\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 3);
	assert_true(has_rcpt(&r.m, "r@x"));
	assert_true(has_rcpt(&r.m, "rc@x"));
	assert_true(has_rcpt(&r.m, "rb@x"));
	assert_false(has_rcpt(&r.m, "a@x"));
	assert_null(strstr(r.out, "rb@x"));
	assert_has_line(r.out, "To: a@x");
	run_free(&r);
}

static void
test_t_groups(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: undisclosed-recipients:;\nCc: team: m1@x, m2@x;\n"
	    "Bcc:\n\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 2);
	assert_true(has_rcpt(&r.m, "m1@x"));
	assert_true(has_rcpt(&r.m, "m2@x"));
	run_free(&r);
}

static void
test_t_none(void **state)
{
	struct run r;

	/* No recipients is the caller's decision (tests/FAULTS.md 11). */
	mo.header.read_recipients = true;
	run("Subject: x\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 0);
	run_free(&r);
}

static void
test_t_syntax_error(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: ok@x\nCc: <broken@x\nBcc: hidden@x\n\nbody\n", &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	assert_non_null(strstr(r.err.message, "Cc"));
	/* Spooled whole, Bcc still removed, ready to be saved. */
	assert_true(r.m.fd != -1);
	assert_null(strstr(r.out, "hidden"));
	assert_non_null(strstr(r.out, "\r\n\r\nbody\r\n"));
	run_free(&r);
}

static void
test_t_default_domain(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	account.default_domain = "example.org";
	run("To: root, Bob <bob>, c@x\nCc: ops (Operators)\nBcc: hid\n\n", &r);
	assert_int_equal(r.rc, 0);
	assert_true(has_rcpt(&r.m, "root@example.org"));
	assert_true(has_rcpt(&r.m, "bob@example.org"));
	assert_true(has_rcpt(&r.m, "c@x"));
	assert_true(has_rcpt(&r.m, "ops@example.org"));
	assert_true(has_rcpt(&r.m, "hid@example.org"));
	/* Written To/Cc are completed too (relays reject "To: root"). */
	assert_has_line(
	    r.out, "To: root@example.org, Bob <bob@example.org>, c@x");
	assert_has_line(r.out, "Cc: ops@example.org (Operators)");
	run_free(&r);
}

static void
test_to_completion_keeps_folding(void **state)
{
	struct run r;

	account.default_domain = "example.org";
	run("To: a@x,\n root\nSubject: s\n\n", &r);
	assert_string_equal(r.out, "To: a@x,\r\n root@example.org\r\n"
				   "Subject: s\r\n\r\n");
	run_free(&r);

	/* Without default_domain nothing changes. */
	account.default_domain = NULL;
	run("To: root\n\n", &r);
	assert_string_equal(r.out, "To: root\r\n\r\n");
	run_free(&r);
}

static void
test_added_headers(void **state)
{
	struct run r;
	const char *line;

	account.add_headers = true;
	run("Subject: s\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_has_line(r.out, "From: alice@example.com");
	line = find_line(r.out, "Date: ");
	assert_non_null(line);
	assert_matches(line,
	    "^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), "
	    "[0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
	    "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\r$");
	line = find_line(r.out, "Message-ID: ");
	assert_non_null(line);
	assert_matches(line, "^Message-ID: <[0-9]{14}\\.[0-9]+\\.[0-9a-f]{16}"
			     "@example\\.com>\r$");
	assert_non_null(r.m.message_id);
	assert_int_equal(
	    strncmp(line + 12, r.m.message_id, strlen(r.m.message_id)), 0);
	assert_non_null(strstr(r.out, "Subject: s\r\n\r\nbody\r\n"));
	assert_wire(r.out, r.out_len);
	run_free(&r);
}

static void
test_message_id_domain_fallback(void **state)
{
	struct run r;

	account.add_headers = true;
	mo.header.envelope_from = "localuser";
	run("Subject: s\n\n", &r);
	assert_matches(r.m.message_id, "^<[0-9]{14}\\.[0-9]+\\.[0-9a-f]{16}"
				       "@host\\.example\\.net>$");
	run_free(&r);
}

static void
test_date_and_message_id_kept(void **state)
{
	struct run r;

	account.add_headers = true;
	run("Date: whatever it says\nMessage-Id:\n <orig@x>\nFrom: a@b\n\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
	    "Date: whatever it says\r\n"
	    "Message-Id:\r\n <orig@x>\r\nFrom: a@b\r\n\r\n");
	assert_string_equal(r.m.message_id, "<orig@x>");
	run_free(&r);
}

static void
test_no_added_headers_when_off(void **state)
{
	struct run r;

	account.add_headers = false;
	run("Subject: s\n\n", &r);
	assert_string_equal(r.out, "Subject: s\r\n\r\n");
	assert_null(r.m.message_id);
	run_free(&r);
}

static void
test_generated_from_full_name(void **state)
{
	struct run r;

	account.add_headers = true;
	mo.header.full_name = "CronDaemon";
	run("Subject: s\n\n", &r);
	assert_has_line(r.out, "From: CronDaemon <alice@example.com>");
	run_free(&r);

	mo.header.full_name = "Doe, J. \"Jay\"";
	run("Subject: s\n\n", &r);
	assert_has_line(
	    r.out, "From: \"Doe, J. \\\"Jay\\\"\" <alice@example.com>");
	run_free(&r);

	mo.header.full_name = "J\xc3\xb6rg M\xc3\xbcller";
	run("Subject: s\n\n", &r);
	assert_has_line(r.out,
	    "From: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <alice@example.com>");
	run_free(&r);
}

static void
test_generated_from_long_utf8_name(void **state)
{
	struct run r;
	char name[301];
	const char *line, *end, *p;
	size_t i;

	account.add_headers = true;
	for (i = 0; i + 2 <= 300; i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	name[300] = '\0';
	mo.header.full_name = name;
	run("Subject: s\n\n", &r);
	line = find_line(r.out, "From: =?UTF-8?B?");
	assert_non_null(line);
	end = strstr(line, "\r\n");
	/* RFC 2047 2: each encoded-word at most 75 characters. */
	for (p = line + 6; p < end;) {
		const char *q = strstr(p, "?=");

		assert_non_null(q);
		assert_true(q + 2 - p <= 75);
		p = q + 3;
		if (*(q + 2) == ' ' && *(q + 3) == '<')
			break;
	}
	run_free(&r);
}

/* The generated From is header_gen.c's, for a message read and a composed one
 * alike (compose_head.c calls header_from_field()): a name that looks like
 * an encoded-word or holds a control character is encoded, and a long
 * name is folded within 76 columns. */
static void
test_generated_from_one_writer(void **state)
{
	struct buf b;
	struct error err;
	struct run r;
	const char *line, *p;

	buf_init(&b, 4096);
	error_clear(&err);
	assert_int_equal(header_phrase(&b, "=?x?=", 5, &err), 0);
	assert_string_equal(buf_str(&b), "=?UTF-8?B?PT94Pz0=?=");
	buf_reset(&b);
	assert_int_equal(header_from_field(&b, "Doe, J.", "a@b", &err), 0);
	assert_string_equal(buf_str(&b), "From: \"Doe, J.\" <a@b>\n");
	buf_reset(&b);
	assert_int_equal(header_from_field(&b, NULL, "a@b", &err), 0);
	assert_string_equal(buf_str(&b), "From: a@b\n");
	buf_free(&b);

	account.add_headers = true;
	mo.header.full_name = "bell\a";
	run("Subject: s\n\n", &r);
	assert_has_line(r.out, "From: =?UTF-8?Q?bell=07?= <alice@example.com>");
	run_free(&r);

	mo.header.full_name =
	    "Anna Beatrice Carolina Dorothea Elisabeth Franziska "
	    "Gertrud Hildegard";
	run("Subject: s\n\n", &r);
	line = find_line(r.out, "From: Anna ");
	assert_non_null(line);
	for (p = line; *p != '\0' && strncmp(p, "\r\nSubject", 9) != 0;) {
		const char *e = strstr(p, "\r\n");

		assert_non_null(e);
		assert_true(e - p <= 76);
		p = e + 2;
		if (*p != ' ' && *p != '\t')
			break;
	}
	assert_non_null(strstr(line, "Hildegard\r\n <alice@example.com>\r\n"));
	run_free(&r);
}

static void
test_from_fix_bare(void **state)
{
	struct run r;

	account.from_header = ACCOUNT_FROM_FIX;
	run("From: root (Cron Daemon)\nSubject: s\n\n", &r);
	assert_string_equal(r.out, "From: Cron Daemon <alice@example.com>\r\n"
				   "Subject: s\r\n\r\n");
	run_free(&r);

	run("From: \"Cron Daemon\" <root>\n\n", &r);
	assert_string_equal(
	    r.out, "From: \"Cron Daemon\" <alice@example.com>\r\n\r\n");
	run_free(&r);

	run("From: root\n\n", &r);
	assert_string_equal(r.out, "From: alice@example.com\r\n\r\n");
	run_free(&r);

	run("From: root (Cron, Daemon)\n\n", &r);
	assert_string_equal(
	    r.out, "From: \"Cron, Daemon\" <alice@example.com>\r\n\r\n");
	run_free(&r);
}

static void
test_from_fix_leaves_full_address(void **state)
{
	struct run r;

	account.from_header = ACCOUNT_FROM_FIX;
	run("From: Bob <bob@x.example>\n\n", &r);
	assert_string_equal(r.out, "From: Bob <bob@x.example>\r\n\r\n");
	run_free(&r);
}

static void
test_from_force(void **state)
{
	struct run r;

	account.from_header = ACCOUNT_FROM_FORCE;
	run("From: Bob <bob@x.example>\n\n", &r);
	assert_string_equal(r.out, "From: Bob <alice@example.com>\r\n\r\n");
	run_free(&r);

	run("From: bob@x.example\n\n", &r);
	assert_string_equal(r.out, "From: alice@example.com\r\n\r\n");
	run_free(&r);

	/* Already the sender: untouched, folding and all. */
	run("From: Al\n <alice@example.com>\n\n", &r);
	assert_string_equal(r.out, "From: Al\r\n <alice@example.com>\r\n\r\n");
	run_free(&r);
}

static void
test_from_keep(void **state)
{
	struct run r;

	account.from_header = ACCOUNT_FROM_KEEP;
	run("From: root (Cron Daemon)\n\n", &r);
	assert_string_equal(r.out, "From: root (Cron Daemon)\r\n\r\n");
	run_free(&r);
}

/* mo.header.sender_ok (a restricted caller, sysmode.h): a From naming another
 * address becomes the envelope sender, keeping its name; Sender and
 * Resent-From naming another are removed; the caller's own are kept. */
static bool
only_alice(void *arg, const char *addr)
{
	return strcmp(addr, "alice@example.com") == 0 ||
	       strcmp(addr, "alias@example.com") == 0;
}

static void
test_from_checked_for_the_caller(void **state)
{
	struct run r;

	mo.header.sender_ok = only_alice;
	account.default_domain = "example.com";
	run("From: The Boss <ceo@example.com>\nSender: ceo@example.com\n"
	    "Resent-From: alias@example.com\nResent-Sender: x@y\n"
	    "Subject: s\n\nbody\n",
	    &r);
	assert_string_equal(r.out,
	    "From: The Boss <alice@example.com>\r\n"
	    "Resent-From: alias@example.com\r\nSubject: s\r\n\r\n"
	    "body\r\n");
	assert_non_null(r.m.sender_warning);
	run_free(&r);

	/* The caller's own From stays as it is, and so does a bare name
	 * that completes to it... */
	run("From: Alias <alias@example.com>\nSender: alice\n\nb\n", &r);
	assert_string_equal(r.out,
	    "From: Alias <alias@example.com>\r\nSender: alice\r\n"
	    "\r\nb\r\n");
	assert_null(r.m.sender_warning);
	run_free(&r);

	/* ... but cron's "root" does not, and several addresses where one
	 * is another's are replaced too. */
	run("From: root (Cron Daemon)\n\n", &r);
	assert_string_equal(
	    r.out, "From: Cron Daemon <alice@example.com>\r\n\r\n");
	assert_null(r.m.sender_warning); /* from_header = fix does that */
	run_free(&r);
	account.from_header = ACCOUNT_FROM_KEEP;
	run("From: alice@example.com, bob@example.com\n\n", &r);
	assert_string_equal(r.out, "From: alice@example.com\r\n\r\n");
	run_free(&r);

	/* The null sender: the caller's own address instead. */
	mo.header.envelope_from = "";
	mo.header.own_address = "alice@example.com";
	run("From: ceo@example.com\n\n", &r);
	assert_string_equal(r.out, "From: alice@example.com\r\n\r\n");
	run_free(&r);
}

static void
test_header_too_large(void **state)
{
	const size_t lines = 1200, width = 1000;
	char *in, *p;
	size_t len, i;
	struct run r;

	len = lines * (8 + width + 1) + strlen("\nbody\n");
	in = malloc(len + 1);
	assert_non_null(in);
	p = in;
	for (i = 0; i < lines; i++) {
		memcpy(p, "X-Fill: ", 8);
		memset(p + 8, 'a', width);
		p[8 + width] = '\n';
		p += 8 + width + 1;
	}
	memcpy(p, "\nbody\n", 6);
	mo.header.read_recipients = true;
	account.add_headers = true;
	run_split(in, len, 0, 65536, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	assert_non_null(strstr(r.err.message, "header block larger than"));
	assert_true(r.m.header_too_large);
	assert_true(r.m.fd != -1);
	/* Everything spooled as is: one CR more per line, nothing added. */
	assert_int_equal(r.out_len, len + lines + 2);
	assert_int_equal(r.m.size, len + lines + 2);
	assert_memory_equal(r.out + r.out_len - 8, "\r\nbody\r\n", 8);
	assert_null(find_line(r.out, "Date: "));
	assert_wire(r.out, r.out_len);
	run_free(&r);
	free(in);
}

static void
test_one_huge_header_line(void **state)
{
	const size_t width = 2 * 1024 * 1024;
	char *in;
	struct run r;

	in = malloc(width + 16);
	assert_non_null(in);
	memcpy(in, "X-Big: ", 7);
	memset(in + 7, 'b', width);
	memcpy(in + 7 + width, "\n\nbody\n", 7);
	run_split(in, width + 14, 0, 65536, &r);
	assert_int_equal(r.rc, -1);
	assert_true(r.m.header_too_large);
	assert_int_equal(r.out_len, width + 14 + 3);
	run_free(&r);
	free(in);
}

static void
test_huge_first_body_line(void **state)
{
	const size_t width = 2 * 1024 * 1024;
	char *in;
	struct run r;

	/* No colon within 998 bytes: body text, not a header overflow. */
	in = malloc(width + 1);
	assert_non_null(in);
	memset(in, 'z', width);
	in[width] = '\n';
	run_split(in, width + 1, 0, 65536, &r);
	assert_int_equal(r.rc, 0);
	assert_false(r.m.header_too_large);
	assert_int_equal(r.out_len, width + 2);
	run_free(&r);
	free(in);
}

/* ---- resources and errors -------------------------------------------------
 */

static void
test_spool_mode_and_free(void **state)
{
	struct run r;
	struct stat st;
	char *path;

	run("x\n", &r);
	assert_non_null(r.m.spool_path);
	assert_int_equal(strncmp(r.m.spool_path, tmpdir, strlen(tmpdir)), 0);
	assert_non_null(strstr(r.m.spool_path, "/spool-"));
	assert_int_equal(stat(r.m.spool_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	path = strdup(r.m.spool_path);
	run_free(&r);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(r.m.fd, -1);
	assert_null(r.m.spool_path);
	free(path);
	message_free(&r.m); /* twice is harmless */
}

static void
test_spool_dir_missing(void **state)
{
	struct message m;
	struct error err;

	message_init(&m);
	error_clear(&err);
	assert_int_equal(
	    message_read(0, "/nonexistent/dir", &mo, &m, &err), -1);
	assert_int_equal(err.exit_code, EX_CANTCREAT);
	assert_non_null(strstr(err.message, "/nonexistent/dir"));
	assert_int_equal(m.fd, -1);
	message_free(&m);
}

static void
test_read_error(void **state)
{
	struct message m;
	struct error err;

	message_init(&m);
	error_clear(&err);
	assert_int_equal(message_read(-1, tmpdir, &mo, &m, &err), -1);
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_int_equal(m.fd, -1);
	assert_int_equal(count_files(), 0);
	message_free(&m);
}

static void
test_format_date(void **state)
{
	char buf[64];
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;

	setenv("TZ", "UTC0", 1);
	tzset();
	header_format_date(0, buf, sizeof(buf));
	assert_string_equal(buf, "Thu, 1 Jan 1970 00:00:00 +0000");
	setenv("TZ", "<+0530>-5:30", 1);
	tzset();
	header_format_date(1709647402, buf, sizeof(buf));
	assert_string_equal(buf, "Tue, 5 Mar 2024 19:33:22 +0530");
	setenv("TZ", "<-03>3", 1);
	tzset();
	header_format_date(1709647402, buf, sizeof(buf));
	assert_string_equal(buf, "Tue, 5 Mar 2024 11:03:22 -0300");
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static void
test_random_input_wire_form(void **state)
{
	static const char alphabet[] = "\r\n.:ab \tTo@\x80";
	unsigned seed = 777, i;
	char in[400];

	/* Whatever comes in, the spool is clean wire form, and the same
	 * whichever way the input was cut into reads. */
	account.add_headers = true;
	mo.header.read_recipients = true;
	for (i = 0; i < 200; i++) {
		struct run whole, cut;
		size_t n, k;

		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(in);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			in[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		run_len(in, n, &whole);
		assert_wire(whole.out, whole.out_len);
		seed = seed * 1103515245 + 12345;
		run_split(in, n, n > 0 ? (seed >> 16) % n : 0,
		    1 + (seed >> 8) % 5, &cut);
		assert_int_equal(cut.rc, whole.rc);
		/* Date and Message-ID may differ by a second: compare the
		 * part after them. */
		assert_int_equal(cut.m.size, whole.m.size);
		assert_int_equal(cut.m.header_rcpts.n, whole.m.header_rcpts.n);
		run_free(&whole);
		run_free(&cut);
	}
}

/* ---- header_process directly -----------------------------------------------
 */

struct collected {
	char text[4096];
	size_t len;
	int fail_after; /* put fails from this line on; -1 never */
};

static int
collect_line(void *arg, const char *line, size_t len)
{
	struct collected *c = arg;

	if (c->fail_after == 0)
		return -1;
	if (c->fail_after > 0)
		c->fail_after--;
	if (c->len + len + 1 < sizeof(c->text)) {
		memcpy(c->text + c->len, line, len);
		c->text[c->len + len] = '|';
		c->len += len + 1;
		c->text[c->len] = '\0';
	}
	return 0;
}

static void
test_header_process_odd_input(void **state)
{
	static const char odd[] = " starts folded\nno colon here\nTo:\n\tx";
	struct collected c;
	struct header_result res;
	struct error err;

	/* Not what message.c hands over, but it must not go wrong. */
	mo.header.read_recipients = true;
	header_result_init(&res);
	memset(&c, 0, sizeof(c));
	c.fail_after = -1;
	error_clear(&err);
	assert_int_equal(header_process(odd, sizeof(odd) - 1, &mo.header,
			     collect_line, &c, &res, &err),
	    0);
	assert_string_equal(c.text, " starts folded|no colon here|To:|\tx|");
	assert_int_equal(res.lines, 4);
	header_result_free(&res);

	/* Nothing at all. */
	header_result_init(&res);
	memset(&c, 0, sizeof(c));
	c.fail_after = -1;
	assert_int_equal(
	    header_process(NULL, 0, &mo.header, collect_line, &c, &res, &err),
	    0);
	assert_int_equal(res.lines, 0);
	header_result_free(&res);
}

static void
test_header_process_put_failure(void **state)
{
	static const char in[] = "From: root (x)\nTo: a@x\nSubject: s";
	struct collected c;
	struct header_result res;
	struct error err;
	int k;

	account.add_headers = true;
	account.default_domain = "example.org";
	for (k = 0; k < 5; k++) {
		header_result_init(&res);
		memset(&c, 0, sizeof(c));
		c.fail_after = k;
		error_clear(&err);
		assert_int_equal(header_process(in, sizeof(in) - 1, &mo.header,
				     collect_line, &c, &res, &err),
		    k < 5 ? -1 : 0);
		header_result_free(&res);
	}
}

static void
test_header_process_random(void **state)
{
	static const char alphabet[] = "abc@.<>\"(),;:\\ \t\nToCcBcFrom-Resnt"
				       "\x80\xc3\xa9=?";
	struct collected c;
	struct header_result res;
	struct error err;
	unsigned seed = 12345, i, k;
	char in[300];

	mo.header.read_recipients = true;
	account.add_headers = true;
	account.default_domain = "example.org";
	for (i = 0; i < 3000; i++) {
		size_t n = 0;

		/* Field-looking lines of random address characters. */
		while (n < sizeof(in) - 40) {
			static const char *const names[] = {"To: ", "Cc: ",
			    "Bcc: ", "From: ", "Resent-To: ", " ", "X: "};

			seed = seed * 1103515245 + 12345;
			strcpy(in + n, names[(seed >> 16) % 7]);
			n += strlen(in + n);
			for (k = (seed >> 8) % 30; k > 0; k--) {
				seed = seed * 1103515245 + 12345;
				in[n++] = alphabet[(seed >> 16) %
						   (sizeof(alphabet) - 1)];
			}
			in[n++] = '\n';
			if ((seed >> 4) % 5 == 0)
				break;
		}
		header_result_init(&res);
		memset(&c, 0, sizeof(c));
		c.fail_after = -1;
		error_clear(&err);
		assert_int_equal(header_process(in, n, &mo.header, collect_line,
				     &c, &res, &err),
		    0);
		assert_null(strstr(c.text, "Bcc:"));
		header_result_free(&res);
	}
}

/* message_lines_feed, the line rule shared with -bs DATA: what it tells
 * of each line and how it ended, across block edges, and a stop. */
struct lines_log {
	char text[256];
	int eols;
	int stop_at; /* eol number that asks to stop, 0 for none */
};

static int
log_data(void *arg, const char *p, size_t n)
{
	struct lines_log *l = arg;

	assert_true(n > 0);
	strncat(l->text, p, n);
	return 0;
}

static int
log_eol(void *arg, enum message_eol how)
{
	struct lines_log *l = arg;

	strcat(l->text, how == MESSAGE_EOL_CRLF ? "<CRLF>" : "<LF>");
	return ++l->eols == l->stop_at ? 1 : 0;
}

static void
lines_of(const char *const *blocks, size_t nblocks, const char *want)
{
	struct lines_log l = {.text = ""};
	struct message_lines ml = {.data = log_data, .eol = log_eol, .arg = &l};
	char b[64];
	size_t i;

	for (i = 0; i < nblocks; i++) {
		size_t n = strlen(blocks[i]);

		memcpy(b, blocks[i], n);
		assert_int_equal(message_lines_feed(&ml, b, n), (ssize_t)n);
	}
	assert_int_equal(message_lines_finish(&ml), 0);
	assert_string_equal(l.text, want);
}

static void
test_lines_feed(void **state)
{
	static const char *const one[] = {"a\nb\r\nc\rd\r\r\n\n\r\n."};
	static const char *const crlf_split[] = {"x\r", "\ny"};
	static const char *const cr_split[] = {"x\r", "y\r"};
	static const char *const dot_split[] = {"\r\n.", "\r", "\n.\n"};
	struct lines_log l = {.text = "", .stop_at = 2};
	struct message_lines ml = {.data = log_data, .eol = log_eol, .arg = &l};
	char b[] = "a\nb\r\nMAIL FROM:<x@y>\r\n";

	lines_of(one, 1, "a<LF>b<CRLF>c d <CRLF><LF><CRLF>.");
	lines_of(crlf_split, 2, "x<CRLF>y");
	/* A CR held at a block end is a space when no LF follows, also at
	 * the end of input. */
	lines_of(cr_split, 2, "x y ");
	lines_of(dot_split, 3, "<CRLF>.<CRLF>.<LF>");
	/* Stopped after the second line: the rest is not used. */
	assert_int_equal(message_lines_feed(&ml, b, strlen(b)), 5);
	assert_string_equal(l.text, "a<LF>b<CRLF>");
}

/* ---- RFC 5322 4.5.3: white space before the colon ------------------------ */

static void
test_field_name_match(void **state)
{
	(void)state;
	assert_int_equal(header_field_is("Bcc: x", 6, "Bcc"), 4);
	assert_int_equal(header_field_is("BCC : x", 7, "Bcc"), 5);
	assert_int_equal(header_field_is("bcc\t \t: x", 9, "Bcc"), 7);
	assert_int_equal(header_field_is("Bcc:", 4, "Bcc"), 4);
	/* Another field, an mbox separator, no colon, a longer name. */
	assert_int_equal(header_field_is("Bccx: y", 7, "Bcc"), 0);
	assert_int_equal(header_field_is("Bcc x: y", 8, "Bcc"), 0);
	assert_int_equal(header_field_is("Bcc ", 4, "Bcc"), 0);
	assert_int_equal(header_field_is("Bc: y", 5, "Bcc"), 0);
	assert_int_equal(header_field_is("Resent-Bcc : y", 14, "Bcc"), 0);
	assert_int_equal(
	    header_field_is("Message-ID :<a@b>", 17, "Message-ID"), 12);
}

static void
test_obsolete_bcc_removed_and_used(void **state)
{
	struct run r;
	static const char *const inputs[] = {
	    "To: a@x\nBCC : b@y\nBcc\t: c@z\nSubject: s\n\nbody\n",
	    "To: a@x\nBcc \t :b@y,\n c@z\nSubject: s\n\nbody\n",
	};
	size_t i, chunks[] = {65536, 1};
	size_t k;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		for (k = 0; k < 2; k++) {
			mo.header.read_recipients = true;
			run_split(
			    inputs[i], strlen(inputs[i]), 0, chunks[k], &r);
			assert_int_equal(r.rc, 0);
			assert_int_equal(r.m.header_rcpts.n, 3);
			assert_true(has_rcpt(&r.m, "a@x"));
			assert_true(has_rcpt(&r.m, "b@y"));
			assert_true(has_rcpt(&r.m, "c@z"));
			/* The header block did not end at the Bcc line. */
			assert_string_equal(r.out, "To: a@x\r\nSubject: s\r\n"
						   "\r\nbody\r\n");
			run_free(&r);
		}
}

static void
test_obsolete_resent_and_presence(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	account.add_headers = true;
	run("To: a@x\nResent-To : r@x\nResent-Bcc\t: rb@x\n"
	    "Date : Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Message-ID\t: <id@x>\nFrom : alice@example.com\n\nbody\n",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 2);
	assert_true(has_rcpt(&r.m, "r@x"));
	assert_true(has_rcpt(&r.m, "rb@x"));
	assert_null(strstr(r.out, "rb@x"));
	/* Present: nothing generated, the Message-ID taken as it is. */
	assert_null(find_line(r.out, "Date: "));
	assert_null(find_line(r.out, "Message-ID: "));
	assert_null(find_line(r.out, "From: "));
	assert_string_equal(r.m.message_id, "<id@x>");
	run_free(&r);
}

static void
test_obsolete_to_completed(void **state)
{
	struct run r;

	account.default_domain = "example.org";
	mo.header.read_recipients = true;
	run("To : root\nCc\t: ops\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_true(has_rcpt(&r.m, "root@example.org"));
	assert_true(has_rcpt(&r.m, "ops@example.org"));
	assert_has_line(r.out, "To : root@example.org");
	assert_has_line(r.out, "Cc\t: ops@example.org");
	run_free(&r);
	account.default_domain = NULL;
	/* from_header = fix: cron's bare From, in the obsolete syntax. */
	mo.header.read_recipients = false;
	run("From : root (Cron Daemon)\nTo: a@x\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_has_line(r.out, "From: Cron Daemon <alice@example.com>");
	assert_null(strstr(r.out, "root"));
	run_free(&r);
}

/* Still body: a name, white space and more text. */
static void
test_space_in_name_is_body(void **state)
{
	expect("From alice Mon Jan  1\nTo: a@x\n\nb\n",
	    "From alice Mon Jan  1\r\nTo: a@x\r\n\r\nb\r\n");
}

/* A folded quoted local part unfolds to a TAB (RFC 5322 3.2.4): parsed,
 * so the delivery can refuse it as an envelope address. */
static void
test_folded_quoted_local_part(void **state)
{
	struct run r;

	mo.header.read_recipients = true;
	run("To: \"long\n\tlocal\"@example.net, \"a\n b\"@x\n\nbody\n", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.header_rcpts.n, 2);
	assert_true(has_rcpt(&r.m, "\"long\tlocal\"@example.net"));
	assert_true(has_rcpt(&r.m, "\"a b\"@x"));
	run_free(&r);
}

/* ---- max_message_size ---------------------------------------------------- */

static void
test_max_message_size(void **state)
{
	struct run r;
	size_t len = 3 * 65536, i;
	char *in = malloc(len + 1);

	assert_non_null(in);
	for (i = 0; i < len; i++)
		in[i] = i % 64 == 63 ? '\n' : 'a';
	in[len] = '\0';
	/* Past the limit: stopped, the spool removed, 65 naming it. */
	account.max_message_size = 100000;
	run_split(in, len, 0, 65536, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	assert_non_null(strstr(r.err.message, "max_message_size"));
	assert_non_null(strstr(r.err.message, "100000"));
	assert_int_equal(r.m.fd, -1);
	assert_null(r.m.spool_path);
	assert_int_equal(count_files(), 0);
	run_free(&r);
	/* Up to the limit, in wire bytes, is fine. */
	account.max_message_size = len + len / 64;
	run_split(in, len, 0, 65536, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.size, len + len / 64);
	run_free(&r);
	account.max_message_size = len + len / 64 - 1;
	run_split(in, len, 0, 65536, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.exit_code, EX_DATAERR);
	run_free(&r);
	/* 0: no limit. */
	account.max_message_size = 0;
	run_split(in, len, 0, 65536, &r);
	assert_int_equal(r.rc, 0);
	run_free(&r);
	free(in);
}

/* A stream stopped by a hard error before the end of its input (a poll
 * failure) leaves nothing to keep: the spool with part of the message is
 * removed, so that the caller cannot save it (stream.c). */
static void
test_stream_hard_stop_drops_partial_spool(void **state)
{
	static const char part[] = "Subject: x\n\nthe first part\n";
	struct message m;
	struct message_reader *mr;
	struct stream st;
	struct error err;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(
	    write(p[1], part, sizeof(part) - 1), (ssize_t)(sizeof(part) - 1));
	message_init(&m);
	assert_int_equal(
	    message_reader_open(p[0], tmpdir, &mo, &m, &mr, &err), 0);
	assert_int_equal(message_reader_step(mr, &err), 1);
	assert_int_equal(message_reader_flush(mr, &err), 0);
	assert_int_equal(count_files(), 1);
	memset(&st, 0, sizeof(st));
	st.mr = mr;
	st.m = &m;
	st.in_fd = p[0];
	st.stop = STREAM_HARD;
	error_set(&st.why, EX_OSERR, "poll: test");
	assert_int_equal(stream_read_rest(&st, &err), -1);
	assert_int_equal(err.exit_code, EX_OSERR);
	assert_int_equal(m.fd, -1);
	assert_int_equal(count_files(), 0);
	message_reader_free(mr);
	message_free(&m);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_lf_becomes_crlf),
	    T(test_stream_hard_stop_drops_partial_spool),
	    T(test_crlf_is_kept),
	    T(test_lone_cr_becomes_space),
	    T(test_mixed_endings),
	    T(test_missing_final_newline),
	    T(test_trailing_lone_cr),
	    T(test_empty_input),
	    T(test_empty_input_with_headers),
	    T(test_empty_lines_only),
	    T(test_smuggling_lf_dot_crlf),
	    T(test_smuggling_lf_dot_lf),
	    T(test_smuggling_cr_dot_cr),
	    T(test_smuggling_crlf_dot_lf),
	    T(test_smuggling_more_variants),
	    T(test_dot_stuffing),
	    T(test_dot_after_lone_cr_is_not_line_start),
	    T(test_unstuff_round_trip),
	    T(test_stop_at_dot),
	    T(test_dot_without_stop_at_dot),
	    T(test_nul_is_spooled_then_refused),
	    T(test_nul_in_header),
	    T(test_8bit_flag),
	    T(test_sizes),
	    T(test_every_split_point),
	    T(test_cr_lf_across_blocks),
	    T(test_lines_feed),
	    T(test_pipe_tiny_writes),
	    T(test_folding_is_kept),
	    T(test_no_header_block),
	    T(test_header_ends_at_non_field_line),
	    T(test_header_cr_injection),
	    T(test_dot_field_name_is_stuffed),
	    T(test_bcc_always_removed),
	    T(test_t_to_cc_bcc),
	    T(test_t_folded_and_duplicates),
	    T(test_t_resent_only),
	    T(test_t_groups),
	    T(test_t_none),
	    T(test_t_syntax_error),
	    T(test_t_default_domain),
	    T(test_to_completion_keeps_folding),
	    T(test_added_headers),
	    T(test_message_id_domain_fallback),
	    T(test_date_and_message_id_kept),
	    T(test_no_added_headers_when_off),
	    T(test_generated_from_full_name),
	    T(test_generated_from_long_utf8_name),
	    T(test_generated_from_one_writer),
	    T(test_from_fix_bare),
	    T(test_from_fix_leaves_full_address),
	    T(test_from_force),
	    T(test_from_keep),
	    T(test_from_checked_for_the_caller),
	    T(test_header_too_large),
	    T(test_one_huge_header_line),
	    T(test_huge_first_body_line),
	    T(test_spool_mode_and_free),
	    T(test_spool_dir_missing),
	    T(test_read_error),
	    T(test_format_date),
	    T(test_header_process_odd_input),
	    T(test_header_process_put_failure),
	    T(test_header_process_random),
	    T(test_random_input_wire_form),
	    T(test_field_name_match),
	    T(test_obsolete_bcc_removed_and_used),
	    T(test_obsolete_resent_and_presence),
	    T(test_obsolete_to_completed),
	    T(test_space_in_name_is_body),
	    T(test_folded_quoted_local_part),
	    T(test_max_message_size),
	};
#undef T

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
