/*
 * The queue runner.  A flush goes through each queue directory once:
 * stale tmp/ files are removed, the messages in new/ are grouped by the
 * account their file names, and each account's group goes over one
 * connection (RSET between messages), every file locked while it is sent.
 * What happens to a message is decided here and stored by queue.c:
 * removed when sent, rewritten with one more attempt after a temporary
 * failure, moved to failed/ after a permanent one or when queue_lifetime
 * has passed.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "error.h"
#include "flush.h"
#include "log.h"
#include "queue.h"
#include "relay.h"
#include "submit.h"

/* The header block is searched for the Message-ID in this many bytes. */
#define MESSAGE_ID_SCAN 16384
/* A listing or a JSON document is built in memory up to this size per
 * message (100 000 recipients of 300 bytes). */
#define LIST_ENTRY_MAX (64 * 1024 * 1024)

/* One run over the queue. */
struct runner {
	const struct config *cfg;
	const struct options *opts;
	const char *only_account; /* NULL = every account */
	const char *only_id;	  /* NULL = every message */
	FILE *out;		  /* "ID: sent" lines, or NULL */
	FILE *errout;
	bool quiet;	     /* only what the user must learn */
	size_t max_messages; /* 0 = no limit */
	long long end_ms;    /* 0 = no limit */
	size_t tried;
	struct flush_stats st;
};

/* One queue file, open and locked. */
struct qmsg {
	const char *qdir;
	const char *id;
	int fd;
	struct queue_file qf;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(struct runner *rn, bool always, const char *account,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One line on errout: "mailsub: ACCOUNT: ...", unless quiet. */
static void
report(
    struct runner *rn, bool always, const char *account, const char *fmt, ...)
{
	char line[2 * ERROR_MESSAGE_MAX];
	va_list ap;

	if (rn->errout == NULL || (rn->quiet && !always))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (account != NULL)
		fprintf(rn->errout, "mailsub: %s: %s\n", account, line);
	else
		fprintf(rn->errout, "mailsub: %s\n", line);
	fflush(rn->errout);
}

/* ---- pure helpers ------------------------------------------------------ */

int
flush_exit_code(const struct flush_stats *st)
{
	if (st->permanent != 0)
		return st->permanent;
	if (st->deferred > 0 || st->untried > 0)
		return EX_TEMPFAIL;
	return EX_OK;
}

void
flush_format_age(time_t now, time_t first, char *buf, size_t size)
{
	long long s = now > first ? (long long)(now - first) : 0;

	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400 && s % 3600 == 0)
		snprintf(buf, size, "%lldh", s / 3600);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else if (s % 86400 == 0)
		snprintf(buf, size, "%lldd", s / 86400);
	else
		snprintf(
		    buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

void
flush_find_message_id(const char *text, size_t len, char *out, size_t size)
{
	size_t pos = 0, n = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t next = pos + ll + (nl != NULL ? 1 : 0);

		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return; /* the end of the header block */
		if (ll > 11 && strncasecmp(line, "Message-ID:", 11) == 0) {
			size_t i = 11;

			/* The value, with folded continuation lines. */
			for (;;) {
				for (; i < ll && n + 1 < size; i++)
					if (line[i] != ' ' && line[i] != '\t')
						out[n++] = line[i];
				if (next >= len ||
				    (text[next] != ' ' && text[next] != '\t'))
					break;
				line = text + next;
				nl = memchr(line, '\n', len - next);
				ll = nl != NULL ? (size_t)(nl - line)
						: len - next;
				next += ll + (nl != NULL ? 1 : 0);
				if (ll > 0 && line[ll - 1] == '\r')
					ll--;
				i = 0;
			}
			out[n] = '\0';
			return;
		}
		pos = next;
	}
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t need, i;
	unsigned long cp;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	need = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < need)
		return 0;
	cp = p[0] & (0x3f >> (need - 1));
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

int
flush_json_string(struct buf *out, const char *s, struct error *err)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p);

