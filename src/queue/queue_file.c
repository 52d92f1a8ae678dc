/* SPDX-License-Identifier: ISC */
/*
 * The queue file format: a version line, the header fields (account,
 * submitter, the envelope's lines from envelope.c, attempts, last-error),
 * a blank line, then the message as the relay takes it.  Written here for
 * queue.c's store and read back by the strict parser, which refuses
 * anything it did not write.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "envelope.h"
#include "error.h"
#include "fdio.h"
#include "queue.h"
#include "queue_file.h"
#include "sysmode.h"

#define QUEUE_VERSION_LINE "mailsub-queue 1"
/* The header is read in blocks of this size. */
#define READ_BLOCK (64 * 1024)

/* ---- write ------------------------------------------------------------ */

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int
add_field(struct buf *b, const char *key, const char *value, struct error *err)
{
	if (value == NULL)
		value = "";
	/* Addresses were checked long before: a line break here would be
	 * a bug, and would let a value add a field. */
	if (has_control(value))
		return error_set(err, EX_SOFTWARE,
		    "control character in queue field %s", key);
	if (strlen(key) + 2 + strlen(value) + 1 > QUEUE_LINE_MAX)
		return error_set(
		    err, EX_SOFTWARE, "queue field %s too long", key);
	return buf_printf(b, err, "%s: %s\n", key, value);
}

static int
add_last_error(struct buf *b, const char *text, struct error *err)
{
	static const char hex[] = "0123456789abcdef";
	size_t room = QUEUE_LINE_MAX - sizeof("last-error: ");

	if (buf_appends(b, "last-error: ", err) == -1)
		return -1;
	/* One line: control characters escaped, the length capped. */
	for (; *text != '\0' && room >= 4; text++) {
		unsigned char c = (unsigned char)*text;

		if (c < 0x20 || c == 0x7f) {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

			if (buf_append(b, e, 4, err) == -1)
				return -1;
			room -= 4;
		} else {
			if (buf_addch(b, (char)c, err) == -1)
				return -1;
			room--;
		}
	}
	return buf_addch(b, '\n', err);
}

/* envelope_put_fn: one line into the buf arg. */
static int
put_field(void *arg, const char *key, const char *value, struct error *err)
{
	return add_field(arg, key, value, err);
}

int
queue_file_format(struct buf *b, const struct envelope *env,
    const struct queue_meta *meta, struct error *err)
{
	if (buf_appends(b, QUEUE_VERSION_LINE "\n", err) == -1 ||
	    add_field(b, "account", meta->account, err) == -1)
		return -1;
	if (meta->submitter != NULL) {
		if (meta->submitter[0] == '\0' || strchr(meta->submitter, ' '))
			return error_set(err, EX_SOFTWARE,
			    "bad submitter name in queue envelope");
		if (has_control(meta->submitter))
			return error_set(err, EX_SOFTWARE,
			    "control character in queue field submitter");
		if (buf_printf(b, err, "submitter: %lu %s\n",
			(unsigned long)meta->submitter_uid,
			meta->submitter) == -1)
			return -1;
	}
	if (envelope_write(env, put_field, b, err) == -1)
		return -1;
	if (buf_printf(b, err,
		"attempts: %u\n"
		"first-attempt: %lld\nlast-attempt: %lld\n",
		meta->attempts,
		meta->first_attempt > 0 ? (long long)meta->first_attempt : 0LL,
		meta->last_attempt > 0 ? (long long)meta->last_attempt : 0LL) ==
	    -1)
		return -1;
	if (meta->last_error != NULL &&
	    add_last_error(b, meta->last_error, err) == -1)
		return -1;
	return buf_addch(b, '\n', err);
}

/* ---- read ------------------------------------------------------------- */

void
queue_file_init(struct queue_file *qf)
{
	memset(qf, 0, sizeof(*qf));
}

void
queue_file_free(struct queue_file *qf)
{
	free(qf->account);
	free(qf->submitter);
	envelope_free(&qf->env);
	free(qf->last_error);
	queue_file_init(qf);
}

void
queue_file_meta(const struct queue_file *qf, struct queue_meta *meta)
{
	meta->account = qf->account;
	meta->submitter = qf->submitter;
	meta->submitter_uid = qf->submitter_uid;
	meta->attempts = qf->attempts;
	meta->first_attempt = qf->first_attempt;
	meta->last_attempt = qf->last_attempt;
	meta->last_error = qf->last_error;
}

bool
queue_file_mine(const struct queue_file *qf)
{
	if (!sysmode_restricted())
		return true;
	return qf->submitter != NULL && qf->submitter_uid == sysmode_uid();
}

/* Read until the blank line that ends the header; *hlen is the header
 * length including it. */
static int
read_header(int fd, struct buf *b, size_t *hlen, struct error *err)
{
	char block[READ_BLOCK];
	size_t scanned = 0;

	for (;;) {
		ssize_t n = pread(fd, block, sizeof(block), (off_t)b->len);
		char *nn;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, EX_IOERR,
			    "cannot read queue file: %s", strerror(errno));
		}
		if (n == 0)
			return error_set(err, EX_DATAERR,
			    "queue file header is not terminated");
		if ((size_t)n > QUEUE_HEADER_MAX - b->len)
			n = (ssize_t)(QUEUE_HEADER_MAX - b->len);
		if (n == 0)
			return error_set(err, EX_DATAERR,
			    "queue file header larger than %d bytes",
			    QUEUE_HEADER_MAX);
		if (buf_append(b, block, (size_t)n, err) == -1)
			return -1;
		nn = memmem(b->data + scanned, b->len - scanned, "\n\n", 2);
		if (nn != NULL) {
			*hlen = (size_t)(nn - b->data) + 2;
			return 0;
		}
		scanned = b->len - 1;
	}
}

