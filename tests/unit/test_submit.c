/* SPDX-License-Identifier: ISC */
/*
 * submit.c against scripted servers: every .scn file of tests/scenarios (except
 * those marked `level socket`) through the script transport, plus
 * dialogues that check what the server received.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "peer.h"
#include "script_transport.h"
#include "smtp.h"
#include "submit.h"

#define SCENARIOS_MIN 40
#define TRACE_MAX     (256 * 1024)

/* The unit level's "small built-in message", in wire form. */
static const char default_message[] = "From: Sender <sender@example.org>\r\n"
				      "To: rcpt@example.org\r\n"
				      "Subject: scenario test\r\n"
				      "\r\n"
				      "Hello from the unit tests.\r\n"
				      "..\r\n"
				      "..a line that starts with a dot\r\n"
				      "The end.\r\n";

static char tmpdir[64];
static char scenario_dir[4096];

/* ------------------------------------------------------------------ */
/* Helpers */

static void
trace_to_buf(void *arg, char dir, const char *line, size_t len, bool secret)
{
	struct buf *b = arg;
	char esc[1024];

	error_escape(esc, sizeof(esc), line, len > 200 ? 200 : len);
	assert_int_equal(buf_printf(b, NULL, "  %c: %s%s\n", dir,
			     secret ? "(secret)" : esc, len > 200 ? "..." : ""),
	    0);
}

/* Write bytes into a new file under tmpdir; returns an fd at offset 0. */
static int
spool_file(const char *bytes, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/spool-XXXXXX", tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	return fd;
}

/* LF or CRLF text -> wire form (CRLF, lone CR -> space, dot-stuffed),
 * as message.c does. */
static void
to_wire(const char *in, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t stop = end, j;

		if (stop > i && in[stop - 1] == '\r')
			stop--;
		if (in[i] == '.' && stop > i)
			assert_int_equal(buf_addch(out, '.', NULL), 0);
		for (j = i; j < stop; j++)
			assert_int_equal(
			    buf_addch(out, in[j] == '\r' ? ' ' : in[j], NULL),
			    0);
		assert_int_equal(buf_append(out, "\r\n", 2, NULL), 0);
		i = end + 1;
	}
}

static bool
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

static bool
non_ascii(const char *s)
{
	return has_8bit(s, strlen(s));
}

struct run {
	struct account acct;
	struct peer peer;
	char *hosts[1];
	char *mechs[8];
	struct envelope env;
	char *rcpt_default[1];
	char *args_copy;
	struct message_source msg;
	struct buf wire;
	struct conn conn;
	struct submit_session session;
	struct submit_result res;
	struct error err;
	struct buf trace;
	int exit_code;
	bool opened;
};

static bool
truthy(const char *v)
{
	return strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
	       strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* The account of the scenario's config lines (unit level: tls, auth,
 * user, password, allow_plaintext_auth, domain). */
static void
setup_account(struct run *r, struct script *sc)
{
	const char *v;

	memset(&r->acct, 0, sizeof(r->acct));
	r->hosts[0] = (char *)"127.0.0.1";
	r->acct.name = (char *)"test";
	r->acct.hosts = r->hosts;
	r->acct.n_hosts = 1;
	r->acct.port = 25;
	r->acct.timeout = 2;
	r->acct.connect_timeout = 2;
	r->acct.tls = ACCOUNT_TLS_OFF;
	r->acct.auth = ACCOUNT_AUTH_DEFAULT;
	r->acct.syslog_facility = -1;
	buf_init(&r->acct.password, 4096);
	if ((v = script_config(sc, "tls")) != NULL) {
		if (strcasecmp(v, "starttls") == 0)
			r->acct.tls = ACCOUNT_TLS_STARTTLS;
		else if (strcasecmp(v, "on") == 0)
			r->acct.tls = ACCOUNT_TLS_ON;
	}
	if ((v = script_config(sc, "auth")) != NULL) {
		if (strcasecmp(v, "on") == 0)
			r->acct.auth = ACCOUNT_AUTH_ON;
		else if (strcasecmp(v, "off") == 0)
			r->acct.auth = ACCOUNT_AUTH_OFF;
		else {
			char *copy = strdup(v), *save = NULL, *tok;

			assert_non_null(copy);
			r->acct.auth = ACCOUNT_AUTH_LIST;
			for (tok = strtok_r(copy, ", ", &save);
			     tok != NULL && r->acct.n_auth_mechs < 8;
			     tok = strtok_r(NULL, ", ", &save)) {
				char *m = strdup(tok), *q;

				assert_non_null(m);
				for (q = m; *q; q++)
					if (*q >= 'a' && *q <= 'z')
						*q = (char)(*q - 'a' + 'A');
				r->mechs[r->acct.n_auth_mechs++] = m;
			}
			r->acct.auth_mechs = r->mechs;
			free(copy);
		}
	}
	if ((v = script_config(sc, "user")) != NULL)
		r->acct.user = (char *)v;
	if ((v = script_config(sc, "password")) != NULL) {
		assert_int_equal(buf_appends(&r->acct.password, v, NULL), 0);
		r->acct.has_password = true;
	}
	if ((v = script_config(sc, "allow_plaintext_auth")) != NULL)
		r->acct.allow_plaintext_auth = truthy(v);
	if ((v = script_config(sc, "domain")) != NULL)
		r->acct.domain = (char *)v;
}

