/* SPDX-License-Identifier: ISC */
/*
 * Scenario player for the unit tests: parses a .scn file and acts as the
 * server over struct transport.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "script_transport.h"
#include "text.h"

#define SCRIPT_FILE_MAX (4 * 1024 * 1024)
#define CLIENT_LINE_MAX 65536
#define SERVER_OUT_MAX	(16 * 1024 * 1024)
#define DATA_MAX	(64 * 1024 * 1024)

bool
script_glob(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++retry;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *
trimmed(const char *p)
{
	size_t n;

	p = skip_space(p);
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

/* Python-style escapes for !raw: \r \n \t \\ \0 \' \" \xHH. */
static int
unescape(const char *in, char **out, size_t *out_len)
{
	size_t n = strlen(in), o = 0, i;
	char *p = malloc(n + 1);

	if (p == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (in[i] != '\\') {
			p[o++] = in[i];
			continue;
		}
		if (++i >= n)
			goto bad;
		switch (in[i]) {
		case 'r':
			p[o++] = '\r';
			break;
		case 'n':
			p[o++] = '\n';
			break;
		case 't':
			p[o++] = '\t';
			break;
		case '0':
			p[o++] = '\0';
			break;
		case '\\':
			p[o++] = '\\';
			break;
		case '\'':
			p[o++] = '\'';
			break;
		case '"':
			p[o++] = '"';
			break;
		case 'x':
			if (i + 2 >= n || text_hexval(in[i + 1]) < 0 ||
			    text_hexval(in[i + 2]) < 0)
				goto bad;
			p[o++] = (char)(text_hexval(in[i + 1]) * 16 +
					text_hexval(in[i + 2]));
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	p[o] = '\0';
	*out = p;
	*out_len = o;
	return 0;
bad:
	free(p);
	return -1;
}

static int
add_step(struct script *sc, enum script_step_kind kind, const char *text,
    unsigned long n, int lineno)
{
	struct script_step *st;

	st = realloc(sc->steps, (sc->n_steps + 1) * sizeof(*st));
	if (st == NULL)
		return -1;
	sc->steps = st;
	st = &sc->steps[sc->n_steps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->n = n;
	st->lineno = lineno;
	if (kind == SCRIPT_RAW) {
		if (unescape(text, &st->text, &st->len) == -1) {
			sc->n_steps--;
			return -1;
		}
	} else if (text != NULL) {
		st->text = xstrdup(text);
		st->len = strlen(text);
	}
	return 0;
}

static bool
word_is(const char *line, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) != 0)
		return false;
	if (line[n] != '\0' && line[n] != ' ' && line[n] != '\t')
		return false;
	*rest = skip_space(line + n);
	return true;
}

static bool
bare_word(const char *line, const char *word)
{
	const char *rest;

	return word_is(line, word, &rest) && *rest == '\0';
}

static bool
parse_number(const char *s, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *skip_space(end) == '\0';
}

static int
parse_line(
    struct script *sc, const char *line, int lineno, char *why, size_t why_size)
{
	const char *rest;
	unsigned long v;

	if (strncmp(line, "S:", 2) == 0) {
		rest = line + 2;
		if (*rest == ' ')
			rest++;
		return add_step(sc, SCRIPT_S, rest, 0, lineno);
	}
	if (strncmp(line, "S+", 2) == 0) {
		rest = line + (strncmp(line, "S+:", 3) == 0 ? 3 : 2);
		if (*rest == ' ')
			rest++;
		return add_step(sc, SCRIPT_S_MORE, rest, 0, lineno);
	}
	if (strncmp(line, "C:", 2) == 0) {
		rest = line + 2;
		if (*rest == ' ')
			rest++;
		return add_step(sc, SCRIPT_C, rest, 0, lineno);
	}
	/* The rest are words, with blanks around them allowed. */
	line = skip_space(line);
	if (strncmp(line, "D:", 2) == 0 && *skip_space(line + 2) == '\0')
		return add_step(sc, SCRIPT_D, NULL, 0, lineno);
	if (word_is(line, "cert", &rest))
		return 0; /* socket level: the server's certificate */
	if (bare_word(line, "!drop"))
		return add_step(sc, SCRIPT_DROP, NULL, 0, lineno);
	if (bare_word(line, "!stall"))
		return add_step(sc, SCRIPT_STALL, NULL, 0, lineno);
	if (bare_word(line, "!starttls"))
		return add_step(sc, SCRIPT_STARTTLS, NULL, 0, lineno);
	if (bare_word(line, "!close-notify"))
		return add_step(sc, SCRIPT_CLOSE_NOTIFY, NULL, 0, lineno);
	if (bare_word(line, "end"))
		return add_step(sc, SCRIPT_END, NULL, 0, lineno);
	if (word_is(line, "!delay", &rest)) {
		if (!parse_number(rest, &v))
			goto bad;
		return add_step(sc, SCRIPT_DELAY, NULL, v, lineno);
	}
	if (word_is(line, "!long-line", &rest)) {
		if (!parse_number(rest, &v) || v == 0 || v > SERVER_OUT_MAX)
			goto bad;
		return add_step(sc, SCRIPT_LONG_LINE, NULL, v, lineno);
	}
	if (strncmp(line, "!raw ", 5) == 0)
		return add_step(sc, SCRIPT_RAW, line + 5, 0, lineno);
	if (word_is(line, "exit", &rest)) {
		if (!parse_number(rest, &v) || v > 255)
			goto bad;
		sc->exit_code = (int)v;
		return 0;
	}
	if (word_is(line, "stderr", &rest)) {
		free(sc->stderr_re);
		sc->stderr_re = trimmed(rest);
		return 0;
	}
	if (word_is(line, "where", &rest)) {
		free(sc->where);
		sc->where = trimmed(rest);
		if (strcmp(sc->where, "new") != 0 &&
		    strcmp(sc->where, "failed") != 0 &&
		    strcmp(sc->where, "none") != 0)
			goto bad;
		return 0;
	}
	if (word_is(line, "from", &rest)) {
		free(sc->from);
		sc->from = trimmed(rest);
		return 0;
	}
	if (word_is(line, "rcpt", &rest)) {
		if (sc->n_rcpts == SCRIPT_RCPTS_MAX)
			goto bad;
		sc->rcpts[sc->n_rcpts++] = trimmed(rest);
		return 0;
	}
	if (word_is(line, "message", &rest)) {
		free(sc->message);
		sc->message = trimmed(rest);
		return 0;
	}
	if (word_is(line, "args", &rest)) {
		free(sc->args);
		sc->args = trimmed(rest);
		return 0;
	}
	if (word_is(line, "level", &rest)) {
		free(sc->level);
		sc->level = trimmed(rest);
		if (strcmp(sc->level, "unit") != 0 &&
		    strcmp(sc->level, "socket") != 0)
			goto bad;
		return 0;
	}
	if (word_is(line, "config", &rest)) {
		const char *eq = strchr(rest, '=');
		char *key;
		size_t kl;

		if (eq == NULL || sc->n_config == SCRIPT_CONFIG_MAX)
			goto bad;
		kl = (size_t)(eq - rest);
		while (kl > 0 && (rest[kl - 1] == ' ' || rest[kl - 1] == '\t'))
			kl--;
		if (kl == 0)
			goto bad;
		key = xstrndup(rest, kl);
		sc->config_key[sc->n_config] = key;
		sc->config_value[sc->n_config++] = trimmed(eq + 1);
		return 0;
	}
bad:
	snprintf(
	    why, why_size, "%s:%d: bad line: %.100s", sc->name, lineno, line);
	return -1;
}

struct script *
script_parse(const char *name, const char *text, char *why, size_t why_size)
{
	struct script *sc;
	const char *p = text;
	int lineno = 0;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	sc->name = xstrdup(name);
	sc->exit_code = -1;
	buf_init(&sc->out, SERVER_OUT_MAX);
	buf_init(&sc->line, CLIENT_LINE_MAX);
	buf_init(&sc->data, DATA_MAX);
	sc->info.version = "TLS1.3";
	sc->info.cipher = "SCRIPT";
	sc->info.peer_summary = "script";
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line;
		const char *q;

		lineno++;
		line = xstrndup(p, n);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		p += n + (nl != NULL);
		q = skip_space(line);
		if (*q == '\0' || *q == '#') {
			free(line);
			continue;
		}
		if (parse_line(sc, line, lineno, why, why_size) == -1) {
			if (why[0] == '\0')
				snprintf(why, why_size, "%s:%d: bad line",
				    sc->name, lineno);
			free(line);
			script_free(sc);
			return NULL;
		}
		free(line);
	}
	return sc;
}

