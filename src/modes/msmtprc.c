/* SPDX-License-Identifier: ISC */
/*
 * msmtprc -> mailsub.conf.  The commands and their meaning follow msmtp(1)
 * 1.8.23, section CONFIGURATION FILES.  Where msmtp's defaults differ from
 * mailsub's (msmtp: no TLS, port 25 even with STARTTLS, no authentication
 * unless "auth on"), the output says what msmtp did explicitly: tls, port
 * and auth are always written, so the account behaves as it did.
 * Past 800 lines as one job: reading an msmtprc and writing its accounts
 * are the two ends of one conversion over struct rc.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "error.h"
#include "msmtprc.h"
#include "text.h"

/* msmtprc lines are read whole; longer ones are refused like msmtp's. */
#define LINE_MAX_LEN 4096
#define ACCOUNTS_MAX 256
#define COMMANDS_MAX 128
#define PARENTS_MAX  16

static const char why_add_headers[] =
    "mailsub adds a missing From, Date and Message-ID together; "
    "add_headers = off stops all three";

static bool
is_on(const char *a)
{
	return a[0] == '\0' || strcasecmp(a, "on") == 0;
}

static void
set_value(struct msmtprc_setting *out, const char *key, const char *v)
{
	out->kind = MSMTPRC_SET;
	out->key = key;
	if (strlen(v) >= sizeof(out->value)) {
		out->kind = MSMTPRC_REFUSE;
		out->key = NULL;
		out->why = "the value is longer than a mailsub.conf line";
		return;
	}
	strcpy(out->value, v);
}

/* key = arg; an empty argument unsets (msmtp(1): "An empty argument
 * unsets"/"disables"). */
static void
plain(struct msmtprc_setting *out, const char *key, const char *arg)
{
	if (arg[0] == '\0') {
		out->kind = MSMTPRC_UNSET;
		out->key = key;
		return;
	}
	set_value(out, key, arg);
}

static void
refuse(struct msmtprc_setting *out, const char *why)
{
	out->kind = MSMTPRC_REFUSE;
	out->why = why;
}

static void
ignore(struct msmtprc_setting *out, const char *why)
{
	out->kind = MSMTPRC_IGNORE;
	out->why = why;
}

/* "on"-style commands whose only carried value is a no-op. */
static void
noop_unless(struct msmtprc_setting *out, const char *arg, bool ok_on,
    const char *ok_why, const char *why)
{
	if (is_on(arg) == ok_on)
		ignore(out, ok_why);
	else
		refuse(out, why);
}

/* msmtp: "01:23:45:..." of SHA256 (or, please not, SHA1 or MD5). */
static void
fingerprint(struct msmtprc_setting *out, const char *arg)
{
	char hex[65];
	const char *p = arg;
	size_t n = 0;

	if (arg[0] == '\0') {
		out->kind = MSMTPRC_UNSET;
		out->key = "tls_fingerprint";
		return;
	}
	if (strncasecmp(p, "sha256:", 7) == 0)
		p += 7;
	for (; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (text_hexval((unsigned char)*p) < 0 || n == 64)
			goto bad;
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	hex[n] = '\0';
	if (n == 64) {
		snprintf(out->value, sizeof(out->value), "sha256:%s", hex);
		out->kind = MSMTPRC_SET;
		out->key = "tls_fingerprint";
		return;
	}
	if (n == 40 || n == 32) {
		refuse(out, "mailsub pins SHA-256 fingerprints only: "
			    "mailsub --serverinfo prints the server's as "
			    "tls_fingerprint = sha256:...");
		return;
	}
bad:
	refuse(out, "not a certificate fingerprint (01:23:...); mailsub "
		    "--serverinfo prints the server's");
}

static void
auth(struct msmtprc_setting *out, const char *arg)
{
	static const char *const mechs[] = {"plain", "login", "cram-md5",
	    "scram-sha-1", "scram-sha-1-plus", "scram-sha-256",
	    "scram-sha-256-plus", "xoauth2", "oauthbearer", "external",
	    "gssapi"};
	size_t i;

	if (is_on(arg)) {
		set_value(out, "auth", "on");
		return;
	}
	if (strcasecmp(arg, "off") == 0) {
		set_value(out, "auth", "off");
		return;
	}
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(arg, mechs[i]) == 0) {
			set_value(out, "auth", arg);
			for (char *c = out->value; *c != '\0'; c++)
				*c = (char)toupper((unsigned char)*c);
			return;
		}
	refuse(out, "mailsub does not offer this mechanism (DIGEST-MD5 and "
		    "NTLM are obsolete): use auth = on");
}

