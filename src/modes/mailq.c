/* SPDX-License-Identifier: ISC */
/*
 * The queue as the user sees it.  The listing reads every queue file's
 * header without taking its lock (a file in new/ or failed/ is always
 * complete: it is renamed into place whole), so it never makes a running
 * flush skip a message; deleting and requeueing take the lock, so a
 * message being sent is never pulled from under its sender.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "flush.h"
#include "log.h"
#include "mailq.h"
#include "queue.h"
#include "sysmode.h"
#include "text.h"

/* The header block is searched for the Message-ID in this many bytes. */
#define MESSAGE_ID_SCAN 16384

/* ---- the Postfix layout ------------------------------------------------ */

/*
 * The columns of Postfix's mailq, which monitoring tools parse: the queue
 * ID and its mark in 11, the size right-aligned in 7, the arrival time in
 * 20, the sender; recipients under the sender (column 41).
 */
#define PF_RCPT_INDENT 41
#define PF_REASON_END  78

int
mailq_postfix_entry(struct buf *out, const char *id, char mark,
    unsigned long long size, time_t arrival, const char *sender,
    const char *reason, const char *const *rcpts, size_t n_rcpts,
    struct error *err)
{
	char idm[QUEUE_ID_MAX + 2], when[32] = "??", esc[ERROR_MESSAGE_MAX];
	struct tm tm;
	size_t i, len;

	snprintf(idm, sizeof(idm), "%s%c", id, mark);
	if (arrival > 0 && localtime_r(&arrival, &tm) != NULL)
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	if (sender == NULL || sender[0] == '\0')
		snprintf(esc, sizeof(esc), "MAILER-DAEMON");
	else
		error_escape(esc, sizeof(esc), sender, strlen(sender));
	if (buf_printf(
		out, err, "%-11s %7llu %-20s %s\n", idm, size, when, esc) == -1)
		return -1;
	if (reason != NULL && reason[0] != '\0') {
		error_escape(esc, sizeof(esc), reason, strlen(reason));
		len = strlen(esc) + 2;
		if (buf_printf(out, err, "%*s(%s)\n",
			len < PF_REASON_END ? (int)(PF_REASON_END - len) : 0,
			"", esc) == -1)
			return -1;
	}
	for (i = 0; i < n_rcpts; i++) {
		error_escape(esc, sizeof(esc), rcpts[i], strlen(rcpts[i]));
		if (buf_printf(out, err, "%*s%s\n", PF_RCPT_INDENT, "", esc) ==
		    -1)
			return -1;
	}
	return 0;
}

/* When the message was queued: its ID starts with that time in hex
 * (id_unique()); else its first attempt. */
static time_t
arrival_time(const char *id, const struct queue_file *qf)
{
	char *end;
	unsigned long long t;

	if ((id[0] >= '0' && id[0] <= '9') || (id[0] >= 'a' && id[0] <= 'f')) {
		t = strtoull(id, &end, 16);
		if (*end == '.' && t > 0 && t < (1ULL << 40))
			return (time_t)t;
	}
	return qf->first_attempt;
}

/* ---- listing ----------------------------------------------------------- */

enum list_style {
	LIST_POSTFIX, /* mailq, -bp: Postfix's layout */
	LIST_DETAIL,  /* -bp -v: per queue directory, with the account */
	LIST_JSON,    /* --json */
};

struct lister {
	FILE *out;
	enum list_style style;
	struct buf doc;		  /* the JSON document */
	size_t entries;		  /* JSON and Postfix entries so far */
	unsigned long long total; /* bytes listed (Postfix) */
	const char *only_account;
};

static int
postfix_entry(struct lister *ls, const char *id, enum queue_area area,
    const struct queue_file *qf, struct error *err)
{
	struct buf b;
	int rc;

	buf_init(&b, MAILQ_LIST_MAX);
	if (ls->entries > 0)
		fputc('\n', ls->out);
	else
		fprintf(ls->out, "%-10s %8s %-20s %s\n", "-Queue ID-",
		    "--Size--", "----Arrival Time----",
		    "-Sender/Recipient-------");
	ls->entries++;
	ls->total += qf->msg_size;
	/* failed/ is not retried: Postfix's mark of a held message. */
	rc = mailq_postfix_entry(&b, id, area == QUEUE_AREA_FAILED ? '!' : ' ',
	    qf->msg_size, arrival_time(id, qf), qf->env.sender, qf->last_error,
	    (const char *const *)qf->env.rcpts, qf->env.n_rcpts, err);
	if (rc == 0)
		fputs(buf_str(&b), ls->out);
	buf_free(&b);
	return rc;
}

static int
json_entry(struct lister *ls, const char *qdir, const char *id,
    const char *state, const struct queue_file *qf, time_t now,
    struct error *err)
{
	struct buf *b = &ls->doc;
	size_t i;

