/* SPDX-License-Identifier: ISC */
/*
 * sendmail -bs: an SMTP server on stdin and stdout.  The caller is a local
 * program (Symfony Mailer, Laravel) that would otherwise talk to an MTA on
 * port 25; each message it hands over in DATA takes the same path as one
 * read from stdin (delivery.c), and the reply to its final dot is what the
 * relay said: 250 sent, 451 queued for a later attempt, 5xx refused.
 *
 * Strict where it matters (command sequence, path syntax, parameters,
 * bounds on every line, recipient and message count), lenient where
 * clients differ harmlessly (a space after "FROM:", bare LF at the end of
 * a command).  In DATA only CRLF "." CRLF ends the message: a dot line
 * after or before a bare LF is text of the message, and the text is cut
 * into lines by the rule of stdin mode (message.h) and re-encoded in wire
 * form, so a body cannot smuggle a second envelope through us (SMTP
 * smuggling, SEC Consult 2023); see read_data.
 * Past 800 lines as one job: one server, whose input, commands and replies
 * all work on the one struct session.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "fdio.h"
#include "message.h"
#include "interrupt.h"
#include "net.h"
#include "queue.h"
#include "smtpd.h"

#define IN_BUFFER    65536
#define OUT_BUFFER   16384
#define SPOOL_BUFFER 65536
/* Reply text is cut into lines of this many bytes (RFC 5321 4.5.3.1.5
 * leaves 512 for code, enhanced code and CRLF). */
#define REPLY_TEXT_CHUNK 400
/* How much of the client's EHLO argument we keep and echo. */
#define HELO_MAX 255

enum read_status {
	READ_ERROR = -1, /* timeout or read error: s->fail says which */
	READ_EOF = 0,
	READ_LINE = 1,
	READ_TOO_LONG = 2,
};

struct session {
	int in_fd, out_fd;
	char in[IN_BUFFER];
	size_t ipos, ilen;
	bool eof;
	char out[OUT_BUFFER];
	size_t olen;
	struct options opts; /* the caller's, with -t off: no argv here */
	struct config *cfg;  /* NULL when it could not be loaded */
	char hostname[256];
	char helo[HELO_MAX + 1];
	bool greeted;	    /* HELO or EHLO seen */
	bool in_mail;	    /* MAIL accepted, d holds the transaction */
	unsigned rcpt_cmds; /* RCPTs accepted in this transaction */
	struct delivery d;
	unsigned messages;
	unsigned errors;
	unsigned commands;
	bool quit;
	bool timed_out;
	bool out_broken;   /* a reply could not be written */
	struct error fail; /* why the session ended badly */
};

/* ---- output ------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n, struct error *err)
{
	/* A client that does not read its replies must not hold us once
	 * we are told to stop. */
	if (fdio_write_all(fd, p, n, true) == -1)
		return error_set(err, EX_IOERR, "-bs: cannot write a reply: %s",
		    strerror(errno));
	return 0;
}

static int
flush_out(struct session *s)
{
	struct error err;
	size_t n = s->olen;

	s->olen = 0;
	if (s->out_broken)
		return -1;
	if (n == 0)
		return 0;
	error_clear(&err);
	if (write_all(s->out_fd, s->out, n, &err) == -1) {
		s->out_broken = true;
		s->quit = true;
		if (!error_is_set(&s->fail))
			s->fail = err;
		return -1;
	}
	return 0;
}

/* Queue one reply line; control characters in text become '?', so nothing
 * an address or a relay said can end our line early. */