struct script *
script_load(const char *path, char *why, size_t why_size)
{
	struct script *sc;
	FILE *f;
	char *text;
	size_t n;
	const char *base;

	why[0] = '\0';
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(SCRIPT_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	n = fread(text, 1, SCRIPT_FILE_MAX, f);
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		free(text);
		snprintf(why, why_size, "%s: NUL byte in the file", path);
		return NULL;
	}
	base = strrchr(path, '/');
	sc = script_parse(base != NULL ? base + 1 : path, text, why, why_size);
	free(text);
	return sc;
}

void
script_free(struct script *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	free(sc->name);
	free(sc->stderr_re);
	free(sc->where);
	free(sc->from);
	for (i = 0; i < sc->n_rcpts; i++)
		free(sc->rcpts[i]);
	free(sc->message);
	free(sc->args);
	free(sc->level);
	for (i = 0; i < sc->n_config; i++) {
		free(sc->config_key[i]);
		free(sc->config_value[i]);
	}
	for (i = 0; i < sc->n_steps; i++)
		free(sc->steps[i].text);
	free(sc->steps);
	buf_free(&sc->out);
	buf_free(&sc->line);
	buf_free(&sc->data);
	free(sc);
}

const char *
script_config(const struct script *sc, const char *key)
{
	size_t i;

	for (i = 0; i < sc->n_config; i++)
		if (strcasecmp(sc->config_key[i], key) == 0)
			return sc->config_value[i];
	return NULL;
}