	if (buf_appends(b, ls->entries++ ? ",\n  {" : "\n  {", err) == -1 ||
	    buf_appends(b, "\"id\": ", err) == -1 ||
	    text_json_string(b, id, err) == -1 ||
	    buf_appends(b, ", \"state\": ", err) == -1 ||
	    text_json_string(b, state, err) == -1 ||
	    buf_appends(b, ", \"queue_dir\": ", err) == -1 ||
	    text_json_string(b, qdir, err) == -1 ||
	    buf_appends(b, ", \"account\": ", err) == -1 ||
	    text_json_string(b, qf->account, err) == -1 ||
	    buf_printf(b, err,
		", \"age\": %lld, \"first_attempt\": %lld, "
		"\"last_attempt\": %lld, \"attempts\": %u, \"size\": %llu, "
		"\"sender\": ",
		qf->first_attempt > 0 && now > qf->first_attempt
		    ? (long long)(now - qf->first_attempt)
		    : 0LL,
		(long long)qf->first_attempt, (long long)qf->last_attempt,
		qf->attempts, qf->msg_size) == -1 ||
	    text_json_string(b, qf->env.sender, err) == -1 ||
	    buf_appends(b, ", \"recipients\": [", err) == -1)
		return -1;
	for (i = 0; i < qf->env.n_rcpts; i++)
		if ((i > 0 && buf_appends(b, ", ", err) == -1) ||
		    text_json_string(b, qf->env.rcpts[i], err) == -1)
			return -1;
	if (buf_appends(b, "], \"last_error\": ", err) == -1)
		return -1;
	if (qf->last_error != NULL) {
		if (text_json_string(b, qf->last_error, err) == -1)
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
	    error_escape(
		esc, sizeof(esc), qf->env.sender, strlen(qf->env.sender)));
	fputs("    to:", ls->out);
	col = 7;
	for (i = 0; i < qf->env.n_rcpts; i++) {
		error_escape(esc, sizeof(esc), qf->env.rcpts[i],
		    strlen(qf->env.rcpts[i]));
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
			/* Whose a damaged file is, nobody can tell: root's. */
			if (ls->style == LIST_DETAIL && !sysmode_restricted())
				fprintf(ls->out, "%s  damaged: %s\n", ids[i],
				    e.message);
			else if (ls->style == LIST_POSTFIX &&
				 !sysmode_restricted()) {
				char unknown[] = "?";

				queue_file_init(&qf);
				qf.env.sender = unknown;
				qf.last_error = e.message;
				if (postfix_entry(ls, ids[i], area, &qf, err) ==
				    -1)
					return -1;
			}
			continue;
		}
		close(fd);
		if (!queue_file_mine(&qf) ||
		    (ls->only_account != NULL &&
			strcasecmp(ls->only_account, qf.account) != 0)) {
			queue_file_free(&qf);
			continue;
		}
		if ((ls->style == LIST_JSON &&
			json_entry(ls, qdir, ids[i], state, &qf, now, err) ==
			    -1) ||
		    (ls->style == LIST_POSTFIX &&
			postfix_entry(ls, ids[i], area, &qf, err) == -1)) {
			queue_file_free(&qf);
			return -1;
		}
		if (ls->style == LIST_DETAIL)
			text_entry(ls, ids[i], state, &qf, now);
		queue_file_free(&qf);
	}
	return 0;
}

/* Keep in ids[0..n) the messages that are the caller's; the new count.
 * The names left out are freed. */
