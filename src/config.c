/*
 * The configuration file.  The file is read once and scanned line by line
 * for the inputs iniparser 4.1 fails on or silently misreads, so that every
 * problem is reported as FILE:LINE; only then does iniparser parse it, and
 * its values are copied into struct account with [defaults], inherit and
 * provider presets applied and every key validated.  No value from the file
 * is ever echoed in an error or a warning: only key and account names.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#ifdef HAVE_INIPARSER_INIPARSER_H
#include <iniparser/iniparser.h>
#else
#include <iniparser.h>
#endif

#include "buf.h"
#include "config.h"
#include "error.h"
#include "inilint.h"

/* A configuration file is a few KiB; anything past this is a mistake. */
#define FILE_MAX		(1024 * 1024)
#define NAME_MAX_LEN		INILINT_NAME_MAX
#define INHERIT_DEPTH_MAX	8
#define HOSTS_MAX		16
#define SENDERS_MAX		256
#define PASSWORD_MAX		CONFIG_INI_LINE_MAX
#define TIMEOUT_MAX		3600
#define LIFETIME_MAX		(366L * 86400)
#define DEFAULT_TIMEOUT		60
#define DEFAULT_CONNECT_TIMEOUT 30
#define DEFAULT_LIFETIME	(5L * 86400)
#define SYSTEM_QUEUE_DIR	"/var/spool/mailsub"
/* RFC 1035 2.3.4: names up to 255 octets on the wire, 253 as text. */
#define HOSTNAME_MAX 253
#define LABEL_MAX    63