static void
syslog_value(struct msmtprc_setting *out, const char *arg)
{
	char v[32];
	size_t i;

	/* msmtp(1): the default facility is LOG_USER. */
	if (is_on(arg)) {
		set_value(out, "syslog", "user");
		return;
	}
	if (strcasecmp(arg, "off") == 0) {
		set_value(out, "syslog", "off");
		return;
	}
	if (strncasecmp(arg, "LOG_", 4) == 0 && strlen(arg + 4) < sizeof(v)) {
		for (i = 0; arg[4 + i] != '\0'; i++)
			v[i] = (char)tolower((unsigned char)arg[4 + i]);
		v[i] = '\0';
		set_value(out, "syslog", v);
		return;
	}
	refuse(out, "not on, off or LOG_USER, LOG_MAIL, LOG_LOCAL0 ... "
		    "LOG_LOCAL7");
}

static void
from(struct msmtprc_setting *out, const char *arg)
{
	if (arg[0] == '\0') {
		out->kind = MSMTPRC_UNSET;
		out->key = "from";
		return;
	}
	/* "%U@example.org" is mailsub's default sender with a
	 * default_domain. */
	if (strncmp(arg, "%U@", 3) == 0 && arg[3] != '\0' &&
	    strchr(arg + 3, '%') == NULL) {
		set_value(out, "default_domain", arg + 3);
		return;
	}
	if (strchr(arg, '%') != NULL) {
		refuse(out, "msmtp's %U, %H, %C and %M are not expanded: "
			    "mailsub's default sender is USER@default_domain "
			    "(else the host's name); give from = ADDRESS or "
			    "default_domain = DOMAIN");
		return;
	}
	/* msmtp(1): a from with ?, * or [ is a pattern for --from; the
	 * envelope sender then comes from -f.  Either way -f picks the
	 * account, which is senders in mailsub. */
	if (strpbrk(arg, "?*[") != NULL) {
		set_value(out, "senders", arg);
		return;
	}
	set_value(out, "from", arg);
	out->key2 = "senders";
}

static void
domain(struct msmtprc_setting *out, const char *arg)
{
	if (arg[0] == '\0' || strcmp(arg, "%H") == 0 ||
	    strcmp(arg, "%C") == 0) {
		ignore(out, "mailsub's EHLO name is the host's fully qualified "
			    "name by default");
		return;
	}
	if (strcmp(arg, "localhost") == 0) {
		ignore(out, "mailsub's EHLO name is the host's fully qualified "
			    "name by default, not localhost");
		return;
	}
	if (strchr(arg, '%') != NULL) {
		refuse(out, "msmtp's %M is not expanded: give domain = the "
			    "name in /etc/mailname");
		return;
	}
	set_value(out, "domain", arg);
}

static void
dsn(struct msmtprc_setting *out, const char *key, const char *arg)
{
	if (arg[0] == '\0' || strcasecmp(arg, "off") == 0) {
		out->kind = MSMTPRC_UNSET;
		out->key = key;
		return;
	}
	if (strcmp(key, "dsn_return") == 0 && strcasecmp(arg, "headers") == 0)
		arg = "hdrs";
	set_value(out, key, arg);
}