	if (buf_addch(out, '"', err) == -1)
		return -1;
	while (n > 0) {
		size_t k;
		int rc;

		if (*p == '"' || *p == '\\')
			rc = buf_printf(out, err, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc = buf_printf(out, err, "\\u%04x", *p);
		else if (*p < 0x80)
			rc = buf_addch(out, (char)*p, err);
		else if ((k = utf8_len(p, n)) > 0) {
			if (buf_append(out, p, k, err) == -1)
				return -1;
			p += k;
			n -= k;
			continue;
		} else
			/* Not UTF-8: JSON cannot carry it. */
			rc = buf_appends(out, "\\ufffd", err);
		if (rc == -1)
			return -1;
		p++;
		n--;
	}
	return buf_addch(out, '"', err);
}

/* ---- configuration ----------------------------------------------------- */

static const struct account *
find_account(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++)
		if (strcasecmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

/*
 * The queue directories to look at: the chosen account's, or every
 * account's once (accounts usually share the default queue_dir).
 * *dirs holds borrowed strings.
 */
static int
queue_dirs(const struct config *cfg, const struct account *only,
    const char ***dirs, size_t *n, struct error *err)
{
	const char **d;
	size_t i, j, cnt = 0;

	*dirs = NULL;
	*n = 0;
	d = calloc(cfg->n_accounts + 1, sizeof(*d));
	if (d == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < cfg->n_accounts; i++) {
		const struct account *a = cfg->accounts[i];
		char r1[PATH_MAX], r2[PATH_MAX];
		bool seen = false;

		if (only != NULL && a != only)
			continue;
		if (a->queue_dir == NULL || a->queue_dir[0] == '\0')
			continue;
		for (j = 0; j < cnt && !seen; j++) {
			if (strcmp(d[j], a->queue_dir) == 0)
				seen = true;
			else if (realpath(d[j], r1) != NULL &&
				 realpath(a->queue_dir, r2) != NULL &&
				 strcmp(r1, r2) == 0)
				seen = true;
		}
		if (!seen)
			d[cnt++] = a->queue_dir;
	}
	*dirs = d;
	*n = cnt;
	return 0;
}

/* ---- one message ------------------------------------------------------- */

static void
qmsg_close(struct qmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	queue_file_free(&m->qf);
}

static void
message_id(const struct qmsg *m, char *out, size_t size)
{
	char buf[MESSAGE_ID_SCAN];
	ssize_t n;

	out[0] = '\0';
	n = pread(m->fd, buf, sizeof(buf), m->qf.msg_offset);
	if (n > 0)
		flush_find_message_id(buf, (size_t)n, out, size);
}

static void
log_message(const struct account *acct, const struct qmsg *m, const char *host,
    const char *reply, int code, const char *status)
{
	struct log_record rec;
	char mid[512];

	message_id(m, mid, sizeof(mid));
	memset(&rec, 0, sizeof(rec));
	rec.account = acct->name;
	rec.host = host != NULL && host[0] != '\0'
		       ? host
		       : (acct->n_hosts ? acct->hosts[0] : "");
	rec.sender = m->qf.sender;
	rec.rcpts = (const char *const *)m->qf.rcpts;
	rec.n_rcpts = m->qf.n_rcpts;
	rec.size = m->qf.msg_size;
	rec.message_id = mid;
	rec.reply = reply;
	rec.exit_code = code;
	rec.queue_id = m->id;
	rec.status = status;
	log_record(acct, &rec);
}

/*
 * Open, lock and parse qdir/new/ID.  0: m holds it; 1: skip it (being sent
 * by another run, gone, or damaged and moved aside).
 */
static int
load(struct runner *rn, const char *qdir, const char *id, struct qmsg *m)
{
	struct error err;
	int rc;

	memset(m, 0, sizeof(*m));
	m->qdir = qdir;
	m->id = id;
	m->fd = -1;
	queue_file_init(&m->qf);
	error_clear(&err);
	rc = queue_lock(qdir, QUEUE_AREA_NEW, id, &m->fd, &err);
	if (rc == QUEUE_LOCK_BUSY) {
		rn->st.busy++;
		return 1;
	}
	if (rc == QUEUE_LOCK_GONE)
		return 1;
	if (rc == -1) {
		report(rn, false, NULL, "%s", err.message);
		rn->st.untried++;
		return 1;
	}
	if (queue_read_envelope(m->fd, &m->qf, &err) == -1) {
		if (err.exit_code != EX_DATAERR) {
			report(rn, false, NULL, "%s/new/%s: %s", qdir, id,
			    err.message);
			rn->st.untried++;
			qmsg_close(m);
			return 1;
		}
		/* Damaged: keep it for the user, out of every later run. */
		{
			struct error merr;

			error_clear(&merr);
			if (queue_move(qdir, id, QUEUE_AREA_NEW,
				QUEUE_AREA_FAILED, &merr) == -1)
				report(rn, true, NULL, "%s/new/%s: %s; and %s",
				    qdir, id, err.message, merr.message);
			else
				report(rn, true, NULL,
				    "%s/new/%s: %s; moved to %s/failed/%s",
				    qdir, id, err.message, qdir, id);
		}
		rn->st.failed++;
		if (rn->st.permanent == 0)
			rn->st.permanent = EX_DATAERR;
		qmsg_close(m);
		return 1;
	}
	return 0;
}

static void
fill_envelope(const struct queue_file *qf, struct envelope *env)
{
	size_t i;

	memset(env, 0, sizeof(*env));
	env->sender = qf->sender;
	env->rcpts = qf->rcpts;
	env->n_rcpts = qf->n_rcpts;
	env->dsn_notify = qf->dsn_notify;
	env->dsn_return = qf->dsn_return;
	env->dsn_envid = qf->dsn_envid;
	env->body_8bit = qf->body_8bit;
	env->needs_smtputf8 = !address_is_ascii(qf->sender);
	for (i = 0; i < qf->n_rcpts; i++)
		if (!address_is_ascii(qf->rcpts[i]))
			env->needs_smtputf8 = true;
}

/* A temporary failure: one more attempt, stored durably; stays in new/. */
static void
defer(struct runner *rn, const struct account *acct, struct qmsg *m,
    const char *host, const struct error *why)
{
	struct queue_envelope env;
	struct error err;

	queue_file_envelope(&m->qf, &env);
	env.attempts = m->qf.attempts + 1;
	env.last_attempt = time(NULL);
	if (env.first_attempt == 0)
		env.first_attempt = env.last_attempt;
	env.last_error = why->message;
	error_clear(&err);
	rn->st.deferred++;
	if (queue_rewrite(m->qdir, m->id, QUEUE_AREA_NEW, QUEUE_AREA_NEW, &env,
		&m->qf, &m->fd, &err) == -1)
		/* The old version is still in place: nothing is lost. */
		report(rn, true, acct->name,
		    "%s; message %s stays queued, but its attempt could not be "
		    "recorded: %s",
		    why->message, m->id, err.message);
	else
		report(rn, false, acct->name,
		    "%s; message %s stays queued (attempt %u)", why->message,
		    m->id, env.attempts);
	log_message(acct, m, host, why->message, EX_TEMPFAIL, "queued");
}

/* Into failed/ with the reason; status "failed" or "expired". */
static void
give_up(struct runner *rn, const struct account *acct, struct qmsg *m,
    const char *host, const char *why, int code, const char *status)
{
	struct queue_envelope env;
	struct error err;
	char *path;

	queue_file_envelope(&m->qf, &env);
	env.last_error = why;
	if (strcmp(status, "failed") == 0) {
		env.attempts = m->qf.attempts + 1;
		env.last_attempt = time(NULL);
	}
	error_clear(&err);
	if (queue_rewrite(m->qdir, m->id, QUEUE_AREA_NEW, QUEUE_AREA_FAILED,
		&env, &m->qf, &m->fd, &err) == -1) {
		report(rn, true, acct->name,
		    "%s; and message %s could not be moved to failed/ (it "
		    "stays queued): %s",
		    why, m->id, err.message);
		rn->st.deferred++;
		log_message(acct, m, host, why, EX_TEMPFAIL, "queued");
		return;
	}
	if (strcmp(status, "expired") == 0)
		rn->st.expired++;
	else
		rn->st.failed++;
	if (rn->st.permanent == 0)
		rn->st.permanent = code;
	path = queue_path(m->qdir, QUEUE_AREA_FAILED, m->id);
	report(rn, true, acct->name, "%s; message saved as %s", why,
	    path != NULL ? path : m->id);
	free(path);
	log_message(acct, m, host, why, code, status);
}

static bool
expired(const struct account *acct, const struct queue_file *qf, time_t now)
{
	return acct->queue_lifetime > 0 && qf->first_attempt > 0 &&
	       now - qf->first_attempt >= acct->queue_lifetime;
}

static void
expire(
    struct runner *rn, const struct account *acct, struct qmsg *m, time_t now)
{
	char why[ERROR_MESSAGE_MAX], age[32], life[32];

	flush_format_age(now, m->qf.first_attempt, age, sizeof(age));
	flush_format_age(acct->queue_lifetime, 0, life, sizeof(life));
	snprintf(why, sizeof(why),
	    "message %s expired: queued %s ago, queue_lifetime is %s, "
	    "%u attempt%s; last error: %.300s",
	    m->id, age, life, m->qf.attempts, m->qf.attempts == 1 ? "" : "s",
	    m->qf.last_error != NULL ? m->qf.last_error : "none");
	give_up(rn, acct, m, NULL, why, EX_UNAVAILABLE, "expired");
}

/* Send m over the open session; the session may be closed afterwards. */
static void
send_one(struct runner *rn, const struct account *acct, struct relay *relay,
    struct qmsg *m)
{
	struct envelope env;
	struct message_source src;
	struct submit_result res;
	struct error err;

	fill_envelope(&m->qf, &env);
	src.fd = m->fd;
	src.offset = m->qf.msg_offset;
	src.size = m->qf.msg_size;
	submit_result_init(&res);
	error_clear(&err);
	rn->tried++;
	if (submit_send(&relay->session, &env, &src, &res, &err) == 0) {
		struct error rerr;

		rn->st.sent++;
		error_clear(&rerr);
		if (queue_remove(m->qdir, QUEUE_AREA_NEW, m->id, &rerr) == -1)
			report(rn, true, acct->name,
			    "message %s was sent, but %s: it may be sent "
			    "again",
			    m->id, rerr.message);
		if (rn->out != NULL) {
			fprintf(rn->out, "%s: sent via %s: %s\n", m->id,
			    relay->where, res.final_reply);
			fflush(rn->out);
		}
		/* The log names the hosts that failed before this one. */
		if (relay->earlier[0] != '\0') {
			char
			    reply[SMTP_REPLY_LINE_MAX + ERROR_MESSAGE_MAX + 16];

			snprintf(reply, sizeof(reply), "%s (after %s)",
			    res.final_reply, relay->earlier);
			log_message(
			    acct, m, relay->where, reply, EX_OK, "sent");
		} else
			log_message(acct, m, relay->where, res.final_reply,
			    EX_OK, "sent");
	} else {
		error_prefix(&err, "%s", relay->where);
		if (error_is_temporary(err.exit_code))
			defer(rn, acct, m, relay->where, &err);
		else
			give_up(rn, acct, m, relay->where, err.message,
			    err.exit_code, "failed");
	}
	submit_result_free(&res);
}

static bool
limits_reached(const struct runner *rn)
{
	if (rn->max_messages > 0 && rn->tried >= rn->max_messages)
		return true;
	return rn->end_ms > 0 && now_ms() >= rn->end_ms;
}

/* The rest of a group is left for a later run. */
static void
leave_rest(struct runner *rn, const struct account *acct, size_t rest)
{
	if (rest == 0)
		return;
	rn->st.untried += rest;
	report(rn, false, acct->name, "%zu more message%s stay%s queued", rest,
	    rest == 1 ? "" : "s", rest == 1 ? "s" : "");
}

/*
 * Send ids[0..n) (all naming acct) over one connection; RSET between
 * messages.  A session that dies after having carried a message is
 * opened again, at most FLUSH_RECONNECTS_MAX times.
 */
static void
run_group(struct runner *rn, const char *qdir, const struct account *acct,
    char **ids, size_t n)
{
	struct relay relay;
	bool open = false;
	size_t i, on_session = 0, sent_before;
	int reconnects = 0;

	memset(&relay, 0, sizeof(relay));
	for (i = 0; i < n; i++) {
		struct qmsg m;
		struct error err;

		if (limits_reached(rn)) {
			leave_rest(rn, acct, n - i);
			break;
		}
		if (load(rn, qdir, ids[i], &m) != 0)
			continue;
		if (expired(acct, &m.qf, time(NULL))) {
			expire(rn, acct, &m, time(NULL));
			qmsg_close(&m);
			continue;
		}
		error_clear(&err);
		if (open) {
			relay_next_message(&relay);
			if (submit_reset(&relay.session, &err) == -1) {
				relay_close(&relay);
				open = false;
				if (++reconnects > FLUSH_RECONNECTS_MAX) {
					qmsg_close(&m);
					leave_rest(rn, acct, n - i);
					break;
				}
			}
		}
		if (!open) {
			error_clear(&err);
			if (relay_open(&relay, acct, rn->opts->verbose, &err) ==
			    -1) {
				/* This message was tried; the rest wait. */
				rn->tried++;
				if (error_is_temporary(err.exit_code))
					defer(rn, acct, &m, relay.where, &err);
				else {
					rn->st.untried++;
					if (rn->st.permanent == 0)
						rn->st.permanent =
						    err.exit_code;
					report(rn, false, acct->name,
					    "%s; message %s stays queued",
					    err.message, m.id);
					log_message(acct, &m, relay.where,
					    err.message, err.exit_code,
					    "queued");
				}
				qmsg_close(&m);
				leave_rest(rn, acct, n - i - 1);
				return;
			}
			open = true;
			on_session = 0;
		}
		sent_before = rn->st.sent;
		send_one(rn, acct, &relay, &m);
		qmsg_close(&m);
		on_session++;
		if (relay.session.closed) {
			relay_close(&relay);
			open = false;
			/* Only a server that took a message is worth a new
			 * connection in the same run. */
			if ((rn->st.sent == sent_before && on_session == 1) ||
			    ++reconnects > FLUSH_RECONNECTS_MAX) {
				leave_rest(rn, acct, n - i - 1);
				break;
			}
		}
	}
	if (open)
		relay_close(&relay);
}

/* Everything in one queue directory, grouped by account. */
static int
run_dir(struct runner *rn, const char *qdir, struct error *err)
{
	char **ids = NULL, ***groups = NULL;
	size_t n = 0, i, *counts = NULL, removed = 0;
	struct error rerr;

	error_clear(&rerr);
	if (queue_recover(qdir, FLUSH_STALE_TMP_SECONDS, &removed, &rerr) == -1)
		report(rn, false, NULL, "%s", rerr.message);
	else if (removed > 0)
		log_verbose("%s/tmp: removed %zu stale file%s", qdir, removed,
		    removed == 1 ? "" : "s");
	if (queue_list(qdir, QUEUE_AREA_NEW, &ids, &n, err) == -1)
		return -1;
	if (n == 0) {
		queue_ids_free(ids, n);
		return 0;
	}
	groups = calloc(rn->cfg->n_accounts, sizeof(*groups));
	counts = calloc(rn->cfg->n_accounts, sizeof(*counts));
	if (groups == NULL || counts == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	/* Which account each message belongs to: the header is read
	 * without the lock (a file in new/ is always complete; the lock is
	 * taken, and the header read again, when it is sent). */
	for (i = 0; i < n; i++) {
		struct queue_file qf;
		struct error e;
		char *path;
		size_t k;
		int fd;

		if (rn->only_id != NULL && strcmp(ids[i], rn->only_id) != 0)
			continue;
		path = queue_path(qdir, QUEUE_AREA_NEW, ids[i]);
		if (path == NULL) {
			error_set(err, EX_OSERR, "out of memory");
			goto out;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		free(path);
		if (fd == -1)
			continue; /* sent meanwhile */
		error_clear(&e);
		if (queue_read_envelope(fd, &qf, &e) == -1) {
			struct qmsg m;

			close(fd);
			/* load() moves a damaged file aside. */
			if (e.exit_code == EX_DATAERR &&
			    rn->only_account == NULL &&
			    load(rn, qdir, ids[i], &m) == 0)
				qmsg_close(&m);
			continue;
		}
		close(fd);
		for (k = 0; k < rn->cfg->n_accounts; k++)
			if (strcasecmp(
				rn->cfg->accounts[k]->name, qf.account) == 0)
				break;
		if (rn->only_account != NULL &&
		    strcasecmp(rn->only_account, qf.account) != 0) {
			queue_file_free(&qf);
			continue;
		}
		if (k == rn->cfg->n_accounts) {
			char esc[200];

			report(rn, false, NULL,
			    "%s/new/%s: account '%s' is not in %s; the message "
			    "stays queued",
			    qdir, ids[i],
			    error_escape(esc, sizeof(esc), qf.account,
				strlen(qf.account)),
			    rn->cfg->path);
			rn->st.untried++;
			queue_file_free(&qf);
			continue;
		}
		queue_file_free(&qf);
		if (groups[k] == NULL) {
			groups[k] = calloc(n, sizeof(**groups));
			if (groups[k] == NULL) {
				error_set(err, EX_OSERR, "out of memory");
				goto out;
			}
		}
		groups[k][counts[k]++] = ids[i];
	}
	for (i = 0; i < rn->cfg->n_accounts; i++)
		if (counts[i] > 0)
			run_group(rn, qdir, rn->cfg->accounts[i], groups[i],
			    counts[i]);
out:
	if (groups != NULL)
		for (i = 0; i < rn->cfg->n_accounts; i++)
			free(groups[i]);
	free(groups);
	free(counts);
	queue_ids_free(ids, n);
	return error_is_set(err) ? -1 : 0;
}

/* ---- listing ----------------------------------------------------------- */

struct lister {
	FILE *out;
	bool json;
	struct buf doc; /* the JSON document */
	size_t entries; /* JSON entries so far */
	const char *only_account;
};

static int
json_entry(struct lister *ls, const char *qdir, const char *id,
    const char *state, const struct queue_file *qf, time_t now,
    struct error *err)
{
	struct buf *b = &ls->doc;
	size_t i;

	if (buf_appends(b, ls->entries++ ? ",\n  {" : "\n  {", err) == -1 ||
	    buf_appends(b, "\"id\": ", err) == -1 ||
	    flush_json_string(b, id, err) == -1 ||
	    buf_appends(b, ", \"state\": ", err) == -1 ||
	    flush_json_string(b, state, err) == -1 ||
	    buf_appends(b, ", \"queue_dir\": ", err) == -1 ||
	    flush_json_string(b, qdir, err) == -1 ||
	    buf_appends(b, ", \"account\": ", err) == -1 ||
	    flush_json_string(b, qf->account, err) == -1 ||
	    buf_printf(b, err,
		", \"age\": %lld, \"first_attempt\": %lld, "
		"\"last_attempt\": %lld, \"attempts\": %u, \"size\": %llu, "
		"\"sender\": ",
		qf->first_attempt > 0 && now > qf->first_attempt
		    ? (long long)(now - qf->first_attempt)
		    : 0LL,
		(long long)qf->first_attempt, (long long)qf->last_attempt,
		qf->attempts, qf->msg_size) == -1 ||
	    flush_json_string(b, qf->sender, err) == -1 ||
	    buf_appends(b, ", \"recipients\": [", err) == -1)
		return -1;
	for (i = 0; i < qf->n_rcpts; i++)
		if ((i > 0 && buf_appends(b, ", ", err) == -1) ||
		    flush_json_string(b, qf->rcpts[i], err) == -1)
			return -1;
	if (buf_appends(b, "], \"last_error\": ", err) == -1)
		return -1;
	if (qf->last_error != NULL) {
		if (flush_json_string(b, qf->last_error, err) == -1)
			return -1;
	} else if (buf_appends(b, "null", err) == -1)
		return -1;
	return buf_addch(b, '}', err);
}

static void
text_entry(struct lister *ls, const char *id, const char *state,
    const struct queue_file *qf, time_t now)
{
	char age[32], esc[ERROR_MESSAGE_MAX], acc[200];
	size_t i, col;

	flush_format_age(now, qf->first_attempt, age, sizeof(age));
	fprintf(ls->out, "%s  %-6s  %6s  %8llu  %s  <%s>\n", id, state, age,
	    qf->msg_size,
	    error_escape(acc, sizeof(acc), qf->account, strlen(qf->account)),
	    error_escape(esc, sizeof(esc), qf->sender, strlen(qf->sender)));
	fputs("    to:", ls->out);
	col = 7;
	for (i = 0; i < qf->n_rcpts; i++) {
		error_escape(
		    esc, sizeof(esc), qf->rcpts[i], strlen(qf->rcpts[i]));
		if (col + strlen(esc) + 3 > 78 && col > 7) {
			fputs("\n       ", ls->out);
			col = 7;
		}
		fprintf(ls->out, " <%s>", esc);
		col += strlen(esc) + 3;
	}
	fputc('\n', ls->out);
	if (qf->attempts == 0 && strcmp(state, "queued") == 0)
		fprintf(ls->out, "    not tried yet%s%s\n",
		    qf->last_error != NULL ? ": " : "",
		    qf->last_error != NULL ? qf->last_error : "");
	else
		fprintf(ls->out, "    %u attempt%s; last error: %s\n",
		    qf->attempts, qf->attempts == 1 ? "" : "s",
		    qf->last_error != NULL ? qf->last_error : "none");
}

static int
list_area(struct lister *ls, const char *qdir, enum queue_area area, char **ids,
    size_t n, struct error *err)
{
	const char *state = area == QUEUE_AREA_NEW ? "queued" : "failed";
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < n; i++) {
		struct queue_file qf;
		struct error e;
		char *path = queue_path(qdir, area, ids[i]);
		int fd;

		if (path == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		free(path);
		if (fd == -1)
			continue; /* sent or moved meanwhile */
		error_clear(&e);
		if (queue_read_envelope(fd, &qf, &e) == -1) {
			close(fd);
			if (!ls->json)
				fprintf(ls->out, "%s  damaged: %s\n", ids[i],
				    e.message);
			continue;
		}
		close(fd);
		if (ls->only_account != NULL &&
		    strcasecmp(ls->only_account, qf.account) != 0) {
			queue_file_free(&qf);
			continue;
		}
		if (ls->json) {
			if (json_entry(
				ls, qdir, ids[i], state, &qf, now, err) == -1) {
				queue_file_free(&qf);
				return -1;
			}
		} else
			text_entry(ls, ids[i], state, &qf, now);
		queue_file_free(&qf);
	}
	return 0;
}

static int
list_dir(struct lister *ls, const char *qdir, struct error *err)
{
	char **fresh = NULL, **failed = NULL;
	size_t nf = 0, nx = 0;
	int rc = -1;

	if (queue_list(qdir, QUEUE_AREA_NEW, &fresh, &nf, err) == -1 ||
	    queue_list(qdir, QUEUE_AREA_FAILED, &failed, &nx, err) == -1)
		goto out;
	if (!ls->json) {
		if (nf + nx == 0)
			fprintf(ls->out, "%s: queue is empty\n", qdir);
		else
			fprintf(ls->out, "%s: %zu queued, %zu failed\n", qdir,
			    nf, nx);
	}
	if (list_area(ls, qdir, QUEUE_AREA_NEW, fresh, nf, err) == -1 ||
	    list_area(ls, qdir, QUEUE_AREA_FAILED, failed, nx, err) == -1)
		goto out;
	rc = 0;
out:
	queue_ids_free(fresh, nf);
	queue_ids_free(failed, nx);
	return rc;
}

static int
cmd_list(const struct config *cfg, const struct account *only,
    const struct options *opts, FILE *out, struct error *err)
{
	struct lister ls;
	const char **dirs = NULL;
	size_t n = 0, i;
	int rc = -1;

	memset(&ls, 0, sizeof(ls));
	ls.out = out;
	ls.json = opts->json;
	ls.only_account = only != NULL ? only->name : NULL;
	buf_init(&ls.doc, LIST_ENTRY_MAX);
	if (queue_dirs(cfg, only, &dirs, &n, err) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (list_dir(&ls, dirs[i], err) == -1)
			goto out;
	if (ls.json)
		fprintf(out, "{\"messages\": [%s%s]}\n", buf_str(&ls.doc),
		    ls.entries ? "\n" : "");
	rc = 0;
out:
	buf_free(&ls.doc);
	free(dirs);
	return rc;
}

/* ---- delete and requeue ------------------------------------------------ */

/*
 * Find ID in the chosen queue directories, in area; 0 with *fd locked and
 * *qdir set, 1 when not there, -1 on error (EX_TEMPFAIL: being sent).
 */
static int
find_locked(const char *const *dirs, size_t n, enum queue_area area,
    const char *id, const char **qdir, int *fd, struct error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int rc = queue_lock(dirs[i], area, id, fd, err);

		if (rc == 0) {
			*qdir = dirs[i];
			return 0;
		}
		if (rc == -1)
			return -1;
		if (rc == QUEUE_LOCK_BUSY)
			return error_set(err, EX_TEMPFAIL,
			    "message %s is being sent right now; try again "
			    "later",
			    id);
	}
	return 1;
}

static int
cmd_delete(const struct config *cfg, const struct account *only, const char *id,
    FILE *out, struct error *err)
{
	static const enum queue_area areas[] = {
	    QUEUE_AREA_NEW, QUEUE_AREA_FAILED};
	const char **dirs = NULL;
	const char *qdir = NULL;
	size_t n = 0, a;
	int fd = -1, rc = -1, found = 1;

	if (queue_dirs(cfg, only, &dirs, &n, err) == -1)
		return -1;
	for (a = 0; a < 2 && found == 1; a++) {
		found = find_locked((const char *const *)dirs, n, areas[a], id,
		    &qdir, &fd, err);
		if (found == -1)
			goto out;
		if (found == 0) {
			struct queue_file qf;
			struct error e;
			const struct account *acct = NULL;
			struct qmsg m;

			error_clear(&e);
			queue_file_init(&qf);
			if (queue_read_envelope(fd, &qf, &e) == 0)
				acct = find_account(cfg, qf.account);
			if (queue_remove(qdir, areas[a], id, err) == -1) {
				queue_file_free(&qf);
				goto out;
			}
			fprintf(out, "%s: deleted from %s/%s\n", id, qdir,
			    queue_area_name(areas[a]));
			if (acct != NULL) {
				m.qdir = qdir;
				m.id = id;
				m.fd = fd;
				m.qf = qf;
				log_message(acct, &m, NULL,
				    "deleted on request (--queue-delete)",
				    EX_OK, "deleted");
			}
			queue_file_free(&qf);
		}
	}
	if (found == 1) {
		error_set(
		    err, EX_NOINPUT, "no queued or failed message %s", id);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(dirs);
	return rc;
}

static int
cmd_requeue(const struct config *cfg, const struct account *only,
    const char *id, FILE *out, struct error *err)
{
	const char **dirs = NULL;
	const char *qdir = NULL;
	struct queue_file qf;
	struct queue_envelope env;
	size_t n = 0;
	int fd = -1, rc = -1, found;

	queue_file_init(&qf);
	if (queue_dirs(cfg, only, &dirs, &n, err) == -1)
		return -1;
	found = find_locked((const char *const *)dirs, n, QUEUE_AREA_FAILED, id,
	    &qdir, &fd, err);
	if (found == -1)
		goto out;
	if (found == 1) {
		found = find_locked((const char *const *)dirs, n,
		    QUEUE_AREA_NEW, id, &qdir, &fd, err);
		if (found == 0)
			error_set(
			    err, EX_USAGE, "message %s is already queued", id);
		else if (found == 1)
			error_set(err, EX_NOINPUT, "no failed message %s", id);
		goto out;
	}
	if (queue_read_envelope(fd, &qf, err) == -1) {
		error_prefix(err, "%s/failed/%s", qdir, id);
		goto out;
	}
	queue_file_envelope(&qf, &env);
	/* A fresh queue_lifetime: the user wants it tried again. */
	env.first_attempt = time(NULL);
	if (queue_rewrite(qdir, id, QUEUE_AREA_FAILED, QUEUE_AREA_NEW, &env,
		&qf, &fd, err) == -1)
		goto out;
	fprintf(out, "%s: moved back to %s/new (mailsub -q sends it now)\n", id,
	    qdir);
	rc = 0;
out:
	queue_file_free(&qf);
	if (fd != -1)
		close(fd);
	free(dirs);
	return rc;
}

/* ---- entry points ------------------------------------------------------ */

static int
run(struct runner *rn, const struct account *only, struct error *err)
{
	const char **dirs = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (queue_dirs(rn->cfg, only, &dirs, &n, err) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = run_dir(rn, dirs[i], err);
	free(dirs);
	return rc;
}

static void
runner_init(struct runner *rn, const struct config *cfg,
    const struct options *opts, FILE *out, FILE *errout)
{
	memset(rn, 0, sizeof(*rn));
	rn->cfg = cfg;
	rn->opts = opts;
	rn->out = out;
	rn->errout = errout;
}

int
flush_command(const struct options *opts, FILE *out, FILE *errout)
{
	struct config *cfg = NULL;
	const struct account *only = NULL;
	struct error err;
	struct runner rn;
	int code = EX_OK;

	error_clear(&err);
	if (delivery_load_config(opts, &cfg, &err) == -1)
		goto fail;
	/* -a limits the mode to one account and its queue directory. */
	if (opts->account != NULL &&
	    config_select(cfg, opts->account, NULL, &only, &err) == -1)
		goto fail;
	switch (opts->mode) {
	case CLI_MODE_QUEUE_LIST:
		if (cmd_list(cfg, only, opts, out, &err) == -1)
			goto fail;
		break;
	case CLI_MODE_FLUSH:
		runner_init(&rn, cfg, opts, out, errout);
		rn.only_account = only != NULL ? only->name : NULL;
		if (run(&rn, only, &err) == -1)
			goto fail;
		code = flush_exit_code(&rn.st);
		break;
	case CLI_MODE_QUEUE_DELETE:
	case CLI_MODE_REQUEUE:
		if (!queue_id_valid(opts->mode_argument)) {
			char esc[200];

			error_set(&err, EX_USAGE, "invalid queue ID '%s'",
			    error_escape(esc, sizeof(esc),
				opts->mode_argument != NULL
				    ? opts->mode_argument
				    : "",
				opts->mode_argument != NULL
				    ? strlen(opts->mode_argument)
				    : 0));
			goto fail;
		}
		if ((opts->mode == CLI_MODE_QUEUE_DELETE
			    ? cmd_delete(
				  cfg, only, opts->mode_argument, out, &err)
			    : cmd_requeue(cfg, only, opts->mode_argument, out,
				  &err)) == -1)
			goto fail;
		break;
	default:
		error_set(&err, EX_SOFTWARE, "not a queue mode");
		goto fail;
	}
	fflush(out);
	config_free(cfg);
	return code;
fail:
	fflush(out);
	fprintf(errout, "mailsub: %s\n", err.message);
	config_free(cfg);
	return err.exit_code;
}

void
flush_after_delivery(const struct config *cfg, const struct account *acct,
    const struct options *opts, FILE *errout)
{
	struct runner rn;
	struct error err;

	if (acct == NULL || acct->queue_dir == NULL)
		return;
	runner_init(&rn, cfg, opts, NULL, errout);
	rn.quiet = true;
	rn.only_account = acct->name;
	rn.max_messages = FLUSH_AFTER_MESSAGES;
	rn.end_ms = now_ms() + FLUSH_AFTER_SECONDS * 1000LL;
	error_clear(&err);
	if (run_dir(&rn, acct->queue_dir, &err) == -1)
		log_verbose("flushing %s: %s", acct->queue_dir, err.message);
}

int
flush_background(const struct config *cfg, const struct account *acct,
    const struct options *opts, const char *id, struct error *err)
{
	struct runner rn;
	struct error e;
	pid_t pid;
	int fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1)
		return error_set(err, EX_OSERR, "fork: %s", strerror(errno));
	if (pid > 0)
		return 0;
	/* The child: no terminal, no caller's pipes held open. */
	(void)setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	runner_init(&rn, cfg, opts, NULL, NULL);
	rn.quiet = true;
	rn.only_account = acct->name;
	rn.only_id = id;
	error_clear(&e);
	(void)run_dir(&rn, acct->queue_dir, &e);
	if (rn.st.sent > 0)
		flush_after_delivery(cfg, acct, opts, NULL);
	_exit(0);
}
