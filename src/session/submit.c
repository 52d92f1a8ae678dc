/* SPDX-License-Identifier: ISC */
/*
 * The SMTP dialogue as straight-line code.  Every reply is checked where
 * it is read; a 421, a broken reply or a dead link marks the session closed
 * (no further command, not even QUIT: RFC 5321 3.8), anything else leaves
 * it usable for QUIT or RSET.  Past 800 lines and one job: the phases of
 * one session (greeting, EHLO, STARTTLS, AUTH, the transaction) read top
 * down in one file, so that the order RFC 5321 and RFC 3207 require is
 * visible in one place.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "auth.h"
#include "buf.h"
#include "conn.h"
#include "address.h"
#include "error.h"
#include "sasl_mechs.h"
#include "idn.h"
#include "smtp.h"
#include "submit.h"
#include "tlsmod.h"

/* RFC 5321 4.5.3.2.8 allows the server 5 minutes for QUIT; we are only
 * being polite, so wait briefly. */
#define QUIT_TIMEOUT_MS 5000
/* Room for the MAIL parameters and for lists of refused recipients. */
#define PARAMS_MAX    2048
#define LIST_TEXT_MAX 4096
/* RFC 3461 4.4: ENVID is at most 100 characters (before xtext). */
#define DSN_ENVID_MAX 100
/* How much of a reply nobody asked for an error message quotes. */
#define UNASKED_QUOTE_MAX 100

const char *
submit_phase_name(enum submit_phase phase)
{
	switch (phase) {
	case SUBMIT_PHASE_CONNECT:
		return "connect";
	case SUBMIT_PHASE_GREETING:
		return "greeting";
	case SUBMIT_PHASE_EHLO:
		return "EHLO";
	case SUBMIT_PHASE_STARTTLS:
		return "STARTTLS";
	case SUBMIT_PHASE_TLS:
		return "TLS";
	case SUBMIT_PHASE_AUTH:
		return "AUTH";
	case SUBMIT_PHASE_MAIL:
		return "MAIL FROM";
	case SUBMIT_PHASE_RCPT:
		return "RCPT TO";
	case SUBMIT_PHASE_DATA:
		return "DATA";
	case SUBMIT_PHASE_END_OF_DATA:
		return "end of data";
	case SUBMIT_PHASE_RSET:
		return "RSET";
	case SUBMIT_PHASE_QUIT:
		return "QUIT";
	case SUBMIT_PHASE_DONE:
		return "done";
	}
	return "unknown";
}