static int
dup_value(char **dst, const char *v, const char *key, unsigned line,
    struct error *err)
{
	if (*dst != NULL)
		return error_set(err, EX_DATAERR,
		    "queue file line %u: duplicate %s", line, key);
	*dst = strdup(v);
	if (*dst == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	return 0;
}

static int
parse_number(const char *v, unsigned long long max, unsigned long long *out,
    const char *key, unsigned line, struct error *err)
{
	unsigned long long n = 0;
	const char *p;

	if (*v == '\0')
		goto bad;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (n > (max - (unsigned)(*p - '0')) / 10)
			goto bad;
		n = n * 10 + (unsigned)(*p - '0');
	}
	*out = n;
	return 0;
bad:
	return error_set(
	    err, EX_DATAERR, "queue file line %u: bad %s", line, key);
}

enum seen_bit {
	SEEN_ATTEMPTS = 1,
	SEEN_FIRST = 2,
	SEEN_LAST = 4,
};

static int
parse_line(struct queue_file *qf, char *line, unsigned lineno,
    struct envelope_reader *er, unsigned *seen, struct error *err)
{
	unsigned long long n;
	char *colon, *v, *p;
	unsigned bit = 0;
	int rc;

	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(err, EX_DATAERR,
			    "queue file line %u: control character", lineno);
	colon = strchr(line, ':');
	if (colon == NULL)
		return error_set(
		    err, EX_DATAERR, "queue file line %u: no key", lineno);
	*colon = '\0';
	v = colon + 1;
	if (*v == ' ')
		v++;
	else if (*v != '\0')
		return error_set(err, EX_DATAERR,
		    "queue file line %u: no space after ':'", lineno);

	if ((rc = envelope_read_field(er, line, v, err)) != 1) {
		if (rc == -1 && err->exit_code == EX_DATAERR)
			error_prefix(err, "queue file line %u", lineno);
		return rc;
	}
	if (strcmp(line, "account") == 0)
		return dup_value(&qf->account, v, line, lineno, err);
	if (strcmp(line, "submitter") == 0) {
		char *sp = strchr(v, ' ');

		if (sp == NULL || sp[1] == '\0' || strchr(sp + 1, ' ') != NULL)
			return error_set(err, EX_DATAERR,
			    "queue file line %u: bad submitter", lineno);
		*sp = '\0';
		if (parse_number(v, UINT_MAX - 1, &n, line, lineno, err) == -1)
			return -1;
		qf->submitter_uid = (uid_t)n;
		return dup_value(&qf->submitter, sp + 1, line, lineno, err);
	}
	if (strcmp(line, "last-error") == 0)
		return dup_value(&qf->last_error, v, line, lineno, err);
	if (strcmp(line, "attempts") == 0) {
		bit = SEEN_ATTEMPTS;
		if (parse_number(v, UINT_MAX, &n, line, lineno, err) == -1)
			return -1;
		qf->attempts = (unsigned)n;
	} else if (strcmp(line, "first-attempt") == 0 ||
		   strcmp(line, "last-attempt") == 0) {
		bool first = line[0] == 'f';

		bit = first ? SEEN_FIRST : SEEN_LAST;
		/* time_t is 64 bits on every platform we build for. */
		if (parse_number(v, INT64_MAX, &n, line, lineno, err) == -1)
			return -1;
		if (first)
			qf->first_attempt = (time_t)n;
		else
			qf->last_attempt = (time_t)n;
	} else {
		return error_set(
		    err, EX_DATAERR, "queue file line %u: unknown key", lineno);
	}
	if (*seen & bit)
		return error_set(err, EX_DATAERR,
		    "queue file line %u: duplicate %s", lineno, line);
	*seen |= bit;
	return 0;
}

int
queue_read_envelope(int fd, struct queue_file *qf, struct error *err)
{
	struct envelope_reader er;
	struct buf b;
	struct stat st;
	size_t hlen, pos;
	unsigned lineno = 0, seen = 0;

	queue_file_init(qf);
	envelope_reader_init(&er, &qf->env);
	buf_init(&b, QUEUE_HEADER_MAX);
	if (read_header(fd, &b, &hlen, err) == -1)
		goto fail;
	/* hlen - 1: the last header line's '\n' stays, the blank goes. */
	for (pos = 0; pos < hlen - 1;) {
		char *line = b.data + pos;
		char *nl = memchr(line, '\n', hlen - 1 - pos);
		size_t len = (size_t)(nl - line);

		lineno++;
		*nl = '\0';
		if (len >= QUEUE_LINE_MAX) {
			error_set(err, EX_DATAERR,
			    "queue file line %u: too long", lineno);
			goto fail;
		}
		if (lineno == 1) {
			if (strcmp(line, QUEUE_VERSION_LINE) != 0) {
				error_set(err, EX_DATAERR,
				    "not a mailsub queue file (version 1)");
				goto fail;
			}
		} else if (parse_line(qf, line, lineno, &er, &seen, err) == -1)
			goto fail;
		pos += len + 1;
	}
	if (qf->account == NULL || !envelope_read_done(&er) ||
	    seen != (SEEN_ATTEMPTS | SEEN_FIRST | SEEN_LAST)) {
		error_set(err, EX_DATAERR, "queue file header incomplete");
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		error_set(err, EX_IOERR, "cannot stat queue file: %s",
		    strerror(errno));
		goto fail;
	}
	if ((unsigned long long)st.st_size < hlen) {
		error_set(err, EX_DATAERR, "queue file is short");
		goto fail;
	}
	qf->msg_offset = (off_t)hlen;
	qf->msg_size = (unsigned long long)st.st_size - hlen;
	buf_free(&b);
	return 0;
fail:
	buf_free(&b);
	queue_file_free(qf);
	return -1;
}