static void
put_line(struct session *s, int code, bool more, const char *text)
{
	char line[SMTPD_REPLY_LINE_MAX];
	size_t n, i;
	int k;

	k = snprintf(
	    line, sizeof(line) - 2, "%03d%c%s", code, more ? '-' : ' ', text);
	n = k < 0 ? 0 : (size_t)k;
	if (n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	for (i = 4; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\r';
	line[n++] = '\n';
	if (s->olen + n > sizeof(s->out))
		flush_out(s);
	memcpy(s->out + s->olen, line, n);
	s->olen += n;
}

/* A reply: "CODE ENH text", cut into several lines when long. */
static void reply(struct session *s, int code, const char *enh, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
reply(struct session *s, int code, const char *enh, const char *fmt, ...)
{
	char text[ERROR_MESSAGE_MAX * 2], chunk[REPLY_TEXT_CHUNK + 32];
	va_list ap;
	size_t len, off = 0;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	len = strlen(text);
	do {
		size_t n = len - off;

		if (n > REPLY_TEXT_CHUNK)
			n = REPLY_TEXT_CHUNK;
		snprintf(chunk, sizeof(chunk), "%s%s%.*s", enh ? enh : "",
		    enh ? " " : "", (int)n, text + off);
		off += n;
		put_line(s, code, off < len, chunk);
	} while (off < len);
}

/* ---- input -------------------------------------------------------- */

/* More input after what is buffered (kept at the start of the buffer).
 * Replies waiting are sent first: the client may be waiting for them
 * before it sends more (RFC 2920 3.1). */
static enum read_status
fill(struct session *s)
{
	struct pollfd pfd;
	ssize_t n;
	int rc;

	if (flush_out(s) == -1)
		return READ_ERROR;
	if (s->eof)
		return READ_EOF;
	if (s->ipos > 0) {
		memmove(s->in, s->in + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	if (s->ilen == sizeof(s->in))
		return READ_LINE; /* full: the caller takes a piece */
	pfd.fd = s->in_fd;
	pfd.events = POLLIN;
	rc = interrupt_poll(&pfd, 1, SMTPD_TIMEOUT_MS);
	/* SIGTERM and the like end the session (interrupt.h). */
	if (rc == -1 && errno == EINTR &&
	    interrupt_check(&s->fail, EX_IOERR) == -1) {
		error_prefix(&s->fail, "-bs");
		return READ_ERROR;
	}
	if (rc == 0) {
		s->timed_out = true;
		error_set(&s->fail, EX_IOERR,
		    "-bs: no command from the client "
		    "in %d s",
		    SMTPD_TIMEOUT_MS / 1000);
		return READ_ERROR;
	}
	do
		n = read(s->in_fd, s->in + s->ilen, sizeof(s->in) - s->ilen);
	while (n == -1 && errno == EINTR);
	if (n < 0) {
		error_set(&s->fail, EX_IOERR, "-bs: reading stdin: %s",
		    strerror(errno));
		return READ_ERROR;
	}
	if (n == 0) {
		s->eof = true;
		return READ_EOF;
	}
	s->ilen += (size_t)n;
	return READ_LINE;
}

/* One command line without its CRLF (or bare LF) into line
 * (SMTPD_COMMAND_MAX bytes).  A longer line is consumed and reported. */
static enum read_status
read_command(struct session *s, char *line, size_t *len)
{
	bool too_long = false;
	size_t n = 0;

	for (;;) {
		const char *p, *lf;
		size_t avail, take, copy;

		if (s->ipos == s->ilen) {
			enum read_status r = fill(s);

			if (r != READ_LINE)
				return r; /* a partial last line is dropped */
		}
		p = s->in + s->ipos;
		avail = s->ilen - s->ipos;
		lf = memchr(p, '\n', avail);
		take = lf != NULL ? (size_t)(lf - p) + 1 : avail;
		copy = lf != NULL ? take - 1 : take;
		if (!too_long && n + copy < SMTPD_COMMAND_MAX) {
			memcpy(line + n, p, copy);
			n += copy;
		} else
			too_long = true;
		s->ipos += take;
		if (lf != NULL)
			break;
	}
	if (too_long)
		return READ_TOO_LONG;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len = n;
	return READ_LINE;
}

/* ---- the message -------------------------------------------------- */

struct spool {
	int fd;
	char buf[SPOOL_BUFFER];
	size_t n;
	unsigned long long size;
	unsigned long long limit; /* SMTPD_SIZE_MAX or max_message_size */
	bool too_big;
	struct error err; /* a write error */
};

static void
spool_put(struct spool *sp, const char *p, size_t n)
{
	if (sp->too_big || error_is_set(&sp->err))
		return;
	if (n > sp->limit - sp->size) {
		sp->too_big = true;
		return;
	}
	sp->size += n;
	if (sp->n + n > sizeof(sp->buf)) {
		if (write_all(sp->fd, sp->buf, sp->n, &sp->err) == -1)
			return;
		sp->n = 0;
	}
	if (n > sizeof(sp->buf)) {
		write_all(sp->fd, p, n, &sp->err);
		return;
	}
	memcpy(sp->buf + sp->n, p, n);
	sp->n += n;
}

/*
 * DATA (RFC 5321 4.1.1.4): the client's lines, cut by the line rule of
 * stdin mode (message_lines_feed: LF and CRLF end a line, a lone CR is a
 * space), into the spool as text with LF line ends; message_read() then
 * makes the wire form of it exactly as of stdin.  For SMTP only CRLF ends
 * a line (RFC 5321 2.3.8), and a bare LF is text (SMTP smuggling, SEC
 * Consult 2023):
 *  - a line begins, for SMTP, at the start of DATA or after a CRLF, never
 *    after a bare LF (nor at a lone CR, which ends no line anywhere);
 *  - there, "." CRLF ends the data, and no other dot line does;
 *  - there, a leading dot is a transparency dot (4.5.2) and is removed,
 *    unless the line is a lone "." ended by a bare LF: that is the text
 *    ".", as is a "." after a bare LF;
 *  - after a bare LF a leading dot is text.
 * A dot that begins a line of the text is doubled again in the wire form.
 * Lines of any length are streamed; the total is bounded by
 * SMTPD_SIZE_MAX (the rest is read and dropped).
 */
struct data_reader {
	struct spool *sp;
	bool smtp_bol; /* the next byte begins a line for SMTP */
	bool dot;      /* the line so far is that line's first dot */
	bool done;     /* "." CRLF came */
};

static int
data_bytes(void *arg, const char *p, size_t n)
{
	struct data_reader *dr = arg;

	if (n == 0)
		return 0;
	if (dr->smtp_bol) {
		dr->smtp_bol = false;
		if (p[0] == '.') {
			dr->dot = true;
			p++;
			n--;
		}
	}
	if (n == 0)
		return 0;
	dr->dot = false; /* more than a dot: the dot was for transparency */
	spool_put(dr->sp, p, n);
	return 0;
}

static int
data_eol(void *arg, enum message_eol how)
{
	struct data_reader *dr = arg;

	if (dr->dot) {
		dr->dot = false;
		if (how == MESSAGE_EOL_CRLF) {
			dr->done = true;
			return 1;
		}
		spool_put(dr->sp, ".", 1); /* ".<LF>": text */
	}
	spool_put(dr->sp, "\n", 1);
	dr->smtp_bol = how == MESSAGE_EOL_CRLF;
	return 0;
}

static enum read_status
read_data(struct session *s, struct spool *sp)
{
	struct data_reader dr = {.sp = sp, .smtp_bol = true};
	struct message_lines ml = {
	    .data = data_bytes, .eol = data_eol, .arg = &dr};

	for (;;) {
		ssize_t used;

		if (s->ipos == s->ilen) {
			enum read_status r = fill(s);

			if (r != READ_LINE)
				return r;
			continue;
		}
		used =
		    message_lines_feed(&ml, s->in + s->ipos, s->ilen - s->ipos);
		if (used < 0) { /* the callbacks do not fail */
			error_set(&s->fail, EX_SOFTWARE, "-bs: DATA reader");
			return READ_ERROR;
		}
		s->ipos += (size_t)used;
		if (dr.done)
			return READ_LINE;
	}
}

/* ---- replies for outcomes ----------------------------------------- */

int
smtpd_reply_code(int exit_code, const char **enhanced)
{
	static const struct {
		int exit_code;
		int code;
		const char *enh;
	} map[] = {
	    {EX_OK, 250, "2.0.0"},
	    {EX_TEMPFAIL, 451, "4.3.0"}, /* queued: we try again later */
	    {EX_NOUSER, 550, "5.1.1"},	 /* the relay refused a recipient */
	    {EX_DATAERR, 554, "5.6.0"},	 /* the message itself */
	    {EX_USAGE, 553, "5.1.3"},	 /* an address */
	    {EX_NOHOST, 554, "5.4.4"},	 /* the relay's name does not exist */
	    {EX_UNAVAILABLE, 554, "5.0.0"}, {EX_PROTOCOL, 554, "5.5.0"},
	    {EX_NOPERM, 554, "5.7.8"}, /* RFC 4954 6: credentials invalid */
	    {EX_CONFIG, 554, "5.3.5"}, /* RFC 3463: system misconfigured */
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].exit_code == exit_code) {
			*enhanced = map[i].enh;
			return map[i].code;
		}
	/* 70, 71, 73, 74: a local failure; the message is not ours yet, so
	 * the client keeps it and tries again. */
	*enhanced = "4.3.0";
	return 451;
}

/* ---- path syntax -------------------------------------------------- */

int
smtpd_parse_path(const char *arg, const char *keyword, char *addr,
    size_t addr_size, const char **params)
{
	size_t kl = strlen(keyword), n = 0;
	const char *p = arg;
	bool quoted = false;

	if (strncasecmp(p, keyword, kl) != 0)
		return -1;
	p += kl;
	while (*p == ' ')
		p++; /* "MAIL FROM: <a@b>" is common, if not RFC 5321 */
	if (*p++ != '<')
		return -1;
	/* RFC 5321 4.1.2 A-d-l: "@a,@b:" before the mailbox, ignored
	 * (Appendix C). */
	if (*p == '@') {
		const char *colon = strchr(p, ':');

		if (colon == NULL)
			return -1;
		p = colon + 1;
	}
	for (;; p++) {
		if (*p == '\0')
			return -1;
		if (!quoted && *p == '>')
			break;
		if (quoted && *p == '\\' && p[1] != '\0') {
			if (n + 2 >= addr_size)
				return -1;
			addr[n++] = *p++;
		} else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '<' || *p == ' '))
			return -1;
		if (n + 1 >= addr_size)
			return -1;
		addr[n++] = *p;
	}
	addr[n] = '\0';
	p++;
	if (*p != '\0' && *p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	*params = p;
	return 0;
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* ---- commands ----------------------------------------------------- */

static void
end_transaction(struct session *s)
{
	if (s->in_mail)
		delivery_free(&s->d);
	s->in_mail = false;
	s->rcpt_cmds = 0;
}

static void
bad_command(struct session *s, int code, const char *enh, const char *text)
{
	s->errors++;
	if (s->errors >= SMTPD_ERRORS_MAX) {
		reply(s, 421, "4.7.0", "%s too many errors; closing",
		    s->hostname);
		error_set(&s->fail, EX_PROTOCOL,
		    "-bs: %u bad commands from "
		    "the client",
		    s->errors);
		s->quit = true;
		return;
	}
	reply(s, code, enh, "%s", text);
}

static void
cmd_helo(struct session *s, const char *arg, bool ehlo)
{
	char esc[HELO_MAX * 4 + 1];

	if (*arg == '\0') {
		bad_command(s, 501, "5.5.4",
		    ehlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
		return;
	}
	end_transaction(s); /* RFC 5321 4.1.4: like RSET */
	snprintf(s->helo, sizeof(s->helo), "%s", arg);
	error_escape(esc, sizeof(esc), s->helo, strlen(s->helo));
	s->greeted = true;
	if (!ehlo) {
		reply(s, 250, NULL, "%s Hello %s", s->hostname, esc);
		return;
	}
	put_line(s, 250, true, s->hostname);
	put_line(s, 250, true, "PIPELINING");
	put_line(s, 250, true, "8BITMIME");
	{
		char size[40];

		snprintf(size, sizeof(size), "SIZE %llu", SMTPD_SIZE_MAX);
		put_line(s, 250, true, size);
	}
	put_line(s, 250, true, "ENHANCEDSTATUSCODES");
	put_line(s, 250, false, "HELP");
}

/* MAIL parameters we advertise: SIZE (RFC 1870) and BODY (RFC 6152). */
static int
check_mail_params(struct session *s, const char *params)
{
	char copy[SMTPD_COMMAND_MAX];
	char *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", params);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(tok, "SIZE=", 5) == 0) {
			const char *v = tok + 5;
			unsigned long long size;
			char *end;

			if (*v < '0' || *v > '9' || strlen(v) > 20) {
				bad_command(s, 501, "5.5.4", "bad SIZE value");
				return -1;
			}
			errno = 0;
			size = strtoull(v, &end, 10);
			if (*end != '\0' || errno != 0) {
				bad_command(s, 501, "5.5.4", "bad SIZE value");
				return -1;
			}
			if (size > SMTPD_SIZE_MAX) {
				reply(s, 552, "5.3.4",
				    "message size exceeds the "
				    "limit of %llu bytes",
				    SMTPD_SIZE_MAX);
				return -1;
			}
		} else if (strcasecmp(tok, "BODY=7BIT") == 0 ||
			   strcasecmp(tok, "BODY=8BITMIME") == 0) {
			/* The body is scanned for 8-bit bytes anyway. */
		} else {
			bad_command(s, 555, "5.5.4",
			    "MAIL parameter not "
			    "recognized or not implemented");
			return -1;
		}
	}
	return 0;
}

static void
cmd_mail(struct session *s, const char *arg)
{
	char addr[SMTPD_COMMAND_MAX];
	const char *params;
	struct error err;

	if (!s->greeted) {
		bad_command(s, 503, "5.5.1", "send HELO or EHLO first");
		return;
	}
	if (s->in_mail) {
		bad_command(s, 503, "5.5.1", "nested MAIL command");
		return;
	}
	if (s->messages >= SMTPD_MESSAGES_MAX) {
		reply(s, 421, "4.7.0",
		    "%s %u messages in one session; "
		    "closing",
		    s->hostname, s->messages);
		s->quit = true;
		return;
	}
	if (smtpd_parse_path(arg, "FROM:", addr, sizeof(addr), &params) == -1) {
		bad_command(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return;
	}
	if (!is_ascii(addr)) {
		/* RFC 6531 3.5: no SMTPUTF8 offered, no UTF-8 address. */
		bad_command(s, 553, "5.6.7",
		    "non-ASCII address without "
		    "SMTPUTF8");
		return;
	}
	if (check_mail_params(s, params) == -1)
		return;
	error_clear(&err);
	delivery_init(&s->d, &s->opts, s->cfg);
	s->in_mail = true;
	/* The account: -a, else the one whose senders match MAIL FROM. */
	if (delivery_select(&s->d, addr[0] != '\0' ? addr : NULL, &err) == -1) {
		end_transaction(s);
		reply(s, 451, "4.3.5", "%s", err.message);
		return;
	}
	if (delivery_set_sender(&s->d, addr, &err) == -1) {
		int code;
		const char *enh;

		end_transaction(s);
		if (err.exit_code == EX_USAGE)
			bad_command(s, 553, "5.1.7", err.message);
		else {
			code = smtpd_reply_code(err.exit_code, &enh);
			reply(s, code, enh, "%s", err.message);
		}
		return;
	}
	reply(s, 250, "2.1.0", "Ok");
}

static void
cmd_rcpt(struct session *s, const char *arg)
{
	char addr[SMTPD_COMMAND_MAX];
	const char *params;
	struct error err;

	if (!s->in_mail) {
		bad_command(s, 503, "5.5.1", "need MAIL before RCPT");
		return;
	}
	if (smtpd_parse_path(arg, "TO:", addr, sizeof(addr), &params) == -1 ||
	    addr[0] == '\0') {
		bad_command(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return;
	}
	if (*params != '\0') {
		bad_command(s, 555, "5.5.4",
		    "RCPT parameters not recognized "
		    "or not implemented");
		return;
	}
	if (!is_ascii(addr)) {
		bad_command(s, 553, "5.6.7",
		    "non-ASCII address without "
		    "SMTPUTF8");
		return;
	}
	if (s->rcpt_cmds >= SMTPD_RCPTS_MAX) {
		reply(s, 452, "4.5.3", "too many recipients");
		return;
	}
	error_clear(&err);
	if (delivery_add_recipient(&s->d, addr, &err) == -1) {
		int code;
		const char *enh;

		if (err.exit_code == EX_USAGE) {
			bad_command(s, 553, "5.1.3", err.message);
			return;
		}
		code = smtpd_reply_code(err.exit_code, &enh);
		reply(s, code, enh, "%s", err.message);
		return;
	}
	s->rcpt_cmds++;
	reply(s, 250, "2.1.5", "Ok");
}

/* A private file for the message as the client sent it, in the
 * account's queue tmp/, removed at once (it lives while open). */
static int
open_spool(struct session *s, struct error *err)
{
	char path[4096];
	int fd;

	if (queue_prepare(s->d.acct->queue_dir, err) == -1)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/tmp/bs-XXXXXX",
		s->d.acct->queue_dir) >= sizeof(path))
		return error_set(err, EX_CANTCREAT, "queue_dir too long");
	if ((fd = mkstemp(path)) == -1)
		return error_set(
		    err, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	unlink(path);
	return fd;
}

/* Tell the client what became of the message, and log it. */
static void
report(struct session *s, int rc, struct error *err)
{
	struct delivery *d = &s->d;
	const char *name = d->acct->name;
	const char *enh;
	int code;

	if (rc == 0) {
		if (d->status != NULL && strcmp(d->status, "queued") == 0)
			reply(s, 250, "2.0.0", "Ok: queued as %s%s%s",
			    d->queue_id, d->warning[0] ? ": " : "", d->warning);
		else
			reply(s, 250, "2.0.0", "Ok: %s: %s: %s%s%s", name,
			    d->where, d->final_reply, d->warning[0] ? "; " : "",
			    d->warning);
		delivery_log(
		    d, EX_OK, d->final_reply[0] ? d->final_reply : "queued");
		return;
	}
	code = smtpd_reply_code(err->exit_code, &enh);
	reply(s, code, enh, "%s: %s", name, err->message);
	delivery_log(d, err->exit_code, err->message);
}

static void
cmd_data(struct session *s, const char *arg)
{
	struct spool *sp;
	struct error err;
	enum read_status r;
	int rc;

	if (*arg != '\0') {
		bad_command(s, 501, "5.5.4", "Syntax: DATA");
		return;
	}
	if (!s->in_mail) {
		bad_command(s, 503, "5.5.1", "need MAIL and RCPT before DATA");
		return;
	}
	if (s->d.rcpts.n == 0) {
		bad_command(s, 554, "5.5.1", "no valid recipients");
		return;
	}
	error_clear(&err);
	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		reply(s, 451, "4.3.0", "out of memory");
		end_transaction(s);
		return;
	}
	if ((sp->fd = open_spool(s, &err)) == -1) {
		reply(s, 451, "4.3.0", "%s", err.message);
		free(sp);
		end_transaction(s);
		return;
	}
	sp->limit = s->d.acct->max_message_size > 0 &&
			    s->d.acct->max_message_size < SMTPD_SIZE_MAX
			? s->d.acct->max_message_size
			: SMTPD_SIZE_MAX;
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	r = read_data(s, sp);
	if (r != READ_LINE) {
		if (r == READ_EOF)
			error_set(&s->fail, EX_IOERR,
			    "-bs: input ended "
			    "inside DATA; the message was not accepted");
		else if (interrupt_caught())
			error_set(&s->fail, EX_IOERR,
			    "-bs: interrupted by %s inside DATA; the message "
			    "was not accepted",
			    interrupt_name(interrupt_caught()));
		s->quit = true;
		goto out;
	}
	s->messages++;
	if (sp->too_big) {
		reply(s, 552, "5.3.4",
		    "message size exceeds the limit of %llu "
		    "bytes",
		    sp->limit);
		goto out;
	}
	if (!error_is_set(&sp->err) && sp->n > 0)
		write_all(sp->fd, sp->buf, sp->n, &sp->err);
	if (error_is_set(&sp->err)) {
		reply(s, 451, "4.3.0", "%s", sp->err.message);
		goto out;
	}
	if (lseek(sp->fd, 0, SEEK_SET) == -1) {
		reply(s, 451, "4.3.0", "spool: %s", strerror(errno));
		goto out;
	}
	rc = delivery_read(&s->d, sp->fd, false, &err);
	if (rc == 0)
		rc = delivery_send(&s->d, &err);
	report(s, rc, &err);
	if (interrupt_caught()) {
		/* The message received in full is queued (or sent, or
		 * saved): that is the outcome; the session ends. */
		s->quit = true;
		if (rc == -1 && !error_is_set(&s->fail)) {
			s->fail = err;
			error_prefix(&s->fail, "%s", s->d.acct->name);
		}
	}
out:
	close(sp->fd);
	free(sp);
	end_transaction(s);
}

static void
cmd_help(struct session *s)
{
	put_line(s, 214, true,
	    "2.0.0 mailsub -bs: HELO EHLO MAIL RCPT DATA "
	    "RSET NOOP QUIT HELP VRFY");
	put_line(s, 214, true,
	    "2.0.0 each message goes to the relay of the "
	    "account after DATA;");
	put_line(s, 214, false, "2.0.0 see mailsub(1)");
}

struct command {
	const char *verb;
	int id;
};

enum {
	C_HELO,
	C_EHLO,
	C_MAIL,
	C_RCPT,
	C_DATA,
	C_RSET,
	C_NOOP,
	C_QUIT,
	C_HELP,
	C_VRFY,
	C_EXPN,
	C_NOT_OFFERED,
};

static const struct command commands[] = {
    {"HELO", C_HELO},
    {"EHLO", C_EHLO},
    {"MAIL", C_MAIL},
    {"RCPT", C_RCPT},
    {"DATA", C_DATA},
    {"RSET", C_RSET},
    {"NOOP", C_NOOP},
    {"QUIT", C_QUIT},
    {"HELP", C_HELP},
    {"VRFY", C_VRFY},
    {"EXPN", C_EXPN},
    {"STARTTLS", C_NOT_OFFERED},
    {"AUTH", C_NOT_OFFERED},
    {"BDAT", C_NOT_OFFERED},
    {"ETRN", C_NOT_OFFERED},
    {"TURN", C_NOT_OFFERED},
};

static void
dispatch(struct session *s, char *line, size_t len)
{
	char *arg;
	size_t vl, i;
	int id = -1;

	if (memchr(line, '\0', len) != NULL) {
		bad_command(s, 500, "5.5.2", "NUL byte in command");
		return;
	}
	vl = strcspn(line, " ");
	arg = line + vl;
	while (*arg == ' ')
		arg++;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].verb) == vl &&
		    strncasecmp(line, commands[i].verb, vl) == 0) {
			id = commands[i].id;
			break;
		}
	if (s->cfg == NULL && id != C_QUIT && id != C_NOOP) {
		/* RFC 5321 3.1: after a 554 greeting, 503 to all but QUIT. */
		bad_command(s, 503, "5.5.1",
		    "no service: the configuration "
		    "could not be loaded");
		return;
	}
	switch (id) {
	case C_HELO:
	case C_EHLO:
		cmd_helo(s, arg, id == C_EHLO);
		break;
	case C_MAIL:
		cmd_mail(s, arg);
		break;
	case C_RCPT:
		cmd_rcpt(s, arg);
		break;
	case C_DATA:
		cmd_data(s, arg);
		break;
	case C_RSET:
		end_transaction(s);
		reply(s, 250, "2.0.0", "Ok");
		break;
	case C_NOOP:
		reply(s, 250, "2.0.0", "Ok");
		break;
	case C_QUIT:
		reply(s, 221, "2.0.0", "%s closing", s->hostname);
		s->quit = true;
		break;
	case C_HELP:
		cmd_help(s);
		break;
	case C_VRFY:
		/* RFC 5321 3.5.3: 252 when we cannot verify. */
		reply(s, 252, "2.5.0", "cannot VRFY; send and see");
		break;
	case C_EXPN:
	case C_NOT_OFFERED:
		bad_command(s, 502, "5.5.1", "command not implemented");
		break;
	default:
		bad_command(s, 500, "5.5.2", "command not recognized");
		break;
	}
}

