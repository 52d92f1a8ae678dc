/* SPDX-License-Identifier: ISC */
/*
 * The sendmail command line.  A small getopt of our own rather than
 * getopt(3): it keeps no global state, it permutes like glibc's (options
 * after recipients still count, nothing after "--" does), and it knows
 * sendmail's odd shapes (-oX letters, -bX modes, -q with an optional
 * attached time, -d with everything attached).  Compose mode's options
 * are checked in cli_compose.c, msmtp's long ones in cli_msmtp.c.  Past
 * 800 lines as one job: sendmail's options and the values they take (-N,
 * -R, -V, -B, -b, -o), which only this parser reads.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_msmtp.h"
#include "cli_parser.h"
#include "error.h"

/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define CLI_ENVID_MAX 100

/* RFC 3461 4.1: NOTIFY is NEVER or a list of SUCCESS, FAILURE, DELAY. */
#define NOTIFY_SUCCESS 1u
#define NOTIFY_FAILURE 2u
#define NOTIFY_DELAY   4u

static const char usage_text[] =
    "usage: mailsub [options] [--] [recipient ...]   (message on stdin)\n"
    "       sendmail ...     mailq (= -bp)     newaliases (= -bi)\n"
    "  -t            read recipients from To, Cc, Bcc (Bcc is removed)\n"
    "  -i, -oi       a line with a single '.' does not end the message\n"
    "  -f, -r addr, --from addr\n"
    "                envelope sender (also selects the account)\n"
    "  -F name       full name for a generated From header\n"
    "  -C file       configuration file\n"
    "  -a, --account name\n"
    "                account to use\n"
    "  -N never|success,failure,delay\n"
    "                DSN notify (RFC 3461)\n"
    "  -R full|hdrs  DSN return\n"
    "  -V envid      DSN envelope id\n"
    "  -B 7BIT|8BITMIME\n"
    "                body type\n"
    "  -bm           deliver the message (default)\n"
    "  -bp           list the queue\n"
    "  -bi           newaliases: does nothing\n"
    "  -bs           speak SMTP on stdin and stdout\n"
    "  -bv           verify: check config, account, recipients and login\n"
    "  -q[time]      flush the queue now (time is ignored)\n"
    "  -odi, -odq, -odb\n"
    "                deliver now (default), queue only, in the background\n"
    "  -oeX, -eX     error mode m, p, q, w or e (errors go to stderr)\n"
    "  -v, --verbose transcript on stderr, secrets redacted\n"
    "  ignored:      -X file (never written), -L tag, -O opt=val, -o*,\n"
    "                -h n, -G, -U, -n, -m, -d*, -A x, -M x, -p x\n"
    "  -P, --pretend print the account the run would use, send nothing\n"
    "  msmtp's options, with msmtp's meaning (mailsub(1), MSMTP "
    "COMPATIBILITY):\n"
    "  --host=h (no configuration file), --port=n, --tls[=on|off],\n"
    "  --tls-starttls[=on|off], --auth[=on|off|mech], --user=u,\n"
    "  --passwordeval=cmd, --timeout=s|off, --domain=d, --source-ip=ip,\n"
    "  --tls-trust-file=f, --tls-fingerprint=fp, --tls-cert-file=f,\n"
    "  --tls-key-file=f, --tls-priorities=p, --tls-host-override=h,\n"
    "  --logfile=, --syslog[=on|off|LOG_x], --aliases=f, --file=f,\n"
    "  --read-envelope-from, --read-recipients, --debug, -S, --dsn-notify=,\n"
    "  --dsn-return=\n"
    "  --help, --version\n"
    "  --serverinfo [--json]\n"
    "                show the server's TLS, certificate and capabilities\n"
    "  --check-config\n"
    "                check every account and file permission\n"
    "  --configure address [--write]\n"
    "                print an account section for an address (--write:\n"
    "                add it to the configuration file)\n"
    "  --import-msmtprc [file]\n"
    "                print an msmtp configuration as mailsub.conf\n"
    "  --oauth2-login account [--paste | --device]\n"
    "                sign in to the account's OAuth2 provider (browser,\n"
    "                pasted address, or device code) and keep the token\n"
    "  --flush, --queue, --queue-delete id, --requeue id\n"
    "                flush, list, delete from, or return to the queue\n"
    "compose mode, started by -s, --body, --body-file, --html or --attach\n"
    "(mailsub builds the MIME message; stdin is the body):\n"
    "  -s, --subject text       --body text       --body-file file\n"
    "  --html file              (with a text body: multipart/alternative)\n"
    "  --attach file[;type=type/subtype][;name=name]   (repeatable)\n"
    "  --header 'Name: value'   (repeatable)\n"
    "  --from addr (the From header), --to addr, --cc addr, --bcc addr,\n"
    "  --reply-to addr\n"
    "  --print                  write the message to stdout, send nothing\n";