/* The table of DESIGN.md section 2 (providers' published settings). */
static const struct config_provider providers[] = {
    {"gmail", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    {"workspace", "smtp.gmail.com", 465, ACCOUNT_TLS_ON,
	"app password (needs 2-step verification) or OAuth2"},
    {"outlook", "smtp-mail.outlook.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2 only (password login ended 2024-09)"},
    {"office365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    {"godaddy-m365", "smtp.office365.com", 587, ACCOUNT_TLS_STARTTLS,
	"OAuth2; SMTP AUTH must be enabled for the mailbox"},
    {"godaddy", "smtpout.secureserver.net", 465, ACCOUNT_TLS_ON,
	"mailbox password"},
    {"yahoo", "smtp.mail.yahoo.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"aol", "smtp.aol.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"icloud", "smtp.mail.me.com", 587, ACCOUNT_TLS_STARTTLS,
	"app-specific password; user is the full address"},
    {"fastmail", "smtp.fastmail.com", 465, ACCOUNT_TLS_ON,
	"app password always"},
    {"zoho", "smtp.zoho.com", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.com"},
    {"zoho-eu", "smtp.zoho.eu", 465, ACCOUNT_TLS_ON,
	"paid organisations: smtppro.zoho.eu"},
    {"gmx", "mail.gmx.net", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"webde", "smtp.web.de", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"mailcom", "smtp.mail.com", 465, ACCOUNT_TLS_ON,
	"enable POP3/IMAP access in the web settings"},
    {"proton", "smtp.protonmail.ch", 587, ACCOUNT_TLS_STARTTLS,
	"an SMTP token as password"},
    {"yandex", "smtp.yandex.com", 465, ACCOUNT_TLS_ON, "app password"},
    {"mailboxorg", "smtp.mailbox.org", 465, ACCOUNT_TLS_ON,
	"mailbox password (app password with 2FA)"},
    {"posteo", "posteo.de", 465, ACCOUNT_TLS_ON,
	"mailbox password (app password with 2FA)"},
};

static const struct {
	const char *domain;
	const char *provider;
} provider_domains[] = {
    {"gmail.com", "gmail"},
    {"googlemail.com", "gmail"},
    {"outlook.com", "outlook"},
    {"hotmail.com", "outlook"},
    {"live.com", "outlook"},
    {"msn.com", "outlook"},
    {"yahoo.com", "yahoo"},
    {"aol.com", "aol"},
    {"icloud.com", "icloud"},
    {"me.com", "icloud"},
    {"mac.com", "icloud"},
    {"fastmail.com", "fastmail"},
    {"fastmail.fm", "fastmail"},
    {"zoho.com", "zoho"},
    {"zohomail.com", "zoho"},
    {"zoho.eu", "zoho-eu"},
    {"zohomail.eu", "zoho-eu"},
    {"gmx.net", "gmx"},
    {"gmx.de", "gmx"},
    {"gmx.at", "gmx"},
    {"gmx.ch", "gmx"},
    {"web.de", "webde"},
    {"mail.com", "mailcom"},
    {"proton.me", "proton"},
    {"protonmail.com", "proton"},
    {"protonmail.ch", "proton"},
    {"pm.me", "proton"},
    {"yandex.com", "yandex"},
    {"yandex.ru", "yandex"},
    {"mailbox.org", "mailboxorg"},
    {"posteo.de", "posteo"},
    {"posteo.net", "posteo"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* SASL mechanisms auth.c knows (RFC 7677, 5802, 4616, 4954, 2195, 7628). */
static const char *const known_mechs[] = {
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-256",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-1",
    "PLAIN",
    "LOGIN",
    "CRAM-MD5",
    "XOAUTH2",
    "OAUTHBEARER",
    "GSSAPI",
    "EXTERNAL",
};

enum key_id {
	K_HOST,
	K_PORT,
	K_PROVIDER,
	K_DOMAIN,
	K_SOURCE_IP,
	K_TIMEOUT,
	K_CONNECT_TIMEOUT,
	K_TLS,
	K_TLS_TRUST_FILE,
	K_TLS_FINGERPRINT,
	K_TLS_CERT_FILE,
	K_TLS_KEY_FILE,
	K_TLS_PRIORITIES,
	K_TLS_SERVER_NAME,
	K_AUTH,
	K_USER,
	K_PASSWORD,
	K_PASSWORD_FILE,
	K_PASSWORD_COMMAND,
	K_ALLOW_PLAINTEXT_AUTH,
	K_FROM,
	K_SENDERS,
	K_DEFAULT_DOMAIN,
	K_ALIASES,
	K_ADD_HEADERS,
	K_FROM_HEADER,
	K_DSN_NOTIFY,
	K_DSN_RETURN,
	K_QUEUE_DIR,
	K_QUEUE_LIFETIME,
	K_ON_TEMPFAIL,
	K_LOGFILE,
	K_SYSLOG,
	K_INHERIT,
	K_ACCOUNT,
	K_COUNT,
};

/* Where a resolved value came from, for port defaults and messages. */
enum origin_kind {
	ORIGIN_NONE,
	ORIGIN_DEFAULTS,
	ORIGIN_PRESET,
	ORIGIN_ACCOUNT, /* the account itself or an account it inherits */
};

/* A key as the scan found it, with what config.c adds. */
struct scan_key {
	size_t section;
	const char *name; /* borrowed from the lint */
	unsigned line;
	int id;		   /* enum key_id, or -1 */
	const char *value; /* borrowed from iniparser's dictionary */
};

struct origin {
	enum origin_kind kind;
	const struct scan_key *key;
};

struct loader {
	const char *path;
	bool system;
	struct config *cfg;
	struct inilint lint;
	struct scan_key *keys;
	size_t n_keys;
	bool has_password;
	long defaults; /* index of [defaults], or -1 */
	dictionary *dict;
};

struct key_def {
	const char *name;
	int (*set)(struct account *, const char *, struct error *);
};

/* Helpers ---------------------------------------------------------------- */

static void *
grow_array(void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return p;
	ncap = *cap != 0 ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		return NULL;
	np = realloc(p, ncap * size);
	if (np == NULL)
		return NULL;
	*cap = ncap;
	return np;
}

static char *
dup_str(const char *s, struct error *err)
{
	char *p = strdup(s);

	if (p == NULL)
		error_set(err, EX_OSERR, "out of memory");
	return p;
}

static char *
join(const char *a, const char *b, struct error *err)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 1);

	if (p == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		return NULL;
	}
	memcpy(p, a, la);
	memcpy(p + la, b, lb + 1);
	return p;
}

static int
set_str(char **dst, const char *v, struct error *err)
{
	char *p = dup_str(v, err);

	if (p == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/*
 * Split a comma list into trimmed, non-empty items.  Errors never quote
 * the items: they come from the file.
 */
static int
split_list(
    const char *v, size_t max, char ***out, size_t *n_out, struct error *err)
{
	char **items = NULL;
	size_t n = 0, cap = 0;
	const char *p = v;

	for (;;) {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end != NULL ? end : p + strlen(p);
		char **tmp;

		while (s < e && is_blank((unsigned char)*s))
			s++;
		while (e > s && is_blank((unsigned char)e[-1]))
			e--;
		if (s == e) {
			free_list(items, n);
			return error_set(err, EX_CONFIG,
			    "item %zu of the list is empty", n + 1);
		}
		if (n == max) {
			free_list(items, n);
			return error_set(
			    err, EX_CONFIG, "more than %zu items", max);
		}
		tmp = grow_array(items, &cap, n, sizeof(*items));
		if (tmp == NULL ||
		    (tmp[n] = strndup(s, (size_t)(e - s))) == NULL) {
			free_list(tmp != NULL ? tmp : items, n);
			return error_set(err, EX_OSERR, "out of memory");
		}
		items = tmp;
		n++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = items;
	*n_out = n;
	return 0;
}

static bool
is_ip(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* RFC 1123 2.1 host names: LDH labels of 1..63 octets, no edge hyphens.
 * allow_8bit admits UTF-8 labels (address domains, RFC 6531). */
static bool
hostname_ok(const char *s, bool allow_8bit)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > HOSTNAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > LABEL_MAX || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (label == 0 && c == '-')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' ||
			(allow_8bit && c >= 0x80)))
			return false;
		label++;
	}
	return true;
}

static bool
is_host(const char *s)
{
	return is_ip(s) || hostname_ok(s, false);
}

/* Loopback: 127.0.0.0/8, ::1 and localhost (RFC 6761 6.3). */
static bool
is_loopback(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(h, "localhost") == 0 || strcasecmp(h, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

/* "5d", "12h", "30m", "90s" or plain seconds. */
static int
parse_duration(const char *s, long max, long *out)
{
	static const char units[] = "smhd";
	static const unsigned long mults[] = {1, 60, 3600, 86400};
	char num[24], c;
	const char *u;
	size_t len = strlen(s);
	unsigned long v, mult = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	c = (char)(num[len - 1] | 0x20); /* ASCII lower case */
	if ((u = strchr(units, c)) != NULL && c != '\0') {
		mult = mults[u - units];
		num[--len] = '\0';
	}
	if (parse_ulong(num, (unsigned long)max, &v) == -1 ||
	    v > (unsigned long)max / mult)
		return -1;
	*out = (long)(v * mult);
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "on") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcasecmp(s, "off") == 0 || strcasecmp(s, "no") == 0 ||
		 strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL && *pw->pw_dir != '\0'
		   ? pw->pw_dir
		   : NULL;
}

/* "~/x" -> "$HOME/x"; the result must be absolute (no cwd surprises). */
static int
expand_path(const char *v, char **out, struct error *err)
{
	const char *home;
	char *p;

	if (v[0] == '~') {
		if (v[1] != '\0' && v[1] != '/')
			return error_set(
			    err, EX_CONFIG, "only ~/ is expanded, not ~user");
		home = home_dir();
		if (home == NULL)
			return error_set(
			    err, EX_CONFIG, "~ used but HOME is not set");
		/* HOME=/ (sudo, cron) must not give "//x". */
		if (strcmp(home, "/") == 0 && v[1] == '/')
			home = "";
		p = join(home, v + 1, err);
	} else if (v[0] != '/') {
		return error_set(err, EX_CONFIG,
		    "must be an absolute path or start with ~/");
	} else {
		p = dup_str(v, err);
	}
	if (p == NULL)
		return -1;
	*out = p;
	return 0;
}

static int
set_path(char **dst, const char *v, struct error *err)
{
	char *p = NULL;

	if (expand_path(v, &p, err) == -1)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

/* Providers -------------------------------------------------------------- */

const struct config_provider *
config_provider_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NELEM(providers); i++)
		if (strcasecmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

const char *
config_provider_note(const char *name)
{
	const struct config_provider *p = config_provider_find(name);

	return p != NULL ? p->note : NULL;
}

const struct config_provider *
config_provider_for_domain(const char *domain)
{
	size_t i;

	if (domain == NULL)
		return NULL;
	for (i = 0; i < NELEM(provider_domains); i++)
		if (strcasecmp(provider_domains[i].domain, domain) == 0)
			return config_provider_find(
			    provider_domains[i].provider);
	return NULL;
}

static void
provider_names(char *dst, size_t size)
{
	size_t i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < NELEM(providers) && o < size; i++) {
		int n = snprintf(dst + o, size - o, "%s%s", i ? ", " : "",
		    providers[i].name);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Key setters: validate one value; the caller adds FILE:LINE: [acct] key. */

static int
set_host(struct account *a, const char *v, struct error *err)
{
	char **hosts;
	size_t n, i;

	if (split_list(v, HOSTS_MAX, &hosts, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_host(hosts[i])) {
			free_list(hosts, n);
			return error_set(err, EX_CONFIG,
			    "item %zu is not a host name or IP address", i + 1);
		}
	}
	free_list(a->hosts, a->n_hosts);
	a->hosts = hosts;
	a->n_hosts = n;
	a->current_host = NULL;
	return 0;
}

static int
set_port(struct account *a, const char *v, struct error *err)
{
	unsigned long p;

	if (parse_ulong(v, 65535, &p) == -1 || p == 0)
		return error_set(
		    err, EX_CONFIG, "must be a number from 1 to 65535");
	a->port = (unsigned)p;
	return 0;
}

static int
set_provider(struct account *a, const char *v, struct error *err)
{
	char names[512];

	if (config_provider_find(v) == NULL) {
		provider_names(names, sizeof(names));
		return error_set(
		    err, EX_CONFIG, "unknown provider (known: %s)", names);
	}
	if (set_str(&a->provider, v, err) == -1)
		return -1;
	lower(a->provider);
	return 0;
}

/* EHLO argument: a domain or an address literal (RFC 5321 4.1.3). */
static int
set_domain(struct account *a, const char *v, struct error *err)
{
	size_t len = strlen(v);
	bool ok = hostname_ok(v, false);

	if (!ok && len > 2 && v[0] == '[' && v[len - 1] == ']') {
		char lit[64];

		if (len - 2 < sizeof(lit)) {
			memcpy(lit, v + 1, len - 2);
			lit[len - 2] = '\0';
			if (strncasecmp(lit, "IPv6:", 5) == 0)
				ok = strchr(lit + 5, ':') != NULL &&
				     is_ip(lit + 5);
			else
				ok = strchr(lit, ':') == NULL && is_ip(lit);
		}
	}
	if (!ok)
		return error_set(err, EX_CONFIG,
		    "must be a domain name or an address literal like "
		    "[192.0.2.1]");
	return set_str(&a->domain, v, err);
}

static int
set_source_ip(struct account *a, const char *v, struct error *err)
{
	if (!is_ip(v))
		return error_set(
		    err, EX_CONFIG, "must be an IPv4 or IPv6 address");
	return set_str(&a->source_ip, v, err);
}

static int
parse_timeout(const char *v, unsigned *out, struct error *err)
{
	long t;

	if (parse_duration(v, TIMEOUT_MAX, &t) == -1 || t == 0)
		return error_set(err, EX_CONFIG, "must be from 1 to %d seconds",
		    TIMEOUT_MAX);
	*out = (unsigned)t;
	return 0;
}

static int
set_timeout(struct account *a, const char *v, struct error *err)
{
	return parse_timeout(v, &a->timeout, err);
}

static int
set_connect_timeout(struct account *a, const char *v, struct error *err)
{
	return parse_timeout(v, &a->connect_timeout, err);
}

static int
set_tls(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "starttls") == 0)
		a->tls = ACCOUNT_TLS_STARTTLS;
	else if (strcasecmp(v, "on") == 0)
		a->tls = ACCOUNT_TLS_ON;
	else if (strcasecmp(v, "off") == 0)
		a->tls = ACCOUNT_TLS_OFF;
	else
		return error_set(err, EX_CONFIG, "must be starttls, on or off");
	return 0;
}

static int
set_tls_trust_file(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->tls_trust_file, v, err);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha256:" and 32 bytes in hex, colons allowed between bytes; stored as
 * "sha256:" and 64 lower-case hex digits. */
static int
set_tls_fingerprint(struct account *a, const char *v, struct error *err)
{
	char out[7 + 64 + 1];
	const char *p;
	size_t n = 0;

	if (strncasecmp(v, "sha256:", 7) != 0)
		goto bad;
	for (p = v + 7; *p != '\0'; p++) {
		if (*p == ':') {
			/* only between two whole bytes */
			if (n == 0 || n % 2 != 0 || p[1] == '\0' || p[1] == ':')
				goto bad;
			continue;
		}
		if (hexval((unsigned char)*p) < 0 || n == 64)
			goto bad;
		out[7 + n++] =
		    (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	}
	if (n != 64)
		goto bad;
	memcpy(out, "sha256:", 7);
	out[7 + 64] = '\0';
	return set_str(&a->tls_fingerprint, out, err);
bad:
	return error_set(err, EX_CONFIG,
	    "must be sha256: followed by 64 hex digits (colons between bytes "
	    "allowed)");
}

static int
set_tls_cert_file(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->tls_cert_file, v, err);
}

static int
set_tls_key_file(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->tls_key_file, v, err);
}

static int
set_tls_priorities(struct account *a, const char *v, struct error *err)
{
	return set_str(&a->tls_priorities, v, err);
}

static int
set_tls_server_name(struct account *a, const char *v, struct error *err)
{
	if (!hostname_ok(v, false))
		return error_set(err, EX_CONFIG, "must be a host name");
	return set_str(&a->tls_server_name, v, err);
}

static bool
mech_known(const char *m)
{
	size_t i;

	for (i = 0; i < NELEM(known_mechs); i++)
		if (strcmp(known_mechs[i], m) == 0)
			return true;
	return false;
}

static int
set_auth(struct account *a, const char *v, struct error *err)
{
	char **mechs;
	size_t n, i, j;

	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "off") == 0) {
		free_list(a->auth_mechs, a->n_auth_mechs);
		a->auth_mechs = NULL;
		a->n_auth_mechs = 0;
		a->auth = strcasecmp(v, "on") == 0 ? ACCOUNT_AUTH_ON
						   : ACCOUNT_AUTH_OFF;
		return 0;
	}
	if (split_list(v, NELEM(known_mechs), &mechs, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		upper(mechs[i]);
		if (!mech_known(mechs[i])) {
			free_list(mechs, n);
			return error_set(err, EX_CONFIG,
			    "item %zu is not on, off or a known mechanism "
			    "(SCRAM-SHA-256-PLUS, SCRAM-SHA-256, "
			    "SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN, "
			    "CRAM-MD5, XOAUTH2, OAUTHBEARER, GSSAPI, EXTERNAL)",
			    i + 1);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(mechs[i], mechs[j]) == 0) {
				free_list(mechs, n);
				return error_set(err, EX_CONFIG,
				    "item %zu is listed twice", i + 1);
			}
		}
	}
	free_list(a->auth_mechs, a->n_auth_mechs);
	a->auth_mechs = mechs;
	a->n_auth_mechs = n;
	a->auth = ACCOUNT_AUTH_LIST;
	return 0;
}