void
msmtprc_convert(const char *c, const char *a, struct msmtprc_setting *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(c, "host") == 0) {
		if (a[0] == '\0')
			refuse(out, "an empty host");
		else
			set_value(out, "host", a);
	} else if (strcmp(c, "port") == 0 || strcmp(c, "source_ip") == 0 ||
		   strcmp(c, "user") == 0 || strcmp(c, "password") == 0 ||
		   strcmp(c, "aliases") == 0 ||
		   strcmp(c, "tls_key_file") == 0 ||
		   strcmp(c, "tls_cert_file") == 0 ||
		   strcmp(c, "tls_priorities") == 0) {
		plain(out, c, a);
	} else if (strcmp(c, "passwordeval") == 0) {
		plain(out, "password_command", a);
	} else if (strcmp(c, "tls_host_override") == 0) {
		plain(out, "tls_server_name", a);
	} else if (strcmp(c, "timeout") == 0) {
		if (strcasecmp(a, "off") == 0 || a[0] == '\0') {
			out->kind = MSMTPRC_UNSET;
			out->key = "timeout";
		} else
			set_value(out, "timeout", a);
	} else if (strcmp(c, "tls") == 0 || strcmp(c, "tls_starttls") == 0) {
		if (is_on(a) || strcasecmp(a, "off") == 0) {
			out->kind = MSMTPRC_TLS;
			out->key = c;
			out->flag = is_on(a);
		} else
			refuse(out, "not on or off");
	} else if (strcmp(c, "tls_trust_file") == 0) {
		if (strcmp(a, "system") == 0) {
			out->kind = MSMTPRC_UNSET;
			out->key = "tls_trust_file";
		} else if (a[0] == '\0')
			refuse(out,
			    "an empty tls_trust_file trusts no CA: mailsub "
			    "uses the system store (leave it out) or a "
			    "pin (tls_fingerprint)");
		else
			set_value(out, "tls_trust_file", a);
	} else if (strcmp(c, "tls_fingerprint") == 0) {
		fingerprint(out, a);
	} else if (strcmp(c, "tls_certcheck") == 0) {
		noop_unless(out, a, true, "mailsub always checks certificates",
		    "mailsub never turns certificate checks off: pin the "
		    "certificate with tls_fingerprint (the error for an "
		    "unknown issuer and mailsub --serverinfo print it) or "
		    "name its CA in tls_trust_file");
	} else if (strcmp(c, "tls_crl_file") == 0 ||
		   strcmp(c, "tls_min_dh_prime_bits") == 0) {
		if (a[0] == '\0')
			ignore(out, "the default");
		else
			refuse(out, c[4] == 'c'
					? "CRL files are not read (msmtp "
					  "deprecates them too)"
					: "use tls_priorities (a GnuTLS "
					  "priority string) instead");
	} else if (strcmp(c, "auth") == 0) {
		auth(out, a);
	} else if (strcmp(c, "from") == 0) {
		from(out, a);
	} else if (strcmp(c, "domain") == 0) {
		domain(out, a);
	} else if (strcmp(c, "dsn_notify") == 0 ||
		   strcmp(c, "dsn_return") == 0) {
		dsn(out, c, a);
	} else if (strcmp(c, "logfile") == 0) {
		if (strcmp(a, "-") == 0)
			refuse(out, "mailsub does not log to standard output: "
				    "give a file");
		else
			plain(out, "logfile", a);
	} else if (strcmp(c, "syslog") == 0) {
		syslog_value(out, a);
	} else if (strcmp(c, "set_from_header") == 0 ||
		   strcmp(c, "add_missing_from_header") == 0) {
		if (a[0] == '\0' || strcasecmp(a, "auto") == 0 ||
		    (c[0] == 'a' && is_on(a)))
			ignore(out, "mailsub adds a missing From by default");
		else if (c[0] == 's' && strcasecmp(a, "on") == 0)
			set_value(out, "from_header", "force");
		else
			refuse(out, why_add_headers);
	} else if (strcmp(c, "set_date_header") == 0 ||
		   strcmp(c, "add_missing_date_header") == 0 ||
		   strcmp(c, "set_msgid_header") == 0) {
		if (a[0] == '\0' || strcasecmp(a, "auto") == 0 ||
		    strcasecmp(a, "on") == 0)
			ignore(out, "mailsub adds it when it is missing");
		else
			refuse(out, why_add_headers);
	} else if (strcmp(c, "remove_bcc_headers") == 0) {
		noop_unless(out, a, true, "mailsub always removes Bcc",
		    "mailsub always removes Bcc and Resent-Bcc");
	} else if (strcmp(c, "undisclosed_recipients") == 0) {
		noop_unless(out, a, false, "the default",
		    "mailsub does not rewrite To and Cc: compose with --bcc "
		    "only instead");
	} else if (strcmp(c, "allow_from_override") == 0) {
		noop_unless(out, a, true,
		    "-f sets the envelope sender in "
		    "mailsub too",
		    "mailsub always lets -f set the envelope sender");
	} else if (strcmp(c, "auto_from") == 0) {
		noop_unless(out, a, false, "the default",
		    "obsolete in msmtp: mailsub's default sender is "
		    "USER@default_domain; set default_domain");
	} else if (strcmp(c, "maildomain") == 0) {
		if (a[0] == '\0')
			ignore(out, "the default");
		else
			set_value(out, "default_domain", a);
	} else if (strcmp(c, "protocol") == 0) {
		if (strcasecmp(a, "smtp") == 0 || a[0] == '\0')
			ignore(out, "mailsub speaks SMTP");
		else
			refuse(out, "mailsub speaks SMTP only, not LMTP");
	} else if (strcmp(c, "proxy_host") == 0 ||
		   strcmp(c, "proxy_port") == 0) {
		if (a[0] == '\0')
			ignore(out, "the default");
		else
			refuse(out,
			    "mailsub does not use SOCKS proxies: run it "
			    "under torsocks(1)");
	} else if (strcmp(c, "socket") == 0) {
		refuse(out, "mailsub connects over TCP only: give host and "
			    "port");
	} else if (strcmp(c, "ntlmdomain") == 0) {
		refuse(out, "NTLM is not offered");
	} else if (strcmp(c, "logfile_time_format") == 0) {
		if (a[0] == '\0')
			ignore(out, "the default");
		else
			refuse(out, "mailsub's log records carry ISO 8601 UTC "
				    "times");
	} else if (strcmp(c, "eval") == 0) {
		refuse(out, "mailsub runs no configuration lines: put the "
			    "value in the file, or a password in "
			    "password_command");
	} else {
		refuse(out, "not an msmtp command mailsub knows");
	}
}