const char *
cli_usage(void)
{
	return usage_text;
}

/* An argument quoted for an error message: escaped and shortened. */
const char *
cli_quote(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n <= CLI_QUOTE_MAX)
		return error_escape(dst, size, s, n);
	error_escape(dst, size - 4, s, CLI_QUOTE_MAX);
	strcat(dst, "...");
	return dst;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* A CR or LF here would become an SMTP command or a header line of its own
 * (RFC 5321 2.3.8: only CRLF ends a line on the wire). */
int
cli_check_control(const char *what, const char *value, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];

	if (!has_control(value))
		return 0;
	return error_set(err, EX_USAGE, "%s: control character in \"%s\"", what,
	    cli_quote(q, sizeof(q), value));
}

int
cli_grow(const char ***arr, size_t *cap, size_t n, struct error *err)
{
	const char **p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if (ncap > SIZE_MAX / sizeof(*p))
		return error_set(err, EX_OSERR, "out of memory");
	p = realloc(*arr, ncap * sizeof(*p));
	if (p == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

int
cli_add_recipient(struct cli_parser *p, const char *s, struct error *err)
{
	struct options *o = p->opts;

	if (cli_check_control("recipient", s, err) == -1)
		return -1;
	if (cli_grow(&o->recipients, &p->rcpt_cap, o->n_recipients, err) == -1)
		return -1;
	o->recipients[o->n_recipients++] = s;
	return 0;
}

/* Remember an ignored option as "-X value" for the -v transcript. */
static int
add_ignored(
    struct cli_parser *p, const char *opt, const char *value, struct error *err)
{
	struct options *o = p->opts;
	size_t lo = strlen(opt), lv = value ? strlen(value) : 0;
	char *s;

	if (cli_grow(&o->ignored, &p->ign_cap, o->n_ignored, err) == -1)
		return -1;
	if (lo > SIZE_MAX - lv - 2 || (s = malloc(lo + lv + 2)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	memcpy(s, opt, lo);
	if (value != NULL) {
		s[lo] = ' ';
		memcpy(s + lo + 1, value, lv + 1);
	} else
		s[lo] = '\0';
	o->ignored[o->n_ignored++] = s;
	return 0;
}

/*
 * The argument of option c: the rest of the cluster when there is one,
 * else the next argv element (getopt's "c:").
 */
static int
take_arg(struct cli_parser *p, char c, const char *attached, const char **out,
    struct error *err)
{
	if (*attached != '\0') {
		*out = attached;
		return 0;
	}
	if (p->i + 1 >= p->argc || p->argv[p->i + 1] == NULL)
		return error_set(
		    err, EX_USAGE, "option -%c requires an argument", c);
	*out = p->argv[++p->i];
	return 0;
}

static int
parse_notify(struct options *o, const char *v, struct error *err)
{
	/* Canonical spellings, indexed by the NOTIFY_* bits. */
	static const char *const names[8] = {
	    NULL,
	    "SUCCESS",
	    "FAILURE",
	    "SUCCESS,FAILURE",
	    "DELAY",
	    "SUCCESS,DELAY",
	    "FAILURE,DELAY",
	    "SUCCESS,FAILURE,DELAY",
	};
	char q[CLI_QUOTE_MAX * 4 + 8];
	const char *s = v;
	unsigned bits = 0;

	if (strcasecmp(v, "never") == 0) {
		o->dsn_notify = "NEVER";
		return 0;
	}
	/* msmtp's "off": no explicit request from the command line. */
	if (strcasecmp(v, "off") == 0) {
		o->dsn_notify = NULL;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(s, ",");
		unsigned bit = 0;

		if (n == 7 && strncasecmp(s, "success", n) == 0)
			bit = NOTIFY_SUCCESS;
		else if (n == 7 && strncasecmp(s, "failure", n) == 0)
			bit = NOTIFY_FAILURE;
		else if (n == 5 && strncasecmp(s, "delay", n) == 0)
			bit = NOTIFY_DELAY;
		/* "never" inside a list, repeats and empty items. */
		if (bit == 0 || (bits & bit) != 0)
			return error_set(err, EX_USAGE,
			    "-N: \"%s\" is not never or a list of success, "
			    "failure, delay (RFC 3461 4.1)",
			    cli_quote(q, sizeof(q), v));
		bits |= bit;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	o->dsn_notify = names[bits];
	return 0;
}

static int
parse_return(struct options *o, const char *v, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];

	if (strcasecmp(v, "full") == 0)
		o->dsn_return = "FULL";
	else if (strcasecmp(v, "hdrs") == 0 || strcasecmp(v, "headers") == 0)
		o->dsn_return = "HDRS"; /* msmtp spells it headers */
	else if (strcasecmp(v, "off") == 0)
		o->dsn_return = NULL;
	else
		return error_set(err, EX_USAGE,
		    "-R: \"%s\" is not full or hdrs (RFC 3461 4.3; msmtp's "
		    "headers "
		    "and off too)",
		    cli_quote(q, sizeof(q), v));
	return 0;
}

static int
parse_envid(struct options *o, const char *v, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];
	const char *s;

	/* RFC 3461 4.4: printable US-ASCII, at most 100 characters. */
	for (s = v; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			break;
	if (*s != '\0' || s == v || (size_t)(s - v) > CLI_ENVID_MAX)
		return error_set(err, EX_USAGE,
		    "-V: \"%s\" is not 1 to %d printable ASCII characters "
		    "(RFC 3461 4.4)",
		    cli_quote(q, sizeof(q), v), CLI_ENVID_MAX);
	o->dsn_envid = v;
	return 0;
}

static int
parse_body(struct options *o, const char *v, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];

	if (strcasecmp(v, "7bit") == 0)
		o->body_type = "7BIT";
	else if (strcasecmp(v, "8bitmime") == 0)
		o->body_type = "8BITMIME";
	else
		return error_set(err, EX_USAGE,
		    "-B: \"%s\" is not 7BIT or 8BITMIME (RFC 6152)",
		    cli_quote(q, sizeof(q), v));
	return 0;
}

static int
parse_b(struct options *o, const char *v, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];

	if (v[0] != '\0' && v[1] == '\0') {
		switch (v[0]) {
		case 'm':
			o->mode = CLI_MODE_DELIVER;
			return 0;
		case 'p':
			o->mode = CLI_MODE_QUEUE_LIST;
			return 0;
		case 'i':
			o->mode = CLI_MODE_NEWALIASES;
			return 0;
		case 's':
			o->mode = CLI_MODE_SMTP_STDIO;
			return 0;
		case 'v':
			o->mode = CLI_MODE_VERIFY;
			return 0;
		default:
			break;
		}
	}
	return error_set(err, EX_USAGE,
	    "-b%s: unsupported mode (use -bm, -bp, -bi, -bs or -bv)",
	    cli_quote(q, sizeof(q), v));
}

/* sendmail's error modes: mail, print, quiet, write, exit-status. */
static int
parse_error_mode(
    struct options *o, const char *opt, const char *v, struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];

	if (v[0] == '\0' || v[1] != '\0' || strchr("mpqwe", v[0]) == NULL)
		return error_set(err, EX_USAGE,
		    "%s%s: unknown error mode (use m, p, q, w or e)", opt,
		    cli_quote(q, sizeof(q), v));
	o->error_mode = v[0];
	return 0;
}

/* -oX: the option letter comes first, its value attached. */
static int
parse_o(struct cli_parser *p, const char *v, struct error *err)
{
	struct options *o = p->opts;
	char q[CLI_QUOTE_MAX * 4 + 8];

	switch (v[0]) {
	case '\0':
		return error_set(err, EX_USAGE, "-o requires an option letter");
	case 'i':
		/* sendmail reads a boolean: empty or t/T/y/Y is true. */
		o->ignore_dots = v[1] == '\0' || strchr("tTyY", v[1]) != NULL;
		return 0;
	case 'd':
		if (v[1] != '\0' && v[2] == '\0') {
			switch (v[1]) {
			case 'i':
				o->delivery = CLI_DELIVERY_INTERACTIVE;
				return 0;
			case 'q':
			case 'd': /* sendmail's "deferred": no DNS, queue */
				o->delivery = CLI_DELIVERY_QUEUE;
				return 0;
			case 'b':
				o->delivery = CLI_DELIVERY_BACKGROUND;
				return 0;
			default:
				break;
			}
		}
		return error_set(err, EX_USAGE,
		    "-o%s: unknown delivery mode (use -odi, -odq or -odb)",
		    cli_quote(q, sizeof(q), v));
	case 'e':
		return parse_error_mode(o, "-oe", v + 1, err);
	default:
		return add_ignored(p, "-o", v, err);
	}
}

/*
 * One cluster of short options, argv[p->i] without its '-'.  Options that
 * take an argument end the cluster.
 */
static int
parse_short(struct cli_parser *p, const char *s, struct error *err)
{
	struct options *o = p->opts;
	const char *v;
	char q[16];
	char opt[3] = {'-', 0, 0};

	for (; *s != '\0'; s++) {
		char c = *s;

		opt[1] = c;
		switch (c) {
		case 't':
			o->read_recipients = true;
			break;
		case 'i':
			o->ignore_dots = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'I': /* Postfix: same as -bi */
			o->mode = CLI_MODE_NEWALIASES;
			break;
		case 'P': /* msmtp: --pretend */
			o->mode = CLI_MODE_PRETEND;
			break;
		case 'S': /* msmtp: --serverinfo */
			o->mode = CLI_MODE_SERVERINFO;
			break;
		case 'G': /* gateway submission */
		case 'U': /* initial user submission */
		case 'n': /* no aliasing */
		case 'm': /* me too */
			if (add_ignored(p, opt, NULL, err) == -1)
				return -1;
			break;
		case 'q':
			/* -q, -q15m, -qR..., -qS...: flush everything now; the
			 * time and the selectors are ignored. */
			o->mode = CLI_MODE_FLUSH;
			if (s[1] != '\0')
				return add_ignored(p, "-q", s + 1, err);
			return 0;
		case 'd':
			/* Debug flags: everything attached, never the next
			 * argument. */
			return add_ignored(
			    p, "-d", s[1] != '\0' ? s + 1 : NULL, err);
		case 'f':
		case 'r':
			if (take_arg(p, c, s + 1, &v, err) == -1 ||
			    cli_check_control(opt, v, err) == -1)
				return -1;
			o->envelope_from = v;
			return 0;
		case 'F':
			if (take_arg(p, c, s + 1, &v, err) == -1 ||
			    cli_check_control(opt, v, err) == -1)
				return -1;
			o->full_name = v;
			return 0;
		case 's': /* mail(1)'s subject: selects compose mode */
			if (take_arg(p, c, s + 1, &v, err) == -1 ||
			    cli_check_control(opt, v, err) == -1)
				return -1;
			o->compose.active = true;
			o->compose.subject = v;
			return 0;
		case 'C':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			o->config_file = v;
			return 0;
		case 'a':
			if (take_arg(p, c, s + 1, &v, err) == -1 ||
			    cli_check_control(opt, v, err) == -1)
				return -1;
			o->account = v;
			return 0;
		case 'N':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_notify(o, v, err);
		case 'R':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_return(o, v, err);
		case 'V':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_envid(o, v, err);
		case 'B':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_body(o, v, err);
		case 'b':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_b(o, v, err);
		case 'o':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_o(p, v, err);
		case 'e':
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return parse_error_mode(o, "-e", v, err);
		case 'X': /* log file: never written (PHPMailer CVE-2016-10033)
			   */
		case 'L': /* syslog tag */
		case 'O': /* long option=value */
		case 'h': /* hop count */
		case 'A': /* Postfix and sendmail: -Ac, -Am */
		case 'M': /* sendmail: macro */
		case 'p': /* protocol and host */
			if (take_arg(p, c, s + 1, &v, err) == -1)
				return -1;
			return add_ignored(p, opt, v, err);
		default:
			return error_set(err, EX_USAGE, "unknown option -%s",
			    error_escape(q, sizeof(q), s, 1));
		}
	}
	return 0;
}

enum long_id {
	LONG_HELP,
	LONG_VERSION,
	LONG_SERVERINFO,
	LONG_JSON,
	LONG_CHECK_CONFIG,
	LONG_CONFIGURE,
	LONG_WRITE,
	LONG_FLUSH,
	LONG_QUEUE,
	LONG_QUEUE_DELETE,
	LONG_REQUEUE,
	LONG_ACCOUNT,
	LONG_VERBOSE,
	LONG_SUBJECT,
	LONG_BODY,
	LONG_BODY_FILE,
	LONG_HTML,
	LONG_ATTACH,
	LONG_HEADER,
	LONG_FROM,
	LONG_TO,
	LONG_CC,
	LONG_BCC,
	LONG_REPLY_TO,
	LONG_PRINT,
	LONG_DSN_NOTIFY,
	LONG_DSN_RETURN,
	LONG_OAUTH2_LOGIN,
	LONG_PASTE,
	LONG_DEVICE,
};

/* How a long option takes its argument. */
enum long_arg {
	ARG_NONE,
	ARG_ONE,   /* required, not empty, no control characters */
	ARG_EMPTY, /* required, may be empty (-s ''), no control characters */
	ARG_TEXT,  /* required, anything: --body is text with newlines */
};

static const struct {
	const char *name;
	enum long_arg arg;
	enum long_id id;
} long_options[] = {
    {"help", ARG_NONE, LONG_HELP},
    {"version", ARG_NONE, LONG_VERSION},
    {"serverinfo", ARG_NONE, LONG_SERVERINFO},
    {"json", ARG_NONE, LONG_JSON},
    {"check-config", ARG_NONE, LONG_CHECK_CONFIG},
    {"configure", ARG_ONE, LONG_CONFIGURE},
    {"write", ARG_NONE, LONG_WRITE},
    {"flush", ARG_NONE, LONG_FLUSH},
    {"queue", ARG_NONE, LONG_QUEUE},
    {"queue-delete", ARG_ONE, LONG_QUEUE_DELETE},
    {"requeue", ARG_ONE, LONG_REQUEUE},
    {"account", ARG_ONE, LONG_ACCOUNT},
    {"verbose", ARG_NONE, LONG_VERBOSE},
    {"subject", ARG_EMPTY, LONG_SUBJECT},
    {"body", ARG_TEXT, LONG_BODY},
    {"body-file", ARG_ONE, LONG_BODY_FILE},
    {"html", ARG_ONE, LONG_HTML},
    {"attach", ARG_ONE, LONG_ATTACH},
    {"header", ARG_ONE, LONG_HEADER},
    {"from", ARG_ONE, LONG_FROM},
    {"to", ARG_ONE, LONG_TO},
    {"cc", ARG_ONE, LONG_CC},
    {"bcc", ARG_ONE, LONG_BCC},
    {"reply-to", ARG_ONE, LONG_REPLY_TO},
    {"print", ARG_NONE, LONG_PRINT},
    /* msmtp's spellings of -N and -R */
    {"dsn-notify", ARG_ONE, LONG_DSN_NOTIFY},
    {"dsn-return", ARG_ONE, LONG_DSN_RETURN},
    {"oauth2-login", ARG_ONE, LONG_OAUTH2_LOGIN},
    {"paste", ARG_NONE, LONG_PASTE},
    {"device", ARG_NONE, LONG_DEVICE},
};

/* One of msmtp's options (cli_msmtp.h), else an unknown option. */
static int
parse_msmtp_long(struct cli_parser *p, const char *s, size_t n, const char *eq,
    struct error *err)
{
	char q[CLI_QUOTE_MAX * 4 + 8];
	char what[40];
	enum cli_msmtp_arg arg;
	const char *v = NULL;

	if (!cli_msmtp_find(s, n, &arg))
		return error_set(err, EX_USAGE, "unknown option --%s",
		    cli_quote(q, sizeof(q), s));
	snprintf(what, sizeof(what), "--%.*s", (int)n, s);
	if (arg == CLI_MSMTP_ARG_NONE && eq != NULL)
		return error_set(
		    err, EX_USAGE, "option %s takes no argument", what);
	if (eq != NULL)
		v = eq + 1;
	else if (arg == CLI_MSMTP_ARG_REQUIRED) {
		if (p->i + 1 >= p->argc || p->argv[p->i + 1] == NULL)
			return error_set(err, EX_USAGE,
			    "option %s requires an argument", what);
		v = p->argv[++p->i];
	}
	if (v != NULL && cli_check_control(what, v, err) == -1)
		return -1;
	return cli_msmtp_apply(p->opts, s, n, v, err);
}

/* "--name", "--name value" or "--name=value"; s is after the dashes. */
static int
parse_long(struct cli_parser *p, const char *s, struct error *err)
{
	struct options *o = p->opts;
	char what[32];
	const char *eq = strchr(s, '=');
	const char *v = NULL;
	size_t n = eq != NULL ? (size_t)(eq - s) : strlen(s);
	size_t k;

	/* --import-msmtprc [FILE]: the file is optional, so only a next
	 * argument that is no option is taken as it. */
	if (n == 14 && strncmp(s, "import-msmtprc", n) == 0) {
		o->mode = CLI_MODE_IMPORT_MSMTPRC;
		if (eq != NULL)
			v = eq + 1;
		else if (p->i + 1 < p->argc && p->argv[p->i + 1] != NULL &&
			 p->argv[p->i + 1][0] != '-')
			v = p->argv[++p->i];
		if (v != NULL && v[0] == '\0')
			return error_set(err, EX_USAGE,
			    "option --import-msmtprc: empty file name");
		o->mode_argument = v;
		return 0;
	}
	for (k = 0; k < sizeof(long_options) / sizeof(long_options[0]); k++)
		if (strlen(long_options[k].name) == n &&
		    strncmp(long_options[k].name, s, n) == 0)
			break;
	if (k == sizeof(long_options) / sizeof(long_options[0]))
		return parse_msmtp_long(p, s, n, eq, err);
	if (long_options[k].arg != ARG_NONE) {
		if (eq != NULL)
			v = eq + 1;
		else if (p->i + 1 < p->argc && p->argv[p->i + 1] != NULL)
			v = p->argv[++p->i];
		else
			return error_set(err, EX_USAGE,
			    "option --%s requires an argument",
			    long_options[k].name);
		if (v[0] == '\0' && long_options[k].arg == ARG_ONE)
			return error_set(err, EX_USAGE,
			    "option --%s: empty argument",
			    long_options[k].name);
		snprintf(what, sizeof(what), "--%s", long_options[k].name);
		if (long_options[k].arg != ARG_TEXT &&
		    cli_check_control(what, v, err) == -1)
			return -1;
	} else if (eq != NULL)
		return error_set(err, EX_USAGE, "option --%s takes no argument",
		    long_options[k].name);

	switch (long_options[k].id) {
	case LONG_HELP:
		o->mode = CLI_MODE_HELP;
		break;
	case LONG_VERSION:
		o->mode = CLI_MODE_VERSION;
		break;
	case LONG_SERVERINFO:
		o->mode = CLI_MODE_SERVERINFO;
		break;
	case LONG_JSON:
		o->json = true;
		break;
	case LONG_CHECK_CONFIG:
		o->mode = CLI_MODE_CHECK_CONFIG;
		break;
	case LONG_CONFIGURE:
		o->mode = CLI_MODE_CONFIGURE;
		o->mode_argument = v;
		break;
	case LONG_WRITE:
		o->write = true;
		break;
	case LONG_FLUSH:
		o->mode = CLI_MODE_FLUSH;
		break;
	case LONG_QUEUE:
		o->mode = CLI_MODE_QUEUE_LIST;
		break;
	case LONG_QUEUE_DELETE:
		o->mode = CLI_MODE_QUEUE_DELETE;
		o->mode_argument = v;
		break;
	case LONG_REQUEUE:
		o->mode = CLI_MODE_REQUEUE;
		o->mode_argument = v;
		break;
	case LONG_ACCOUNT:
		o->account = v;
		break;
	case LONG_VERBOSE:
		o->verbose = true;
		break;
	case LONG_DSN_NOTIFY:
		return parse_notify(o, v, err);
	case LONG_DSN_RETURN:
		return parse_return(o, v, err);
	case LONG_OAUTH2_LOGIN:
		o->mode = CLI_MODE_OAUTH2_LOGIN;
		o->mode_argument = v;
		break;
	case LONG_PASTE:
		o->oauth2_paste = true;
		break;
	case LONG_DEVICE:
		o->oauth2_device = true;
		break;
	default:
		return cli_compose_long(p, long_options[k].name, v, err);
	}
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *slash;

	if (path == NULL || path[0] == '\0')
		return "mailsub";
	slash = strrchr(path, '/');
	if (slash == NULL)
		return path;
	return slash[1] != '\0' ? slash + 1 : "mailsub";
}

int
cli_parse(struct options *opts, int argc, char **argv, struct error *err)
{
	struct cli_parser p;
	bool only_recipients = false;

	memset(opts, 0, sizeof(*opts));
	opts->mode = CLI_MODE_DELIVER;
	opts->delivery = CLI_DELIVERY_INTERACTIVE;
	opts->progname = base_name(argc > 0 ? argv[0] : NULL);
	if (strcmp(opts->progname, "mailq") == 0)
		opts->mode = CLI_MODE_QUEUE_LIST;
	else if (strcmp(opts->progname, "newaliases") == 0)
		opts->mode = CLI_MODE_NEWALIASES;

	memset(&p, 0, sizeof(p));
	p.opts = opts;
	p.argc = argc;
	p.argv = argv;
	for (p.i = 1; p.i < argc && argv[p.i] != NULL; p.i++) {
		const char *a = argv[p.i];
		int rc;

		/* Like glibc getopt: options may follow recipients, and "--"
		 * makes everything after it a recipient, even "-oi". A lone
		 * "-" is not an option. */
		if (only_recipients || a[0] != '-' || a[1] == '\0')
			rc = cli_compose_rcpt(&p, &opts->compose.to, &p.to_cap,
			    &opts->compose.n_to, a, err);
		else if (a[1] == '-' && a[2] == '\0') {
			only_recipients = true;
			rc = 0;
		} else if (a[1] == '-')
			rc = parse_long(&p, a + 2, err);
		else
			rc = parse_short(&p, a + 1, err);
		if (rc == -1) {
			cli_free(opts);
			return -1;
		}
	}
	if (cli_compose_settle(&p, err) == -1) {
		cli_free(opts);
		return -1;
	}
	if (opts->write && opts->mode != CLI_MODE_CONFIGURE &&
	    opts->mode != CLI_MODE_HELP && opts->mode != CLI_MODE_VERSION) {
		cli_free(opts);
		return error_set(
		    err, EX_USAGE, "--write goes with --configure ADDRESS");
	}
	if ((opts->oauth2_paste || opts->oauth2_device) &&
	    opts->mode != CLI_MODE_OAUTH2_LOGIN &&
	    opts->mode != CLI_MODE_HELP && opts->mode != CLI_MODE_VERSION) {
		cli_free(opts);
		return error_set(err, EX_USAGE,
		    "--paste and --device go with --oauth2-login");
	}
	if (opts->oauth2_paste && opts->oauth2_device) {
		cli_free(opts);
		return error_set(err, EX_USAGE,
		    "--oauth2-login takes --paste or --device, not both");
	}
	return 0;
}

void
cli_free(struct options *opts)
{
	size_t i;

	if (opts == NULL)
		return;
	for (i = 0; i < opts->n_ignored; i++)
		free((void *)(uintptr_t)opts->ignored[i]);
	free(opts->ignored);
	free(opts->recipients);
	cli_compose_free(&opts->compose);
	opts->ignored = NULL;
	opts->recipients = NULL;
	opts->n_ignored = 0;
	opts->n_recipients = 0;
}