int
smtpd_run(int in_fd, int out_fd, const struct options *opts, struct error *err)
{
	struct session *s;
	struct error cfg_err;
	char line[SMTPD_COMMAND_MAX];
	size_t len = 0;
	enum read_status r;
	int rc = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->opts = *opts;
	s->opts.read_recipients = false; /* the envelope comes from RCPT */
	error_clear(&s->fail);
	error_clear(&cfg_err);
	net_local_fqdn(s->hostname, sizeof(s->hostname));
	if (delivery_load_config(opts, &s->cfg, &cfg_err) == -1) {
		s->cfg = NULL;
		reply(s, 554, NULL, "%s mailsub: no service: %s", s->hostname,
		    cfg_err.message);
	} else
		reply(s, 220, NULL, "%s ESMTP mailsub", s->hostname);

	while (!s->quit) {
		r = read_command(s, line, &len);
		if (r == READ_EOF || r == READ_ERROR)
			break;
		if (++s->commands > SMTPD_COMMANDS_MAX) {
			reply(s, 421, "4.7.0",
			    "%s %u commands in one session; "
			    "closing",
			    s->hostname, SMTPD_COMMANDS_MAX);
			break;
		}
		if (r == READ_TOO_LONG) {
			bad_command(s, 500, "5.5.2", "line too long");
			continue;
		}
		dispatch(s, line, len);
	}
	if (s->timed_out) /* RFC 5321 4.5.3.2: say so before closing. */
		reply(s, 421, "4.4.2", "%s timeout; closing", s->hostname);
	else if (interrupt_caught()) {
		/* RFC 3463 4.3.2: the system is shutting down. */
		reply(s, 421, "4.3.2", "%s interrupted; closing", s->hostname);
		if (!error_is_set(&s->fail))
			error_set(&s->fail, EX_IOERR, "-bs: interrupted by %s",
			    interrupt_name(interrupt_caught()));
	}
	flush_out(s);
	end_transaction(s);
	if (error_is_set(&s->fail)) {
		*err = s->fail;
		rc = -1;
	} else if (s->cfg == NULL) {
		*err = cfg_err;
		rc = -1;
	}
	config_free(s->cfg);
	free(s);
	return rc;
}
