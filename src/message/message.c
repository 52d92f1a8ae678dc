/* SPDX-License-Identifier: ISC */
/*
 * Reading the message into the spool in wire form.
 *
 * The input is taken in large blocks and cut into lines with memchr; every
 * line leaves as bytes + CRLF with lone CRs turned into spaces (so no lone
 * CR or LF can reach the wire: SMTP smuggling, SEC Consult 2023) and a
 * leading '.' doubled (RFC 5321 4.5.2).  The line cutter
 * (message_lines_feed) is also what cuts -bs DATA (smtpd.c), so the two
 * ways in share one line rule.  Only the header block is held in memory,
 * bounded by HEADER_BLOCK_MAX, and handed to header.c.  A stream of a
 * regular file diverts the same wire bytes to the link instead of the
 * spool (message_reader_divert).  Past 800 lines and one job: the line
 * cutter, the header phase and the body phase share struct reader's state
 * at every byte, and the block-at-a-time reader is that same reader.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "buf.h"
#include "error.h"
#include "fdio.h"
#include "header.h"
#include "id.h"
#include "interrupt.h"
#include "message.h"
#include "text.h"

/* Large blocks keep the per-byte cost low (bench/RESULTS.md).  The wire
 * form of a block (CRLF, doubled dots) fits the output buffer, so a reader
 * flushed after every block (message_reader_flush) writes it once. */
#define READ_BLOCK (64 * 1024)
#define OUT_BLOCK  (2 * READ_BLOCK + 1024)

/* RFC 5322 2.1.1: a line is at most 998 characters, so a longer run of
 * field-name characters is body text, not a header field. */
#define FIELD_NAME_MAX 998

enum phase {
	PHASE_HEADER,
	PHASE_BODY,
	PHASE_STOPPED, /* a lone "." ended a terminal's input */
};

/* What the current header-phase line is, decided as early as possible. */
enum line_kind {
	LINE_START, /* nothing seen yet */
	LINE_NAME,  /* field-name characters so far (RFC 5322 3.6.8 ftext) */
	LINE_WSP,   /* a name and white space: RFC 5322 4.5.3 obs-optional */
	LINE_FIELD, /* name and ':' seen */
	LINE_CONT,  /* folded continuation of the previous field */
	LINE_BODY,  /* not part of a header block */
};

/* How the header block ended, which decides the separator written. */
enum header_end {
	HEADER_END_BLANK, /* by an empty line: written as the separator */
	HEADER_END_LINE,  /* by a line that is no header field */
	HEADER_END_EOF,	  /* by the end of input */
};

struct reader {
	const struct message_options *mo;
	struct message_options chosen; /* mo after choose_sender */
	struct message *m;
	struct error *err;

	enum phase phase;
	struct message_lines lines;
	bool line_start;  /* body: the next byte begins a line */
	bool dot_pending; /* body, stop_at_dot: the line so far is "." */

	struct buf hdr; /* complete header lines ending '\n', then the
			   current line */
	size_t cur;	/* where the current line starts in hdr */
	enum line_kind kind;
	bool have_field;

	char *out;
	size_t out_len;
	message_sink sink; /* message_reader_divert(), or NULL: the spool */
	void *sink_arg;

	bool failed_content; /* the first content error is kept */
	struct error content;
};

void
message_init(struct message *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	address_list_init(&m->header_rcpts);
}

void
message_free(struct message *m)
{
	if (m->fd != -1)
		close(m->fd);
	if (m->spool_path != NULL) {
		unlink(m->spool_path);
		free(m->spool_path);
	}
	address_list_free(&m->header_rcpts);
	free(m->message_id);
	message_init(m);
}

/* ---- output ---------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n, const char *path, struct error *err)
{
	if (fdio_write_all(fd, p, n, false) == -1)
		return error_set(err, EX_IOERR,
		    "cannot write spool file %s: %s", path, strerror(errno));
	return 0;
}

/* n wire bytes to the spool, or to the sink once diverted. */
static int
out_emit(struct reader *r, const char *p, size_t n)
{
	if (r->sink != NULL)
		return r->sink(r->sink_arg, p, n, r->err);
	return write_all(r->m->fd, p, n, r->m->spool_path, r->err);
}

static int
out_flush(struct reader *r)
{
	if (r->out_len == 0)
		return 0;
	if (out_emit(r, r->out, r->out_len) == -1)
		return -1;
	r->out_len = 0;
	return 0;
}

