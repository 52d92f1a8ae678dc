/* SPDX-License-Identifier: ISC */
/*
 * Compose mode: the MIME message is built from the command line and
 * written block by block.  compose_read() runs the writer in a thread that
 * feeds a pipe, and message_read() on the main thread turns the pipe into
 * the spool exactly as it does stdin, so compose mode gets the wire form,
 * the header rules and the queue for free with one disk write.  (A
 * temporary file would write every byte twice; a child process would need
 * its own channel for the error.)
 * Past 800 lines as one job: the sources, the attachments and the writer
 * build one MIME message over one struct compose.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "magic_sniff.h"
#include "compose_head.h"
#include "error.h"
#include "fdio.h"
#include "id.h"
#include "interrupt.h"
#include "message.h"
#include "mime.h"
#include "sysmode.h"

/* How much of a pipe body is read ahead to choose its encoding: a body
 * that ends within it is scanned whole. */
#define READ_AHEAD (256 * 1024)
/* Text is read and encoded in blocks of this size. */
#define TEXT_BLOCK (32 * 1024)
/* Attachments: 1024 base64 lines per block (RFC 2045 6.8). */
#define B64_BLOCK (MIME_B64_LINE_BYTES * 1024)
#define OUT_BLOCK (64 * 1024)
/* What libmagic looks at. */
/* A part's fields are held in memory. */
#define HEAD_MAX HEADER_BLOCK_MAX
/* RFC 2046 5.1.1: a boundary is at most 70 characters. */
#define BOUNDARY_SIZE 72

enum part_kind {
	PART_TEXT,
	PART_HTML,
	PART_ATTACHMENT,
};

enum cte {
	CTE_7BIT,
	CTE_QP,
	CTE_BASE64,
};

/* Where a part's bytes come from: memory (--body, a read-ahead), then a
 * descriptor. */
struct source {
	char *label; /* file name, or "standard input" */
	int fd;	     /* -1: nothing more to read */
	bool own_fd;
	const unsigned char *mem; /* --body, or ahead */
	size_t mem_len;
	size_t mem_pos;
	unsigned char *ahead; /* malloc'd read-ahead */
	bool limited;	      /* read exactly left more bytes: a file
				 scanned when opened */
	unsigned long long left;
};

struct part {
	enum part_kind kind;
	struct source src;
	enum cte cte;
	bool empty;
	struct buf head; /* its Content-* fields, folded */
};

struct compose {
	struct buf head; /* From .. MIME-Version, folded */
	struct part text, html;
	bool has_text, has_html;
	struct part *att;
	size_t n_att;
	char mixed[BOUNDARY_SIZE], alt[BOUNDARY_SIZE];

	/* The writer. */
	int out_fd;
	const char *out_label;
	char *obuf;
	size_t olen;
	unsigned char *ibuf;
	char *ebuf;

	/* compose_read()'s writer thread reports here. */
	int wrc;
	struct error werr;
};

/* ---- sources --------------------------------------------------------------
 */

static void
source_close(struct source *s)
{
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->ahead);
	free(s->label);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Open a file named on the command line: 66 when it cannot be read. */