static int
set_user(struct account *a, const char *v, struct error *err)
{
	return set_str(&a->user, v, err);
}

static void
clear_password_sources(struct account *a)
{
	buf_wipe(&a->password);
	a->has_password = false;
	free(a->password_file);
	a->password_file = NULL;
	free(a->password_command);
	a->password_command = NULL;
}

static int
set_password(struct account *a, const char *v, struct error *err)
{
	buf_wipe(&a->password);
	a->has_password = false;
	if (buf_appends(&a->password, v, err) == -1) {
		buf_wipe(&a->password);
		/* never pass on a message that might describe the value */
		return error_set(err,
		    err->exit_code == EX_OSERR ? EX_OSERR : EX_CONFIG,
		    "too long");
	}
	a->has_password = true;
	return 0;
}

static int
set_password_file(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->password_file, v, err);
}

static int
set_password_command(struct account *a, const char *v, struct error *err)
{
	return set_str(&a->password_command, v, err);
}

static int
set_allow_plaintext_auth(struct account *a, const char *v, struct error *err)
{
	if (parse_bool(v, &a->allow_plaintext_auth) == -1)
		return error_set(err, EX_CONFIG, "must be on or off");
	return 0;
}

/* An address or a bare local name; the full syntax check is address.c's,
 * at use.  Reject what can never be one address. */
static bool
address_ok(const char *v)
{
	const char *at = strrchr(v, '@');

	if (*v == '\0' || strpbrk(v, " \t<>,;()\"\\") != NULL)
		return false;
	if (at == NULL)
		return true;
	return at != v && hostname_ok(at + 1, true);
}

static int
set_from(struct account *a, const char *v, struct error *err)
{
	if (!address_ok(v))
		return error_set(err, EX_CONFIG,
		    "must be one address like user@example.com, without a "
		    "display name");
	return set_str(&a->from, v, err);
}

static int
set_senders(struct account *a, const char *v, struct error *err)
{
	char **list;
	size_t n, i;

	if (split_list(v, SENDERS_MAX, &list, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strpbrk(list[i], " \t<>") != NULL) {
			free_list(list, n);
			return error_set(err, EX_CONFIG,
			    "item %zu is not an address pattern", i + 1);
		}
	}
	free_list(a->senders, a->n_senders);
	a->senders = list;
	a->n_senders = n;
	return 0;
}

static int
set_default_domain(struct account *a, const char *v, struct error *err)
{
	if (!hostname_ok(v, true))
		return error_set(err, EX_CONFIG, "must be a domain name");
	return set_str(&a->default_domain, v, err);
}

static int
set_aliases(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->aliases, v, err);
}

static int
set_add_headers(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "auto") == 0)
		a->add_headers = true;
	else if (strcasecmp(v, "off") == 0)
		a->add_headers = false;
	else
		return error_set(err, EX_CONFIG, "must be auto or off");
	return 0;
}

static int
set_from_header(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "fix") == 0)
		a->from_header = ACCOUNT_FROM_FIX;
	else if (strcasecmp(v, "keep") == 0)
		a->from_header = ACCOUNT_FROM_KEEP;
	else if (strcasecmp(v, "force") == 0)
		a->from_header = ACCOUNT_FROM_FORCE;
	else
		return error_set(err, EX_CONFIG, "must be keep, fix or force");
	return 0;
}

/* RFC 3461 4.1: NEVER, or any of SUCCESS, FAILURE, DELAY; stored upper
 * case as it goes on the wire. */