/* The envelope: from/rcpt lines, and -B, -N, -R, -V from args. */
static void
setup_envelope(struct run *r, struct script *sc)
{
	char *save = NULL, *tok;
	size_t i;

	memset(&r->env, 0, sizeof(r->env));
	r->env.sender = sc->from != NULL ? sc->from : "sender@example.org";
	if (sc->n_rcpts > 0) {
		r->env.rcpts = sc->rcpts;
		r->env.n_rcpts = sc->n_rcpts;
	} else {
		r->rcpt_default[0] = (char *)"rcpt@example.org";
		r->env.rcpts = r->rcpt_default;
		r->env.n_rcpts = 1;
	}
	r->env.body_8bit = has_8bit(r->wire.data, r->wire.len);
	r->env.needs_smtputf8 = non_ascii(r->env.sender);
	for (i = 0; i < r->env.n_rcpts; i++)
		if (non_ascii(r->env.rcpts[i]))
			r->env.needs_smtputf8 = true;
	if (sc->args == NULL)
		return;
	r->args_copy = strdup(sc->args);
	assert_non_null(r->args_copy);
	for (tok = strtok_r(r->args_copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char **slot = NULL;
		const char *val = NULL;

		if (strncmp(tok, "-B", 2) == 0) {
			val = tok[2] ? tok + 2 : strtok_r(NULL, " ", &save);
			if (val != NULL)
				r->env.body_8bit =
				    strcasecmp(val, "8BITMIME") == 0;
			continue;
		}
		if (strncmp(tok, "-N", 2) == 0)
			slot = &r->env.dsn_notify;
		else if (strncmp(tok, "-R", 2) == 0)
			slot = &r->env.dsn_return;
		else if (strncmp(tok, "-V", 2) == 0)
			slot = &r->env.dsn_envid;
		if (slot == NULL)
			continue;
		val = tok[2] ? tok + 2 : strtok_r(NULL, " ", &save);
		*slot = (char *)val;
	}
}

static void
load_message(struct run *r, struct script *sc)
{
	buf_init(&r->wire, 64 * 1024 * 1024);
	if (sc->message == NULL) {
		assert_int_equal(
		    buf_appends(&r->wire, default_message, NULL), 0);
	} else {
		char path[8192];
		struct stat st;
		char *raw;
		int fd;

		snprintf(path, sizeof(path), "%s/messages/%s", scenario_dir,
		    sc->message);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			fail_msg("%s: %s", path, strerror(errno));
		assert_int_equal(fstat(fd, &st), 0);
		raw = malloc((size_t)st.st_size + 1);
		assert_non_null(raw);
		assert_int_equal(read(fd, raw, (size_t)st.st_size), st.st_size);
		close(fd);
		to_wire(raw, (size_t)st.st_size, &r->wire);
		free(raw);
	}
	memset(&r->msg, 0, sizeof(r->msg));
	r->msg.fd = spool_file(r->wire.data, r->wire.len);
	r->msg.offset = 0;
	r->msg.size = r->wire.len;
}

static void
run_free(struct run *r)
{
	size_t i;

	submit_result_free(&r->res);
	if (r->msg.fd >= 0)
		close(r->msg.fd);
	buf_free(&r->wire);
	buf_wipe(&r->acct.password);
	buf_free(&r->trace);
	for (i = 0; i < r->acct.n_auth_mechs; i++)
		free(r->mechs[i]);
	free(r->args_copy);
}

/* Open, send and close over the script, as main.c and relay.c do. */
static void
run_dialogue(struct run *r, struct script *sc)
{
	struct transport t;

	memset(r, 0, sizeof(*r));
	r->msg.fd = -1;
	buf_init(&r->trace, TRACE_MAX);
	setup_account(r, sc);
	load_message(r, sc);
	setup_envelope(r, sc);
	script_transport(sc, &t);
	conn_init(&r->conn, &t, 2000);
	r->conn.trace = trace_to_buf;
	r->conn.trace_arg = &r->trace;
	r->session.ehlo_name =
	    r->acct.domain != NULL ? r->acct.domain : "client.example.org";
	submit_result_init(&r->res);
	error_clear(&r->err);
	r->exit_code = 0;
	peer_from_account(&r->peer, &r->acct, r->hosts[0]);
	if (submit_open(&r->session, &r->conn, &r->acct, &r->peer, &r->err) ==
	    -1) {
		r->exit_code = r->err.exit_code;
	} else {
		r->opened = true;
		if (submit_send(
			&r->session, &r->env, &r->msg, &r->res, &r->err) == -1)
			r->exit_code = r->err.exit_code;
		submit_close(&r->session);
	}
	conn_free(&r->conn);
}

/* ------------------------------------------------------------------ */
/* Every scenario file */

static void
check_where(const struct script *sc)
{
	const char *want;

	if (sc->exit_code == 0)
		want = "none";
	else if (sc->exit_code == EX_TEMPFAIL)
		want = "new";
	else
		want = "failed";
	if (sc->where == NULL || strcmp(sc->where, want) != 0)
		fail_msg("%s: exit %d needs `where %s`", sc->name,
		    sc->exit_code, want);
}

static void
test_scenario(void **state)
{
	const char *path = *state;
	struct script *sc;
	struct run r;
	char why[1024];

	sc = script_load(path, why, sizeof(why));
	if (sc == NULL)
		fail_msg("%s", why);
	if (sc->exit_code < 0)
		fail_msg("%s: no exit directive", sc->name);
	check_where(sc);
	if (sc->level != NULL && strcmp(sc->level, "socket") == 0) {
		script_free(sc);
		skip();
	}
	run_dialogue(&r, sc);
	if (script_failure(sc) != NULL || r.exit_code != sc->exit_code ||
	    !script_finished(sc, why, sizeof(why))) {
		print_message("%s: exit %d (%s), expected %d\n  error: %s\n"
			      "  script: %s\n  %s\n  transcript:\n%s",
		    sc->name, r.exit_code, error_exit_name(r.exit_code),
		    sc->exit_code, r.err.message,
		    script_failure(sc) ? script_failure(sc) : "ok", why,
		    buf_str(&r.trace));
		run_free(&r);
		script_free(sc);
		fail();
	}
	if (sc->stderr_re != NULL && r.exit_code != 0) {
		regex_t re;

		/* The socket level matches the whole stderr line; here the
		 * pattern must find the reason in the error message. */
		if (regcomp(&re, sc->stderr_re, REG_EXTENDED | REG_NOSUB) ==
		    0) {
			int m = regexec(&re, r.err.message, 0, NULL, 0);

			regfree(&re);
			if (m != 0) {
				print_message("%s: stderr /%s/ does not match "
					      "\"%s\"\n",
				    sc->name, sc->stderr_re, r.err.message);
				run_free(&r);
				script_free(sc);
				fail();
			}
		}
	}
	run_free(&r);
	script_free(sc);
}

/* ------------------------------------------------------------------ */
/* Dialogues checked byte for byte */

/* RFC 3030 2 and the spool's stuffing: the wire line "..x" must reach a
 * BDAT server as ".x" wherever the 1 MiB chunk border falls. */
#define BDAT_LINE_WIRE 43 /* ".." + 39 digits + CRLF */

static void
bdat_roundtrip(size_t prefix)
{
	struct buf wire, plain;
	struct script *sc;
	struct account acct;
	struct peer peer;
	struct submit_session s;
	struct submit_result res;
	struct message_source msg;
	struct envelope env;
	struct transport t;
	struct conn c;
	struct error err;
	char *rcpts[] = {(char *)"b@example.org"};
	char why[512];
	size_t i;
	static const char script[] = "S: 220 mx.example.net ESMTP\n"
				     "C: EHLO client.example.org\n"
				     "S: 250-mx.example.net\n"
				     "S: 250-PIPELINING\n"
				     "S: 250 CHUNKING\n"
				     "C: MAIL FROM:<a@example.org>\n"
				     "C: RCPT TO:<b@example.org>\n"
				     "S: 250 ok\n"
				     "S: 250 ok\n"
				     "C: BDAT *\n"
				     "S: 250 2.0.0 chunk\n"
				     "C: BDAT * LAST\n"
				     "S: 250 2.0.0 done\n"
				     "C: QUIT\n"
				     "S: 221 bye\n";

	buf_init(&wire, 4 * 1024 * 1024);
	buf_init(&plain, 4 * 1024 * 1024);
	for (i = 0; i < prefix; i++)
		assert_int_equal(buf_addch(&plain, 'p', NULL), 0);
	assert_int_equal(buf_append(&plain, "\r\n", 2, NULL), 0);
	/* Lines of one length, so the border walks through every byte of
	 * a line as prefix goes from 0 to BDAT_LINE_WIRE - 1. */
	for (i = 0; i < 26000; i++)
		assert_int_equal(buf_printf(&plain, NULL, ".%039zu\r\n", i), 0);
	/* And in the last chunk: lone dots, and lines without one. */
	assert_int_equal(
	    buf_appends(&plain, ".\r\nplain\r\n..\r\n.\r\n", NULL), 0);
	to_wire(plain.data, plain.len, &wire);
	assert_true(wire.len > 1024 * 1024 && wire.len < 2 * 1024 * 1024);

	sc = script_parse("bdat", script, why, sizeof(why));
	assert_non_null(sc);
	memset(&acct, 0, sizeof(acct));
	acct.tls = ACCOUNT_TLS_OFF;
	acct.auth = ACCOUNT_AUTH_OFF;
	memset(&s, 0, sizeof(s));
	s.ehlo_name = "client.example.org";
	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	memset(&msg, 0, sizeof(msg));
	msg.fd = spool_file(wire.data, wire.len);
	msg.offset = 0;
	msg.size = wire.len;
	script_transport(sc, &t);
	conn_init(&c, &t, 1000);
	error_clear(&err);
	submit_result_init(&res);
	peer_from_account(&peer, &acct, NULL);
	assert_int_equal(submit_open(&s, &c, &acct, &peer, &err), 0);
	if (submit_send(&s, &env, &msg, &res, &err) == -1)
		fail_msg("prefix %zu: %s / %s", prefix, err.message,
		    script_failure(sc) ? script_failure(sc) : "");
	assert_true(res.data_sent);
	assert_string_equal(res.final_reply, "250 2.0.0 done");
	submit_close(&s);
	conn_free(&c);
	assert_null(script_failure(sc));
	assert_true(script_finished(sc, why, sizeof(why)));
	if (sc->data.len != plain.len ||
	    memcmp(sc->data.data, plain.data, plain.len) != 0)
		fail_msg(
		    "prefix %zu: BDAT data differs from the message", prefix);
	close(msg.fd);
	submit_result_free(&res);
	script_free(sc);
	buf_free(&wire);
	buf_free(&plain);
}

static void
test_bdat_unstuff_every_border(void **state)
{
	size_t k;

	for (k = 0; k < BDAT_LINE_WIRE; k++)
		bdat_roundtrip(k);
}

/* A whole session run from an inline script; returns the exit code. */
struct inline_run {
	struct script *sc;
	struct submit_result res;
	struct error err;
	struct buf wire;
	int rc;
	bool out_of_step; /* the session's flag at the end */
};

static void
inline_session(struct inline_run *ir, const char *script, const char *data,
    size_t data_len, const struct envelope *env, bool two)
{
	struct account acct;
	struct peer peer;
	struct submit_session s;
	struct message_source msg;
	struct transport t;
	struct conn c;
	char why[512];

	memset(ir, 0, sizeof(*ir));
	ir->sc = script_parse("inline", script, why, sizeof(why));
	if (ir->sc == NULL)
		fail_msg("%s", why);
	memset(&acct, 0, sizeof(acct));
	acct.tls = ACCOUNT_TLS_OFF;
	acct.auth = ACCOUNT_AUTH_OFF;
	memset(&s, 0, sizeof(s));
	s.ehlo_name = "client.example.org";
	memset(&msg, 0, sizeof(msg));
	msg.fd = spool_file(data, data_len);
	msg.offset = 0;
	msg.size = data_len;
	script_transport(ir->sc, &t);
	conn_init(&c, &t, 1000);
	error_clear(&ir->err);
	submit_result_init(&ir->res);
	peer_from_account(&peer, &acct, NULL);
	ir->rc = submit_open(&s, &c, &acct, &peer, &ir->err);
	if (ir->rc == 0)
		ir->rc = submit_send(&s, env, &msg, &ir->res, &ir->err);
	if (ir->rc == 0 && two) {
		ir->rc = submit_reset(&s, &ir->err);
		if (ir->rc == 0) {
			submit_result_free(&ir->res);
			ir->rc = submit_send(&s, env, &msg, &ir->res, &ir->err);
		}
		if (ir->rc == 0)
			assert_int_equal(s.messages_sent, 2);
	}
	ir->out_of_step = s.out_of_step;
	submit_close(&s);
	conn_free(&c);
	close(msg.fd);
}

static void
inline_free(struct inline_run *ir)
{
	submit_result_free(&ir->res);
	script_free(ir->sc);
}

static const char plain_head[] = "S: 220 mx.example.net ESMTP\n"
				 "C: EHLO client.example.org\n"
				 "S: 250-mx.example.net\n"
				 "S: 250 8BITMIME\n";

static void
test_data_exact_bytes(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	struct buf script, data;
	size_t i;
	char why[256];

	buf_init(&script, 65536);
	buf_init(&data, 4 * 1024 * 1024);
	/* Larger than one block, with stuffed lines everywhere. */
	for (i = 0; data.len < 300 * 1024; i++)
		assert_int_equal(buf_printf(&data, NULL, "%sline %zu\r\n",
				     i % 5 ? "" : "..", i),
		    0);
	assert_int_equal(buf_appends(&script, plain_head, NULL), 0);
	assert_int_equal(buf_appends(&script,
			     "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
			     "C: RCPT TO:<b@example.org>\nS: 250 ok\nC: "
			     "DATA\nS: 354 go\nD:\n"
			     "S: 250 2.0.0 queued\nC: QUIT\nS: 221 bye\n",
			     NULL),
	    0);
	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	inline_session(&ir, script.data, data.data, data.len, &env, false);
	if (ir.rc != 0)
		fail_msg("%s", ir.err.message);
	assert_null(script_failure(ir.sc));
	assert_true(script_finished(ir.sc, why, sizeof(why)));
	/* The script stores data lines as received: the spool verbatim. */
	assert_int_equal(ir.sc->data.len, data.len);
	assert_memory_equal(ir.sc->data.data, data.data, data.len);
	assert_true(ir.res.data_sent);
	assert_string_equal(ir.res.final_reply, "250 2.0.0 queued");
	assert_int_equal(ir.res.phase, SUBMIT_PHASE_DONE);
	inline_free(&ir);
	buf_free(&script);
	buf_free(&data);
}

static void
test_data_unterminated_spool(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	char why[256];
	const char script[] =
	    "S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
	    "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
	    "C: RCPT TO:<b@example.org>\nS: 250 ok\nC: DATA\nS: 354 go\nD:\n"
	    "S: 250 ok\nC: QUIT\nS: 221 bye\n";

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	/* A spool without its last CRLF still ends in CRLF.CRLF. */
	inline_session(&ir, script, "no newline", 10, &env, false);
	assert_int_equal(ir.rc, 0);
	assert_null(script_failure(ir.sc));
	assert_true(script_finished(ir.sc, why, sizeof(why)));
	assert_string_equal(buf_str(&ir.sc->data), "no newline\r\n");
	inline_free(&ir);
}

static void
test_two_messages_one_session(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org", (char *)"c@example.org"};
	char why[256];
	const char script[] =
	    "S: 220 mx\nC: EHLO client.example.org\nS: 250-mx\n"
	    "S: 250 PIPELINING\n"
	    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b@example.org>\n"
	    "C: RCPT TO:<c@example.org>\nC: DATA\n"
	    "S+ 250 ok\nS+ 250 ok\nS+ 250 ok\nS: 354 go\nD:\nS: 250 one\n"
	    "C: RSET\nS: 250 reset\n"
	    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b@example.org>\n"
	    "C: RCPT TO:<c@example.org>\nC: DATA\n"
	    "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\nD:\nS: 250 two\n"
	    "C: QUIT\nS: 221 bye\n";

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 2;
	inline_session(&ir, script, default_message,
	    sizeof(default_message) - 1, &env, true);
	if (ir.rc != 0)
		fail_msg("%s", ir.err.message);
	assert_null(script_failure(ir.sc));
	assert_true(script_finished(ir.sc, why, sizeof(why)));
	assert_string_equal(ir.res.final_reply, "250 two");
	inline_free(&ir);
}

/* Run script (two messages to b@example.org unless the first fails);
 * it must fail with code and a message holding want. */
static void
out_of_step_run(
    const char *script, int code, const char *want, bool out_of_step)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	char why[256];

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	inline_session(&ir, script, default_message,
	    sizeof(default_message) - 1, &env, true);
	if (ir.rc != -1)
		fail_msg("not detected: %s", script);
	assert_int_equal(ir.err.exit_code, code);
	if (strstr(ir.err.message, want) == NULL)
		fail_msg("'%s' not in '%s'", want, ir.err.message);
	assert_int_equal(ir.out_of_step, out_of_step);
	assert_null(script_failure(ir.sc));
	if (!script_finished(ir.sc, why, sizeof(why)))
		fail_msg("%s", why);
	inline_free(&ir);
}

