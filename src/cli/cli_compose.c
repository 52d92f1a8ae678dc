/* SPDX-License-Identifier: ISC */
/*
 * Compose mode's options on the command line (-s, --body, --attach,
 * --header, --to ...): each checked as it is read into struct
 * compose_options (compose.h), and once all are read, whether compose mode
 * is on and what it cannot be combined with.  cli.c reads argv and hands
 * these over.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_parser.h"
#include "compose.h"
#include "error.h"

/* --to, --cc, --bcc: the envelope gets every one; To and Cc headers only
 * theirs (a plain argument is a To in compose mode). */
int
cli_compose_rcpt(struct cli_parser *p, const char ***arr, size_t *cap,
    size_t *n, const char *s, struct error *err)
{
	if (cli_add_recipient(p, s, err) == -1)
		return -1;
	if (arr == NULL) {
		(*n)++;
		return 0;
	}
	if (cli_grow(arr, cap, *n, err) == -1)
		return -1;
	(*arr)[(*n)++] = s;
	return 0;
}

/* Fields compose writes itself, and the option that sets each. */
static const struct {
	const char *name;
	const char *use;
} compose_fields[] = {
    {"From", "--from"},
    {"To", "--to or a recipient argument"},
    {"Cc", "--cc"},
    {"Bcc", "--bcc (Bcc is never written into the message)"},
    {"Reply-To", "--reply-to"},
    {"Subject", "-s"},
    {"MIME-Version", "--body, --html and --attach (compose writes the "
		     "MIME structure)"},
};

/* RFC 5322 3.6.8: field-name = 1*ftext, printable ASCII except ':'. */
static bool
is_field_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CLI_QUOTE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return false;
	return true;
}

/*
 * --header 'Name: value': a colon after a field name, no control
 * character (a CR or LF would start a header line of its own), and not
 * a field compose writes from its own options.  Date and Message-ID
 * replace the generated ones, once each.
 */
static int
parse_header(struct cli_parser *p, const char *v, struct error *err)
{
	struct compose_options *c = &p->opts->compose;
	char q[CLI_QUOTE_MAX * 4 + 8];
	const char *colon = strchr(v, ':');
	size_t n, k;
	bool *seen = NULL;

	if (cli_check_control("--header", v, err) == -1)
		return -1;
	if (colon == NULL)
		return error_set(err, EX_USAGE,
		    "--header \"%s\": not 'Name: value' (no colon)",
		    cli_quote(q, sizeof(q), v));
	n = (size_t)(colon - v);
	if (!is_field_name(v, n))
		return error_set(err, EX_USAGE,
		    "--header \"%s\": bad field name (RFC 5322 3.6.8: 1 to "
		    "%d printable characters, no space)",
		    cli_quote(q, sizeof(q), v), CLI_QUOTE_MAX);
	for (k = 0; k < sizeof(compose_fields) / sizeof(compose_fields[0]); k++)
		if (strlen(compose_fields[k].name) == n &&
		    strncasecmp(compose_fields[k].name, v, n) == 0)
			return error_set(err, EX_USAGE,
			    "--header %s: compose writes this field; use %s",
			    compose_fields[k].name, compose_fields[k].use);
	if (n > 8 && strncasecmp(v, "Content-", 8) == 0)
		return error_set(err, EX_USAGE,
		    "--header %.*s: compose writes the MIME fields; use "
		    "--attach FILE;type=TYPE for a content type",
		    (int)n, v);
	if (n == 4 && strncasecmp(v, "Date", 4) == 0)
		seen = &p->date_header;
	else if (n == 10 && strncasecmp(v, "Message-ID", 10) == 0)
		seen = &p->msgid_header;
	if (seen != NULL) {
		if (*seen)
			return error_set(err, EX_USAGE,
			    "--header %.*s given twice", (int)n, v);
		*seen = true;
	}
	if (cli_grow(&c->headers, &p->hdr_cap, c->n_headers, err) == -1)
		return -1;
	c->headers[c->n_headers++] = v;
	return 0;
}

/* RFC 2045 5.1: token, any printable ASCII except tspecials. */
static bool
is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?=", ch))
			return false;
	}
	return true;
}

static int
check_type(const char *t, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];
	const char *slash = strchr(t, '/');

	if (slash == NULL || !is_token(t, (size_t)(slash - t)) ||
	    !is_token(slash + 1, strlen(slash + 1)))
		return error_set(err, EX_USAGE,
		    "--attach: type \"%s\" is not TYPE/SUBTYPE (RFC 2045 5.1)",
		    cli_quote(q, sizeof(q), t));
	/* RFC 2046 5.1.1 and 5.2.1: composite types allow only 7bit, 8bit
	 * or binary, and attachments are always sent as base64. */
	if (strncasecmp(t, "multipart/", 10) == 0 ||
	    strncasecmp(t, "message/", 8) == 0)
		return error_set(err, EX_USAGE,
		    "--attach: type %s cannot be sent base64-encoded (RFC 2046 "
		    "5.2.1); attach it as application/octet-stream",
		    cli_quote(q, sizeof(q), t));
	return 0;
}