static int
set_dsn_notify(struct account *a, const char *v, struct error *err)
{
	static const char *const words[] = {
	    "NEVER", "SUCCESS", "FAILURE", "DELAY"};
	char **list;
	size_t n, i, j;
	unsigned seen = 0;
	struct buf b;
	int rc = -1;

	if (split_list(v, 4, &list, &n, err) == -1)
		return error_set(err, err->exit_code,
		    "must be never or a list of success, failure, delay");
	for (i = 0; i < n; i++) {
		upper(list[i]);
		for (j = 0; j < NELEM(words); j++)
			if (strcmp(list[i], words[j]) == 0)
				break;
		if (j == NELEM(words) || (seen & (1u << j)) != 0) {
			error_set(err, EX_CONFIG,
			    "must be never or a list of success, failure, "
			    "delay");
			goto out;
		}
		seen |= 1u << j;
	}
	if ((seen & 1u) != 0 && n > 1) {
		error_set(err, EX_CONFIG,
		    "never cannot be combined with other values");
		goto out;
	}
	buf_init(&b, 64);
	for (i = 0; i < n; i++)
		if (buf_printf(&b, err, "%s%s", i ? "," : "", list[i]) == -1) {
			buf_free(&b);
			goto out;
		}
	free(a->dsn_notify);
	a->dsn_notify = buf_detach(&b);
	rc = a->dsn_notify != NULL ? 0
				   : error_set(err, EX_OSERR, "out of memory");
out:
	free_list(list, n);
	return rc;
}

static int
set_dsn_return(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "full") == 0)
		return set_str(&a->dsn_return, "FULL", err);
	if (strcasecmp(v, "hdrs") == 0)
		return set_str(&a->dsn_return, "HDRS", err);
	return error_set(err, EX_CONFIG, "must be full or hdrs");
}

static int
set_queue_dir(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->queue_dir, v, err);
}

static int
set_queue_lifetime(struct account *a, const char *v, struct error *err)
{
	long t;

	if (parse_duration(v, LIFETIME_MAX, &t) == -1 || t == 0)
		return error_set(err, EX_CONFIG,
		    "must be a duration like 5d, 12h, 30m, 90s (at most 366d)");
	a->queue_lifetime = t;
	return 0;
}

static int
set_on_tempfail(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "queue") == 0)
		a->on_tempfail = ACCOUNT_TEMPFAIL_QUEUE;
	else if (strcasecmp(v, "queue-ok") == 0)
		a->on_tempfail = ACCOUNT_TEMPFAIL_QUEUE_OK;
	else
		return error_set(err, EX_CONFIG, "must be queue or queue-ok");
	return 0;
}

static int
set_logfile(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->logfile, v, err);
}