/* ---- the file ------------------------------------------------------- */

struct command {
	char *name;
	char *arg;
	unsigned line;
};

struct rc_account {
	char *name;
	unsigned line;
	struct command cmds[COMMANDS_MAX];
	size_t n;
	char *parents; /* as written after the ':' (for the comment) */
};

struct rc {
	struct rc_account *acct[ACCOUNTS_MAX];
	size_t n;
	struct rc_account defaults; /* name NULL */
	const char *source;
	struct error *err;
};

static void
account_free(struct rc_account *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->cmds[i].name);
		if (a->cmds[i].arg != NULL)
			secure_wipe(a->cmds[i].arg, strlen(a->cmds[i].arg));
		free(a->cmds[i].arg);
	}
	free(a->name);
	free(a->parents);
	a->n = 0;
}

/* Set (replace) command name in a; msmtp keeps the last value. */
static int
put_command(struct rc *rc, struct rc_account *a, const char *name,
    const char *arg, unsigned line)
{
	size_t i;
	char *n, *v;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->cmds[i].name, name) == 0)
			break;
	if (i == COMMANDS_MAX)
		return error_set(rc->err, EX_DATAERR,
		    "%s:%u: too many commands in one account", rc->source,
		    line);
	if ((n = strdup(name)) == NULL || (v = strdup(arg)) == NULL) {
		free(n);
		return error_set(rc->err, EX_OSERR, "out of memory");
	}
	if (i < a->n) {
		free(a->cmds[i].name);
		secure_wipe(a->cmds[i].arg, strlen(a->cmds[i].arg));
		free(a->cmds[i].arg);
		/* Keep the order in which msmtp first saw the command. */
	} else
		a->n++;
	a->cmds[i].name = n;
	a->cmds[i].arg = v;
	a->cmds[i].line = line;
	return 0;
}

static int
copy_commands(
    struct rc *rc, struct rc_account *to, const struct rc_account *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		if (put_command(rc, to, from->cmds[i].name, from->cmds[i].arg,
			from->cmds[i].line) == -1)
			return -1;
	return 0;
}