/* A server that answers one command twice shifts every later reply by
 * one; the session ends where the extra reply shows, with no further
 * command (not even QUIT, whose reply would be just as unreliable). */
static void
test_reply_to_no_command(void **state)
{
	/* Two 250s after the final dot, in one segment: seen before RSET. */
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
			"C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
			"C: RCPT TO:<b@example.org>\nS: 250 ok\n"
			"C: DATA\nS: 354 go\nD:\nS+ 250 one\nS: 250 one\n"
			"end\n",
	    EX_PROTOCOL,
	    "RSET: the server sent a reply to no command (\"250 one\"); the "
	    "session is out of step",
	    true);
	/* Without PIPELINING: seen before RCPT, before DATA, before the
	 * message itself. */
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
			"C: MAIL FROM:<a@example.org>\nS+ 250 ok\nS: 250 ok\n"
			"end\n",
	    EX_PROTOCOL,
	    "RCPT TO:<b@example.org>: the server sent a reply to no command",
	    true);
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
			"C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
			"C: RCPT TO:<b@example.org>\nS+ 250 ok\nS: 250 ok\n"
			"end\n",
	    EX_PROTOCOL, "DATA: the server sent a reply to no command", true);
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
			"C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
			"C: RCPT TO:<b@example.org>\nS: 250 ok\n"
			"C: DATA\nS+ 354 go\nS: 250 ok\nend\n",
	    EX_PROTOCOL, "DATA: the server sent a reply to no command", true);
	/* After EHLO: seen before MAIL. */
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS+ 250 mx\n"
			"S: 250 mx\nend\n",
	    EX_PROTOCOL,
	    "MAIL FROM:<a@example.org>: the server sent a reply to no "
	    "command",
	    true);
	/* The extra reply came late: the replies shift, and a 250 to DATA
	 * is one that fits no command. */
	out_of_step_run(
	    "S: 220 mx\nC: EHLO client.example.org\n"
	    "S: 250-mx\nS: 250 PIPELINING\n"
	    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b@example.org>\n"
	    "C: DATA\nS: 250 ok\nS: 250 ok\nS: 250 ok\nend\n",
	    EX_PROTOCOL, "DATA: unexpected reply 250 ok", true);
	/* RFC 5321 3.8: a 421 may come unasked; it only closes. */
	out_of_step_run("S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
			"C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
			"C: RCPT TO:<b@example.org>\nS: 250 ok\n"
			"C: DATA\nS: 354 go\nD:\nS+ 250 one\n"
			"S: 421 4.3.2 shutting down\nend\n",
	    EX_TEMPFAIL, "RSET: 421 4.3.2 shutting down", false);
}