static const char *
kind_name(enum script_step_kind k)
{
	switch (k) {
	case SCRIPT_S:
		return "S:";
	case SCRIPT_S_MORE:
		return "S+";
	case SCRIPT_C:
		return "C:";
	case SCRIPT_D:
		return "D:";
	case SCRIPT_DROP:
		return "!drop";
	case SCRIPT_DELAY:
		return "!delay";
	case SCRIPT_STALL:
		return "!stall";
	case SCRIPT_RAW:
		return "!raw";
	case SCRIPT_STARTTLS:
		return "!starttls";
	case SCRIPT_LONG_LINE:
		return "!long-line";
	case SCRIPT_CLOSE_NOTIFY:
		return "!close-notify";
	case SCRIPT_END:
		return "end";
	}
	return "?";
}

static void
describe_step(const struct script *sc, char *out, size_t size)
{
	const struct script_step *st;

	if (sc->pos >= sc->n_steps) {
		snprintf(out, size, "the end of the script");
		return;
	}
	st = &sc->steps[sc->pos];
	snprintf(out, size, "line %d: %s %.200s", st->lineno,
	    kind_name(st->kind),
	    st->text != NULL && st->kind != SCRIPT_RAW ? st->text : "");
}

static void
fail(struct script *sc, const char *fmt, const char *client, size_t len)
{
	char step[300], shown[300];

	if (sc->failure[0] != '\0')
		return;
	describe_step(sc, step, sizeof(step));
	error_escape(shown, sizeof(shown), client != NULL ? client : "",
	    client != NULL ? (len > 200 ? 200 : len) : 0);
	snprintf(sc->failure, sizeof(sc->failure), "%s: %s (script at %s)",
	    sc->name, fmt, step);
	if (client != NULL) {
		size_t n = strlen(sc->failure);

		snprintf(sc->failure + n, sizeof(sc->failure) - n,
		    "; client sent \"%s\"", shown);
	}
}

static void
skip_delays(struct script *sc)
{
	while (sc->pos < sc->n_steps && sc->steps[sc->pos].kind == SCRIPT_DELAY)
		sc->pos++;
}

static int
queue_out(struct script *sc, const void *p, size_t n)
{
	return buf_append(&sc->out, p, n, NULL);
}

/* Play server steps into sc->out up to the next write boundary.  Returns
 * 1 when output is ready, 0 at a drop or the end, -1 when the client
 * should time out. */