static struct rc_account *
find_account(const struct rc *rc, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < rc->n; i++)
		if (strlen(rc->acct[i]->name) == n &&
		    strncmp(rc->acct[i]->name, name, n) == 0)
			return rc->acct[i];
	return NULL;
}

/*
 * The argument: the rest of the line without surrounding blanks; msmtp(1):
 * "The argument may be enclosed in double quotes", inside which \" and \\
 * stand for themselves.
 */
static int
unquote(char *s, struct rc *rc, unsigned line)
{
	size_t len = strlen(s), i, o = 0;

	if (len == 0 || s[0] != '"')
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len &&
		    (s[i + 1] == '"' || s[i + 1] == '\\')) {
			s[o++] = s[++i];
			continue;
		}
		if (s[i] == '"') {
			if (i + 1 != len)
				break;
			s[o] = '\0';
			return 0;
		}
		s[o++] = s[i];
	}
	return error_set(rc->err, EX_DATAERR, "%s:%u: unbalanced double quotes",
	    rc->source, line);
}

static int
start_account(struct rc *rc, char *arg, unsigned line)
{
	struct rc_account *a;
	char *colon = strchr(arg, ':'), *p, *end;
	size_t n;

	if (colon != NULL) {
		end = colon;
		while (end > arg && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
	}
	if (arg[0] == '\0')
		return error_set(rc->err, EX_DATAERR,
		    "%s:%u: account without a name", rc->source, line);
	if (find_account(rc, arg, strlen(arg)) != NULL)
		return error_set(rc->err, EX_DATAERR,
		    "%s:%u: account %s is defined twice", rc->source, line,
		    arg);
	if (rc->n == ACCOUNTS_MAX)
		return error_set(rc->err, EX_DATAERR,
		    "%s:%u: too many accounts", rc->source, line);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->name = strdup(arg)) == NULL) {
		free(a);
		return error_set(rc->err, EX_OSERR, "out of memory");
	}
	rc->acct[rc->n++] = a;
	a->line = line;
	/* msmtp(1): "The current default values are filled in", then the
	 * accounts of the list, in order. */
	if (copy_commands(rc, a, &rc->defaults) == -1)
		return -1;
	if (colon == NULL)
		return 0;
	if ((a->parents = strdup(colon + 1)) == NULL)
		return error_set(rc->err, EX_OSERR, "out of memory");
	for (p = colon + 1; *p != '\0';) {
		const struct rc_account *parent;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 0)
			break;
		if ((parent = find_account(rc, p, n)) == NULL || parent == a)
			return error_set(rc->err, EX_DATAERR,
			    "%s:%u: account %s inherits from %.*s, which is "
			    "not defined before it",
			    rc->source, line, a->name, (int)n, p);
		if (copy_commands(rc, a, parent) == -1)
			return -1;
		p += n;
	}
	return 0;
}

static int
parse(struct rc *rc, const char *text, size_t len)
{
	struct rc_account *cur = NULL;
	char line[LINE_MAX_LEN + 1];
	size_t pos = 0;
	unsigned ln = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - text - pos) : len - pos;
		char *s, *cmd, *arg, *e;

		ln++;
		if (n > LINE_MAX_LEN)
			return error_set(rc->err, EX_DATAERR,
			    "%s:%u: line too long", rc->source, ln);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL);
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (
		    e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		cmd = s;
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
		arg = s + strspn(s, " \t");
		if (strcmp(cmd, "defaults") == 0) {
			cur = &rc->defaults;
			continue;
		}
		if (strcmp(cmd, "account") == 0) {
			if (start_account(rc, arg, ln) == -1)
				return -1;
			cur = rc->acct[rc->n - 1];
			continue;
		}
		if (unquote(arg, rc, ln) == -1)
			return -1;
		if (cur == NULL)
			return error_set(rc->err, EX_DATAERR,
			    "%s:%u: %s before the first account or defaults",
			    rc->source, ln, cmd);
		if (put_command(rc, cur, cmd, arg, ln) == -1)
			return -1;
	}
	return 0;
}