static void
free_attachment(struct compose_attachment *a)
{
	free(a->path);
	free(a->type);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

/*
 * --attach FILE[;type=T][;name=N]: the options are taken from the right,
 * so a file name may itself hold a ';' (not ";type=" or ";name=").
 */
static int
parse_attach(struct cli_parser *p, const char *v, struct error *err)
{
	struct compose_options *c = &p->opts->compose;
	struct compose_attachment a;
	size_t len = strlen(v);

	memset(&a, 0, sizeof(a));
	for (;;) {
		const char *semi = NULL, *key;
		size_t i, klen;
		char **slot;

		for (i = len; i > 0; i--)
			if (v[i - 1] == ';') {
				semi = v + i - 1;
				break;
			}
		if (semi == NULL)
			break;
		key = semi + 1;
		klen = len - (size_t)(key - v);
		if (klen >= 5 && strncasecmp(key, "type=", 5) == 0)
			slot = &a.type;
		else if (klen >= 5 && strncasecmp(key, "name=", 5) == 0)
			slot = &a.name;
		else
			break;
		if (*slot != NULL)
			break;
		if ((*slot = strndup(key + 5, klen - 5)) == NULL)
			goto oom;
		len = (size_t)(semi - v);
	}
	if ((a.path = strndup(v, len)) == NULL)
		goto oom;
	if (a.path[0] == '\0') {
		free_attachment(&a);
		return error_set(err, EX_USAGE, "--attach: no file name");
	}
	if (a.name != NULL && a.name[0] == '\0') {
		error_set(err, EX_USAGE, "--attach %s: empty name=", a.path);
		free_attachment(&a);
		return -1;
	}
	if (a.type != NULL && check_type(a.type, err) == -1) {
		free_attachment(&a);
		return -1;
	}
	if (c->n_attach >= p->att_cap) {
		size_t ncap = p->att_cap == 0 ? 8 : p->att_cap * 2;
		struct compose_attachment *na;

		if (ncap > SIZE_MAX / sizeof(*na) ||
		    (na = realloc(c->attach, ncap * sizeof(*na))) == NULL)
			goto oom;
		c->attach = na;
		p->att_cap = ncap;
	}
	c->attach[c->n_attach++] = a;
	return 0;
oom:
	free_attachment(&a);
	return error_set(err, EX_OSERR, "out of memory");
}

/* Compose mode's long options; cli.c's table says how each takes its
 * argument. */
enum compose_long {
	COMPOSE_LONG_SUBJECT,
	COMPOSE_LONG_BODY,
	COMPOSE_LONG_BODY_FILE,
	COMPOSE_LONG_HTML,
	COMPOSE_LONG_ATTACH,
	COMPOSE_LONG_HEADER,
	COMPOSE_LONG_FROM,
	COMPOSE_LONG_TO,
	COMPOSE_LONG_CC,
	COMPOSE_LONG_BCC,
	COMPOSE_LONG_REPLY_TO,
	COMPOSE_LONG_PRINT,
};

static const struct {
	const char *name;
	enum compose_long id;
} compose_longs[] = {
    {"subject", COMPOSE_LONG_SUBJECT},
    {"body", COMPOSE_LONG_BODY},
    {"body-file", COMPOSE_LONG_BODY_FILE},
    {"html", COMPOSE_LONG_HTML},
    {"attach", COMPOSE_LONG_ATTACH},
    {"header", COMPOSE_LONG_HEADER},
    {"from", COMPOSE_LONG_FROM},
    {"to", COMPOSE_LONG_TO},
    {"cc", COMPOSE_LONG_CC},
    {"bcc", COMPOSE_LONG_BCC},
    {"reply-to", COMPOSE_LONG_REPLY_TO},
    {"print", COMPOSE_LONG_PRINT},
};

int
cli_compose_long(
    struct cli_parser *p, const char *name, const char *v, struct error *err)
{
	struct compose_options *c = &p->opts->compose;
	enum compose_long id;
	size_t k;

	for (k = 0; k < sizeof(compose_longs) / sizeof(compose_longs[0]); k++)
		if (strcmp(compose_longs[k].name, name) == 0)
			break;
	if (k == sizeof(compose_longs) / sizeof(compose_longs[0]))
		return error_set(err, EX_SOFTWARE, "unhandled option");
	id = compose_longs[k].id;

	/* Only an option nothing else has starts compose mode; --from is
	 * msmtp's envelope sender outside it, and the others refine it. */
	switch (id) {
	case COMPOSE_LONG_SUBJECT:
	case COMPOSE_LONG_BODY:
	case COMPOSE_LONG_BODY_FILE:
	case COMPOSE_LONG_HTML:
	case COMPOSE_LONG_ATTACH:
		c->active = true;
		break;
	case COMPOSE_LONG_FROM:
		break;
	default:
		if (p->refiner == NULL)
			p->refiner = name;
		break;
	}
	switch (id) {
	case COMPOSE_LONG_SUBJECT:
		c->subject = v;
		return 0;
	case COMPOSE_LONG_BODY:
		c->body = v;
		return 0;
	case COMPOSE_LONG_BODY_FILE:
		c->body_file = v;
		return 0;
	case COMPOSE_LONG_HTML:
		c->html_file = v;
		return 0;
	case COMPOSE_LONG_ATTACH:
		return parse_attach(p, v, err);
	case COMPOSE_LONG_HEADER:
		return parse_header(p, v, err);
	case COMPOSE_LONG_FROM:
		c->from = v;
		return 0;
	case COMPOSE_LONG_TO:
		return cli_compose_rcpt(
		    p, &c->to, &p->to_cap, &c->n_to, v, err);
	case COMPOSE_LONG_CC:
		return cli_compose_rcpt(
		    p, &c->cc, &p->cc_cap, &c->n_cc, v, err);
	case COMPOSE_LONG_BCC:
		return cli_compose_rcpt(p, NULL, NULL, &c->n_bcc, v, err);
	case COMPOSE_LONG_REPLY_TO:
		c->reply_to = v;
		return 0;
	case COMPOSE_LONG_PRINT:
		c->print = true;
		return 0;
	default:
		break;
	}
	return error_set(err, EX_SOFTWARE, "unhandled option");
}

/* What compose mode cannot be combined with. */
static int
check_compose(const struct options *o, struct error *err)
{
	/* --help and --version answer whatever else is given. */
	if (o->mode == CLI_MODE_HELP || o->mode == CLI_MODE_VERSION)
		return 0;
	if (o->mode != CLI_MODE_DELIVER)
		return error_set(err, EX_USAGE,
		    "compose options (-s, --body, --attach, ...) only go with "
		    "delivering a message, not with another mode");
	if (o->read_recipients)
		return error_set(err, EX_USAGE,
		    "-t reads recipients from a message's own headers; in "
		    "compose mode name them with --to, --cc, --bcc or as "
		    "arguments");
	if (o->compose.body != NULL && o->compose.body_file != NULL)
		return error_set(err, EX_USAGE,
		    "give either --body or --body-file, not both");
	return 0;
}

/*
 * Compose mode or not, once every option is known.  Outside it --from is
 * msmtp's -f (msmtp(1): "--from=address: set the envelope-from address"),
 * so `mailsub --from=a@x b@y < message.eml` sends the message unchanged;
 * the refining options have no meaning there and are refused.
 */
int
cli_compose_settle(struct cli_parser *p, struct error *err)
{
	struct options *o = p->opts;
	struct compose_options *c = &o->compose;
	char q[CLI_QUOTE_MAX * 4 + 8];

	/* msmtp(1): --host uses no configuration file data, so it cannot
	 * name an account of one. */
	if (o->account != NULL && cli_setting_find(o, "host") != NULL)
		return error_set(err, EX_USAGE,
		    "--host takes the server from the command line; it cannot "
		    "be used with -a/--account");
	if (c->active)
		return check_compose(o, err);
	if (p->refiner != NULL)
		return error_set(err, EX_USAGE,
		    "--%s only refines compose mode, which starts with -s, "
		    "--subject, --body, --body-file, --html or --attach; "
		    "without them the message is read from stdin as it is",
		    p->refiner);
	if (c->from != NULL) {
		if (o->envelope_from != NULL &&
		    strcmp(o->envelope_from, c->from) != 0)
			return error_set(err, EX_USAGE,
			    "--from \"%s\" and -f name different envelope "
			    "senders",
			    cli_quote(q, sizeof(q), c->from));
		o->envelope_from = c->from;
		c->from = NULL;
	}
	return 0;
}

void
cli_compose_free(struct compose_options *c)
{
	size_t i;

	for (i = 0; i < c->n_attach; i++)
		free_attachment(&c->attach[i]);
	free(c->attach);
	free(c->to);
	free(c->cc);
	free(c->headers);
	memset(c, 0, sizeof(*c));
}