static int
source_open(
    struct source *s, const char *what, const char *path, struct error *err)
{
	struct stat st;
	int e;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if ((s->label = strdup(path)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	/* With the caller's rights, whatever the program's (sysmode.h). */
	s->fd = sysmode_open_caller(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (s->fd == -1) {
		e = errno;
		return error_set(err,
		    e == EMFILE || e == ENFILE || e == ENOMEM ? EX_OSERR
							      : EX_NOINPUT,
		    "%s %s: %s", what, path, strerror(e));
	}
	s->own_fd = true;
	if (fstat(s->fd, &st) == -1)
		return error_set(
		    err, EX_NOINPUT, "%s %s: %s", what, path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return error_set(
		    err, EX_NOINPUT, "%s %s: is a directory", what, path);
	return 0;
}

static int
read_error(const char *label, struct error *err)
{
	if (errno == EINTR && interrupt_caught())
		return interrupt_input_error(err);
	return error_set(
	    err, EX_IOERR, "cannot read %s: %s", label, strerror(errno));
}

/* Up to n bytes: what memory holds first, then the descriptor.  0 is the
 * end.  A scanned file that ends early has changed under us. */
static ssize_t
source_read(struct source *s, void *p, size_t n, struct error *err)
{
	ssize_t got;

	if (s->mem_pos < s->mem_len) {
		size_t k = s->mem_len - s->mem_pos;

		if (k > n)
			k = n;
		memcpy(p, s->mem + s->mem_pos, k);
		s->mem_pos += k;
		return (ssize_t)k;
	}
	if (s->fd < 0)
		return 0;
	if (s->limited) {
		if (s->left == 0)
			return 0;
		if (n > s->left)
			n = (size_t)s->left;
	}
	/* Interruptible: every input is read before the end of the
	 * message (/dev/zero never blocks). */
	got = fdio_read(s->fd, p, n, true);
	if (got < 0) {
		read_error(s->label, err);
		return -1;
	}
	if (got == 0 && s->limited) {
		error_set(
		    err, EX_IOERR, "%s got shorter while being read", s->label);
		return -1;
	}
	if (s->limited)
		s->left -= (unsigned long long)got;
	return got;
}

/* Fill p with n bytes unless the source ends first. */
static ssize_t
source_read_full(
    struct source *s, unsigned char *p, size_t n, struct error *err)
{
	size_t have = 0;

	while (have < n) {
		ssize_t got = source_read(s, p + have, n - have, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		have += (size_t)got;
	}
	return (ssize_t)have;
}

/*
 * Choose a text part's transfer encoding and charset by reading it:
 * memory and regular files whole (a file is then sent exactly as long as
 * it was), anything else READ_AHEAD bytes ahead.
 */
static int
scan_text(struct part *pt, const char **charset, struct error *err)
{
	struct source *s = &pt->src;
	struct mime_scan sc;
	struct stat st;
	bool whole = true;
	off_t off;

	mime_scan_init(&sc);
	if (s->fd < 0) {
		mime_scan_feed(&sc, s->mem, s->mem_len);
	} else if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		   (off = lseek(s->fd, 0, SEEK_CUR)) != (off_t)-1) {
		unsigned char *blk = malloc(TEXT_BLOCK);
		ssize_t got;

		if (blk == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		while ((got = fdio_read(s->fd, blk, TEXT_BLOCK, true)) > 0)
			mime_scan_feed(&sc, blk, (size_t)got);
		free(blk);
		if (got < 0)
			return read_error(s->label, err);
		if (lseek(s->fd, off, SEEK_SET) == (off_t)-1)
			return error_set(err, EX_IOERR, "cannot rewind %s: %s",
			    s->label, strerror(errno));
		s->limited = true;
		s->left = sc.bytes;
	} else {
		ssize_t got;

		if ((s->ahead = malloc(READ_AHEAD)) == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		got = source_read_full(s, s->ahead, READ_AHEAD, err);
		if (got < 0)
			return -1;
		s->mem = s->ahead;
		s->mem_len = (size_t)got;
		mime_scan_feed(&sc, s->ahead, (size_t)got);
		if ((size_t)got < READ_AHEAD) {
			/* All of it: nothing more to read. */
			if (s->own_fd)
				close(s->fd);
			s->fd = -1;
		} else
			whole = false;
	}
	pt->empty = whole && sc.bytes == 0;
	pt->cte = whole && mime_scan_7bit(&sc) ? CTE_7BIT : CTE_QP;
	/* RFC 1428: bytes known not to be UTF-8 are labelled unknown. */
	*charset = !whole || mime_scan_utf8(&sc) ? "utf-8" : "unknown-8bit";
	return 0;
}

static int
text_head(struct part *pt, const char *subtype, const char *charset,
    struct error *err)
{
	buf_init(&pt->head, HEAD_MAX);
	return buf_printf(&pt->head, err,
	    "Content-Type: text/%s; charset=%s\n"
	    "Content-Transfer-Encoding: %s\n",
	    subtype, charset,
	    pt->cte == CTE_7BIT ? "7bit" : "quoted-printable");
}

/* ---- attachments -----------------------------------------------------------
 */

static bool
type_is(const char *type, const char *prefix)
{
	return strncasecmp(type, prefix, strlen(prefix)) == 0;
}

/* Formats libmagic reports as generic text (text/plain) but the extension
 * names precisely. */
static bool
textual(const char *type)
{
	return type_is(type, "text/") || type_is(type, "application/json") ||
	       type_is(type, "application/xml") ||
	       type_is(type, "application/yaml") ||
	       type_is(type, "application/sql");
}

/*
 * The content type of an attachment: libmagic on its first bytes, made
 * precise by the extension where libmagic only says "text" or "zip"; the
 * extension table alone when libmagic cannot tell or is not built in.
 * Never a message or multipart type: attachments are base64 (RFC 2046
 * 5.2.1).  dst gets "type/subtype" and maybe "; charset=X".
 */
static void
detect_type(void **cookie, int fd, const char *name, char *dst, size_t size)
{
	const char *ext = mime_type_by_name(name);
	char type[128], charset[64];

	(void)magic_sniff(
	    cookie, fd, type, sizeof(type), charset, sizeof(charset));
	if (type[0] == '\0' || strchr(type, '/') == NULL ||
	    strcasecmp(type, "application/octet-stream") == 0 ||
	    type_is(type, "message/") || type_is(type, "multipart/") ||
	    type_is(type, "inode/") ||
	    strcasecmp(type, "application/x-empty") == 0) {
		snprintf(dst, size, "%s",
		    ext != NULL ? ext : "application/octet-stream");
		return;
	}
	if (ext != NULL &&
	    ((strcasecmp(type, "text/plain") == 0 && textual(ext)) ||
		strcasecmp(type, "application/zip") == 0))
		snprintf(type, sizeof(type), "%s", ext);
	if (type_is(type, "text/") && charset[0] != '\0' &&
	    strcasecmp(charset, "binary") != 0)
		snprintf(dst, size, "%s; charset=%s", type, charset);
	else
		snprintf(dst, size, "%s", type);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

static int
open_attachment(struct part *pt, const struct compose_attachment *a,
    void **cookie, struct error *err)
{
	const char *name = a->name != NULL ? a->name : base_name(a->path);
	char type[256];

	pt->kind = PART_ATTACHMENT;
	pt->cte = CTE_BASE64;
	buf_init(&pt->head, HEAD_MAX);
	if (source_open(&pt->src, "attachment", a->path, err) == -1)
		return -1;
	if (a->type != NULL)
		snprintf(type, sizeof(type), "%s", a->type);
	else
		detect_type(cookie, pt->src.fd, name, type, sizeof(type));
	/* RFC 2183 2.3 filename, and the older Content-Type name that some
	 * readers still look at; RFC 2231 for either when not ASCII. */
	if (buf_printf(&pt->head, err, "Content-Type: %s", type) == -1 ||
	    mime_param(&pt->head, "name", name, err) == -1 ||
	    buf_appends(&pt->head, "\nContent-Disposition: attachment", err) ==
		-1 ||
	    mime_param(&pt->head, "filename", name, err) == -1 ||
	    buf_appends(
		&pt->head, "\nContent-Transfer-Encoding: base64\n", err) == -1)
		return -1;
	return 0;
}

/* ---- compose_open
 * ------------------------------------------------------------ */

static int
open_parts(struct compose *c, const struct compose_options *co, int in_fd,
    struct error *err)
{
	const char *charset;
	bool from_stdin = false;
	void *cookie = NULL;
	size_t i;
	int rc = -1;

	c->text.src.fd = -1;
	c->html.src.fd = -1;
	c->text.kind = PART_TEXT;
	c->html.kind = PART_HTML;
	if (co->body != NULL) {
		c->text.src.mem = (const unsigned char *)co->body;
		c->text.src.mem_len = strlen(co->body);
		c->has_text = true;
	} else if (co->body_file != NULL) {
		if (source_open(
			&c->text.src, "body file", co->body_file, err) == -1)
			return -1;
		c->has_text = true;
	} else if (!isatty(in_fd)) {
		if ((c->text.src.label = strdup("standard input")) == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		c->text.src.fd = in_fd;
		c->has_text = from_stdin = true;
	}
	if (co->html_file != NULL) {
		if (source_open(
			&c->html.src, "HTML file", co->html_file, err) == -1)
			return -1;
		c->has_html = true;
	}
	if (co->n_attach > 0) {
		c->att = calloc(co->n_attach, sizeof(*c->att));
		if (c->att == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		for (i = 0; i < co->n_attach; i++)
			c->att[i].src.fd = -1;
	}
	/* Every file is open before the body is read: a missing one fails
	 * before stdin is consumed. */
	for (i = 0; i < co->n_attach; i++) {
		c->n_att = i + 1;
		if (open_attachment(&c->att[i], &co->attach[i], &cookie, err) ==
		    -1)
			goto out;
	}
	if (c->has_text) {
		if (scan_text(&c->text, &charset, err) == -1 ||
		    text_head(&c->text, "plain", charset, err) == -1)
			goto out;
		/* An empty stdin adds nothing beside HTML or attachments. */
		if (from_stdin && c->text.empty &&
		    (c->has_html || c->n_att > 0))
			c->has_text = false;
	}
	if (c->has_html && (scan_text(&c->html, &charset, err) == -1 ||
			       text_head(&c->html, "html", charset, err) == -1))
		goto out;
	if (!c->has_text && !c->has_html && c->n_att == 0) {
		/* Nothing at all: an empty text body. */
		c->has_text = true;
		c->text.cte = CTE_7BIT;
		if (text_head(&c->text, "plain", "utf-8", err) == -1)
			goto out;
	}
	rc = 0;
out:
	/* The magic database is large: gone before the streaming starts. */
	magic_sniff_end(cookie);
	return rc;
}

int
compose_open(const struct compose_options *co, int in_fd,
    const struct message_options *mo, struct compose **out, struct error *err)
{
	struct compose *c = calloc(1, sizeof(*c));
	char rnd[ID_RANDOM_HEX_MAX + 1];

	*out = NULL;
	if (c == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	c->out_fd = -1;
	/* The arguments first: a usage error reads no file. */
	if (compose_head_build(&c->head, co, &mo->header, err) == -1 ||
	    open_parts(c, co, in_fd, err) == -1) {
		compose_free(c);
		return -1;
	}
	id_random_hex(rnd, ID_RANDOM_HEX_MAX);
	snprintf(
	    c->mixed, sizeof(c->mixed), "%s%s_m", MIME_BOUNDARY_PREFIX, rnd);
	snprintf(c->alt, sizeof(c->alt), "%s%s_a", MIME_BOUNDARY_PREFIX, rnd);
	*out = c;
	return 0;
}

static void
part_free(struct part *pt)
{
	source_close(&pt->src);
	buf_free(&pt->head);
}

void
compose_free(struct compose *c)
{
	size_t i;

	if (c == NULL)
		return;
	buf_free(&c->head);
	part_free(&c->text);
	part_free(&c->html);
	for (i = 0; i < c->n_att; i++)
		part_free(&c->att[i]);
	free(c->att);
	free(c->obuf);
	free(c->ibuf);
	free(c->ebuf);
	free(c);
}

/* ---- the writer
 * ---------------------------------------------------------------- */

static int
write_all(struct compose *c, const char *p, size_t n, struct error *err)
{
	if (fdio_write_all(c->out_fd, p, n, false) == -1)
		return error_set(err, EX_IOERR, "cannot write %s: %s",
		    c->out_label, strerror(errno));
	return 0;
}

static int
flush_out(struct compose *c, struct error *err)
{
	if (c->olen > 0 && write_all(c, c->obuf, c->olen, err) == -1)
		return -1;
	c->olen = 0;
	return 0;
}

static int
put(struct compose *c, const char *p, size_t n, struct error *err)
{
	if (n >= OUT_BLOCK) {
		if (flush_out(c, err) == -1)
			return -1;
		return write_all(c, p, n, err);
	}
	if (c->olen + n > OUT_BLOCK && flush_out(c, err) == -1)
		return -1;
	memcpy(c->obuf + c->olen, p, n);
	c->olen += n;
	return 0;
}

static int
puts_(struct compose *c, const char *s, struct error *err)
{
	return put(c, s, strlen(s), err);
}

static int
write_text(struct compose *c, struct part *pt, struct error *err)
{
	struct mime_qp qp;
	ssize_t got;
	size_t n;

	mime_qp_init(&qp);
	while ((got = source_read(&pt->src, c->ibuf, TEXT_BLOCK, err)) > 0) {
		if (pt->cte == CTE_7BIT) {
			if (put(c, (char *)c->ibuf, (size_t)got, err) == -1)
				return -1;
			continue;
		}
		n = mime_qp_encode(&qp, c->ibuf, (size_t)got, c->ebuf);
		if (put(c, c->ebuf, n, err) == -1)
			return -1;
	}
	if (got < 0)
		return -1;
	if (pt->cte == CTE_QP) {
		n = mime_qp_finish(&qp, c->ebuf);
		return put(c, c->ebuf, n, err);
	}
	return 0;
}

static int
write_base64(struct compose *c, struct part *pt, struct error *err)
{
	for (;;) {
		ssize_t got =
		    source_read_full(&pt->src, c->ibuf, B64_BLOCK, err);
		size_t n;

		if (got < 0)
			return -1;
		if (got == 0)
			return 0;
		n = mime_base64_lines(c->ibuf, (size_t)got, c->ebuf);
		if (put(c, c->ebuf, n, err) == -1)
			return -1;
		if ((size_t)got < B64_BLOCK)
			return 0;
	}
}

/* A part: its fields, the empty line, the content (RFC 2045 3). */
static int
write_part(struct compose *c, struct part *pt, struct error *err)
{
	if (put(c, pt->head.data, pt->head.len, err) == -1 ||
	    put(c, "\n", 1, err) == -1)
		return -1;
	return pt->cte == CTE_BASE64 ? write_base64(c, pt, err)
				     : write_text(c, pt, err);
}

/* RFC 2046 5.1.1: the line break before a delimiter belongs to it, so
 * every delimiter after content starts with one.  Content always ends
 * with a line break of its own (or is empty), which it keeps. */
static int
delimiter(
    struct compose *c, const char *b, bool first, bool close, struct error *err)
{
	if ((!first && put(c, "\n", 1, err) == -1) ||
	    put(c, "--", 2, err) == -1 || puts_(c, b, err) == -1)
		return -1;
	return puts_(c, close ? "--\n" : "\n", err);
}

static int
multipart_head(struct compose *c, const char *subtype, const char *b, bool top,
    struct error *err)
{
	if (puts_(c, "Content-Type: multipart/", err) == -1 ||
	    puts_(c, subtype, err) == -1 ||
	    puts_(c, ";\n boundary=\"", err) == -1 || puts_(c, b, err) == -1 ||
	    puts_(c, "\"\n\n", err) == -1)
		return -1;
	/* RFC 2046 5.1.1: a preamble for readers that know no MIME. */
	return top ? puts_(c, "This is a multi-part message in MIME format.\n",
			 err)
		   : 0;
}

/* The text, the HTML, or both as multipart/alternative (RFC 2046 5.1.4:
 * the plainest first). */
static int
write_body(struct compose *c, bool top, struct error *err)
{
	if (!(c->has_text && c->has_html))
		return write_part(c, c->has_text ? &c->text : &c->html, err);
	if (multipart_head(c, "alternative", c->alt, top, err) == -1 ||
	    delimiter(c, c->alt, true, false, err) == -1 ||
	    write_part(c, &c->text, err) == -1 ||
	    delimiter(c, c->alt, false, false, err) == -1 ||
	    write_part(c, &c->html, err) == -1)
		return -1;
	return delimiter(c, c->alt, false, true, err);
}

int
compose_write(
    struct compose *c, int out_fd, const char *out_label, struct error *err)
{
	bool first = true;
	size_t i;
	int rc = -1;

	c->out_fd = out_fd;
	c->out_label = out_label;
	c->olen = 0;
	if (c->obuf == NULL) {
		c->obuf = malloc(OUT_BLOCK);
		c->ibuf =
		    malloc(B64_BLOCK > TEXT_BLOCK ? B64_BLOCK : TEXT_BLOCK);
		c->ebuf = malloc(
		    MIME_B64_LINES_SIZE(B64_BLOCK) > MIME_QP_OUT_MAX(TEXT_BLOCK)
			? MIME_B64_LINES_SIZE(B64_BLOCK)
			: MIME_QP_OUT_MAX(TEXT_BLOCK));
		if (c->obuf == NULL || c->ibuf == NULL || c->ebuf == NULL)
			return error_set(err, EX_OSERR, "out of memory");
	}
	if (put(c, c->head.data, c->head.len, err) == -1)
		return -1;
	if (c->n_att == 0) {
		if (write_body(c, true, err) == -1)
			return -1;
	} else {
		/* RFC 2046 5.1.3: the body, then each attachment. */
		if (multipart_head(c, "mixed", c->mixed, true, err) == -1)
			return -1;
		if (c->has_text || c->has_html) {
			if (delimiter(c, c->mixed, true, false, err) == -1 ||
			    write_body(c, false, err) == -1)
				return -1;
			first = false;
		}
		for (i = 0; i < c->n_att; i++) {
			if (delimiter(c, c->mixed, first, false, err) == -1 ||
			    write_part(c, &c->att[i], err) == -1)
				return -1;
			first = false;
		}
		if (delimiter(c, c->mixed, false, true, err) == -1)
			return -1;
	}
	rc = flush_out(c, err);
	return rc;
}

/* ---- compose_read, compose_print -------------------------------------------
 */

static void *
writer_main(void *arg)
{
	struct compose *c = arg;
	sigset_t set;

	/* A reader that stopped early makes write() fail with EPIPE; the
	 * signal stays pending on this thread and dies with it. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* SIGTERM and the like come here, where the inputs are read: a
	 * read that waits on stdin must see them (interrupt.h). */
	sigemptyset(&set);
	interrupt_sigset(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	error_clear(&c->werr);
	c->wrc = compose_write(c, c->out_fd, "the spool pipe", &c->werr);
	close(c->out_fd);
	c->out_fd = -1;
	return NULL;
}

int
compose_read(const struct compose_options *co, int in_fd, const char *spool_dir,
    const struct message_options *mo, struct message *m, struct error *err)
{
	struct message_options cmo;
	struct compose *c;
	pthread_t th;
	sigset_t set, old_set;
	int fds[2], rc, e;

	if (compose_open(co, in_fd, mo, &c, err) == -1)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		error_set(err, EX_OSERR, "pipe: %s", strerror(errno));
		compose_free(c);
		return -1;
	}
	c->out_fd = fds[1];
	/* While the writer runs, signals of interrupt.h go to it; one
	 * caught after it read every input reaches this thread at the
	 * join, and the message is complete. */
	sigemptyset(&set);
	interrupt_sigset(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old_set);
	if ((e = pthread_create(&th, NULL, writer_main, c)) != 0) {
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
		error_set(
		    err, EX_OSERR, "cannot start a thread: %s", strerror(e));
		close(fds[0]);
		close(fds[1]);
		compose_free(c);
		return -1;
	}
	/* The header block is ours: no -t, and a lone "." is text.  The
	 * pipe ends when the writer does: it watches the signals. */
	cmo = *mo;
	cmo.header.read_recipients = false;
	cmo.stop_at_dot = false;
	cmo.interruptible = false;
	rc = message_read(fds[0], spool_dir, &cmo, m, err);
	close(fds[0]);
	pthread_join(th, NULL);
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	if (rc == -1 && m->fd < 0) {
		/* The spool failed; the writer's EPIPE says nothing more. */
	} else if (c->wrc == -1) {
		/* Half a message must not be sent or kept. */
		*err = c->werr;
		message_free(m);
		rc = -1;
	}
	compose_free(c);
	return rc;
}

int
compose_print(const struct compose_options *co, int in_fd, int out_fd,
    const struct message_options *mo, struct error *err)
{
	struct compose *c;
	int rc;

	if (compose_open(co, in_fd, mo, &c, err) == -1)
		return -1;
	rc = compose_write(c, out_fd, "standard output", err);
	compose_free(c);
	return rc;
}
