/* SPDX-License-Identifier: ISC */
/*
 * The queue runner.  A flush goes through each queue directory once:
 * stale tmp/ files are removed, the messages in new/ are grouped by the
 * account their file names, and each account's group goes over one
 * connection (RSET between messages), every file locked while it is sent.
 * What happens to a message is decided here and stored by queue.c:
 * removed when sent, rewritten with one more attempt after a temporary
 * failure, moved to failed/ after a permanent one, or after a temporary
 * one when queue_lifetime has passed since its first attempt.
 * Past 800 lines as one job: the runner's steps share its state (struct
 * runner: the group's one connection, the lock of the file being sent),
 * and the decision for a message needs all of them.
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "fdio.h"
#include "flush.h"
#include "header.h"
#include "interrupt.h"
#include "log.h"
#include "queue.h"
#include "relay.h"
#include "submit.h"
#include "sysmode.h"

/* The header block is searched for the Message-ID in this many bytes. */
#define MESSAGE_ID_SCAN 16384

/* One run over the queue. */
struct runner {
	const struct config *cfg;
	const struct options *opts;
	const char *only_account; /* NULL = every account */
	const char *only_id;	  /* NULL = every message */
	FILE *out;		  /* "ID: sent" lines, or NULL */
	FILE *errout;
	bool quiet;	     /* only what the user must learn */
	bool name_messages;  /* lines say "queued message ID:" first: the
				run is about another message */
	size_t max_messages; /* 0 = no limit */
	long long end_ms;    /* 0 = no limit */
	size_t tried;
	struct flush_stats st;
	/* SIGTERM and the like (interrupt.h): the run stops where it is. */
	bool cut;	   /* messages were left unlooked at */
	bool cut_reported; /* the one line about it is out */
};

/* One queue file, open and locked. */
struct qmsg {
	const char *qdir;
	const char *id;
	int fd;
	struct queue_file qf;
};