static void
test_refused_lists(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {
	    (char *)"a@x.org", (char *)"b@x.org", (char *)"c@x.org"};
	char why[256];
	const char script[] =
	    "S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
	    "C: MAIL FROM:<>\nS: 250 ok\n"
	    "C: RCPT TO:<a@x.org>\nS: 550 5.1.1 no a\n"
	    "C: RCPT TO:<b@x.org>\nS: 250 ok\n"
	    "C: RCPT TO:<c@x.org>\nS: 451 4.3.0 later\n"
	    "C: RSET\nS: 250 ok\nC: QUIT\nS: 221 bye\n";

	memset(&env, 0, sizeof(env));
	env.sender = "";
	env.rcpts = rcpts;
	env.n_rcpts = 3;
	inline_session(&ir, script, "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, -1);
	assert_int_equal(ir.err.exit_code, EX_NOUSER);
	assert_string_equal(
	    ir.err.message, "RCPT TO:<a@x.org>: 550 5.1.1 no a");
	assert_int_equal(ir.res.n_refused, 1);
	assert_string_equal(ir.res.refused[0], "a@x.org");
	assert_int_equal(ir.res.n_deferred, 1);
	assert_string_equal(ir.res.deferred[0], "c@x.org");
	assert_false(ir.res.data_sent);
	assert_null(script_failure(ir.sc));
	assert_true(script_finished(ir.sc, why, sizeof(why)));
	inline_free(&ir);
}

static void
test_dsn_ignored_flag(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	const char script[] =
	    "S: 220 mx\nC: EHLO client.example.org\nS: 250 mx\n"
	    "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
	    "C: RCPT TO:<b@example.org>\nS: 250 ok\nC: DATA\nS: 354 go\nD:\n"
	    "S: 250 ok\nC: QUIT\nS: 221 bye\n";

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	env.dsn_notify = "success";
	inline_session(&ir, script, "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, 0);
	assert_true(ir.res.dsn_ignored);
	assert_null(script_failure(ir.sc));
	inline_free(&ir);
}

static void
test_bad_dsn_notify_before_mail(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	const char script[] =
	    "S: 220 mx\nC: EHLO client.example.org\nS: 250-mx\nS: 250 DSN\n"
	    "C: QUIT\nS: 221 bye\n";

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	env.dsn_notify = "success\r\nRCPT TO:<evil@x>";
	inline_session(&ir, script, "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, -1);
	assert_int_equal(ir.err.exit_code, EX_USAGE);
	assert_null(script_failure(ir.sc));
	inline_free(&ir);
}

static void
test_spool_shorter_than_recorded(void **state)
{
	struct script *sc;
	struct account acct;
	struct peer peer;
	struct submit_session s;
	struct submit_result res;
	struct message_source msg;
	struct envelope env;
	struct transport t;
	struct conn c;
	struct error err;
	char *rcpts[] = {(char *)"b@example.org"};
	char why[256];

	sc = script_parse("short",
	    "S: 220 mx\nC: EHLO *\nS: 250 mx\n"
	    "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
	    "C: RCPT TO:<b@example.org>\nS: 250 ok\nC: DATA\nS: 354 go\n"
	    "end\n",
	    why, sizeof(why));
	assert_non_null(sc);
	memset(&acct, 0, sizeof(acct));
	acct.tls = ACCOUNT_TLS_OFF;
	memset(&s, 0, sizeof(s));
	s.ehlo_name = "c.example.org";
	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	memset(&msg, 0, sizeof(msg));
	msg.fd = spool_file("abc\r\n", 5);
	msg.offset = 0;
	msg.size = 5000;
	script_transport(sc, &t);
	conn_init(&c, &t, 1000);
	error_clear(&err);
	submit_result_init(&res);
	peer_from_account(&peer, &acct, NULL);
	assert_int_equal(submit_open(&s, &c, &acct, &peer, &err), 0);
	assert_int_equal(submit_send(&s, &env, &msg, &res, &err), -1);
	/* A local read error: the message was not sent; the dot never went
	 * out, so the server must see the link drop, not an end. */
	assert_int_equal(err.exit_code, EX_IOERR);
	assert_false(res.data_sent);
	assert_true(s.closed);
	submit_close(&s);
	conn_free(&c);
	assert_true(script_finished(sc, why, sizeof(why)));
	close(msg.fd);
	submit_result_free(&res);
	script_free(sc);
}

static void
test_send_on_closed_session(void **state)
{
	struct submit_session s;
	struct submit_result res;
	struct envelope env;
	struct message_source msg = {-1, 0, 0, NULL, NULL};
	struct error err;

	memset(&s, 0, sizeof(s));
	memset(&env, 0, sizeof(env));
	s.closed = true;
	submit_result_init(&res);
	error_clear(&err);
	assert_int_equal(submit_send(&s, &env, &msg, &res, &err), -1);
	assert_int_equal(err.exit_code, EX_SOFTWARE);
	assert_int_equal(submit_reset(&s, &err), -1);
	submit_close(&s); /* a no-op, never a crash */
	submit_close(NULL);
	submit_result_free(&res);
}

/* peer.h: the host given, not the account's first; every link setting
 * from the account, borrowed. */
static void
test_peer_from_account(void **state)
{
	char *hosts[] = {(char *)"a.example", (char *)"b.example"};
	struct account a;
	struct peer p;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.name = (char *)"work";
	a.hosts = hosts;
	a.n_hosts = 2;
	a.port = 465;
	a.source_ip = (char *)"192.0.2.1";
	a.timeout = 7;
	a.connect_timeout = 3;
	a.tls = ACCOUNT_TLS_ON;
	a.tls_trust_file = (char *)"/t/ca.crt";
	a.tls_fingerprint = (char *)"sha256:00";
	a.tls_cert_file = (char *)"/t/c.crt";
	a.tls_key_file = (char *)"/t/c.key";
	a.tls_priorities = (char *)"NORMAL";
	a.tls_server_name = (char *)"mx.example";
	memset(&p, 0xff, sizeof(p));
	peer_from_account(&p, &a, hosts[1]);
	assert_ptr_equal(p.host, hosts[1]);
	assert_ptr_equal(p.account, a.name);
	assert_int_equal(p.port, 465);
	assert_ptr_equal(p.source_ip, a.source_ip);
	assert_int_equal(p.timeout, 7);
	assert_int_equal(p.connect_timeout, 3);
	assert_int_equal(p.tls, ACCOUNT_TLS_ON);
	assert_ptr_equal(p.tls_trust_file, a.tls_trust_file);
	assert_ptr_equal(p.tls_fingerprint, a.tls_fingerprint);
	assert_ptr_equal(p.tls_cert_file, a.tls_cert_file);
	assert_ptr_equal(p.tls_key_file, a.tls_key_file);
	assert_ptr_equal(p.tls_priorities, a.tls_priorities);
	assert_ptr_equal(p.tls_server_name, a.tls_server_name);
	/* Unset stays unset. */
	memset(&a, 0, sizeof(a));
	peer_from_account(&p, &a, NULL);
	assert_null(p.host);
	assert_null(p.tls_trust_file);
	assert_null(p.tls_server_name);
}

static void
test_phase_names(void **state)
{
	int p;

	for (p = SUBMIT_PHASE_CONNECT; p <= SUBMIT_PHASE_DONE; p++) {
		const char *n = submit_phase_name((enum submit_phase)p);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
	}
	assert_string_equal(
	    submit_phase_name(SUBMIT_PHASE_END_OF_DATA), "end of data");
	assert_string_equal(
	    submit_phase_name((enum submit_phase)99), "unknown");
}

/* The test double must be able to fail: a wrong client line, a client
 * that waits when it should send, and an unfinished script. */
static void
test_script_detects_mismatch(void **state)
{
	struct inline_run ir;
	struct envelope env;
	char *rcpts[] = {(char *)"b@example.org"};
	char why[256];

	memset(&env, 0, sizeof(env));
	env.sender = "a@example.org";
	env.rcpts = rcpts;
	env.n_rcpts = 1;
	inline_session(
	    &ir, "S: 220 mx\nC: HELO *\nS: 250 ok\n", "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, -1);
	assert_non_null(script_failure(ir.sc));
	assert_non_null(strstr(script_failure(ir.sc), "does not match"));
	inline_free(&ir);

	inline_session(&ir,
	    "S: 220 mx\nC: EHLO *\nS: 250 mx\n"
	    "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
	    "C: RCPT TO:<b@example.org>\nS: 250 ok\nC: DATA\nS: 354 go\n"
	    "D:\nS: 250 ok\nC: QUIT\nS: 221 bye\nS: 250 extra\n",
	    "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, 0);
	assert_false(script_finished(ir.sc, why, sizeof(why)));
	assert_non_null(strstr(why, "250 extra"));
	inline_free(&ir);

	inline_session(
	    &ir, "S: 220 mx\nS: 250 too early\n", "x\r\n", 3, &env, false);
	assert_int_equal(ir.rc, -1);
	assert_non_null(script_failure(ir.sc));
	inline_free(&ir);
}

static void
test_script_glob(void **state)
{
	assert_true(script_glob("EHLO *", "EHLO host.example"));
	assert_true(script_glob("*", ""));
	assert_true(script_glob("a*b*c", "axxbyyc"));
	assert_true(script_glob("MAIL FROM:<a@b> SIZE=*", "MAIL FROM:<a@b> "
							  "SIZE=123"));
	assert_false(script_glob("MAIL FROM:<a@b>", "MAIL FROM:<a@b> "
						    "SIZE=1"));
	assert_false(script_glob("a*c", "abcd"));
	assert_false(script_glob("EHLO", "ehlo"));
}

static void
test_script_parse_errors(void **state)
{
	struct script *sc;
	char why[256];

	sc = script_parse("bad", "S: 220 x\n!bogus\n", why, sizeof(why));
	assert_null(sc);
	assert_non_null(strstr(why, "bad:2"));
	sc = script_parse("bad", "where somewhere\n", why, sizeof(why));
	assert_null(sc);
	sc = script_parse("bad", "!raw \\x4\n", why, sizeof(why));
	assert_null(sc);
	sc = script_parse("ok",
	    "# c\n\nexit 75\nwhere new\nS+: 220 a\n"
	    "S: 220 b\n!raw 250 \\x00\\r\\n\n  !drop  \nD:  \ncert server\n",
	    why, sizeof(why));
	assert_non_null(sc);
	assert_int_equal(sc->exit_code, 75);
	assert_int_equal(sc->n_steps, 5);
	assert_int_equal(sc->steps[0].kind, SCRIPT_S_MORE);
	assert_string_equal(sc->steps[0].text, "220 a");
	assert_int_equal(sc->steps[2].kind, SCRIPT_RAW);
	assert_int_equal(sc->steps[2].len, 7);
	assert_memory_equal(sc->steps[2].text, "250 \0\r\n", 7);
	assert_int_equal(sc->steps[3].kind, SCRIPT_DROP);
	assert_int_equal(sc->steps[4].kind, SCRIPT_D);
	script_free(sc);
}

/* ------------------------------------------------------------------ */

static int
find_scenario_dir(void)
{
	const char *env = getenv("SRCDIR");
	char exe[2048];
	ssize_t n;
	struct stat st;

	if (env != NULL && *env != '\0') {
		snprintf(scenario_dir, sizeof(scenario_dir),
		    "%s/tests/scenarios", env);
		if (stat(scenario_dir, &st) == 0)
			return 0;
	}
#ifdef TOP_SRCDIR
	snprintf(scenario_dir, sizeof(scenario_dir), "%s/tests/scenarios",
	    TOP_SRCDIR);
	if (stat(scenario_dir, &st) == 0)
		return 0;
#endif
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(scenario_dir, sizeof(scenario_dir),
		    "%s/../../tests/scenarios", exe);
		if (stat(scenario_dir, &st) == 0)
			return 0;
	}
	return -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
list_scenarios(char ***names)
{
	DIR *d;
	struct dirent *de;
	size_t n = 0, cap = 0;

	*names = NULL;
	d = opendir(scenario_dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".scn") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*names = realloc(*names, cap * sizeof(**names));
			if (*names == NULL)
				abort();
		}
		(*names)[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(*names, n, sizeof(**names), cmp_names);
	return n;
}

static size_t n_found;

static void
test_scenario_count(void **state)
{
	if (n_found < SCENARIOS_MIN)
		fail_msg("only %zu scenario files in %s (want >= %d)", n_found,
		    scenario_dir, SCENARIOS_MIN);
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_scenario_count),
	    cmocka_unit_test(test_bdat_unstuff_every_border),
	    cmocka_unit_test(test_data_exact_bytes),
	    cmocka_unit_test(test_data_unterminated_spool),
	    cmocka_unit_test(test_two_messages_one_session),
	    cmocka_unit_test(test_reply_to_no_command),
	    cmocka_unit_test(test_refused_lists),
	    cmocka_unit_test(test_dsn_ignored_flag),
	    cmocka_unit_test(test_bad_dsn_notify_before_mail),
	    cmocka_unit_test(test_spool_shorter_than_recorded),
	    cmocka_unit_test(test_send_on_closed_session),
	    cmocka_unit_test(test_phase_names),
	    cmocka_unit_test(test_peer_from_account),
	    cmocka_unit_test(test_script_detects_mismatch),
	    cmocka_unit_test(test_script_glob),
	    cmocka_unit_test(test_script_parse_errors),
	};
	struct CMUnitTest *tests;
	char **names, **paths;
	size_t i;
	int failed;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_submit.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (find_scenario_dir() == -1) {
		fprintf(stderr, "test_submit: tests/scenarios not found (set "
				"SRCDIR)\n");
		rmdir(tmpdir);
		return 1;
	}
	n_found = list_scenarios(&names);
	failed = cmocka_run_group_tests_name("submit", fixed, NULL, NULL);

	tests = calloc(n_found + 1, sizeof(*tests));
	paths = calloc(n_found + 1, sizeof(*paths));
	if (tests == NULL || paths == NULL)
		abort();
	for (i = 0; i < n_found; i++) {
		size_t len = strlen(scenario_dir) + strlen(names[i]) + 2;

		paths[i] = malloc(len);
		if (paths[i] == NULL)
			abort();
		snprintf(paths[i], len, "%s/%s", scenario_dir, names[i]);
		tests[i].name = names[i];
		tests[i].test_func = test_scenario;
		tests[i].initial_state = paths[i];
	}
	if (n_found > 0)
		failed += _cmocka_run_group_tests(
		    "scenarios", tests, n_found, NULL, NULL);
	for (i = 0; i < n_found; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	free(tests);
	rmdir(tmpdir);
	return failed != 0;
}