static int
play_server(struct script *sc, struct error *err)
{
	for (;;) {
		const struct script_step *st;

		skip_delays(sc);
		if (sc->pos >= sc->n_steps)
			return sc->out.len > sc->out_pos ? 1 : 0;
		st = &sc->steps[sc->pos];
		switch (st->kind) {
		case SCRIPT_S_MORE:
			queue_out(sc, st->text, st->len);
			queue_out(sc, "\r\n", 2);
			sc->pos++;
			continue;
		case SCRIPT_S:
			queue_out(sc, st->text, st->len);
			queue_out(sc, "\r\n", 2);
			sc->pos++;
			return 1;
		case SCRIPT_RAW:
			queue_out(sc, st->text, st->len);
			sc->pos++;
			return 1;
		case SCRIPT_LONG_LINE: {
			size_t i;

			queue_out(sc, "250 ", st->n < 4 ? st->n : 4);
			for (i = 4; i < st->n; i++)
				queue_out(sc, "x", 1);
			sc->pos++;
			return 1;
		}
		case SCRIPT_DROP:
		case SCRIPT_CLOSE_NOTIFY:
			if (sc->out.len > sc->out_pos)
				return 1;
			sc->pos++;
			sc->dropped = true;
			return 0;
		case SCRIPT_STALL:
			if (sc->out.len > sc->out_pos)
				return 1;
			sc->pos++;
			sc->stalled = true;
			error_set(err, EX_TEMPFAIL,
			    "timed out after 2 s waiting for the server");
			return -1;
		case SCRIPT_C:
		case SCRIPT_D:
		case SCRIPT_STARTTLS:
		case SCRIPT_END:
		case SCRIPT_DELAY:
			if (sc->out.len > sc->out_pos)
				return 1;
			fail(sc,
			    st->kind == SCRIPT_END
				? "client waits for a reply where it should "
				  "close"
				: "client waits for a reply where the script "
				  "expects it to act",
			    NULL, 0);
			error_set(err, EX_TEMPFAIL,
			    "timed out (script expects the client to act)");
			return -1;
		}
	}
}

static ssize_t
sc_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct script *sc = ctx;
	size_t avail;

	if (sc->out.len == sc->out_pos) {
		int rc;

		buf_reset(&sc->out);
		sc->out_pos = 0;
		if (sc->dropped)
			return 0;
		if (sc->stalled)
			return error_set(err, EX_TEMPFAIL,
			    "timed out after 2 s waiting for the server");
		rc = play_server(sc, err);
		if (rc == -1)
			return -1;
		if (rc == 0 && sc->out.len == sc->out_pos)
			return 0;
	}
	avail = sc->out.len - sc->out_pos;
	if (n > avail)
		n = avail;
	memcpy(p, sc->out.data + sc->out_pos, n);
	sc->out_pos += n;
	return (ssize_t)n;
}

static void
client_line(struct script *sc, const char *line, size_t len)
{
	const struct script_step *st;

	sc->client_lines++;
	if (sc->in_data) {
		if (len == 1 && line[0] == '.') {
			sc->in_data = false;
			sc->pos++;
			return;
		}
		if (buf_append(&sc->data, line, len, NULL) == -1 ||
		    buf_append(&sc->data, "\r\n", 2, NULL) == -1)
			fail(sc, "the message is larger than the script keeps",
			    NULL, 0);
		return;
	}
	skip_delays(sc);
	if (sc->pos >= sc->n_steps) {
		fail(sc, "client sent more than the script has", line, len);
		return;
	}
	st = &sc->steps[sc->pos];
	if (st->kind == SCRIPT_DROP || st->kind == SCRIPT_CLOSE_NOTIFY) {
		/* The server is gone (or ended TLS, which is the same to the
		 * client): the write fails as with EPIPE (over a socket it
		 * may also succeed; the next read then sees EOF). */
		sc->pos++;
		sc->dropped = true;
		return;
	}
	if (st->kind == SCRIPT_D) {
		sc->in_data = true;
		client_line(sc, line, len);
		sc->client_lines--;
		return;
	}
	if (st->kind != SCRIPT_C) {
		fail(sc,
		    st->kind == SCRIPT_END ? "client sent a command "
					     "where it should close"
					   : "client sent a command before "
					     "the server's turn",
		    line, len);
		return;
	}
	if (memchr(line, '\0', len) != NULL || !script_glob(st->text, line)) {
		fail(sc, "client line does not match", line, len);
		return;
	}
	sc->pos++;
	/* RFC 3030 2: "BDAT n" is followed by n bytes of data. */
	if (len > 5 && strncasecmp(line, "BDAT ", 5) == 0)
		sc->bdat_left = strtoull(line + 5, NULL, 10);
}