static int
out_put(struct reader *r, const char *p, size_t n)
{
	r->m->size += n;
	while (n > 0) {
		size_t room = OUT_BLOCK - r->out_len;

		if (room == 0) {
			if (out_flush(r) == -1)
				return -1;
			continue;
		}
		if (r->out_len == 0 && n >= OUT_BLOCK)
			return out_emit(r, p, n);
		if (room > n)
			room = n;
		memcpy(r->out + r->out_len, p, room);
		r->out_len += room;
		p += room;
		n -= room;
	}
	return 0;
}

/* ---- body lines -------------------------------------------------------- */

static int
body_data(struct reader *r, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (r->line_start) {
		r->line_start = false;
		if (p[0] == '.') {
			/* A terminal's lone "." ends input: wait for the
			 * next byte to know whether this line is just ".". */
			if (r->mo->stop_at_dot && n == 1) {
				r->dot_pending = true;
				return 0;
			}
			/* RFC 5321 4.5.2: transparency. */
			if (out_put(r, ".", 1) == -1)
				return -1;
		}
	} else if (r->dot_pending) {
		r->dot_pending = false;
		if (out_put(r, "..", 2) == -1)
			return -1;
	}
	return out_put(r, p, n);
}

static int
body_eol(struct reader *r)
{
	if (r->dot_pending) {
		r->dot_pending = false;
		r->phase = PHASE_STOPPED;
		return 0;
	}
	r->line_start = true;
	return out_put(r, "\r\n", 2);
}

static int
put_line(struct reader *r, const char *p, size_t n)
{
	if (body_data(r, p, n) == -1)
		return -1;
	return body_eol(r);
}

static int
put_header_line(void *arg, const char *line, size_t len)
{
	return put_line(arg, line, len);
}

/* Write folded text (lines separated by '\n') as wire lines. */
static int
put_lines(struct reader *r, const char *p, size_t n)
{
	return text_each_line(p, n, put_header_line, r);
}

/* ---- content errors ------------------------------------------------------ */

/* Content errors do not stop the reading: the whole message is spooled so
 * that the caller can save it (mailsub(1), EXIT STATUS), and the first error is
 * returned at the end. */
static void
content_error(struct reader *r, const struct error *e)
{
	if (r->failed_content)
		return;
	r->failed_content = true;
	r->content = *e;
}

/* Process and write the header block hdr[0, end) and the separator. */
static int
finish_headers(struct reader *r, size_t end, enum header_end how)
{
	struct header_result res;
	int rc;

	if (r->mo->choose_sender != NULL) {
		char *from = NULL;

		if (header_from_address(r->hdr.data, end, &from, r->err) == -1)
			return -1;
		r->chosen = *r->mo;
		r->chosen.choose_sender = NULL;
		rc = r->mo->choose_sender(
		    r->mo->choose_sender_arg, from, &r->chosen, r->err);
		free(from);
		if (rc == -1)
			return -1;
		r->mo = &r->chosen;
	}
	header_result_init(&res);
	rc = header_process(
	    r->hdr.data, end, &r->mo->header, put_header_line, r, &res, r->err);
	/* What the header block said belongs to the message. */
	address_list_free(&r->m->header_rcpts);
	r->m->header_rcpts = res.rcpts;
	address_list_init(&res.rcpts);
	free(r->m->message_id);
	r->m->message_id = res.message_id;
	res.message_id = NULL;
	r->m->date = res.date;
	r->m->alias_warning = res.alias_warning;
	r->m->sender_warning = res.sender_warning;
	if (rc == 0 && res.failed)
		content_error(r, &res.error);
	/* RFC 5322 2.1: an empty line separates header and body. */
	if (rc == 0 && (how == HEADER_END_BLANK ||
			   (how == HEADER_END_LINE && res.lines > 0)))
		rc = out_put(r, "\r\n", 2);
	header_result_free(&res);
	return rc;
}

/* The header block ended before the current line (which is body). */
static int
end_headers_at_line(struct reader *r, const char *p, size_t n)
{
	size_t cur = r->cur, len = r->hdr.len;

	if (finish_headers(r, cur, HEADER_END_LINE) == -1)
		return -1;
	r->phase = PHASE_BODY;
	r->line_start = true;
	if (body_data(r, r->hdr.data != NULL ? r->hdr.data + cur : "",
		len - cur) == -1 ||
	    body_data(r, p, n) == -1)
		return -1;
	buf_free(&r->hdr);
	return 0;
}

/* Over HEADER_BLOCK_MAX: spool everything as it is (normalised), fail at
 * the end (mailsub(1), EXIT STATUS: 65, saved). */