static size_t
count_mine(const char *qdir, enum queue_area area, char **ids, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		struct queue_file qf;
		struct error e;
		char *path = queue_path(qdir, area, ids[i]);
		bool mine = false;
		int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC |
						       O_NOFOLLOW | O_NONBLOCK)
				      : -1;

		free(path);
		error_clear(&e);
		if (fd != -1 && queue_read_envelope(fd, &qf, &e) == 0) {
			mine = queue_file_mine(&qf);
			queue_file_free(&qf);
		}
		if (fd != -1)
			close(fd);
		if (mine)
			ids[kept++] = ids[i];
		else
			free(ids[i]);
	}
	return kept;
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
	/* A restricted caller learns how many of its own there are. */
	if (sysmode_restricted()) {
		nf = count_mine(qdir, QUEUE_AREA_NEW, fresh, nf);
		nx = count_mine(qdir, QUEUE_AREA_FAILED, failed, nx);
	}
	if (ls->style == LIST_DETAIL) {
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
	ls.style = opts->json	   ? LIST_JSON
		   : opts->verbose ? LIST_DETAIL
				   : LIST_POSTFIX;
	ls.only_account = only != NULL ? only->name : NULL;
	buf_init(&ls.doc, MAILQ_LIST_MAX);
	if (flush_queue_dirs(cfg, only, &dirs, &n, err) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (list_dir(&ls, dirs[i], err) == -1)
			goto out;
	if (ls.style == LIST_JSON)
		fprintf(out, "{\"messages\": [%s%s]}\n", buf_str(&ls.doc),
		    ls.entries ? "\n" : "");
	else if (ls.style == LIST_POSTFIX && ls.entries == 0)
		fputs("Mail queue is empty\n", out);
	else if (ls.style == LIST_POSTFIX)
		fprintf(out, "\n-- %llu Kbytes in %zu Request%s.\n",
		    ls.total / 1024, ls.entries, ls.entries == 1 ? "" : "s");
	rc = 0;
out:
	buf_free(&ls.doc);
	free(dirs);
	return rc;
}

/* ---- delete and requeue --------------------------------------------- */

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

/* Whether the open queue file is the caller's (queue_file_mine()); a
 * file that cannot be parsed is root's. */
static bool
locked_mine(int fd)
{
	struct queue_file qf;
	struct error e;
	bool mine;

	if (!sysmode_restricted())
		return true;
	error_clear(&e);
	if (queue_read_envelope(fd, &qf, &e) == -1)
		return false;
	mine = queue_file_mine(&qf);
	queue_file_free(&qf);
	return mine;
}

/* The log record of a deleted message (mailsub.conf(5), Logging: one per
 * message). */
static void
log_deleted(const struct config *cfg, const char *id, int fd,
    const struct queue_file *qf)
{
	const struct account *acct = NULL;
	struct log_record rec;
	char buf[MESSAGE_ID_SCAN], mid[512] = "";
	ssize_t n;
	size_t i;

	for (i = 0; i < cfg->n_accounts && acct == NULL; i++)
		if (strcasecmp(cfg->accounts[i]->name, qf->account) == 0)
			acct = cfg->accounts[i];
	if (acct == NULL)
		return;
	n = pread(fd, buf, sizeof(buf), qf->msg_offset);
	if (n > 0)
		flush_find_message_id(buf, (size_t)n, mid, sizeof(mid));
	memset(&rec, 0, sizeof(rec));
	rec.account = acct->name;
	rec.host = acct->n_hosts ? acct->hosts[0] : "";
	rec.sender = qf->env.sender;
	rec.rcpts = (const char *const *)qf->env.rcpts;
	rec.n_rcpts = qf->env.n_rcpts;
	rec.size = qf->msg_size;
	rec.message_id = mid;
	rec.reply = "deleted on request (--queue-delete)";
	rec.exit_code = EX_OK;
	rec.queue_id = id;
	rec.status = "deleted";
	if (acct->system) {
		rec.submitter = qf->submitter;
		rec.submitter_uid = (unsigned long)qf->submitter_uid;
	}
	log_record(acct, &rec);
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

	if (flush_queue_dirs(cfg, only, &dirs, &n, err) == -1)
		return -1;
	for (a = 0; a < 2 && found == 1; a++) {
		found = find_locked((const char *const *)dirs, n, areas[a], id,
		    &qdir, &fd, err);
		if (found == -1)
			goto out;
		if (found == 0) {
			struct queue_file qf;
			struct error e;
			bool parsed;

			error_clear(&e);
			parsed = queue_read_envelope(fd, &qf, &e) == 0;
			/* Another user's message is not there for this
			 * caller (not even "not yours"). */
			if (parsed ? !queue_file_mine(&qf)
				   : sysmode_restricted()) {
				if (parsed)
					queue_file_free(&qf);
				close(fd);
				fd = -1;
				found = 1;
				continue;
			}
			if (queue_remove(qdir, areas[a], id, err) == -1) {
				if (parsed)
					queue_file_free(&qf);
				goto out;
			}
			fprintf(out, "%s: deleted from %s/%s\n", id, qdir,
			    queue_area_name(areas[a]));
			if (parsed) {
				log_deleted(cfg, id, fd, &qf);
				queue_file_free(&qf);
			}
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

/*
 * --queue-delete ALL (root only, as Postfix's postsuper -d ALL): every
 * message in new/ and failed/ of the chosen queue directories (with -a,
 * that account's only).  One that is being sent stays (75 at the end);
 * a damaged file goes too.
 */
static int
cmd_delete_all(const struct config *cfg, const struct account *only, FILE *out,
    struct error *err)
{
	static const enum queue_area areas[] = {
	    QUEUE_AREA_NEW, QUEUE_AREA_FAILED};
	const char **dirs = NULL;
	size_t n = 0, d, a, i, deleted = 0, busy = 0;
	int rc = -1;

	if (flush_queue_dirs(cfg, only, &dirs, &n, err) == -1)
		return -1;
	for (d = 0; d < n; d++)
		for (a = 0; a < 2; a++) {
			char **ids = NULL;
			size_t nids = 0;

			if (queue_list(dirs[d], areas[a], &ids, &nids, err) ==
			    -1)
				goto out;
			for (i = 0; i < nids; i++) {
				struct queue_file qf;
				struct error e;
				bool parsed;
				int fd = -1, lrc;

				error_clear(&e);
				lrc = queue_lock(
				    dirs[d], areas[a], ids[i], &fd, &e);
				if (lrc == -1) {
					*err = e;
					queue_ids_free(ids, nids);
					goto out;
				}
				if (lrc == QUEUE_LOCK_BUSY)
					busy++;
				if (lrc != 0)
					continue;
				parsed = queue_read_envelope(fd, &qf, &e) == 0;
				if (parsed && only != NULL &&
				    strcasecmp(only->name, qf.account) != 0) {
					queue_file_free(&qf);
					close(fd);
					continue;
				}
				if (queue_remove(
					dirs[d], areas[a], ids[i], err) == -1) {
					if (parsed)
						queue_file_free(&qf);
					close(fd);
					queue_ids_free(ids, nids);
					goto out;
				}
				deleted++;
				fprintf(out, "%s: deleted from %s/%s\n", ids[i],
				    dirs[d], queue_area_name(areas[a]));
				if (parsed) {
					log_deleted(cfg, ids[i], fd, &qf);
					queue_file_free(&qf);
				}
				close(fd);
			}
			queue_ids_free(ids, nids);
		}
	fprintf(
	    out, "%zu message%s deleted\n", deleted, deleted == 1 ? "" : "s");
	if (busy > 0) {
		error_set(err, EX_TEMPFAIL,
		    "%zu message%s being sent right now stay%s; try again "
		    "later",
		    busy, busy == 1 ? "" : "s", busy == 1 ? "s" : "");
		goto out;
	}
	rc = 0;
out:
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
	struct queue_meta meta;
	size_t n = 0;
	int fd = -1, rc = -1, found;

	queue_file_init(&qf);
	if (flush_queue_dirs(cfg, only, &dirs, &n, err) == -1)
		return -1;
	found = find_locked((const char *const *)dirs, n, QUEUE_AREA_FAILED, id,
	    &qdir, &fd, err);
	if (found == -1)
		goto out;
	if (found == 0 && !locked_mine(fd)) {
		close(fd);
		fd = -1;
		found = 1;
	}
	if (found == 1) {
		found = find_locked((const char *const *)dirs, n,
		    QUEUE_AREA_NEW, id, &qdir, &fd, err);
		if (found == 0 && locked_mine(fd))
			error_set(
			    err, EX_USAGE, "message %s is already queued", id);
		else if (found != -1)
			error_set(err, EX_NOINPUT, "no failed message %s", id);
		goto out;
	}
	if (queue_read_envelope(fd, &qf, err) == -1) {
		error_prefix(err, "%s/failed/%s", qdir, id);
		goto out;
	}
	queue_file_meta(&qf, &meta);
	/* A fresh queue_lifetime: the user wants it tried again. */
	meta.first_attempt = time(NULL);
	if (queue_rewrite(qdir, id, QUEUE_AREA_FAILED, QUEUE_AREA_NEW, &meta,
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

/* ---- dispatch ---------------------------------------------------------- */

int
mailq_command(const struct options *opts, FILE *out, FILE *errout)
{
	struct config *cfg = NULL;
	const struct account *only = NULL;
	struct error err;
	int code = EX_OK;

	error_clear(&err);
	/* Another user's messages are never the caller's to delete
	 * (mailsub(1), SECURITY CONSIDERATIONS): ALL is root's. */
	if (opts->mode == CLI_MODE_QUEUE_DELETE &&
	    opts->mode_argument != NULL &&
	    strcmp(opts->mode_argument, MAILQ_ALL) == 0 && getuid() != 0) {
		error_set(&err, EX_NOPERM,
		    "--queue-delete ALL is for root; delete your own messages "
		    "one by one with --queue-delete ID (mailq lists them)");
		goto fail;
	}
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
		code = flush_run(cfg, only, opts, out, errout, &err);
		if (code == -1)
			goto fail;
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
		if (opts->mode == CLI_MODE_QUEUE_DELETE &&
		    strcmp(opts->mode_argument, MAILQ_ALL) == 0) {
			if (cmd_delete_all(cfg, only, out, &err) == -1)
				goto fail;
		} else if ((opts->mode == CLI_MODE_QUEUE_DELETE
				   ? cmd_delete(cfg, only, opts->mode_argument,
					 out, &err)
				   : cmd_requeue(cfg, only, opts->mode_argument,
					 out, &err)) == -1)
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