static int
sc_write(void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	struct script *sc = ctx;
	const char *q = p;

	if (sc->dropped)
		return error_set(
		    err, EX_TEMPFAIL, "connection closed by server");
	while (n > 0) {
		const char *nl;
		size_t take;

		if (sc->bdat_left > 0) {
			take = n < sc->bdat_left ? n : (size_t)sc->bdat_left;
			if (buf_append(&sc->data, q, take, NULL) == -1)
				fail(sc,
				    "the BDAT chunks are larger than the "
				    "script keeps",
				    NULL, 0);
			sc->bdat_left -= take;
			q += take;
			n -= take;
			continue;
		}
		nl = memchr(q, '\n', n);
		take = nl != NULL ? (size_t)(nl - q) + 1 : n;
		if (buf_append(&sc->line, q, take, NULL) == -1) {
			fail(sc, "client line too long", NULL, 0);
			return error_set(err, EX_SOFTWARE, "script mismatch");
		}
		q += take;
		n -= take;
		if (nl != NULL) {
			size_t len = sc->line.len - 1;

			if (len == 0 || sc->line.data[len - 1] != '\r') {
				fail(sc, "client line ends in a bare LF",
				    sc->line.data, len);
			} else {
				sc->line.data[len - 1] = '\0';
				client_line(sc, sc->line.data, len - 1);
			}
			buf_reset(&sc->line);
		}
		if (sc->failure[0] != '\0')
			return error_set(err, EX_SOFTWARE,
			    "script mismatch: "
			    "%.400s",
			    sc->failure);
		if (sc->dropped)
			return error_set(
			    err, EX_TEMPFAIL, "connection closed by server");
	}
	return 0;
}

static int
sc_starttls(struct transport *t, const struct peer *peer, struct error *err)
{
	struct script *sc = t->ctx;

	skip_delays(sc);
	if (sc->pos >= sc->n_steps ||
	    sc->steps[sc->pos].kind != SCRIPT_STARTTLS) {
		fail(
		    sc, "client starts TLS where the script does not", NULL, 0);
		return error_set(
		    err, EX_UNAVAILABLE, "TLS handshake failed (script)");
	}
	sc->pos++;
	sc->tls = true;
	return 0;
}

static const struct tls_info *
sc_tls_info(void *ctx)
{
	struct script *sc = ctx;

	return sc->tls ? &sc->info : NULL;
}

static void
sc_close(void *ctx)
{
	struct script *sc = ctx;

	sc->closed = true;
	if (sc->line.len > 0)
		fail(sc, "client closed after a partial line", sc->line.data,
		    sc->line.len);
}

void
script_transport(struct script *sc, struct transport *t)
{
	memset(t, 0, sizeof(*t));
	t->read = sc_read;
	t->write = sc_write;
	t->starttls = sc_starttls;
	t->tls_info = sc_tls_info;
	t->close = sc_close;
	t->ctx = sc;
}

const char *
script_failure(const struct script *sc)
{
	return sc->failure[0] != '\0' ? sc->failure : NULL;
}

bool
script_finished(const struct script *sc, char *why, size_t why_size)
{
	size_t i;

	for (i = sc->pos; i < sc->n_steps; i++) {
		const struct script_step *st = &sc->steps[i];

		if (st->kind == SCRIPT_DELAY || st->kind == SCRIPT_END)
			continue;
		snprintf(why, why_size,
		    "%s: script not finished: line %d: "
		    "%s %.200s",
		    sc->name, st->lineno, kind_name(st->kind),
		    st->text != NULL && st->kind != SCRIPT_RAW ? st->text : "");
		return false;
	}
	if (sc->in_data) {
		snprintf(why, why_size, "%s: data never ended", sc->name);
		return false;
	}
	why[0] = '\0';
	return true;
}