static int
header_overflow(struct reader *r, const char *p, size_t n)
{
	struct error e;

	r->m->header_too_large = true;
	error_set(&e, EX_DATAERR, "header block larger than %d MiB",
	    HEADER_BLOCK_MAX / (1024 * 1024));
	content_error(r, &e);
	r->phase = PHASE_BODY;
	r->line_start = true;
	if (r->hdr.data != NULL &&
	    (put_lines(r, r->hdr.data, r->cur) == -1 ||
		body_data(r, r->hdr.data + r->cur, r->hdr.len - r->cur) == -1))
		return -1;
	if (body_data(r, p, n) == -1)
		return -1;
	buf_free(&r->hdr);
	return 0;
}

static int
header_data(struct reader *r, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (r->kind == LINE_START) {
		if (p[0] == ' ' || p[0] == '\t')
			r->kind = r->have_field ? LINE_CONT : LINE_BODY;
		else
			r->kind = LINE_NAME;
	}
	if (r->kind == LINE_NAME || r->kind == LINE_WSP) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == ':') {
				/* RFC 5322 3.6.8: at least one ftext. */
				r->kind = r->hdr.len - r->cur + i > 0
					      ? LINE_FIELD
					      : LINE_BODY;
				break;
			}
			/* "Bcc :" is a field (RFC 5322 4.5.3), "From x"
			 * (an mbox separator) is not. */
			if (c == ' ' || c == '\t') {
				r->kind = LINE_WSP;
				continue;
			}
			if (c < 33 || c > 126 || r->kind == LINE_WSP) {
				r->kind = LINE_BODY;
				break;
			}
		}
		if ((r->kind == LINE_NAME || r->kind == LINE_WSP) &&
		    r->hdr.len - r->cur + n > FIELD_NAME_MAX)
			r->kind = LINE_BODY;
	}
	if (r->kind == LINE_BODY)
		return end_headers_at_line(r, p, n);
	if (n > HEADER_BLOCK_MAX - r->hdr.len)
		return header_overflow(r, p, n);
	return buf_append(&r->hdr, p, n, r->err);
}

static int
header_eol(struct reader *r)
{
	switch (r->kind) {
	case LINE_START:
		if (finish_headers(r, r->cur, HEADER_END_BLANK) == -1)
			return -1;
		buf_free(&r->hdr);
		r->phase = PHASE_BODY;
		r->line_start = true;
		return 0;
	case LINE_NAME:
	case LINE_WSP:
	case LINE_BODY:
		/* No colon: not a field, so the body has begun. */
		if (end_headers_at_line(r, NULL, 0) == -1)
			return -1;
		return body_eol(r);
	case LINE_FIELD:
	case LINE_CONT:
		break;
	}
	if (r->hdr.len + 1 > HEADER_BLOCK_MAX) {
		if (header_overflow(r, NULL, 0) == -1)
			return -1;
		return body_eol(r);
	}
	if (buf_addch(&r->hdr, '\n', r->err) == -1)
		return -1;
	r->have_field = true;
	r->kind = LINE_START;
	r->cur = r->hdr.len;
	return 0;
}

/* ---- line splitting ----------------------------------------------------- */

static bool
any_8bit(const char *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & UINT64_C(0x8080808080808080)) != 0;
}

static int
line_data(void *arg, const char *p, size_t n)
{
	struct reader *r = arg;

	if (n == 0)
		return 0;
	if (!r->m->has_8bit && any_8bit(p, n))
		r->m->has_8bit = true;
	if (!r->m->has_nul && memchr(p, '\0', n) != NULL)
		r->m->has_nul = true;
	switch (r->phase) {
	case PHASE_HEADER:
		return header_data(r, p, n);
	case PHASE_BODY:
		return body_data(r, p, n);
	case PHASE_STOPPED:
		break;
	}
	return 0;
}

/* The end of a line, however it ended (message_lines); 1 once a lone "."
 * has stopped a terminal's input. */
static int
line_eol(void *arg, enum message_eol how)
{
	struct reader *r = arg;
	int rc = 0;

	(void)how;
	switch (r->phase) {
	case PHASE_HEADER:
		rc = header_eol(r);
		break;
	case PHASE_BODY:
		rc = body_eol(r);
		break;
	case PHASE_STOPPED:
		break;
	}
	if (rc == -1)
		return -1;
	return r->phase == PHASE_STOPPED ? 1 : 0;
}