void
submit_result_init(struct submit_result *res)
{
	memset(res, 0, sizeof(*res));
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
submit_result_free(struct submit_result *res)
{
	if (res == NULL)
		return;
	free_list(res->refused, res->n_refused);
	free_list(res->deferred, res->n_deferred);
	submit_result_init(res);
}

static int
list_add(char ***list, size_t *n, const char *s, struct error *err)
{
	char **l;
	char *copy;

	copy = strdup(s);
	if (copy == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	l = realloc(*list, (*n + 1) * sizeof(*l));
	if (l == NULL) {
		free(copy);
		return error_set(err, EX_OSERR, "out of memory");
	}
	l[(*n)++] = copy;
	*list = l;
	return 0;
}

/*
 * Read one reply.  A read or parse failure and a 421 end the session; the
 * error names what the reply answered.  res, when given, keeps the
 * server's last words.
 */
static int
read_reply(struct submit_session *s, struct smtp_reply *r, const char *what,
    struct submit_result *res, struct error *err)
{
	if (smtp_read_reply(s->conn, r, err) == -1) {
		s->closed = true;
		error_prefix(err, "%s", what);
		return -1;
	}
	/* RFC 5321 3.8: 421 means the server is closing the channel. */
	if (r->code == 421) {
		char sum[SMTP_REPLY_LINE_MAX];

		s->closed = true;
		smtp_reply_summary(r, sum, sizeof(sum));
		if (res != NULL)
			memcpy(res->final_reply, sum, sizeof(res->final_reply));
		return error_set_reply(
		    err, ERROR_REPLY_OTHER, r->code, "%s: %s", what, sum);
	}
	/* An accepted RCPT is never a transaction's last word (DATA or its
	 * failure follows), so its summary is not made: 10,000 recipients
	 * are 10,000 replies (bench S5). */
	if (res != NULL &&
	    (s->phase != SUBMIT_PHASE_RCPT || r->code / 100 != 2))
		smtp_reply_summary(
		    r, res->final_reply, sizeof(res->final_reply));
	return 0;
}

/* A reply that is not the one hoped for: 4xx and 5xx through the one
 * table in error.c; anything else is the server breaking the protocol. */
static int
reply_error(struct submit_session *s, const struct smtp_reply *r,
    enum error_reply_context ctx, const char *what, struct error *err)
{
	char sum[SMTP_REPLY_LINE_MAX];

	smtp_reply_summary(r, sum, sizeof(sum));
	if (r->code >= 400 && r->code <= 599)
		return error_set_reply(err, ctx, r->code, "%s: %s", what, sum);
	/* A 354 to MAIL or a 250 to DATA: this reply answers another
	 * command, so the ones after it would too. */
	s->closed = true;
	s->out_of_step = true;
	return error_set(
	    err, EX_PROTOCOL, "%s: unexpected reply %s", what, sum);
}

/*
 * Before a command whose reply is the next one to come, nothing may be
 * waiting: a reply nobody asked for (a server answering one command
 * twice) would be taken for the answer to this command, and every later
 * reply for the answer to the one before it.  The session ends instead.
 * RFC 5321 3.8: only a 421 may come unasked, when the server shuts down.
 */
static int
in_step(struct submit_session *s, const char *what, struct error *err)
{
	const char *p = s->conn->rbuf + s->conn->rpos;
	size_t n = conn_pending(s->conn), len;
	char q[UNASKED_QUOTE_MAX * 4 + 1];
	struct smtp_reply r;

	if (n == 0)
		return 0;
	if (n >= 4 && memcmp(p, "421", 3) == 0 &&
	    (p[3] == ' ' || p[3] == '-')) {
		smtp_reply_init(&r);
		/* Always -1: the 421 (or a broken reply) closes the session. */
		if (read_reply(s, &r, what, NULL, err) == -1) {
			smtp_reply_free(&r);
			return -1;
		}
		smtp_reply_free(&r);
	}
	n = conn_pending(s->conn);
	p = s->conn->rbuf + s->conn->rpos;
	for (len = 0; len < n && len < UNASKED_QUOTE_MAX; len++)
		if (p[len] == '\r' || p[len] == '\n')
			break;
	error_escape(q, sizeof(q), p, len);
	s->closed = true;
	s->out_of_step = true;
	return error_set(err, EX_PROTOCOL,
	    "%s: the server sent a reply to no command (\"%s%s\"); the "
	    "session is out of step",
	    what, q, len < n && p[len] != '\r' && p[len] != '\n' ? "..." : "");
}

/* Queue a command; a failure means the link is unusable. */
static int
io_failed(struct submit_session *s, const char *what, struct error *err)
{
	s->closed = true;
	error_prefix(err, "%s", what);
	return -1;
}

static int
flush(struct submit_session *s, const char *what, struct error *err)
{
	if (conn_flush(s->conn, err) == -1)
		return io_failed(s, what, err);
	return 0;
}

/* QUIT, and read the reply briefly: whatever it is, the session is over
 * (a garbled 221 changes nothing). */
static void
quit(struct submit_session *s)
{
	struct smtp_reply r;
	struct error e;
	int saved;

	if (s->closed || s->conn == NULL)
		return;
	s->closed = true;
	error_clear(&e);
	smtp_reply_init(&r);
	saved = s->conn->timeout_ms;
	if (conn_command(s->conn, &e, "QUIT") == 0 &&
	    conn_flush(s->conn, &e) == 0) {
		if (saved <= 0 || saved > QUIT_TIMEOUT_MS)
			s->conn->timeout_ms = QUIT_TIMEOUT_MS;
		(void)smtp_read_reply(s->conn, &r, &e);
		s->conn->timeout_ms = saved;
	}
	smtp_reply_free(&r);
}

/* RSET to abandon a transaction; failures only close the session. */
static void
rset_quietly(struct submit_session *s)
{
	struct smtp_reply r;
	struct error e;

	if (s->closed)
		return;
	error_clear(&e);
	smtp_reply_init(&r);
	if (in_step(s, "RSET", &e) == -1 ||
	    conn_command(s->conn, &e, "RSET") == -1 ||
	    conn_flush(s->conn, &e) == -1 ||
	    read_reply(s, &r, "RSET", NULL, &e) == -1)
		s->closed = true;
	else if (r.code / 100 != 2)
		/* A server that will not reset cannot be trusted with the
		 * next transaction. */
		quit(s);
	smtp_reply_free(&r);
}

static int
ehlo(struct submit_session *s, bool helo_allowed, struct error *err)
{
	struct smtp_reply r;
	const char *name = s->ehlo_name != NULL && *s->ehlo_name
			       ? s->ehlo_name
			       : "localhost.localdomain";
	int rc = -1;

	smtp_reply_init(&r);
	s->phase = SUBMIT_PHASE_EHLO;
	memset(&s->caps, 0, sizeof(s->caps));
	if (conn_command(s->conn, err, "EHLO %s", name) == -1) {
		io_failed(s, "EHLO", err);
		goto out;
	}
	if (flush(s, "EHLO", err) == -1 ||
	    read_reply(s, &r, "EHLO", NULL, err) == -1)
		goto out;
	if (r.code / 100 == 2) {
		smtp_parse_ehlo(r.text, &s->caps);
		s->helo_only = false;
		rc = 0;
		goto out;
	}
	/* RFC 5321 3.2: a server that does not know EHLO answers 500/502;
	 * HELO then works, but without any extension, so only when we need
	 * none (no STARTTLS, no AUTH). */
	if (r.code / 100 != 5 || !helo_allowed) {
		reply_error(s, &r, ERROR_REPLY_EHLO, "EHLO", err);
		goto out;
	}
	if (conn_command(s->conn, err, "HELO %s", name) == -1) {
		io_failed(s, "HELO", err);
		goto out;
	}
	if (flush(s, "HELO", err) == -1 ||
	    read_reply(s, &r, "HELO", NULL, err) == -1)
		goto out;
	if (r.code / 100 != 2) {
		reply_error(s, &r, ERROR_REPLY_EHLO, "HELO", err);
		goto out;
	}
	s->helo_only = true;
	rc = 0;
out:
	smtp_reply_free(&r);
	return rc;
}

static int
starttls(struct submit_session *s, struct error *err)
{
	struct smtp_reply r;
	int rc = -1;

	smtp_reply_init(&r);
	s->phase = SUBMIT_PHASE_STARTTLS;
	/* RFC 3207 4: a missing STARTTLS may be an attacker stripping it;
	 * never continue in plaintext. */
	if (!(s->caps.flags & SMTP_CAP_STARTTLS)) {
		error_set_class(err, ERROR_CLASS_PERMFAIL, EX_UNAVAILABLE,
		    "STARTTLS: server does not offer STARTTLS");
		goto out;
	}
	if (conn_command(s->conn, err, "STARTTLS") == -1) {
		io_failed(s, "STARTTLS", err);
		goto out;
	}
	if (flush(s, "STARTTLS", err) == -1 ||
	    read_reply(s, &r, "STARTTLS", NULL, err) == -1)
		goto out;
	if (r.code != 220) {
		reply_error(s, &r, ERROR_REPLY_STARTTLS, "STARTTLS", err);
		goto out;
	}
	s->phase = SUBMIT_PHASE_TLS;
	if (conn_starttls(s->conn, s->peer, err) == -1) {
		io_failed(
		    s, err->exit_code == EX_PROTOCOL ? "STARTTLS" : "TLS", err);
		goto out;
	}
	s->tls_active = true;
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	s->caps_before_tls = s->caps;
	memset(&s->caps, 0, sizeof(s->caps));
	rc = ehlo(s, false, err);
out:
	smtp_reply_free(&r);
	return rc;
}

static int
authenticate(struct submit_session *s, struct error *err)
{
	const struct sasl_module *sasl;

	s->phase = SUBMIT_PHASE_AUTH;
	sasl = tlsmod_sasl(err);
	if (sasl != NULL && sasl->login(s->conn, s->acct, s->peer, &s->caps,
				s->tls_active, err) == 0) {
		s->authenticated = true;
		return 0;
	}
	/* A broken exchange, a dead link or a 421 leave nothing to QUIT; a
	 * refusal (535, 454, no usable mechanism, no password) leaves the
	 * session alive, whatever its text says. */
	if (error_ends_session(err) || s->conn->eof || s->conn->io_failed)
		s->closed = true;
	if (strncmp(err->message, "AUTH", 4) != 0)
		error_prefix(err, "AUTH");
	return -1;
}

int
submit_open(struct submit_session *s, struct conn *conn,
    const struct account *acct, const struct peer *peer, struct error *err)
{
	struct smtp_reply r;
	bool need_tls, need_auth;

	smtp_reply_init(&r);
	s->conn = conn;
	s->acct = acct;
	s->peer = peer;
	s->closed = false;
	s->out_of_step = false;
	s->authenticated = false;
	s->helo_only = false;
	s->tls_active = conn_tls_info(conn) != NULL;
	need_tls = acct->tls == ACCOUNT_TLS_STARTTLS && !s->tls_active;
	need_auth = sasl_auth_needed(acct);

	s->phase = SUBMIT_PHASE_GREETING;
	if (acct->tls == ACCOUNT_TLS_ON && !s->tls_active) {
		error_set(err, EX_SOFTWARE, "TLS: implicit TLS is not active");
		s->closed = true;
		goto fail;
	}
	if (read_reply(s, &r, "greeting", NULL, err) == -1)
		goto fail;
	smtp_reply_summary(&r, s->greeting, sizeof(s->greeting));
	/* RFC 5321 3.1: 554 instead of 220 means no service here; the
	 * client should still say QUIT. */
	if (r.code != 220) {
		reply_error(s, &r, ERROR_REPLY_GREETING, "greeting", err);
		goto fail;
	}
	smtp_reply_free(&r);
	if (ehlo(s, !need_tls && !need_auth, err) == -1)
		goto fail;
	if (need_tls && starttls(s, err) == -1)
		goto fail;
	if (need_auth && authenticate(s, err) == -1)
		goto fail;
	return 0;
fail:
	smtp_reply_free(&r);
	quit(s);
	return -1;
}

/* "full"/"hdrs" -> RET=; NULL when absent or unknown (checked by cli). */
static const char *
dsn_ret(const char *v)
{
	if (v == NULL)
		return NULL;
	if (strcasecmp(v, "full") == 0)
		return "FULL";
	if (strcasecmp(v, "hdrs") == 0)
		return "HDRS";
	return NULL;
}

static bool
is_ascii(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
	return true;
}

static int
mail_params(struct submit_session *s, const struct envelope *env,
    const struct message_source *msg, bool use_dsn, struct buf *p,
    struct error *err)
{
	unsigned flags = s->caps.flags;

	/* RFC 1870 6: declare the size so the server can refuse early; a
	 * message still being read has none yet, and the parameter is
	 * optional. */
	if ((flags & SMTP_CAP_SIZE) && msg->stream == NULL &&
	    buf_printf(p, err, " SIZE=%llu", msg->size) == -1)
		return -1;
	/* RFC 6152: without 8BITMIME we send anyway (most servers pass 8-bit
	 * data through); declaring it is only possible when offered. */
	if (env->body_8bit && (flags & SMTP_CAP_8BITMIME) &&
	    buf_appends(p, " BODY=8BITMIME", err) == -1)
		return -1;
	if (env->needs_smtputf8 && buf_appends(p, " SMTPUTF8", err) == -1)
		return -1;
	if (use_dsn) {
		const char *ret = dsn_ret(env->dsn_return);

		if (ret != NULL && buf_printf(p, err, " RET=%s", ret) == -1)
			return -1;
		if (env->dsn_envid != NULL) {
			char x[DSN_ENVID_MAX * 3 + 1];

			if (strlen(env->dsn_envid) > DSN_ENVID_MAX ||
			    smtp_xtext(env->dsn_envid, x, sizeof(x)) == -1)
				return error_set(err, EX_USAGE,
				    "DSN envelope "
				    "id longer than %d characters",
				    DSN_ENVID_MAX);
			if (buf_printf(p, err, " ENVID=%s", x) == -1)
				return -1;
		}
	}
	return 0;
}

static int
rcpt_params(const struct envelope *env, const char *rcpt, bool use_dsn,
    struct buf *p, struct error *err)
{
	buf_reset(p);
	if (!use_dsn)
		return 0;
	if (env->dsn_notify != NULL) {
		const char *q;

		if (buf_appends(p, " NOTIFY=", err) == -1)
			return -1;
		/* RFC 3461 4.1: NEVER or a list of SUCCESS, FAILURE, DELAY;
		 * cli.c checked the words. */
		for (q = env->dsn_notify; *q != '\0'; q++) {
			char c = *q;

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if ((c < 'A' || c > 'Z') && c != ',')
				return error_set(
				    err, EX_USAGE, "invalid DSN NOTIFY value");
			if (buf_addch(p, c, err) == -1)
				return -1;
		}
	}
	/* RFC 3461 4.2: ORCPT keeps the address as given; a non-ASCII one
	 * would need RFC 6533's utf-8 type, so it is left out. */
	if (is_ascii(rcpt)) {
		char x[SMTP_COMMAND_LINE_MAX * 3];

		if (smtp_xtext(rcpt, x, sizeof(x)) == 0 &&
		    buf_printf(p, err, " ORCPT=rfc822;%s", x) == -1)
			return -1;
	}
	return 0;
}

/* The outcome of the RCPT commands of one transaction. */
struct rcpt_state {
	size_t accepted;
	size_t refused;
	size_t deferred;
	struct buf refused_text; /* "RCPT TO:<a>: 550 ...; ..." */
	struct buf deferred_text;
};

static void
note_rcpt(struct buf *text, const char *what, const struct smtp_reply *r)
{
	char sum[SMTP_REPLY_LINE_MAX];

	smtp_reply_summary(r, sum, sizeof(sum));
	/* The list is for a human and capped: a lost tail is fine. */
	if (text->len > 0 && buf_appends(text, "; ", NULL) == -1)
		return;
	if (buf_printf(text, NULL, "%s: %s", what, sum) == -1)
		return;
}

/*
 * Sort one RCPT reply.  Returns 1 when the recipient goes into a later
 * transaction (RFC 5321 4.5.3.1.10: 452 after some were accepted means
 * "too many recipients"), 0 otherwise, -1 on a broken reply.
 */
static int
classify_rcpt(struct submit_session *s, struct rcpt_state *st, const char *rcpt,
    const char *what, const struct smtp_reply *r, struct submit_result *res,
    struct error *err)
{
	if (r->code / 100 == 2) {
		st->accepted++;
		return 0;
	}
	if (r->code == 452 && st->accepted > 0)
		return 1;
	if (r->code / 100 == 4) {
		st->deferred++;
		note_rcpt(&st->deferred_text, what, r);
		return list_add(&res->deferred, &res->n_deferred, rcpt, err);
	}
	if (r->code / 100 == 5) {
		st->refused++;
		note_rcpt(&st->refused_text, what, r);
		return list_add(&res->refused, &res->n_refused, rcpt, err);
	}
	return reply_error(s, r, ERROR_REPLY_RCPT, what, err);
}

/* "RCPT TO:<rcpt>" for messages, rcpt cut at 300 bytes; by hand, as it
 * runs once per recipient (bench S5: 10,000 of them). */
static void
rcpt_what(char *what, size_t size, const char *rcpt)
{
	static const char head[] = "RCPT TO:<";
	size_t n = strnlen(rcpt, 300), h = sizeof(head) - 1;

	if (size < h + n + 2) {
		snprintf(what, size, "RCPT TO:<%.300s>", rcpt);
		return;
	}
	memcpy(what, head, h);
	memcpy(what + h, rcpt, n);
	what[h + n] = '>';
	what[h + n + 1] = '\0';
}

/*
 * One transaction's inputs and the state its phases share.  The caller
 * fills the first group; transaction() sets the rest.
 */
struct txn {
	struct submit_session *s;
	const struct envelope *env;
	char *const *rcpts; /* this round's recipients, [0..n) */
	size_t n;
	const struct message_source *msg;
	const char *mparams; /* MAIL parameters, checked already */
	bool use_dsn;
	struct submit_result *res;
	char **later; /* put off by a 452, for the next round */
	size_t n_later;

	bool pipelining;
	bool chunking;
	bool data_pipelined; /* DATA went out with MAIL and RCPT */
	int data_code;	     /* the reply to a pipelined DATA */
	struct smtp_reply r; /* the last reply read */
	struct buf rp;	     /* one recipient's parameters */
	struct rcpt_state st;
};

/* Queue the RCPT command for rcpts[i]; unpipelined, its reply is the next
 * to come, so nothing may be waiting before it. */
static int
send_rcpt(struct txn *t, size_t i, const char *what, struct error *err)
{
	struct submit_session *s = t->s;

	if (rcpt_params(t->env, t->rcpts[i], t->use_dsn, &t->rp, err) == -1) {
		/* MAIL is queued: the session is out of step */
		s->closed = true;
		return -1;
	}
	if (!t->pipelining && in_step(s, what, err) == -1)
		return -1;
	if (conn_command_path(
		s->conn, err, "RCPT TO:", t->rcpts[i], buf_str(&t->rp)) == -1)
		return io_failed(s, what, err);
	return 0;
}

/* MAIL refused in a pipelined group: the rest of the group was answered
 * too (503 need MAIL); read it so the session stays in step. */
static void
drain_group(struct txn *t)
{
	struct error scratch;
	size_t i;

	error_clear(&scratch);
	for (i = 0; i < t->n + (t->data_pipelined ? 1 : 0); i++)
		if (read_reply(t->s, &t->r, "RCPT TO", NULL, &scratch) == -1)
			return;
	if (t->data_pipelined && t->r.code == 354)
		t->s->closed = true;
}

/* MAIL FROM, with every RCPT and DATA behind it where pipelining is
 * offered, and its reply. */
static int
mail_phase(struct txn *t, struct error *err)
{
	struct submit_session *s = t->s;
	char what[SMTP_COMMAND_LINE_MAX];
	size_t i;

	snprintf(what, sizeof(what), "MAIL FROM:<%.300s>", t->env->sender);
	s->phase = SUBMIT_PHASE_MAIL;
	if (in_step(s, what, err) == -1)
		return -1;
	if (conn_command_path(
		s->conn, err, "MAIL FROM:", t->env->sender, t->mparams) == -1)
		return io_failed(s, what, err);
	if (t->pipelining) {
		/* RFC 2920 3.1: MAIL, every RCPT and DATA may go in one
		 * group; the replies come back in order. */
		for (i = 0; i < t->n; i++)
			if (send_rcpt(t, i, "RCPT TO", err) == -1)
				return -1;
		if (t->data_pipelined &&
		    conn_command(s->conn, err, "DATA") == -1)
			return io_failed(s, "DATA", err);
	}
	if (flush(s, what, err) == -1 ||
	    read_reply(s, &t->r, what, t->res, err) == -1)
		return -1;
	if (t->r.code / 100 != 2) {
		reply_error(s, &t->r, ERROR_REPLY_MAIL, what, err);
		if (t->pipelining && !s->closed)
			drain_group(t);
		return -1;
	}
	return 0;
}

/* The RCPT replies (sending each command first when not pipelined), and
 * the reply to a pipelined DATA. */
static int
rcpt_phase(struct txn *t, struct error *err)
{
	struct submit_session *s = t->s;
	char what[400];
	size_t i;
	int k;

	s->phase = SUBMIT_PHASE_RCPT;
	for (i = 0; i < t->n; i++) {
		rcpt_what(what, sizeof(what), t->rcpts[i]);
		if (!t->pipelining && (send_rcpt(t, i, what, err) == -1 ||
					  flush(s, what, err) == -1))
			return -1;
		if (read_reply(s, &t->r, what, t->res, err) == -1)
			return -1;
		k = classify_rcpt(
		    s, &t->st, t->rcpts[i], what, &t->r, t->res, err);
		if (k == -1)
			return -1;
		if (k == 1) {
			t->later[t->n_later++] = t->rcpts[i];
			if (!t->pipelining) {
				/* Stop here; the rest goes later too. */
				for (i++; i < t->n; i++)
					t->later[t->n_later++] = t->rcpts[i];
				break;
			}
		}
	}
	if (t->data_pipelined) {
		s->phase = SUBMIT_PHASE_DATA;
		if (read_reply(s, &t->r, "DATA", t->res, err) == -1)
			return -1;
		t->data_code = t->r.code;
	}
	return 0;
}

/* All recipients or none (mailsub(1), DESCRIPTION): a refused or
 * deferred one abandons the transaction before any data. */
static int
all_or_none(struct txn *t, struct error *err)
{
	struct submit_session *s = t->s;
	struct rcpt_state *st = &t->st;

	if (st->refused == 0 && st->deferred == 0 && st->accepted > 0)
		return 0;
	if (t->data_code == 354)
		/* RFC 2920 3.1 leaves no way back from an accepted DATA but
		 * the data itself: drop the link instead of sending the
		 * final dot. */
		s->closed = true;
	else
		rset_quietly(s);
	if (st->refused > 0)
		error_set_class(err, ERROR_CLASS_PERMFAIL, EX_NOUSER, "%s",
		    buf_str(&st->refused_text));
	else if (st->deferred > 0)
		error_set_class(err, ERROR_CLASS_TEMPFAIL, EX_TEMPFAIL, "%s",
		    buf_str(&st->deferred_text));
	else
		error_set(err, EX_PROTOCOL, "RCPT TO: no recipient accepted");
	s->phase = SUBMIT_PHASE_RCPT;
	return -1;
}

/* The message after a 354: from the spool, or from a stream that is
 * still being read. */
static int
send_message(struct txn *t, struct error *err)
{
	struct submit_session *s = t->s;
	const struct message_source *msg = t->msg;

	if (in_step(s, "DATA", err) == -1)
		return -1;
	if (msg->stream != NULL) {
		unsigned long long size = 0;
		char tail[2] = {'\r', '\n'};

		/* No dot after a stream that stopped: the link goes, and
		 * the server drops the transaction. */
		if (msg->stream(msg->stream_arg, s->conn, &size, tail, err) ==
			-1 ||
		    smtp_send_data_end(s->conn, tail, err) == -1)
			return io_failed(s, "DATA", err);
	} else if (smtp_send_data(
		       s->conn, msg->fd, msg->offset, msg->size, err) == -1)
		return io_failed(s, "DATA", err);
	return 0;
}

/* The message, by BDAT or by DATA (its command and 354 unless it was
 * pipelined). */
static int
data_phase(struct txn *t, struct error *err)
{
	struct submit_session *s = t->s;
	const struct message_source *msg = t->msg;

	s->phase = SUBMIT_PHASE_DATA;
	if (t->chunking) {
		/* RFC 3030: BDAT carries the message without dot-stuffing
		 * and needs no 354 round trip. */
		if (in_step(s, "BDAT", err) == -1)
			return -1;
		if (smtp_send_bdat(
			s->conn, msg->fd, msg->offset, msg->size, err) == -1)
			return io_failed(s, "BDAT", err);
	} else {
		if (!t->data_pipelined) {
			if (in_step(s, "DATA", err) == -1)
				return -1;
			if (conn_command(s->conn, err, "DATA") == -1)
				return io_failed(s, "DATA", err);
			if (flush(s, "DATA", err) == -1 ||
			    read_reply(s, &t->r, "DATA", t->res, err) == -1)
				return -1;
			t->data_code = t->r.code;
		}
		if (t->data_code != 354) {
			reply_error(s, &t->r, ERROR_REPLY_DATA, "DATA", err);
			rset_quietly(s);
			return -1;
		}
		if (send_message(t, err) == -1)
			return -1;
	}
	t->res->data_sent = true;
	return 0;
}

/* The reply to the end of data: the server's word on the message. */
static int
end_phase(struct txn *t, struct error *err)
{
	/* From here a lost link leaves us not knowing whether the server
	 * took the message: it stays queued (a duplicate beats a loss). */
	t->s->phase = SUBMIT_PHASE_END_OF_DATA;
	if (read_reply(t->s, &t->r, "end of data", t->res, err) == -1)
		return -1;
	if (t->r.code / 100 != 2)
		return reply_error(
		    t->s, &t->r, ERROR_REPLY_END_OF_DATA, "end of data", err);
	return 0;
}

/*
 * One transaction for t->rcpts[0..n).  Recipients put off by a 452 are
 * returned in t->later/n_later for the next one.
 */
static int
transaction(struct txn *t, struct error *err)
{
	unsigned int flags = t->s->caps.flags;
	int rc = -1;

	t->pipelining = (flags & SMTP_CAP_PIPELINING) != 0;
	/* BDAT would need the spool un-stuffed on the way: a message
	 * streamed from the spool goes as DATA, which every server takes
	 * (RFC 3030 2). */
	t->chunking =
	    (flags & SMTP_CAP_CHUNKING) != 0 && t->msg->stream == NULL;
	t->data_pipelined = t->pipelining && !t->chunking;
	t->data_code = 0;
	t->n_later = 0;
	memset(&t->st, 0, sizeof(t->st));
	buf_init(&t->st.refused_text, LIST_TEXT_MAX);
	buf_init(&t->st.deferred_text, LIST_TEXT_MAX);
	buf_init(&t->rp, PARAMS_MAX);
	smtp_reply_init(&t->r);

	if (mail_phase(t, err) == 0 && rcpt_phase(t, err) == 0 &&
	    all_or_none(t, err) == 0 && data_phase(t, err) == 0 &&
	    end_phase(t, err) == 0)
		rc = 0;

	smtp_reply_free(&t->r);
	buf_free(&t->rp);
	buf_free(&t->st.refused_text);
	buf_free(&t->st.deferred_text);
	return rc;
}

static int send_envelope(struct submit_session *, const struct envelope *,
    const struct message_source *, struct submit_result *, struct error *);

/*
 * addr with its domain as an A-label (RFC 5890 2.3.2.1), for a server
 * without SMTPUTF8: "user@bücher.example" -> "user@xn--bcher-kva.example".
 * The local part has no ASCII form (RFC 6531 3.2): one that is not ASCII
 * stays EX_DATAERR.  *out is malloc'd.
 */
static int
ascii_address(const char *addr, char **out, struct error *err)
{
	const char *at = strrchr(addr, '@');
	char alabel[ADDRESS_MAX + 1];
	size_t local;

	*out = NULL;
	if (address_is_ascii(addr))
		return (*out = strdup(addr)) != NULL
			   ? 0
			   : error_set(err, EX_OSERR, "out of memory");
	local = at != NULL ? (size_t)(at - addr) : strlen(addr);
	for (size_t i = 0; i < local; i++)
		if ((unsigned char)addr[i] >= 0x80)
			return error_set(err, EX_DATAERR,
			    "<%s>: a non-ASCII local part needs SMTPUTF8, "
			    "server lacks it",
			    addr);
	if (idn_to_ascii(at + 1, alabel, sizeof(alabel), err) == -1) {
		error_prefix(err, "<%s>", addr);
		return -1;
	}
	if (asprintf(out, "%.*s@%s", (int)local, addr, alabel) == -1) {
		*out = NULL;
		return error_set(err, EX_OSERR, "out of memory");
	}
	return 0;
}

/* The envelope with every domain in A-label form, into *a (the strings
 * in *own, freed with free_ascii). */
static int
ascii_envelope(const struct envelope *env, struct envelope *a, char ***own,
    struct error *err)
{
	char **o;
	size_t i;

	*a = *env;
	a->needs_smtputf8 = false;
	if ((o = calloc(env->n_rcpts + 1, sizeof(*o))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	*own = o;
	if (ascii_address(env->sender, &o[env->n_rcpts], err) == -1)
		return -1;
	a->sender = o[env->n_rcpts];
	for (i = 0; i < env->n_rcpts; i++)
		if (ascii_address(env->rcpts[i], &o[i], err) == -1)
			return -1;
	a->rcpts = o;
	return 0;
}

static void
free_ascii(char **own, size_t n)
{
	size_t i;

	if (own == NULL)
		return;
	for (i = 0; i <= n; i++)
		free(own[i]);
	free(own);
}

int
submit_send(struct submit_session *s, const struct envelope *given,
    const struct message_source *msg, struct submit_result *res,
    struct error *err)
{
	const struct envelope *env = given;
	struct envelope ascii;
	char **ascii_own = NULL;
	int rc;

	/* RFC 6531 3.4: a non-ASCII address needs SMTPUTF8; RFC 6530 leaves
	 * no downgrade of a local part, but an IDN domain has its A-label
	 * (RFC 5891), which any server takes. */
	if (given->needs_smtputf8 && s->conn != NULL && !s->closed &&
	    !(s->caps.flags & SMTP_CAP_SMTPUTF8)) {
		if (ascii_envelope(given, &ascii, &ascii_own, err) == -1) {
			free_ascii(ascii_own, given->n_rcpts);
			res->phase = SUBMIT_PHASE_MAIL;
			return -1;
		}
		env = &ascii;
	}
	rc = send_envelope(s, env, msg, res, err);
	free_ascii(ascii_own, given->n_rcpts);
	return rc;
}

static int
send_envelope(struct submit_session *s, const struct envelope *env,
    const struct message_source *msg, struct submit_result *res,
    struct error *err)
{
	struct buf mp;
	struct txn t;
	char **cur = NULL, **later = NULL;
	size_t n_cur;
	bool want_dsn, use_dsn;
	int rc = -1;

	res->phase = s->phase;
	if (s->closed || s->conn == NULL)
		return error_set(err, EX_SOFTWARE, "the session is closed");
	if (env->n_rcpts == 0)
		return error_set(err, EX_DATAERR, "no recipients");
	s->phase = SUBMIT_PHASE_MAIL;
	/* RFC 1870 6.1: better refused here than after sending it all (a
	 * stream checks as it goes). */
	if ((s->caps.flags & SMTP_CAP_SIZE) && s->caps.size_limit > 0 &&
	    msg->stream == NULL && msg->size > s->caps.size_limit) {
		res->phase = s->phase;
		return error_set(err, EX_DATAERR,
		    "message is %llu bytes, server limit is %llu", msg->size,
		    s->caps.size_limit);
	}
	/* RFC 6531 3.4: a non-ASCII address needs SMTPUTF8; there is no
	 * downgrade. */
	if (env->needs_smtputf8 && !(s->caps.flags & SMTP_CAP_SMTPUTF8)) {
		res->phase = s->phase;
		return error_set(
		    err, EX_DATAERR, "address needs SMTPUTF8, server lacks it");
	}
	want_dsn = env->dsn_notify != NULL || env->dsn_return != NULL ||
		   env->dsn_envid != NULL;
	use_dsn = want_dsn && (s->caps.flags & SMTP_CAP_DSN);
	if (want_dsn && !use_dsn)
		res->dsn_ignored = true;

	buf_init(&mp, PARAMS_MAX);
	/* Every parameter is checked before the first command is queued. */
	if (rcpt_params(env, "", use_dsn, &mp, err) == -1)
		goto out;
	buf_reset(&mp);
	if (mail_params(s, env, msg, use_dsn, &mp, err) == -1)
		goto out;
	cur = calloc(env->n_rcpts, sizeof(*cur));
	later = calloc(env->n_rcpts, sizeof(*later));
	if (cur == NULL || later == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	memcpy(cur, env->rcpts, env->n_rcpts * sizeof(*cur));
	n_cur = env->n_rcpts;
	t = (struct txn){.s = s,
	    .env = env,
	    .msg = msg,
	    .mparams = buf_str(&mp),
	    .use_dsn = use_dsn,
	    .res = res};
	/* Each round delivers to at least one recipient (a 452 only puts
	 * one off after another was accepted), so this ends. */
	while (n_cur > 0) {
		char **swap;

		t.rcpts = cur;
		t.n = n_cur;
		t.later = later;
		if (transaction(&t, err) == -1)
			goto out;
		swap = cur;
		cur = later;
		later = swap;
		n_cur = t.n_later;
	}
	s->messages_sent++;
	s->phase = SUBMIT_PHASE_DONE;
	rc = 0;
out:
	res->phase = s->phase;
	free(cur);
	free(later);
	buf_free(&mp);
	return rc;
}

int
submit_reset(struct submit_session *s, struct error *err)
{
	struct smtp_reply r;
	int rc = -1;

	if (s->closed || s->conn == NULL)
		return error_set(err, EX_SOFTWARE, "the session is closed");
	smtp_reply_init(&r);
	s->phase = SUBMIT_PHASE_RSET;
	if (in_step(s, "RSET", err) == -1)
		goto out;
	if (conn_command(s->conn, err, "RSET") == -1) {
		io_failed(s, "RSET", err);
		goto out;
	}
	if (flush(s, "RSET", err) == -1 ||
	    read_reply(s, &r, "RSET", NULL, err) == -1)
		goto out;
	if (r.code / 100 != 2) {
		reply_error(s, &r, ERROR_REPLY_OTHER, "RSET", err);
		goto out;
	}
	rc = 0;
out:
	smtp_reply_free(&r);
	return rc;
}

void
submit_close(struct submit_session *s)
{
	if (s == NULL)
		return;
	if (!s->closed && s->conn != NULL) {
		s->phase = SUBMIT_PHASE_QUIT;
		quit(s);
	}
	s->closed = true;
	s->phase = SUBMIT_PHASE_DONE;
}
