/* SPDX-License-Identifier: ISC */
/*
 * The -v transcript and the per-message log record.  Everything printed is
 * escaped (a server's words must not drive the terminal) and secrets are
 * replaced by a placeholder before any formatting.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "log.h"
#include "sysmode.h"
#include "text.h"

/* One record per write(2); O_APPEND makes each write land whole even
 * from parallel runs (mailsub.conf(5), Logging), so the record is capped. */
#define LOG_RECORD_MAX 8192
/* Room kept for the "+N more" that replaces the recipients cut. */
#define LOG_MORE_RESERVE 32
#define LOG_REPLY_MAX	 2048
#define LOG_LINE_MAX	 4096

static bool verbose;
static bool failure_noted;

void
log_set_verbose(bool on)
{
	verbose = on;
}

bool
log_verbose_enabled(void)
{
	return verbose;
}

static void
put_stderr(const char *p, size_t n)
{
	/* One write per line: lines from the transcript stay whole.  Where
	 * stderr is gone there is no one to tell. */
	if (fdio_write_all(STDERR_FILENO, p, n, false) == -1)
		return;
}

void
log_verbose(const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX * 4 + 16];
	va_list ap;
	int n;
	size_t len;

	if (!verbose)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
	memcpy(line, "mailsub: ", 9);
	/* Error messages and reply summaries arrive escaped already
	 * (error_escape()): one pass is enough. */
	text_escape(line + 9, sizeof(line) - 10, raw, len, TEXT_ESC_KEEP);
	len = strlen(line);
	line[len++] = '\n';
	put_stderr(line, len);
}

void
log_transcript(void *arg, char dir, const char *line, size_t len, bool secret)
{
	char out[LOG_LINE_MAX * 4 + 32];
	size_t n;

	if (!verbose)
		return;
	memcpy(out, dir == 'S' ? "<-- " : "--> ", 4);
	if (secret) {
		/* mailsub(1), SECURITY CONSIDERATIONS: never a byte of a
		 * secret, not even its length. */
		n = 4 + (size_t)snprintf(out + 4, sizeof(out) - 4, "%s",
			    "(authentication data hidden)");
	} else {
		if (len > LOG_LINE_MAX)
			len = LOG_LINE_MAX;
		error_escape(out + 4, sizeof(out) - 5, line, len);
		n = strlen(out);
	}
	out[n++] = '\n';
	put_stderr(out, n);
}

/* Escape a value for the record: controls, DEL, bytes >= 0x80, '\\' and
 * '"' become \xHH; spaces too unless the value is quoted, so the record
 * stays key=value words.  The quoted value (the reply or error line) is
 * escaped text already: its \xHH escapes are kept, not escaped again. */
static size_t
escape_value(char *dst, size_t size, const char *s, bool quoted)
{
	if (s == NULL)
		s = "";
	return text_escape(dst, size, s, strlen(s),
	    TEXT_ESC_QUOTE | (quoted ? TEXT_ESC_KEEP : TEXT_ESC_SPACE));
}