/*
 * Cut a block into lines: LF and CRLF end a line, a lone CR becomes a
 * space (in place: the block is ours).  A CR at the end of a block is held
 * until the next byte shows whether an LF follows.
 */
ssize_t
message_lines_feed(struct message_lines *ml, char *p, size_t n)
{
	char *start = p, *end = p + n;

	while (p < end) {
		enum message_eol how = MESSAGE_EOL_LF;
		char *lf, *stop, *s, *cr;
		size_t len;
		int rc;

		if (ml->pending_cr) {
			ml->pending_cr = false;
			if (*p == '\n') {
				p++;
				if ((rc = ml->eol(ml->arg, MESSAGE_EOL_CRLF)) ==
				    -1)
					return -1;
				if (rc > 0)
					break;
				continue;
			}
			if (ml->data(ml->arg, " ", 1) == -1)
				return -1;
			continue;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		stop = lf != NULL ? lf : end;
		len = (size_t)(stop - p);
		for (s = p; (cr = memchr(s, '\r', (size_t)(stop - s))) != NULL;
		     s = cr + 1) {
			if (cr + 1 < stop) {
				*cr = ' ';
				continue;
			}
			/* The CR right before the LF, or at block end. */
			len--;
			if (lf == NULL)
				ml->pending_cr = true;
			else
				how = MESSAGE_EOL_CRLF;
			break;
		}
		if (len > 0 && ml->data(ml->arg, p, len) == -1)
			return -1;
		if (lf == NULL) {
			p = end;
			break;
		}
		p = lf + 1;
		if ((rc = ml->eol(ml->arg, how)) == -1)
			return -1;
		if (rc > 0)
			break;
	}
	return p - start;
}

int
message_lines_finish(struct message_lines *ml)
{
	if (!ml->pending_cr)
		return 0;
	ml->pending_cr = false;
	return ml->data(ml->arg, " ", 1);
}

static int
finish_input(struct reader *r)
{
	bool open_line;

	if (message_lines_finish(&r->lines) == -1)
		return -1;
	if (r->phase == PHASE_HEADER)
		open_line = r->kind != LINE_START;
	else
		open_line = !r->line_start || r->dot_pending;
	/* A last line without a newline is terminated. */
	if (r->phase != PHASE_STOPPED && open_line &&
	    line_eol(r, MESSAGE_EOL_LF) == -1)
		return -1;
	if (r->phase == PHASE_HEADER) {
		if (finish_headers(r, r->cur, HEADER_END_EOF) == -1)
			return -1;
		buf_free(&r->hdr);
		r->phase = PHASE_BODY;
	}
	return out_flush(r);
}

static ssize_t
read_block(int fd, char *p, size_t n, bool interruptible, struct error *err)
{
	ssize_t got = fdio_read(fd, p, n, interruptible);

	if (got >= 0)
		return got;
	/* Before the end of the input nothing was promised: a signal ends
	 * the read, the caller still holds it. */
	if (interruptible && errno == EINTR)
		return interrupt_input_error(err);
	error_set(
	    err, EX_IOERR, "cannot read the message: %s", strerror(errno));
	return -1;
}

/* The reader of one message, block by block (message.h). */
struct message_reader {
	struct reader r;
	int in_fd;
	bool interruptible;
	char *in;
	unsigned long long limit;
};

/* The spool is useless now: the caller still holds the message. */
void
message_drop_spool(struct message *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	if (m->spool_path != NULL)
		unlink(m->spool_path);
	free(m->spool_path);
	m->spool_path = NULL;
}

void
message_reader_free(struct message_reader *mr)
{
	if (mr == NULL)
		return;
	buf_free(&mr->r.hdr);
	free(mr->r.out);
	free(mr->in);
	free(mr);
}

int
message_reader_open(int in_fd, const char *spool_dir,
    const struct message_options *mo, struct message *m,
    struct message_reader **out, struct error *err)
{
	struct message_reader *mr;
	struct reader *r;
	char id[ID_UNIQUE_MAX];
	struct buf path;

	*out = NULL;
	mr = calloc(1, sizeof(*mr));
	if (mr == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	r = &mr->r;
	r->mo = mo;
	r->m = m;
	r->err = err;
	r->phase = PHASE_HEADER;
	r->line_start = true;
	r->kind = LINE_START;
	r->lines.data = line_data;
	r->lines.eol = line_eol;
	r->lines.arg = r;
	buf_init(&r->hdr, HEADER_BLOCK_MAX + 1);
	mr->in_fd = in_fd;
	mr->interruptible = mo->interruptible;
	mr->limit =
	    mo->header.acct != NULL ? mo->header.acct->max_message_size : 0;
	m->size = 0;
	m->input_bytes = 0;

	id_unique(id, sizeof(id));
	buf_init(&path, 4096 + ID_UNIQUE_MAX);
	if (buf_printf(&path, err, "%s/spool-%s", spool_dir, id) == -1) {
		buf_free(&path);
		message_reader_free(mr);
		return -1;
	}
	m->fd = open(path.data,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (m->fd == -1) {
		error_set(err, EX_CANTCREAT, "cannot create spool file %s: %s",
		    path.data, strerror(errno));
		buf_free(&path);
		message_reader_free(mr);
		return -1;
	}
	m->spool_path = buf_detach(&path);

	mr->in = malloc(READ_BLOCK);
	r->out = malloc(OUT_BLOCK);
	if (mr->in == NULL || r->out == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		message_drop_spool(m);
		message_reader_free(mr);
		return -1;
	}
	*out = mr;
	return 0;
}

int
message_reader_step(struct message_reader *mr, struct error *err)
{
	struct reader *r = &mr->r;
	struct message *m = r->m;
	ssize_t got;

	if (r->phase == PHASE_STOPPED)
		return 0;
	r->err = err;
	got = read_block(mr->in_fd, mr->in, READ_BLOCK, mr->interruptible, err);
	if (got < 0)
		goto hard;
	if (got == 0)
		return 0;
	m->input_bytes += (unsigned long long)got;
	if (message_lines_feed(&r->lines, mr->in, (size_t)got) == -1)
		goto hard;
	/* Checked while reading: an endless input (--attach /dev/zero)
	 * must not fill the disk.  Nothing was accepted yet, so nothing is
	 * kept. */
	if (mr->limit > 0 && m->size > mr->limit) {
		error_set(err, EX_DATAERR,
		    "the message is larger than max_message_size (%llu "
		    "bytes); stopped reading, nothing was sent or kept",
		    mr->limit);
		goto hard;
	}
	return r->phase == PHASE_STOPPED ? 0 : 1;
hard:
	message_drop_spool(m);
	return -1;
}

int
message_reader_drain(struct message_reader *mr, int max_ms, struct error *err)
{
	long long t0 = fdio_now_ms();
	int rc;

	/* The signal is caught already: the reads must not see it. */
	mr->interruptible = false;
	for (;;) {
		struct pollfd pfd = {.fd = mr->in_fd, .events = POLLIN};

		if (fdio_now_ms() - t0 > max_ms || poll(&pfd, 1, 0) != 1) {
			interrupt_input_error(err);
			message_drop_spool(mr->r.m);
			return -1;
		}
		if ((rc = message_reader_step(mr, err)) != 1)
			return rc;
	}
}

void
message_reader_divert(struct message_reader *mr, message_sink sink, void *arg)
{
	mr->r.sink = sink;
	mr->r.sink_arg = arg;
	mr->r.m->spool_partial = true;
}

bool
message_reader_in_body(const struct message_reader *mr)
{
	return mr->r.phase == PHASE_BODY;
}

bool
message_reader_clean(const struct message_reader *mr)
{
	return !mr->r.failed_content && !mr->r.m->has_nul;
}

int
message_reader_flush(struct message_reader *mr, struct error *err)
{
	mr->r.err = err;
	if (out_flush(&mr->r) == -1) {
		message_drop_spool(mr->r.m);
		return -1;
	}
	return 0;
}

int
message_reader_finish(struct message_reader *mr, struct error *err)
{
	struct reader *r = &mr->r;
	struct message *m = r->m;

	r->err = err;
	if (finish_input(r) == -1) {
		message_drop_spool(m);
		return -1;
	}
	if (r->failed_content) {
		*err = r->content;
		return -1;
	}
	if (m->has_nul) {
		/* Refused, never silently truncated (mailsub(1), EXIT
		 * STATUS). */
		return error_set(err, EX_DATAERR, "message contains NUL bytes");
	}
	return 0;
}

int
message_read(int in_fd, const char *spool_dir, const struct message_options *mo,
    struct message *m, struct error *err)
{
	struct message_reader *mr;
	int rc;

	if (message_reader_open(in_fd, spool_dir, mo, m, &mr, err) == -1)
		return -1;
	while ((rc = message_reader_step(mr, err)) == 1)
		;
	if (rc == 0)
		rc = message_reader_finish(mr, err);
	message_reader_free(mr);
	return rc;
}