static void report(struct runner *rn, bool always, const char *account,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report_msg(struct runner *rn, bool always, const char *account,
    const char *id, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void vreport(struct runner *rn, bool always, const char *account,
    const char *id, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
vreport(struct runner *rn, bool always, const char *account, const char *id,
    const char *fmt, va_list ap)
{
	char line[2 * ERROR_MESSAGE_MAX];

	if (rn->errout == NULL || (rn->quiet && !always))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fputs("mailsub: ", rn->errout);
	if (id != NULL && rn->name_messages)
		fprintf(rn->errout, "queued message %s: ", id);
	if (account != NULL)
		fprintf(rn->errout, "%s: ", account);
	fprintf(rn->errout, "%s\n", line);
	fflush(rn->errout);
}

/* One line on errout: "mailsub: ACCOUNT: ...", unless quiet. */
static void
report(
    struct runner *rn, bool always, const char *account, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(rn, always, account, NULL, fmt, ap);
	va_end(ap);
}

/* A line about the queued message id: after a submission, the flush it
 * triggers names the message first, so that its lines are not taken for
 * the outcome of the message just submitted. */
static void
report_msg(struct runner *rn, bool always, const char *account, const char *id,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(rn, always, account, id, fmt, ap);
	va_end(ap);
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
	size_t pos = 0, n = 0, i;

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
		if ((i = header_field_is(line, ll, "Message-ID")) > 0) {
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

/* ---- queue directories -------------------------------------------------- */

int
flush_queue_dirs(const struct config *cfg, const struct account *only,
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
		if (seen)
			continue;
		/* A queue someone else can write holds their messages,
		 * sent as ours: the whole run is refused (fsperm.h). */
		if (queue_check(a->queue_dir, err) == -1) {
			error_prefix(err, "%s: queue_dir", a->name);
			free(d);
			return -1;
		}
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
	rec.sender = m->qf.env.sender;
	rec.rcpts = (const char *const *)m->qf.env.rcpts;
	rec.n_rcpts = m->qf.env.n_rcpts;
	rec.size = m->qf.msg_size;
	rec.message_id = mid;
	rec.reply = reply;
	rec.exit_code = code;
	rec.queue_id = m->id;
	rec.status = status;
	if (acct->system) {
		rec.submitter = m->qf.submitter;
		rec.submitter_uid = (unsigned long)m->qf.submitter_uid;
	}
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
		/* Whose a damaged file is, nobody can tell: root's.  Not a
		 * send's failure: EX_DATAERR is queue.h's word for damaged,
		 * EX_IOERR for unreadable, both ERROR_CLASS_LOCAL. */
		if (err.exit_code != EX_DATAERR || sysmode_restricted()) {
			if (sysmode_restricted()) {
				qmsg_close(m);
				return 1;
			}
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
	/* Another user's message: not this caller's to send (sysmode.h). */
	if (!queue_file_mine(&m->qf)) {
		qmsg_close(m);
		return 1;
	}
	return 0;
}

/*
 * When qf was first tried; 0 when never.  Until its first attempt a file
 * written by -odq holds the time it was queued as its first attempt
 * (older versions count the lifetime from there).
 */
static time_t
first_attempt(const struct queue_file *qf)
{
	return qf->attempts > 0 ? qf->first_attempt : 0;
}

/* Whether queue_lifetime has passed since first, the first attempt. */
static bool
past_lifetime(const struct account *acct, time_t first, time_t now)
{
	return acct->queue_lifetime > 0 && first > 0 &&
	       now - first >= acct->queue_lifetime;
}

/* qf's meta lines after one more attempt now, which failed with why. */
static void
attempt_meta(const struct queue_file *qf, const char *why, time_t now,
    struct queue_meta *meta)
{
	queue_file_meta(qf, meta);
	meta->attempts = qf->attempts + 1;
	meta->last_attempt = now;
	meta->first_attempt = first_attempt(qf) != 0 ? qf->first_attempt : now;
	meta->last_error = why;
}

static void give_up(struct runner *rn, const struct account *acct,
    struct qmsg *m, const char *host, const char *why, int code,
    const char *status, bool attempted);

/*
 * Into failed/ because queue_lifetime has passed since its first attempt
 * and the last attempt (now, when attempted; else an earlier one) failed
 * with last_error.
 */
static void
expire(struct runner *rn, const struct account *acct, struct qmsg *m,
    time_t now, bool attempted, const char *last_error)
{
	char why[ERROR_MESSAGE_MAX], age[32], life[32];
	unsigned attempts = m->qf.attempts + (attempted ? 1 : 0);
	time_t first = first_attempt(&m->qf);

	flush_format_age(now, first != 0 ? first : now, age, sizeof(age));
	flush_format_age(acct->queue_lifetime, 0, life, sizeof(life));
	snprintf(why, sizeof(why),
	    "message %s expired: first tried %s ago, queue_lifetime is %s, "
	    "%u attempt%s; last error: %.300s",
	    m->id, age, life, attempts, attempts == 1 ? "" : "s",
	    last_error != NULL ? last_error : "none");
	give_up(rn, acct, m, NULL, why, EX_UNAVAILABLE, "expired", attempted);
}

/*
 * A temporary failure: one more attempt, stored durably; stays in new/.
 * Past queue_lifetime since its first attempt it expires instead, unless
 * may_expire is false (the failure was the server's, not the message's).
 */
static void
defer(struct runner *rn, const struct account *acct, struct qmsg *m,
    const char *host, const struct error *why, bool may_expire)
{
	struct queue_meta meta;
	struct error err;
	time_t now = time(NULL);

	attempt_meta(&m->qf, why->message, now, &meta);
	if (may_expire && past_lifetime(acct, meta.first_attempt, now)) {
		expire(rn, acct, m, now, true, why->message);
		return;
	}
	error_clear(&err);
	rn->st.deferred++;
	if (queue_rewrite(m->qdir, m->id, QUEUE_AREA_NEW, QUEUE_AREA_NEW, &meta,
		&m->qf, &m->fd, &err) == -1)
		/* The old version is still in place: nothing is lost. */
		report_msg(rn, true, acct->name, m->id,
		    "%s; message %s stays queued, but its attempt could not be "
		    "recorded: %s",
		    why->message, m->id, err.message);
	else
		report_msg(rn, false, acct->name, m->id,
		    "%s; message %s stays queued (attempt %u)", why->message,
		    m->id, meta.attempts);
	log_message(acct, m, host, why->message, EX_TEMPFAIL, "queued");
}

/*
 * A signal ended the attempt on m: it stays in new/ as it was (its lock
 * goes with the descriptor), no attempt counted against it, since the
 * server was not at fault.  After a final dot whose reply never came it
 * may have been delivered: a duplicate is better than a loss.
 */
static void
interrupted(struct runner *rn, const struct account *acct, struct qmsg *m,
    const char *host, const struct error *why)
{
	rn->st.untried++;
	rn->cut_reported = true;
	report(rn, false, acct->name, "%s; message %s stays queued",
	    why->message, m->id);
	log_message(acct, m, host, why->message, EX_TEMPFAIL, "queued");
}

/* Into failed/ with the reason; status "failed" or "expired".  attempted:
 * the reason is an attempt of this run, to be counted. */
static void
give_up(struct runner *rn, const struct account *acct, struct qmsg *m,
    const char *host, const char *why, int code, const char *status,
    bool attempted)
{
	struct queue_meta meta;
	struct error err;
	char *path;

	if (attempted)
		attempt_meta(&m->qf, why, time(NULL), &meta);
	else {
		queue_file_meta(&m->qf, &meta);
		meta.last_error = why;
	}
	error_clear(&err);
	if (queue_rewrite(m->qdir, m->id, QUEUE_AREA_NEW, QUEUE_AREA_FAILED,
		&meta, &m->qf, &m->fd, &err) == -1) {
		report_msg(rn, true, acct->name, m->id,
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
	report_msg(rn, true, acct->name, m->id, "%s; message saved as %s", why,
	    path != NULL ? path : m->id);
	free(path);
	log_message(acct, m, host, why, code, status);
}

/*
 * Send m over the open session; the session may be closed afterwards.  A
 * failure is left in *failure (cleared when m was sent).
 */
static void
send_one(struct runner *rn, const struct account *acct, struct relay *relay,
    struct qmsg *m, struct error *failure)
{
	struct message_source src;
	struct submit_result res;
	struct error err;

	memset(&src, 0, sizeof(src));
	src.fd = m->fd;
	src.offset = m->qf.msg_offset;
	src.size = m->qf.msg_size;
	submit_result_init(&res);
	error_clear(&err);
	rn->tried++;
	if (submit_send(&relay->session, &m->qf.env, &src, &res, &err) == 0) {
		struct error rerr;

		rn->st.sent++;
		error_clear(&rerr);
		if (queue_remove(m->qdir, QUEUE_AREA_NEW, m->id, &rerr) == -1)
			report_msg(rn, true, acct->name, m->id,
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
		if (interrupt_caught())
			interrupted(rn, acct, m, relay->where, &err);
		else if (relay->session.out_of_step)
			/* Its replies may have been another command's: it
			 * is not to blame, and stays queued. */
			defer(rn, acct, m, relay->where, &err, false);
		else if (error_is_retryable(&err))
			defer(rn, acct, m, relay->where, &err, true);
		else
			give_up(rn, acct, m, relay->where, err.message,
			    err.exit_code, "failed", true);
	}
	*failure = err;
	submit_result_free(&res);
}

static bool
limits_reached(const struct runner *rn)
{
	if (rn->max_messages > 0 && rn->tried >= rn->max_messages)
		return true;
	return rn->end_ms > 0 && fdio_now_ms() >= rn->end_ms;
}

/*
 * m waits because the relay could not take it now, for the reason down
 * (a failed connection or login, a session the server closed on the
 * first message): a failed attempt for m too.  Never tried, it records
 * this as its first attempt (its queue_lifetime starts); past
 * queue_lifetime since its first attempt, it expires; otherwise its file
 * stays as it is.  Returns whether it stays queued.
 */
static bool
hold(struct runner *rn, const struct account *acct, struct qmsg *m,
    const struct error *down)
{
	struct queue_meta meta;
	struct error err;
	time_t now = time(NULL);

	if (past_lifetime(acct, first_attempt(&m->qf), now)) {
		expire(rn, acct, m, now, false, m->qf.last_error);
		return false;
	}
	if (m->qf.attempts > 0)
		return true;
	attempt_meta(&m->qf, down->message, now, &meta);
	error_clear(&err);
	if (queue_rewrite(m->qdir, m->id, QUEUE_AREA_NEW, QUEUE_AREA_NEW, &meta,
		&m->qf, &m->fd, &err) == -1)
		report_msg(rn, true, acct->name, m->id,
		    "message %s stays queued, but its attempt could not be "
		    "recorded: %s",
		    m->id, err.message);
	else
		log_message(
		    acct, m, NULL, down->message, EX_TEMPFAIL, "queued");
	return true;
}

/*
 * ids[from..n) are left for a later run: as they are, or, when down is
 * set, each held (above) for that reason.
 */
static void
leave_rest(struct runner *rn, const char *qdir, const struct account *acct,
    char **ids, size_t from, size_t n, const struct error *down)
{
	size_t i, rest = 0;

	for (i = from; i < n; i++) {
		struct qmsg m;

		if (down == NULL) {
			rest++;
			continue;
		}
		if (load(rn, qdir, ids[i], &m) != 0)
			continue;
		if (hold(rn, acct, &m, down))
			rest++;
		qmsg_close(&m);
	}
	if (rest == 0)
		return;
	rn->st.untried += rest;
	report(rn, false, acct->name, "%zu more message%s stay%s queued", rest,
	    rest == 1 ? "" : "s", rest == 1 ? "s" : "");
}

/* A failure that says the relay cannot take any message now, not just
 * the one it happened to: retryable (error_is_retryable()), and not a
 * session out of step. */
static const struct error *
relay_down(const struct relay *relay, const struct error *err)
{
	if (relay->session.out_of_step || !error_is_retryable(err))
		return NULL;
	return err;
}

/*
 * Send ids[0..n) (all naming acct) over one connection; RSET between
 * messages.  A session that dies after having carried a message is
 * opened again, at most FLUSH_RECONNECTS_MAX times.  A session out of
 * step (a reply that fits no command) is not: the message in flight and
 * all later ones stay queued.
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
	{
		/* What a message from stdin would be refused for (files
		 * that are not trusted, fsperm.h) keeps these queued. */
		struct error cerr;

		error_clear(&cerr);
		if (config_check_account_files(acct, &cerr) == -1) {
			rn->st.untried += n;
			if (rn->st.permanent == 0)
				rn->st.permanent = cerr.exit_code;
			report(rn, false, NULL,
			    "%s; %zu message%s stay%s queued", cerr.message, n,
			    n == 1 ? "" : "s", n == 1 ? "s" : "");
			return;
		}
	}
	for (i = 0; i < n; i++) {
		const struct error *down;
		struct qmsg m;
		struct error err;

		if (interrupt_caught()) {
			rn->st.untried += n - i;
			rn->cut = true;
			break;
		}
		if (limits_reached(rn)) {
			leave_rest(rn, qdir, acct, ids, i, n, NULL);
			break;
		}
		if (load(rn, qdir, ids[i], &m) != 0)
			continue;
		error_clear(&err);
		if (open) {
			relay_next_message(&relay);
			if (submit_reset(&relay.session, &err) == -1) {
				bool out_of_step = relay.session.out_of_step;

				down = relay_down(&relay, &err);
				relay_close(&relay);
				open = false;
				if (out_of_step) {
					error_prefix(&err, "%s", relay.where);
					report(rn, false, acct->name,
					    "%s; session ended", err.message);
					qmsg_close(&m);
					leave_rest(
					    rn, qdir, acct, ids, i, n, NULL);
					break;
				}
				if (++reconnects > FLUSH_RECONNECTS_MAX) {
					qmsg_close(&m);
					leave_rest(
					    rn, qdir, acct, ids, i, n, down);
					break;
				}
			}
		}
		if (!open) {
			error_clear(&err);
			if (relay_open(&relay, acct, rn->opts->verbose, &err) ==
			    -1) {
				/* This message was tried; the rest wait.  A
				 * refusal (the login, the certificate) leaves
				 * them queued too, but is the run's status;
				 * a server out of step is no refusal. */
				bool out_of_step = relay.session.out_of_step;

				rn->tried++;
				if (interrupt_caught()) {
					interrupted(
					    rn, acct, &m, relay.where, &err);
					qmsg_close(&m);
					rn->st.untried += n - i - 1;
					return;
				}
				if (!error_is_retryable(&err) && !out_of_step &&
				    rn->st.permanent == 0)
					rn->st.permanent = err.exit_code;
				defer(rn, acct, &m, relay.where, &err,
				    !out_of_step);
				qmsg_close(&m);
				leave_rest(rn, qdir, acct, ids, i + 1, n,
				    out_of_step ? NULL : &err);
				return;
			}
			open = true;
			on_session = 0;
		}
		sent_before = rn->st.sent;
		send_one(rn, acct, &relay, &m, &err);
		qmsg_close(&m);
		on_session++;
		if (interrupt_caught()) {
			rn->st.untried += n - i - 1;
			rn->cut = rn->cut || n - i - 1 > 0;
			break;
		}
		if (relay.session.out_of_step) {
			relay_close(&relay);
			open = false;
			leave_rest(rn, qdir, acct, ids, i + 1, n, NULL);
			break;
		}
		if (relay.session.closed) {
			down = relay_down(&relay, &err);
			relay_close(&relay);
			open = false;
			/* Only a server that took a message is worth a new
			 * connection in the same run. */
			if (rn->st.sent == sent_before && on_session == 1) {
				leave_rest(rn, qdir, acct, ids, i + 1, n, down);
				break;
			}
			if (++reconnects > FLUSH_RECONNECTS_MAX) {
				leave_rest(rn, qdir, acct, ids, i + 1, n, NULL);
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
	if (n == 0 || interrupt_caught()) {
		rn->cut = rn->cut || n > 0;
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
			/* load() moves a damaged file aside (EX_DATAERR, as
			 * queue.h says it; the class is LOCAL either way). */
			if (e.exit_code == EX_DATAERR &&
			    rn->only_account == NULL &&
			    load(rn, qdir, ids[i], &m) == 0)
				qmsg_close(&m);
			continue;
		}
		close(fd);
		if (!queue_file_mine(&qf)) {
			queue_file_free(&qf);
			continue;
		}
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
		if (counts[i] > 0) {
			if (interrupt_caught()) {
				rn->st.untried += counts[i];
				rn->cut = true;
				continue;
			}
			run_group(rn, qdir, rn->cfg->accounts[i], groups[i],
			    counts[i]);
		}
out:
	if (groups != NULL)
		for (i = 0; i < rn->cfg->n_accounts; i++)
			free(groups[i]);
	free(groups);
	free(counts);
	queue_ids_free(ids, n);
	return error_is_set(err) ? -1 : 0;
}

/*
 * failed/ is not for ever: a message saved there longer ago than its
 * account's failed_lifetime (mailsub.conf(5)) is removed, with a log
 * record (status "removed") and a line.  The clock is the file's
 * modification time, which is when it was written into failed/ (a queue
 * file is never rewritten in place).  A message whose account the file no
 * longer has, or that cannot be parsed, stays: nothing says how long.
 */
static void
prune_failed(struct runner *rn, const char *qdir)
{
	char **ids = NULL;
	size_t n = 0, i, k;
	struct error e;
	time_t now = time(NULL);

	error_clear(&e);
	if (queue_list(qdir, QUEUE_AREA_FAILED, &ids, &n, &e) == -1)
		return;
	for (i = 0; i < n && !interrupt_caught(); i++) {
		const struct account *acct = NULL;
		struct qmsg m;
		struct stat sb;
		char age[32], life[32];

		memset(&m, 0, sizeof(m));
		m.qdir = qdir;
		m.id = ids[i];
		if (queue_lock(qdir, QUEUE_AREA_FAILED, ids[i], &m.fd, &e) != 0)
			continue; /* gone, or being requeued or deleted */
		if (fstat(m.fd, &sb) == -1 ||
		    queue_read_envelope(m.fd, &m.qf, &e) == -1) {
			close(m.fd);
			continue;
		}
		for (k = 0; k < rn->cfg->n_accounts && acct == NULL; k++)
			if (strcasecmp(
				rn->cfg->accounts[k]->name, m.qf.account) == 0)
				acct = rn->cfg->accounts[k];
		if (acct == NULL || !queue_file_mine(&m.qf) ||
		    (rn->only_account != NULL &&
			strcasecmp(rn->only_account, acct->name) != 0) ||
		    acct->failed_lifetime <= 0 ||
		    now - sb.st_mtime < acct->failed_lifetime) {
			qmsg_close(&m);
			continue;
		}
		if (queue_remove(qdir, QUEUE_AREA_FAILED, ids[i], &e) == 0) {
			flush_format_age(now, sb.st_mtime, age, sizeof(age));
			flush_format_age(
			    acct->failed_lifetime, 0, life, sizeof(life));
			log_message(acct, &m, NULL,
			    "removed from failed/: failed_lifetime passed",
			    EX_OK, "removed");
			rn->st.removed++;
			report(rn, false, acct->name,
			    "message %s removed from %s/failed: saved there %s "
			    "ago, failed_lifetime is %s",
			    ids[i], qdir, age, life);
		} else
			report(rn, false, acct->name, "%s", e.message);
		qmsg_close(&m);
	}
	queue_ids_free(ids, n);
}

/* ---- entry points ------------------------------------------------------ */

static int
run(struct runner *rn, const struct account *only, struct error *err)
{
	const char **dirs = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (flush_queue_dirs(rn->cfg, only, &dirs, &n, err) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		rc = run_dir(rn, dirs[i], err);
		if (rc == 0 && rn->only_id == NULL)
			prune_failed(rn, dirs[i]);
	}
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
flush_run(const struct config *cfg, const struct account *only,
    const struct options *opts, FILE *out, FILE *errout, struct error *err)
{
	struct runner rn;

	runner_init(&rn, cfg, opts, out, errout);
	rn.only_account = only != NULL ? only->name : NULL;
	if (run(&rn, only, err) == -1)
		return -1;
	if (rn.cut && !rn.cut_reported)
		report(&rn, false, NULL,
		    "interrupted by %s; the messages not "
		    "yet sent stay queued",
		    interrupt_name(interrupt_caught()));
	if (rn.cut && rn.st.permanent == 0)
		return EX_TEMPFAIL;
	return flush_exit_code(&rn.st);
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
	rn.name_messages = true;
	rn.only_account = acct->name;
	rn.max_messages = FLUSH_AFTER_MESSAGES;
	rn.end_ms = fdio_now_ms() + FLUSH_AFTER_SECONDS * 1000LL;
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
	/* The child: no terminal, and none of the caller's pipes or sockets
	 * held open (a caller reading our output until EOF must not wait
	 * for the delivery).  syslog's socket goes first, through closelog(),
	 * so that syslog() never writes to a descriptor number we reuse. */
	(void)setsid();
	closelog();
	fd = open("/dev/null", O_RDWR);
	if (fd != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
	}
	fdio_close_from(STDERR_FILENO + 1);
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