struct out {
	char *p;
	size_t len, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
puts_esc(struct out *o, const char *s)
{
	char tmp[LOG_LINE_MAX];

	put(o, tmp, escape_value(tmp, sizeof(tmp), s, false));
}

static void putf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp,
		    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The record without time and program name (syslog adds its own). */
static size_t
format_record(const struct log_record *rec, char *dst, size_t size)
{
	char tailbuf[2 * LOG_REPLY_MAX + 1024], reply[LOG_REPLY_MAX];
	char addr[LOG_LINE_MAX];
	struct out o = {dst, 0, size}, t = {tailbuf, 0, sizeof(tailbuf)};
	const char *id = rec->message_id;
	size_t i, idlen, alen;

	dst[0] = '\0';
	put(&o, "account=", 8);
	puts_esc(&o, rec->account);
	put(&o, " host=", 6);
	puts_esc(&o, rec->host);
	put(&o, " from=<", 7);
	puts_esc(&o, rec->sender);
	put(&o, "> to=", 5);

	/* The tail first, so the recipients get what room is left. */
	putf(&t, " size=%llu", rec->size);
	if (id != NULL && *id != '\0') {
		idlen = strlen(id);
		if (idlen >= 2 && id[0] == '<' && id[idlen - 1] == '>') {
			char bare[LOG_LINE_MAX];

			if (idlen - 2 >= sizeof(bare))
				idlen = sizeof(bare) + 1;
			memcpy(bare, id + 1, idlen - 2);
			bare[idlen - 2] = '\0';
			put(&t, " msgid=<", 8);
			puts_esc(&t, bare);
		} else {
			put(&t, " msgid=<", 8);
			puts_esc(&t, id);
		}
		put(&t, ">", 1);
	}
	putf(&t, " status=%s exit=%d",
	    rec->status != NULL ? rec->status : "unknown", rec->exit_code);
	if (rec->queue_id != NULL && *rec->queue_id != '\0') {
		put(&t, " queue=", 7);
		puts_esc(&t, rec->queue_id);
	}
	if (rec->submitter != NULL && *rec->submitter != '\0') {
		putf(&t, " uid=%lu user=", rec->submitter_uid);
		puts_esc(&t, rec->submitter);
	}
	put(&t, " reply=\"", 8);
	put(&t, reply, escape_value(reply, sizeof(reply), rec->reply, true));
	put(&t, "\"", 1);
	if (rec->warning != NULL && *rec->warning != '\0') {
		put(&t, " warning=\"", 10);
		put(&t, reply,
		    escape_value(reply, sizeof(reply), rec->warning, true));
		put(&t, "\"", 1);
	}

	for (i = 0; i < rec->n_rcpts; i++) {
		size_t room =
		    o.len + t.len + 1 < size ? size - 1 - o.len - t.len : 0;

		alen = escape_value(addr, sizeof(addr), rec->rcpts[i], false);
		/* "<addr>," plus, unless it is the last, room to say how
		 * many more were left out. */
		if (alen + 3 + (i + 1 < rec->n_rcpts ? LOG_MORE_RESERVE : 0) >
		    room) {
			putf(&o, "%s+%zu more", i > 0 ? "," : "",
			    rec->n_rcpts - i);
			break;
		}
		if (i > 0)
			put(&o, ",", 1);
		put(&o, "<", 1);
		put(&o, addr, alen);
		put(&o, ">", 1);
	}
	put(&o, t.p, t.len);
	return o.len;
}

static void
note_line(const char *what, const char *path, const char *why)
{
	char line[LOG_LINE_MAX + 128], esc[LOG_LINE_MAX];
	int n;

	/* One note per run; logging never changes the exit status. */
	if (failure_noted)
		return;
	failure_noted = true;
	error_escape(esc, sizeof(esc), path, strlen(path));
	n = snprintf(
	    line, sizeof(line), "mailsub: %s %s: %s\n", what, esc, why);
	if (n > 0)
		put_stderr(line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void
note_failure(const char *what, const char *path, int errnum)
{
	note_line(what, path, strerror(errnum));
}

/*
 * Open the logfile to append: never through a symlink (O_NOFOLLOW), never
 * a FIFO or device, and only in a directory nobody else can write
 * (fsperm.h), so no one can point root's records at a file of their
 * choice.  -1 when it is not to be written (noted once).
 */
static int
open_logfile(const char *path)
{
	struct error err;
	struct stat st;
	int fd;

	/* The system file's log is shared through the group (sysmode.h):
	 * root makes it, 0660; a caller's file would be refused by every
	 * other caller (fsperm.h). */
	bool shared = sysmode_shared();
	int create = !shared || geteuid() == 0 ? O_CREAT : 0;

	error_clear(&err);
	if (fsperm_check_new_file(path, &err) == -1) {
		note_line("not writing the log file", path, err.message);
		return -1;
	}
	fd = open(path,
	    O_WRONLY | O_APPEND | create | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
		O_NONBLOCK,
	    shared ? 0660 : 0600);
	if (fd == -1) {
		note_failure("cannot open log file", path, errno);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		note_failure("cannot open log file", path, errno);
		close(fd);
		return -1;
	}
	if (fsperm_check_stat(path, &st, 0, &err) == -1) {
		note_line("not writing the log file", path, err.message);
		close(fd);
		return -1;
	}
	/* Whatever umask root's run had: every caller appends to it. */
	if (shared && geteuid() == 0 && st.st_uid == 0 && st.st_nlink == 1 &&
	    (st.st_gid != sysmode_group() || (st.st_mode & 0777) != 0660) &&
	    (fchown(fd, 0, sysmode_group()) == -1 || fchmod(fd, 0660) == -1))
		note_failure(
		    "cannot give the log file to the group", path, errno);
	return fd;
}

void
log_record(const struct account *acct, const struct log_record *rec)
{
	char body[LOG_RECORD_MAX - 64], line[LOG_RECORD_MAX];
	size_t blen;
	struct tm tm;
	time_t now;
	int n, fd, prio;

	if (acct == NULL || rec == NULL)
		return;
	if ((acct->logfile == NULL || *acct->logfile == '\0') &&
	    acct->syslog_facility < 0)
		return;
	blen = format_record(rec, body, sizeof(body));

	if (acct->logfile != NULL && *acct->logfile != '\0') {
		now = time(NULL);
		gmtime_r(&now, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02dZ mailsub[%ld]: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)getpid(), body);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			/* Cannot happen with the caps above; keep the
			 * record one line anyway. */
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		fd = open_logfile(acct->logfile);
		if (fd != -1) {
			ssize_t w = write(fd, line, (size_t)n);

			if (w != n)
				note_failure("cannot write log file",
				    acct->logfile, w < 0 ? errno : ENOSPC);
			close(fd);
		}
	}
	if (acct->syslog_facility >= 0) {
		if (rec->status != NULL && strcmp(rec->status, "sent") == 0)
			prio = LOG_INFO;
		else if (rec->status != NULL &&
			 strcmp(rec->status, "queued") == 0)
			prio = LOG_WARNING;
		else
			prio = LOG_ERR;
		openlog("mailsub", LOG_PID, acct->syslog_facility);
		syslog(prio, "%.*s", (int)blen, body);
		closelog();
	}
}