static int
set_syslog(struct account *a, const char *v, struct error *err)
{
	static const struct {
		const char *name;
		int facility;
	} facilities[] = {
	    {"mail", LOG_MAIL},
	    {"user", LOG_USER},
	    {"daemon", LOG_DAEMON},
	    {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1},
	    {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3},
	    {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5},
	    {"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7},
	};
	size_t i;
	bool on;

	if (parse_bool(v, &on) == 0) {
		a->syslog_facility = on ? LOG_MAIL : -1;
		return 0;
	}
	for (i = 0; i < NELEM(facilities); i++) {
		if (strcasecmp(v, facilities[i].name) == 0) {
			a->syslog_facility = facilities[i].facility;
			return 0;
		}
	}
	return error_set(err, EX_CONFIG,
	    "must be on, off or a facility: mail, user, daemon, local0 ... "
	    "local7");
}

static const struct key_def key_defs[K_COUNT] = {
    [K_HOST] = {"host", set_host},
    [K_PORT] = {"port", set_port},
    [K_PROVIDER] = {"provider", set_provider},
    [K_DOMAIN] = {"domain", set_domain},
    [K_SOURCE_IP] = {"source_ip", set_source_ip},
    [K_TIMEOUT] = {"timeout", set_timeout},
    [K_CONNECT_TIMEOUT] = {"connect_timeout", set_connect_timeout},
    [K_TLS] = {"tls", set_tls},
    [K_TLS_TRUST_FILE] = {"tls_trust_file", set_tls_trust_file},
    [K_TLS_FINGERPRINT] = {"tls_fingerprint", set_tls_fingerprint},
    [K_TLS_CERT_FILE] = {"tls_cert_file", set_tls_cert_file},
    [K_TLS_KEY_FILE] = {"tls_key_file", set_tls_key_file},
    [K_TLS_PRIORITIES] = {"tls_priorities", set_tls_priorities},
    [K_TLS_SERVER_NAME] = {"tls_server_name", set_tls_server_name},
    [K_AUTH] = {"auth", set_auth},
    [K_USER] = {"user", set_user},
    [K_PASSWORD] = {"password", set_password},
    [K_PASSWORD_FILE] = {"password_file", set_password_file},
    [K_PASSWORD_COMMAND] = {"password_command", set_password_command},
    [K_ALLOW_PLAINTEXT_AUTH] = {"allow_plaintext_auth",
	set_allow_plaintext_auth},
    [K_FROM] = {"from", set_from},
    [K_SENDERS] = {"senders", set_senders},
    [K_DEFAULT_DOMAIN] = {"default_domain", set_default_domain},
    [K_ALIASES] = {"aliases", set_aliases},
    [K_ADD_HEADERS] = {"add_headers", set_add_headers},
    [K_FROM_HEADER] = {"from_header", set_from_header},
    [K_DSN_NOTIFY] = {"dsn_notify", set_dsn_notify},
    [K_DSN_RETURN] = {"dsn_return", set_dsn_return},
    [K_QUEUE_DIR] = {"queue_dir", set_queue_dir},
    [K_QUEUE_LIFETIME] = {"queue_lifetime", set_queue_lifetime},
    [K_ON_TEMPFAIL] = {"on_tempfail", set_on_tempfail},
    [K_LOGFILE] = {"logfile", set_logfile},
    [K_SYSLOG] = {"syslog", set_syslog},
    [K_INHERIT] = {"inherit", NULL},
    [K_ACCOUNT] = {"account", NULL},
};

static int
key_find(const char *name)
{
	int i;

	for (i = 0; i < K_COUNT; i++)
		if (strcmp(key_defs[i].name, name) == 0)
			return i;
	return -1;
}

static bool
is_password_source(int id)
{
	return id == K_PASSWORD || id == K_PASSWORD_FILE ||
	       id == K_PASSWORD_COMMAND;
}

static int add_warning(struct config *, struct error *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
add_warning(struct config *cfg, struct error *err, const char *fmt, ...)
{
	char line[ERROR_MESSAGE_MAX];
	char **tmp;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tmp = realloc(cfg->warnings, (cfg->n_warnings + 1) * sizeof(*tmp));
	if (tmp == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	cfg->warnings = tmp;
	if ((tmp[cfg->n_warnings] = strdup(line)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	cfg->n_warnings++;
	return 0;
}

/* Files ------------------------------------------------------------------ */

/*
 * The rule for a file holding a password: a regular file, not a symlink,
 * owned by the user and readable by nobody else.  The system file may be
 * owned by root and readable by a group (admins grant access that way).
 */
static int
check_secret_mode(const char *path, const struct stat *lst,
    const struct stat *st, bool system, struct error *err)
{
	uid_t uid = geteuid();
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (S_ISLNK(lst->st_mode))
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is a symbolic link; name the "
		    "file itself",
		    path);
	if (!S_ISREG(st->st_mode) || lst->st_dev != st->st_dev ||
	    lst->st_ino != st->st_ino)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is not a regular file", path);
	if (st->st_uid != uid && !(system && st->st_uid == 0))
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is owned by uid %lu, not by you "
		    "(uid %lu)",
		    path, (unsigned long)st->st_uid, (unsigned long)uid);
	if (system && (mode & S_IROTH) != 0)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is readable by others (mode "
		    "%04o); chmod o-rwx %s",
		    path, mode, path);
	if (!system && (mode & (S_IRGRP | S_IROTH)) != 0)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is readable by group/others "
		    "(mode %04o); chmod 600 %s",
		    path, mode, path);
	return 0;
}

/*
 * Read the whole file, bounded, refusing anything but a regular file owned
 * by the user or root: a file someone else controls could run
 * password_command as the user, and its content must never be printed.
 */
static int
read_config(const char *path, int *fd_out, char **data, size_t *len,
    struct stat *lst, struct stat *st, struct error *err)
{
	uid_t uid = geteuid();
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (lstat(path, lst) == -1)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	/* O_NONBLOCK: a FIFO planted as the config must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return error_set(
		    err, EX_CONFIG, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) == -1) {
		error_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		error_set(err, EX_CONFIG, "%s: not a regular file", path);
		goto fail;
	}
	if (st->st_uid != uid && st->st_uid != 0) {
		error_set(err, EX_CONFIG,
		    "%s: owned by uid %lu, neither you (uid %lu) nor root; "
		    "refusing to read it",
		    path, (unsigned long)st->st_uid, (unsigned long)uid);
		goto fail;
	}
	if (st->st_size > FILE_MAX) {
		error_set(
		    err, EX_CONFIG, "%s: larger than %d bytes", path, FILE_MAX);
		goto fail;
	}
	if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto fail;
	}
	/* Read one byte more than fstat said, to notice a growing file. */
	while (n <= (size_t)st->st_size) {
		r = read(fd, buf + n, (size_t)st->st_size + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set(
			    err, EX_CONFIG, "%s: %s", path, strerror(errno));
			secure_wipe(buf, n);
			free(buf);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > (size_t)st->st_size) {
		error_set(err, EX_CONFIG, "%s: changed while being read", path);
		secure_wipe(buf, n);
		free(buf);
		goto fail;
	}
	*data = buf;
	*len = n;
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* iniparser's messages go here, never to stderr.  The syntax message
 * quotes the line after a newline: dropped, it may hold a secret. */
static char ini_message[256];

static int ini_error(const char *, ...) __attribute__((format(printf, 1, 2)));

static int
ini_error(const char *fmt, ...)
{
	va_list ap;
	char *nl;

	if (ini_message[0] != '\0')
		return 0;
	va_start(ap, fmt);
	vsnprintf(ini_message, sizeof(ini_message), fmt, ap);
	va_end(ap);
	if ((nl = strchr(ini_message, '\n')) != NULL)
		*nl = '\0';
	return 0;
}

/*
 * Hand iniparser the file already opened and checked (through /dev/fd, so
 * a file swapped after the checks is never read), then check that it saw
 * what the scan saw.
 */
static int
ini_load(struct loader *ld, int fd, const struct stat *st, struct error *err)
{
	char fdpath[32], keyname[2 * NAME_MAX_LEN + 2];
	const char *name = ld->path, *lp;
	struct stat fst;
	size_t i;
	unsigned line = 0;

	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	if (stat(fdpath, &fst) == 0 && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino && lseek(fd, 0, SEEK_SET) == 0)
		name = fdpath;
	ini_message[0] = '\0';
	iniparser_set_error_callback(ini_error);
	ld->dict = iniparser_load(name);
	iniparser_set_error_callback(NULL);
	if (ld->dict == NULL) {
		if (ini_message[0] == '\0')
			return error_set(err, EX_OSERR,
			    "%s: iniparser could not load the file (out of "
			    "memory?)",
			    ld->path);
		if ((lp = strrchr(ini_message, '(')) != NULL)
			line = (unsigned)strtoul(lp + 1, NULL, 10);
		return error_set(err, EX_CONFIG,
		    "%s:%u: iniparser rejected the file", ld->path, line);
	}
	/* every entry is a section or a key the scan listed */
	if (iniparser_getnsec(ld->dict) != (int)ld->lint.n_sections ||
	    ld->dict->n != (int)(ld->lint.n_sections + ld->n_keys))
		goto mismatch;
	for (i = 0; i < ld->lint.n_sections; i++) {
		line = ld->lint.sections[i].line;
		if (!iniparser_find_entry(ld->dict, ld->lint.sections[i].name))
			goto mismatch;
	}
	for (i = 0; i < ld->n_keys; i++) {
		struct scan_key *k = &ld->keys[i];

		line = k->line;
		snprintf(keyname, sizeof(keyname), "%s:%s",
		    ld->lint.sections[k->section].name, k->name);
		k->value = iniparser_getstring(ld->dict, keyname, NULL);
		if (k->value == NULL)
			goto mismatch;
	}
	return 0;
mismatch:
	return error_set(err, EX_CONFIG,
	    "%s:%u: iniparser read this file differently from mailsub's own "
	    "check",
	    ld->path, line);
}

/* Accounts --------------------------------------------------------------- */

static void
account_free(struct account *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->config_path);
	free_list(a->hosts, a->n_hosts);
	free(a->provider);
	free(a->domain);
	free(a->source_ip);
	free(a->tls_trust_file);
	free(a->tls_fingerprint);
	free(a->tls_cert_file);
	free(a->tls_key_file);
	free(a->tls_priorities);
	free(a->tls_server_name);
	free_list(a->auth_mechs, a->n_auth_mechs);
	free(a->user);
	buf_wipe(&a->password);
	free(a->password_file);
	if (a->password_command != NULL)
		secure_wipe(a->password_command, strlen(a->password_command));
	free(a->password_command);
	free(a->from);
	free_list(a->senders, a->n_senders);
	free(a->default_domain);
	free(a->aliases);
	free(a->dsn_notify);
	free(a->dsn_return);
	free(a->queue_dir);
	free(a->logfile);
	free(a);
}

static struct account *
account_new(const struct loader *ld, const char *name, struct error *err)
{
	struct account *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		return NULL;
	}
	buf_init(&a->password, PASSWORD_MAX);
	if ((a->name = dup_str(name, err)) == NULL ||
	    (a->config_path = dup_str(ld->path, err)) == NULL) {
		account_free(a);
		return NULL;
	}
	a->system = ld->system;
	a->tls = ACCOUNT_TLS_STARTTLS;
	a->timeout = DEFAULT_TIMEOUT;
	a->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	a->auth = ACCOUNT_AUTH_DEFAULT;
	a->add_headers = true;
	a->from_header = ACCOUNT_FROM_FIX;
	a->queue_lifetime = DEFAULT_LIFETIME;
	a->on_tempfail = ACCOUNT_TEMPFAIL_QUEUE;
	/* Daemons and cron read the system file: their failures must land
	 * somewhere an admin looks. */
	a->syslog_facility = ld->system ? LOG_MAIL : -1;
	return a;
}

static int
key_error(const struct loader *ld, const struct scan_key *k, struct error *err)
{
	error_prefix(err, "%s:%u: [%s] %s", ld->path, k->line,
	    ld->lint.sections[k->section].name, k->name);
	return -1;
}

static int
apply_layer(const struct loader *ld, struct account *a, size_t sec,
    enum origin_kind kind, struct origin *org, struct error *err)
{
	size_t i;

	/* A layer naming a password source replaces the inherited one. */
	for (i = 0; i < ld->n_keys; i++) {
		if (ld->keys[i].section == sec &&
		    is_password_source(ld->keys[i].id)) {
			clear_password_sources(a);
			break;
		}
	}
	for (i = 0; i < ld->n_keys; i++) {
		const struct scan_key *k = &ld->keys[i];

		if (k->section != sec || k->id == K_INHERIT ||
		    k->id == K_ACCOUNT)
			continue;
		if (key_defs[k->id].set(a, k->value, err) == -1)
			return key_error(ld, k, err);
		org[k->id].kind = kind;
		org[k->id].key = k;
	}
	return 0;
}

static const struct scan_key *
section_key(const struct loader *ld, size_t sec, int id)
{
	size_t i;

	for (i = 0; i < ld->n_keys; i++)
		if (ld->keys[i].section == sec && ld->keys[i].id == id)
			return &ld->keys[i];
	return NULL;
}

static long
section_find(const struct loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < ld->lint.n_sections; i++)
		if (strcasecmp(ld->lint.sections[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void
account_names(const struct loader *ld, char *dst, size_t size)
{
	size_t i, o = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; i < ld->lint.n_sections && o < size; i++) {
		if ((long)i == ld->defaults)
			continue;
		n = snprintf(dst + o, size - o, "%s%s", o ? ", " : "",
		    ld->lint.sections[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* The inherit chain of an account: chain[0] the account, then parents. */
static int
inherit_chain(const struct loader *ld, size_t sec, size_t *chain, size_t *depth,
    struct error *err)
{
	const struct scan_key *k;
	char names[300];
	size_t n = 1, i, cur = sec;
	long parent;

	chain[0] = sec;
	while ((k = section_key(ld, cur, K_INHERIT)) != NULL) {
		parent = section_find(ld, k->value);
		if (parent < 0 || parent == ld->defaults) {
			account_names(ld, names, sizeof(names));
			error_set(err, EX_CONFIG,
			    parent < 0 ? "names no account (known: %s)"
				       : "[defaults] is inherited by every "
					 "account already (known: %s)",
			    names);
			return key_error(ld, k, err);
		}
		for (i = 0; i < n; i++) {
			if (chain[i] == (size_t)parent) {
				struct buf b;
				size_t j;

				buf_init(&b, 256);
				for (j = 0; j < n; j++)
					buf_printf(&b, NULL, "%s -> ",
					    ld->lint.sections[chain[j]].name);
				error_set(err, EX_CONFIG,
				    "inheritance cycle: %s%s", buf_str(&b),
				    ld->lint.sections[parent].name);
				buf_free(&b);
				return key_error(ld, k, err);
			}
		}
		if (n > INHERIT_DEPTH_MAX) {
			error_set(err, EX_CONFIG,
			    "inherit chain deeper than %d", INHERIT_DEPTH_MAX);
			return key_error(ld, k, err);
		}
		chain[n++] = (size_t)parent;
		cur = (size_t)parent;
	}
	*depth = n;
	return 0;
}

static unsigned
default_port(enum account_tls tls)
{
	switch (tls) {
	case ACCOUNT_TLS_ON:
		return 465; /* RFC 8314 7.3 submissions */
	case ACCOUNT_TLS_OFF:
		return 25;
	case ACCOUNT_TLS_STARTTLS:
		break;
	}
	return 587; /* RFC 6409 */
}

static int
default_queue_dir(bool system, char **out, struct error *err)
{
	const char *s;

	if (system)
		return (*out = dup_str(SYSTEM_QUEUE_DIR, err)) != NULL ? 0 : -1;
	s = getenv("XDG_STATE_HOME");
	if (s != NULL && s[0] == '/')
		return (*out = join(s, "/mailsub/queue", err)) != NULL ? 0 : -1;
	s = getenv("HOME");
	if (s == NULL || *s == '\0' || strcmp(s, "/") == 0)
		s = home_dir();
	if (s == NULL || strcmp(s, "/") == 0)
		return error_set(err, EX_CONFIG,
		    "no home directory for the default queue_dir; set "
		    "queue_dir");
	return (*out = join(s, "/.local/state/mailsub/queue", err)) != NULL
		   ? 0
		   : -1;
}

static bool
mech_needs_password(const char *m)
{
	return strcmp(m, "EXTERNAL") != 0 && strcmp(m, "GSSAPI") != 0;
}

/* Whether authentication would send a password (or token). */
static bool
auth_sends_secret(const struct account *a)
{
	size_t i;

	switch (a->auth) {
	case ACCOUNT_AUTH_OFF:
		return false;
	case ACCOUNT_AUTH_DEFAULT:
		return a->user != NULL;
	case ACCOUNT_AUTH_ON:
		return true;
	case ACCOUNT_AUTH_LIST:
		for (i = 0; i < a->n_auth_mechs; i++)
			if (mech_needs_password(a->auth_mechs[i]))
				return true;
		return false;
	}
	return true;
}

/* Cross-key rules, once the account is complete. */
static int
validate_account(const struct loader *ld, struct account *a, size_t sec,
    const struct origin *org, struct error *err)
{
	const struct scan_key *k;
	size_t i;
	bool remote = false;

	if (a->n_hosts == 0)
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s]: no host (set host or provider here or in "
		    "[defaults])",
		    ld->path, ld->lint.sections[sec].line, a->name);
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL)) {
		k = org[a->tls_cert_file != NULL ? K_TLS_CERT_FILE
						 : K_TLS_KEY_FILE]
			.key;
		error_set(err, EX_CONFIG,
		    "tls_cert_file and tls_key_file go together");
		return key_error(ld, k, err);
	}
	if (a->tls == ACCOUNT_TLS_OFF && a->tls_fingerprint != NULL) {
		error_set(err, EX_CONFIG, "a pin needs TLS, but tls = off");
		return key_error(ld, org[K_TLS_FINGERPRINT].key, err);
	}
	if ((a->auth == ACCOUNT_AUTH_ON ||
		(a->auth == ACCOUNT_AUTH_LIST && auth_sends_secret(a))) &&
	    a->user == NULL) {
		error_set(
		    err, EX_CONFIG, "authentication is on but no user is set");
		return key_error(ld, org[K_AUTH].key, err);
	}
	for (i = 0; i < a->n_hosts; i++)
		if (!is_loopback(a->hosts[i]))
			remote = true;
	/* FAULTS A7, RFC 8314 3: no password over a link anyone can read. */
	if (a->tls == ACCOUNT_TLS_OFF && remote && auth_sends_secret(a)) {
		if (!a->allow_plaintext_auth) {
			k = org[K_TLS].key;
			if (k == NULL)
				return error_set(err, EX_CONFIG,
				    "%s:%u: [%s]: tls = off with "
				    "authentication would send the password in "
				    "clear; set allow_plaintext_auth = on",
				    ld->path, ld->lint.sections[sec].line,
				    a->name);
			error_set(err, EX_CONFIG,
			    "tls = off with authentication would send the "
			    "password in clear; set allow_plaintext_auth = on");
			return key_error(ld, k, err);
		}
		if (add_warning(ld->cfg, err,
			"%s: [%s]: allow_plaintext_auth = on: the password "
			"crosses the network unencrypted",
			ld->path, a->name) == -1)
			return -1;
	}
	if (a->auth == ACCOUNT_AUTH_DEFAULT && a->user == NULL &&
	    (a->has_password || a->password_file != NULL ||
		a->password_command != NULL) &&
	    add_warning(ld->cfg, err,
		"%s: [%s]: a password is set but no user, so mailsub will not "
		"authenticate",
		ld->path, a->name) == -1)
		return -1;
	if (a->tls == ACCOUNT_TLS_OFF &&
	    (a->tls_trust_file != NULL || a->tls_cert_file != NULL ||
		a->tls_server_name != NULL || a->tls_priorities != NULL) &&
	    add_warning(ld->cfg, err,
		"%s: [%s]: tls = off, so the tls_* keys have no effect",
		ld->path, a->name) == -1)
		return -1;
	return 0;
}

/*
 * Layers, weakest first: built-in defaults, [defaults], the provider
 * preset (host, tls; it beats [defaults] so that a preset account keeps a
 * matching port and TLS mode), then the inherited accounts, oldest first,
 * and the account itself.
 */
static int
resolve_account(const struct loader *ld, size_t sec, struct account **out,
    struct error *err)
{
	size_t chain[INHERIT_DEPTH_MAX + 1], depth, i;
	struct origin org[K_COUNT];
	const struct scan_key *pk = NULL, *k;
	const struct config_provider *preset = NULL;
	struct account *a;

	*out = NULL;
	memset(org, 0, sizeof(org));
	if (inherit_chain(ld, sec, chain, &depth, err) == -1)
		return -1;
	if (ld->defaults >= 0)
		pk = section_key(ld, (size_t)ld->defaults, K_PROVIDER);
	for (i = depth; i-- > 0;)
		if ((k = section_key(ld, chain[i], K_PROVIDER)) != NULL)
			pk = k;
	if (pk != NULL && (preset = config_provider_find(pk->value)) == NULL) {
		char names[512];

		provider_names(names, sizeof(names));
		error_set(
		    err, EX_CONFIG, "unknown provider (known: %s)", names);
		return key_error(ld, pk, err);
	}
	if ((a = account_new(ld, ld->lint.sections[sec].name, err)) == NULL)
		return -1;
	if (ld->defaults >= 0 && apply_layer(ld, a, (size_t)ld->defaults,
				     ORIGIN_DEFAULTS, org, err) == -1)
		goto fail;
	if (preset != NULL) {
		if (set_host(a, preset->host, err) == -1)
			goto fail;
		a->tls = preset->tls;
		org[K_HOST].kind = org[K_TLS].kind = ORIGIN_PRESET;
		org[K_HOST].key = org[K_TLS].key = NULL;
	}
	for (i = depth; i-- > 0;)
		if (apply_layer(ld, a, chain[i], ORIGIN_ACCOUNT, org, err) ==
		    -1)
			goto fail;
	/* The port follows the TLS mode unless the account names one: a
	 * preset's port only fits the preset's own TLS mode. */
	if (org[K_PORT].kind != ORIGIN_ACCOUNT) {
		if (preset != NULL)
			a->port = a->tls == preset->tls ? preset->port
							: default_port(a->tls);
		else if (org[K_PORT].kind == ORIGIN_NONE)
			a->port = default_port(a->tls);
	}
	if (a->queue_dir == NULL &&
	    default_queue_dir(ld->system, &a->queue_dir, err) == -1) {
		error_prefix(err, "%s: [%s]", ld->path, a->name);
		goto fail;
	}
	if (validate_account(ld, a, sec, org, err) == -1)
		goto fail;
	*out = a;
	return 0;
fail:
	account_free(a);
	return -1;
}

/* Checks that need only the scan: unknown and misplaced keys, one
 * password source per section. */
static int
check_keys(const struct loader *ld, struct error *err)
{
	size_t i, j;

	for (i = 0; i < ld->n_keys; i++) {
		const struct scan_key *k = &ld->keys[i];
		bool in_defaults = (long)k->section == ld->defaults;

		if (k->id < 0 || (k->id == K_ACCOUNT && !in_defaults)) {
			error_set(err, EX_CONFIG, "unknown key%s",
			    k->id == K_ACCOUNT
				? " (account belongs in [defaults])"
				: "");
			return key_error(ld, k, err);
		}
		if (k->id == K_INHERIT && in_defaults) {
			error_set(err, EX_CONFIG, "not allowed in [defaults]");
			return key_error(ld, k, err);
		}
		if (*k->value == '\0') {
			error_set(err, EX_CONFIG, "empty value");
			return key_error(ld, k, err);
		}
		if (!is_password_source(k->id))
			continue;
		for (j = 0; j < i; j++) {
			if (ld->keys[j].section == k->section &&
			    is_password_source(ld->keys[j].id)) {
				error_set(err, EX_CONFIG,
				    "only one of password, password_file and "
				    "password_command may be set (%s is on "
				    "line %u)",
				    ld->keys[j].name, ld->keys[j].line);
				return key_error(ld, k, err);
			}
		}
	}
	return 0;
}

static int
build_config(struct loader *ld, struct error *err)
{
	struct config *cfg = ld->cfg;
	const struct scan_key *k;
	size_t i;
	char names[300];

	if (check_keys(ld, err) == -1)
		return -1;
	cfg->accounts = calloc(ld->lint.n_sections + 1, sizeof(*cfg->accounts));
	if (cfg->accounts == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < ld->lint.n_sections; i++) {
		if ((long)i == ld->defaults)
			continue;
		if (resolve_account(
			ld, i, &cfg->accounts[cfg->n_accounts], err) == -1)
			return -1;
		cfg->n_accounts++;
	}
	if (cfg->n_accounts == 0)
		return error_set(err, EX_CONFIG,
		    "%s: no account: add a [NAME] section with host (see "
		    "mailsub.conf(5))",
		    ld->path);
	if (ld->defaults >= 0 &&
	    (k = section_key(ld, (size_t)ld->defaults, K_ACCOUNT)) != NULL) {
		long s = section_find(ld, k->value);

		if (s < 0 || s == ld->defaults) {
			account_names(ld, names, sizeof(names));
			error_set(err, EX_CONFIG,
			    "names no account (known: %s)", names);
			return key_error(ld, k, err);
		}
		if ((cfg->default_account =
			    dup_str(ld->lint.sections[s].name, err)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Name every key the scan found, find [defaults], and warn where iniparser
 * will cut an unquoted value at ';' or '#': always for a password (it would
 * be truncated without a word), else when the character is glued to the
 * value rather than starting a comment after a blank.
 */
static int
index_keys(struct loader *ld, struct error *err)
{
	const struct inilint *lint = &ld->lint;
	size_t i;

	for (i = 0; i < lint->n_sections; i++)
		if (strcmp(lint->sections[i].name, "defaults") == 0)
			ld->defaults = (long)i;
	if (lint->n_keys == 0)
		return 0;
	ld->keys = calloc(lint->n_keys, sizeof(*ld->keys));
	if (ld->keys == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	for (i = 0; i < lint->n_keys; i++) {
		const struct inilint_key *lk = &lint->keys[i];
		struct scan_key *k = &ld->keys[i];

		k->section = lk->section;
		k->name = lk->name;
		k->line = lk->line;
		k->id = key_find(lk->name);
		if (k->id == K_PASSWORD)
			ld->has_password = true;
		if (lk->cut != '\0' && (k->id == K_PASSWORD || lk->cut_glued) &&
		    add_warning(ld->cfg, err,
			"%s:%u: [%s] %s: the unquoted value is cut at '%c' "
			"(iniparser reads the rest as a comment); quote the "
			"value",
			ld->path, lk->line, lint->sections[lk->section].name,
			lk->name, lk->cut) == -1)
			return -1;
	}
	ld->n_keys = lint->n_keys;
	return 0;
}

static void
loader_free(struct loader *ld)
{
	int j;

	inilint_free(&ld->lint);
	free(ld->keys);
	if (ld->dict != NULL) {
		/* iniparser frees without clearing: the values include the
		 * password. */
		for (j = 0; j < ld->dict->size; j++)
			if (ld->dict->val[j] != NULL)
				secure_wipe(
				    ld->dict->val[j], strlen(ld->dict->val[j]));
		iniparser_freedict(ld->dict);
	}
}

int
config_load(
    const char *path, bool system, struct config **out, struct error *err)
{
	struct loader ld;
	struct stat lst, st;
	char *data = NULL;
	size_t len = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.system = system;
	ld.defaults = -1;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	if ((ld.cfg->path = dup_str(path, err)) == NULL)
		goto out;
	ld.cfg->system = system;
	if (read_config(path, &fd, &data, &len, &lst, &st, err) == -1)
		goto out;
	if (inilint_scan(data, len, &ld.lint, err) == -1 ||
	    index_keys(&ld, err) == -1)
		goto out;
	/* The permission check comes before syntax errors: it is the one
	 * that matters when both apply. */
	if (ld.has_password &&
	    check_secret_mode(path, &lst, &st, system, err) == -1)
		goto out;
	if (ld.lint.error_line != 0) {
		error_set(err, EX_CONFIG, "%s:%u: %s", path, ld.lint.error_line,
		    ld.lint.error);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    add_warning(ld.cfg, err,
		"%s: writable by group/others (mode %04o): whoever can change "
		"it can run password_command as you",
		path, (unsigned)(st.st_mode & 07777)) == -1)
		goto out;
	if (ini_load(&ld, fd, &st, err) == -1 || build_config(&ld, err) == -1)
		goto out;
	*out = ld.cfg;
	ld.cfg = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (data != NULL) {
		secure_wipe(data, len);
		free(data);
	}
	loader_free(&ld);
	config_free(ld.cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_accounts; i++)
		account_free(cfg->accounts[i]);
	free(cfg->accounts);
	free_list(cfg->warnings, cfg->n_warnings);
	free(cfg->default_account);
	free(cfg->path);
	free(cfg);
}

/* Lookup ----------------------------------------------------------------- */

static bool
path_exists(const char *p)
{
	struct stat st;

	/* Anything but "not there" counts, so that an unreadable file is
	 * reported instead of silently skipped. */
	return stat(p, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static int
explicit_path(const char *p, const char *how, char **path, struct error *err)
{
	struct stat st;

	if (*p == '\0')
		return error_set(err, EX_CONFIG, "%s: empty file name", how);
	if (stat(p, &st) == -1 || access(p, R_OK) == -1)
		return error_set(
		    err, EX_CONFIG, "%s (%s): %s", p, how, strerror(errno));
	return (*path = dup_str(p, err)) != NULL ? 0 : -1;
}

int
config_locate(
    const char *cli_path, char **path, bool *system, struct error *err)
{
	const char *env, *home;
	char *cand[3] = {NULL, NULL, NULL};
	size_t n = 0, i;
	struct buf tried;
	int rc = -1;

	*path = NULL;
	*system = false;
	if (cli_path != NULL)
		return explicit_path(cli_path, "-C", path, err);
	env = getenv("MAILSUB_CONFIG");
	if (env != NULL && *env != '\0')
		return explicit_path(env, "$MAILSUB_CONFIG", path, err);
	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is ignored. */
	env = getenv("XDG_CONFIG_HOME");
	if (env != NULL && env[0] == '/' &&
	    (cand[n++] = join(env, "/mailsub/config.ini", err)) == NULL)
		goto out;
	/* sudo and cron run with HOME=/ or no HOME: no user file then. */
	home = getenv("HOME");
	if (home != NULL && *home != '\0' && strcmp(home, "/") != 0) {
		if ((cand[n] = join(
			 home, "/.config/mailsub/config.ini", err)) == NULL)
			goto out;
		if (n > 0 && strcmp(cand[0], cand[n]) == 0)
			free(cand[n]);
		else
			n++;
	}
	if ((cand[n++] = dup_str(CONFIG_SYSTEM_PATH, err)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (path_exists(cand[i])) {
			*path = cand[i];
			*system = i == n - 1;
			cand[i] = NULL;
			rc = 0;
			goto out;
		}
	}
	buf_init(&tried, ERROR_MESSAGE_MAX);
	for (i = 0; i < n; i++)
		buf_printf(&tried, NULL, "%s%s", i ? ", " : "", cand[i]);
	error_set(err, EX_CONFIG,
	    "no configuration file (tried %s); create one or use -C FILE, see "
	    "mailsub.conf(5)",
	    buf_str(&tried));
	buf_free(&tried);
out:
	for (i = 0; i < n; i++)
		free(cand[i]);
	return rc;
}

/* Selection -------------------------------------------------------------- */

bool
config_sender_matches(const char *pattern, const char *address)
{
	const char *at;

	if (pattern == NULL || address == NULL || *pattern == '\0')
		return false;
	if (strcasecmp(pattern, address) == 0)
		return true;
	if (pattern[0] == '*' && pattern[1] == '@' &&
	    strpbrk(pattern + 2, "*?[") == NULL) {
		/* The whole domain, not a suffix: *@example.com must not
		 * match a@evil-example.com or a@b@example.com. */
		at = strchr(address, '@');
		return at != NULL && at != address &&
		       strchr(at + 1, '@') == NULL &&
		       strcasecmp(at + 1, pattern + 2) == 0;
	}
	return fnmatch(pattern, address, FNM_CASEFOLD) == 0;
}

static void
config_names(const struct config *cfg, char *dst, size_t size)
{
	size_t i, o = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; i < cfg->n_accounts && o < size; i++) {
		n = snprintf(dst + o, size - o, "%s%s", i ? ", " : "",
		    cfg->accounts[i]->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static const struct account *
account_by_name(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++)
		if (strcasecmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

int
config_select(const struct config *cfg, const char *account_name,
    const char *envelope_from, const struct account **out, struct error *err)
{
	char names[300], shown[2 * NAME_MAX_LEN];
	size_t i, j;

	*out = NULL;
	config_names(cfg, names, sizeof(names));
	if (account_name != NULL) {
		if ((*out = account_by_name(cfg, account_name)) != NULL)
			return 0;
		error_escape(shown, sizeof(shown), account_name,
		    strnlen(account_name, NAME_MAX_LEN));
		return error_set(err, EX_CONFIG,
		    "%s: no account named %s (known: %s)", cfg->path, shown,
		    names);
	}
	if (envelope_from != NULL && *envelope_from != '\0') {
		for (i = 0; i < cfg->n_accounts; i++) {
			const struct account *a = cfg->accounts[i];

			for (j = 0; j < a->n_senders; j++) {
				if (config_sender_matches(
					a->senders[j], envelope_from)) {
					*out = a;
					return 0;
				}
			}
		}
	}
	if (cfg->default_account != NULL &&
	    (*out = account_by_name(cfg, cfg->default_account)) != NULL)
		return 0;
	if (cfg->n_accounts == 1) {
		*out = cfg->accounts[0];
		return 0;
	}
	return error_set(err, EX_CONFIG,
	    "%s: several accounts and none chosen: use -a NAME, or set account "
	    "in [defaults] (known: %s)",
	    cfg->path, names);
}

/* Files an account names ------------------------------------------------- */

static int
check_readable(const struct account *acct, const char *key, const char *path,
    struct error *err)
{
	struct stat st;

	if (path == NULL)
		return 0;
	if (stat(path, &st) == -1 || access(path, R_OK) == -1)
		error_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		error_set(err, EX_CONFIG, "%s: not a regular file", path);
	else
		return 0;
	error_prefix(err, "%s: %s", acct->name, key);
	return -1;
}

int
config_check_account_files(const struct account *acct, struct error *err)
{
	struct stat lst, st;

	if (acct->password_file != NULL) {
		if (lstat(acct->password_file, &lst) == -1 ||
		    stat(acct->password_file, &st) == -1 ||
		    access(acct->password_file, R_OK) == -1) {
			error_set(err, EX_CONFIG, "%s: %s", acct->password_file,
			    strerror(errno));
			goto bad_password_file;
		}
		if (check_secret_mode(acct->password_file, &lst, &st,
			acct->system, err) == -1)
			goto bad_password_file;
	}
	if (check_readable(acct, "tls_trust_file", acct->tls_trust_file, err) ==
		-1 ||
	    check_readable(acct, "tls_cert_file", acct->tls_cert_file, err) ==
		-1 ||
	    check_readable(acct, "tls_key_file", acct->tls_key_file, err) ==
		-1 ||
	    check_readable(acct, "aliases", acct->aliases, err) == -1)
		return -1;
	return 0;
bad_password_file:
	error_prefix(err, "%s: password_file", acct->name);
	return -1;
}