/* ---- the output ----------------------------------------------------- */

/* Section names: what iniparser and mailsub.conf(5) read back. */
static void
section_name(const char *name, char *out, size_t size)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 2 < size; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = isalnum(c) || strchr("._@+-", c) != NULL
			     ? (char)tolower(c)
			     : '_';
	}
	out[i] = '\0';
	if (strcmp(out, "defaults") == 0 && i + 2 < size)
		strcat(out, "_");
}

/* key = value, quoted where iniparser would cut or trim it. */
static int
put_key(struct buf *out, const char *key, const char *v, struct error *err)
{
	size_t len = strlen(v);
	bool quote = strpbrk(v, ";#\"") != NULL || v[0] == ' ' ||
		     v[0] == '\t' ||
		     (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'));

	if (quote && strchr(v, '"') != NULL)
		return buf_printf(out, err,
		    "; %s: a value with a double quote cannot be written "
		    "for iniparser; set it by hand\n",
		    key);
	if (quote)
		return buf_printf(out, err, "%s = \"%s\"\n", key, v);
	return buf_printf(out, err, "%s = %s\n", key, v);
}

static const char *
arg_shown(const struct command *c)
{
	/* A refused password line is commented without its value. */
	return strcmp(c->name, "password") == 0 ? "(secret)" : c->arg;
}

static int
write_account(
    struct rc *rc, const struct rc_account *a, struct buf *out, bool *has_host)
{
	struct error *err = rc->err;
	struct msmtprc_setting s;
	char name[128];
	bool tls = false, starttls = true, has_user = false, has_pw = false;
	const char *auth = NULL, *port = NULL, *host = NULL;
	size_t i;

	section_name(a->name, name, sizeof(name));
	if (buf_printf(out, err, "\n[%s]\n", name) == -1)
		return -1;
	if (strcmp(name, a->name) != 0 &&
	    buf_printf(out, err, "; msmtp's account \"%s\"\n", a->name) == -1)
		return -1;
	if (a->parents != NULL &&
	    buf_printf(out, err,
		"; account %s :%s (line %u): the inherited settings are "
		"written out\n",
		a->name, a->parents, a->line) == -1)
		return -1;
	for (i = 0; i < a->n; i++) {
		const struct command *c = &a->cmds[i];

		msmtprc_convert(c->name, c->arg, &s);
		switch (s.kind) {
		case MSMTPRC_TLS:
			if (strcmp(s.key, "tls") == 0)
				tls = s.flag;
			else
				starttls = s.flag;
			continue;
		case MSMTPRC_UNSET:
			if (strcmp(s.key, "port") == 0)
				port = NULL;
			continue;
		case MSMTPRC_IGNORE:
		case MSMTPRC_REFUSE:
			if (buf_printf(out, err, "; line %u: %s%s%s: %s\n",
				c->line, c->name, c->arg[0] ? " " : "",
				arg_shown(c), s.why) == -1)
				return -1;
			continue;
		case MSMTPRC_SET:
			break;
		}
		/* These three are written below, as msmtp used them. */
		if (strcmp(s.key, "port") == 0) {
			port = c->arg;
			continue;
		}
		if (strcmp(s.key, "auth") == 0) {
			auth = c->arg;
			continue;
		}
		if (strcmp(s.key, "host") == 0)
			host = c->arg;
		if (strcmp(s.key, "user") == 0)
			has_user = true;
		if (strcmp(s.key, "password") == 0 ||
		    strcmp(s.key, "password_command") == 0)
			has_pw = true;
		if (put_key(out, s.key, s.value, err) == -1 ||
		    (s.key2 != NULL &&
			put_key(out, s.key2, s.value, err) == -1))
			return -1;
	}
	*has_host = host != NULL;
	/* msmtp(1): TLS is off unless "tls on"; STARTTLS unless
	 * "tls_starttls off"; the port is 25 unless TLS without STARTTLS. */
	if (buf_printf(out, err, "tls = %s\n",
		!tls	   ? "off"
		: starttls ? "starttls"
			   : "on") == -1 ||
	    buf_printf(out, err, "port = %s\n",
		port != NULL	   ? port
		: tls && !starttls ? "465"
				   : "25") == -1)
		return -1;
	/* msmtp authenticates only with auth on (or a method). */
	if (auth == NULL || strcasecmp(auth, "off") == 0) {
		if (has_user && buf_appends(out, "auth = off\n", err) == -1)
			return -1;
		return 0;
	}
	msmtprc_convert("auth", auth, &s);
	if (put_key(out, "auth", s.value, err) == -1)
		return -1;
	if (!has_user &&
	    buf_appends(out, "; auth is on but there is no user: set user\n",
		err) == -1)
		return -1;
	if (has_user && !has_pw &&
	    buf_appends(out,
		"; msmtp would ask for the password, or take it from a key "
		"ring or ~/.netrc: set password_command (e.g. secret-tool "
		"lookup host HOST service smtp user USER)\n",
		err) == -1)
		return -1;
	if (!tls && strcasecmp(auth, "off") != 0 &&
	    buf_appends(out,
		"; TLS is off: mailsub sends no password in clear (set tls = "
		"starttls, or allow_plaintext_auth = on)\n",
		err) == -1)
		return -1;
	return 0;
}

/*
 * An account without host cannot be sent through (msmtp(1): "Every
 * account definition must contain this command") and would make mailsub
 * refuse the whole file: it is written as comments, since the accounts
 * that inherit from it have its settings written out already.
 */
static int
put_account(struct rc *rc, const struct rc_account *a, struct buf *out)
{
	struct buf sec;
	bool has_host = false;
	const char *p, *nl;
	int r = -1;

	buf_init(&sec, out->max);
	if (write_account(rc, a, &sec, &has_host) == -1)
		goto done;
	if (has_host) {
		r = buf_append(out, sec.data, sec.len, rc->err);
		goto done;
	}
	if (buf_printf(out, rc->err,
		"\n; msmtp's account %s has no host, so it is only a base "
		"for others\n; (whose sections have its settings): it is "
		"left out\n",
		a->name) == -1)
		goto done;
	for (p = buf_str(&sec) + 1; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if (buf_printf(out, rc->err, "%s%.*s\n", *p == ';' ? "" : "; ",
			(int)(nl - p), p) == -1)
			goto done;
	}
	r = 0;
done:
	buf_wipe(&sec);
	return r;
}

int
msmtprc_translate(const char *text, size_t len, const char *source,
    struct buf *out, struct error *err)
{
	struct rc rc;
	size_t i;
	int r = -1;

	memset(&rc, 0, sizeof(rc));
	rc.source = source;
	rc.err = err;
	if (parse(&rc, text, len) == -1)
		goto done;
	if (rc.n == 0) {
		error_set(err, EX_DATAERR, "%s: no account", source);
		goto done;
	}
	if (buf_printf(out, err,
		"; mailsub.conf(5), from the msmtp configuration %s\n"
		"; (mailsub --import-msmtprc).  msmtp's defaults and "
		"inherited accounts are\n"
		"; written out in every account; tls, port and auth say what "
		"msmtp did.\n",
		source) == -1)
		goto done;
	for (i = 0; i < rc.n; i++)
		if (strcmp(rc.acct[i]->name, "default") == 0)
			break;
	/* msmtp(1): without -a or a matching from, "default" is used. */
	if (i < rc.n &&
	    buf_appends(out, "\n[defaults]\naccount = default\n", err) == -1)
		goto done;
	if (i == rc.n && rc.n > 1 &&
	    buf_printf(out, err,
		"\n; msmtp has no account \"default\": without -a or a -f "
		"that matches a from,\n; it sends nothing, nor does mailsub.  "
		"To choose one:\n; [defaults]\n; account = %s\n",
		rc.acct[0]->name) == -1)
		goto done;
	for (i = 0; i < rc.n; i++)
		if (put_account(&rc, rc.acct[i], out) == -1)
			goto done;
	r = 0;
done:
	for (i = 0; i < rc.n; i++) {
		account_free(rc.acct[i]);
		free(rc.acct[i]);
	}
	account_free(&rc.defaults);
	return r;
}
