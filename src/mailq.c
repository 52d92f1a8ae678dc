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
#include "deliver.h"
#include "error.h"
#include "flush.h"
#include "log.h"
#include "mailq.h"
#include "queue.h"
#include "sysmode.h"

/* The header block is searched for the Message-ID in this many bytes. */
#define MESSAGE_ID_SCAN 16384

/* ---- JSON -------------------------------------------------------------- */

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
mailq_json_string(struct buf *out, const char *s, struct error *err)
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
	    mailq_json_string(b, id, err) == -1 ||
	    buf_appends(b, ", \"state\": ", err) == -1 ||
	    mailq_json_string(b, state, err) == -1 ||
	    buf_appends(b, ", \"queue_dir\": ", err) == -1 ||
	    mailq_json_string(b, qdir, err) == -1 ||
	    buf_appends(b, ", \"account\": ", err) == -1 ||
	    mailq_json_string(b, qf->account, err) == -1 ||
	    buf_printf(b, err,
		", \"age\": %lld, \"first_attempt\": %lld, "
		"\"last_attempt\": %lld, \"attempts\": %u, \"size\": %llu, "
		"\"sender\": ",
		qf->first_attempt > 0 && now > qf->first_attempt
		    ? (long long)(now - qf->first_attempt)
		    : 0LL,
		(long long)qf->first_attempt, (long long)qf->last_attempt,
		qf->attempts, qf->msg_size) == -1 ||
	    mailq_json_string(b, qf->sender, err) == -1 ||
	    buf_appends(b, ", \"recipients\": [", err) == -1)
		return -1;
	for (i = 0; i < qf->n_rcpts; i++)
		if ((i > 0 && buf_appends(b, ", ", err) == -1) ||
		    mailq_json_string(b, qf->rcpts[i], err) == -1)
			return -1;
	if (buf_appends(b, "], \"last_error\": ", err) == -1)
		return -1;
	if (qf->last_error != NULL) {
		if (mailq_json_string(b, qf->last_error, err) == -1)
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
			/* Whose a damaged file is, nobody can tell: root's. */
			if (!ls->json && !sysmode_restricted())
				fprintf(ls->out, "%s  damaged: %s\n", ids[i],
				    e.message);
			continue;
		}
		close(fd);
		if (!queue_file_mine(&qf) ||
		    (ls->only_account != NULL &&
			strcasecmp(ls->only_account, qf.account) != 0)) {
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
	buf_init(&ls.doc, MAILQ_LIST_MAX);
	if (flush_queue_dirs(cfg, only, &dirs, &n, err) == -1)
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
	rec.sender = qf->sender;
	rec.rcpts = (const char *const *)qf->rcpts;
	rec.n_rcpts = qf->n_rcpts;
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

/* ---- dispatch ---------------------------------------------------------- */

int
mailq_command(const struct options *opts, FILE *out, FILE *errout)
{
	struct config *cfg = NULL;
	const struct account *only = NULL;
	struct error err;
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
