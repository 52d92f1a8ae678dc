/* SPDX-License-Identifier: ISC */
/*
 * The configuration keys: the table of every key mailsub.conf(5) knows, the
 * setter that checks one value and stores it in struct account, the parsers
 * those share, and the account's built-in defaults.  config.c finds the keys
 * in the file and layers them; errors from here never quote the value.
 * Past 800 lines as one job: a key's table line and its setter stay in one
 * file, so that a new key is written in one place (HACKING.md, "A
 * configuration key"); the parsers here serve only the setters.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_keys.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "config_provider.h"
#include "sasl_mechs.h"
#include "sysmode.h"
#include "text.h"

#define HOSTS_MAX		16
#define SENDERS_MAX		256
#define PASSWORD_MAX		CONFIG_INI_LINE_MAX
#define TIMEOUT_MAX		3600
#define LIFETIME_MAX		(366L * 86400)
#define DEFAULT_TIMEOUT		60
#define DEFAULT_CONNECT_TIMEOUT 30
#define DEFAULT_LIFETIME	(5L * 86400)
/* The system spool: $(localstatedir)/spool/mailsub, /var/spool/mailsub in a
 * package (configure --localstatedir=/var). */
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define SYSTEM_QUEUE_DIR	LOCALSTATEDIR "/spool/mailsub"
#define DEFAULT_FAILED_LIFETIME (30L * 86400)
#define FAILED_LIFETIME_MAX	(3660L * 86400)
/* RFC 1035 2.3.4: names up to 255 octets on the wire, 253 as text. */
#define HOSTNAME_MAX 253
#define LABEL_MAX    63
/* max_message_size: above what any public relay takes, far below a full
 * disk. */
#define DEFAULT_MESSAGE_SIZE (256ULL * 1024 * 1024)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct key_def {
	const char *name;
	int (*set)(struct account *, const char *, struct error *);
};

/* Helpers ---------------------------------------------------------------- */

char *
config_keys_dup(const char *s, struct error *err)
{
	char *p = strdup(s);

	if (p == NULL)
		error_set(err, EX_OSERR, "out of memory");
	return p;
}

char *
config_keys_join(const char *a, const char *b, struct error *err)
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
	char *p = config_keys_dup(v, err);

	if (p == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

void
config_keys_free_list(char **l, size_t n)
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
	char **items;
	size_t n = 0, cap = 1;
	const char *p;

	/* A slot for every item up to max, so the array never grows. */
	for (p = v; (p = strchr(p, ',')) != NULL && cap < max; p++)
		cap++;
	if ((items = calloc(cap, sizeof(*items))) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	p = v;
	for (;;) {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end != NULL ? end : p + strlen(p);

		while (s < e && is_blank((unsigned char)*s))
			s++;
		while (e > s && is_blank((unsigned char)e[-1]))
			e--;
		if (s == e) {
			config_keys_free_list(items, n);
			return error_set(err, EX_CONFIG,
			    "item %zu of the list is empty", n + 1);
		}
		if (n == max) {
			config_keys_free_list(items, n);
			return error_set(
			    err, EX_CONFIG, "more than %zu items", max);
		}
		if ((items[n] = strndup(s, (size_t)(e - s))) == NULL) {
			config_keys_free_list(items, n);
			return error_set(err, EX_OSERR, "out of memory");
		}
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
bool
config_keys_is_loopback(const char *h)
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
		/* The setgid program reads only the system file: ~ would
		 * be the caller's home, a path the caller can fill. */
		if (sysmode_privileged())
			return error_set(err, EX_CONFIG,
			    "~ is not expanded in the system configuration");
		home = home_dir();
		if (home == NULL)
			return error_set(
			    err, EX_CONFIG, "~ used but HOME is not set");
		/* HOME=/ (sudo, cron) must not give "//x". */
		if (strcmp(home, "/") == 0 && v[1] == '/')
			home = "";
		p = config_keys_join(home, v + 1, err);
	} else if (v[0] != '/') {
		return error_set(err, EX_CONFIG,
		    "must be an absolute path or start with ~/");
	} else {
		p = config_keys_dup(v, err);
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
			config_keys_free_list(hosts, n);
			return error_set(err, EX_CONFIG,
			    "item %zu is not a host name or IP address", i + 1);
		}
	}
	config_keys_free_list(a->hosts, a->n_hosts);
	a->hosts = hosts;
	a->n_hosts = n;
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
	const struct config_provider *p = config_provider_require(v, err);

	/* The preset's own name is the value in lower case: the match
	 * ignores case. */
	return p != NULL ? set_str(&a->provider, p->name, err) : -1;
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
		if (text_hexval((unsigned char)*p) < 0 || n == 64)
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

static int
set_auth(struct account *a, const char *v, struct error *err)
{
	char **mechs;
	size_t n, i, j;

	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "off") == 0) {
		config_keys_free_list(a->auth_mechs, a->n_auth_mechs);
		a->auth_mechs = NULL;
		a->n_auth_mechs = 0;
		a->auth = strcasecmp(v, "on") == 0 ? ACCOUNT_AUTH_ON
						   : ACCOUNT_AUTH_OFF;
		return 0;
	}
	if (split_list(v, sasl_mech_count(), &mechs, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		upper(mechs[i]);
		if (sasl_mech_find(mechs[i]) == NULL) {
			char known[256];

			config_keys_free_list(mechs, n);
			sasl_mech_names(known, sizeof(known));
			return error_set(err, EX_CONFIG,
			    "item %zu is not on, off or a known mechanism "
			    "(%s)",
			    i + 1, known);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(mechs[i], mechs[j]) == 0) {
				config_keys_free_list(mechs, n);
				return error_set(err, EX_CONFIG,
				    "item %zu is listed twice", i + 1);
			}
		}
	}
	config_keys_free_list(a->auth_mechs, a->n_auth_mechs);
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

void
config_keys_clear_password(struct account *a)
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

static int
set_oauth2_provider(struct account *a, const char *v, struct error *err)
{
	if (strcasecmp(v, "google") == 0)
		a->oauth2_provider = ACCOUNT_OAUTH2_GOOGLE;
	else if (strcasecmp(v, "microsoft") == 0)
		a->oauth2_provider = ACCOUNT_OAUTH2_MICROSOFT;
	else if (strcasecmp(v, "custom") == 0)
		a->oauth2_provider = ACCOUNT_OAUTH2_CUSTOM;
	else
		return error_set(
		    err, EX_CONFIG, "must be google, microsoft or custom");
	return 0;
}

/* Printable ASCII without blanks: what goes into a form field and the
 * token file's one line per value. */
static bool
is_word(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return false;
	return true;
}

static int
set_oauth2_client_id(struct account *a, const char *v, struct error *err)
{
	if (!is_word(v) || strlen(v) > 512)
		return error_set(err, EX_CONFIG,
		    "must be the client id of your application registration "
		    "(printable, no blanks)");
	return set_str(&a->oauth2_client_id, v, err);
}

void
config_keys_clear_client_secret(struct account *a)
{
	buf_wipe(&a->oauth2_client_secret);
	a->has_oauth2_client_secret = false;
	free(a->oauth2_client_secret_file);
	a->oauth2_client_secret_file = NULL;
	if (a->oauth2_client_secret_command != NULL)
		secure_wipe(a->oauth2_client_secret_command,
		    strlen(a->oauth2_client_secret_command));
	free(a->oauth2_client_secret_command);
	a->oauth2_client_secret_command = NULL;
}

static int
set_oauth2_client_secret(struct account *a, const char *v, struct error *err)
{
	buf_wipe(&a->oauth2_client_secret);
	a->has_oauth2_client_secret = false;
	if (buf_appends(&a->oauth2_client_secret, v, err) == -1) {
		buf_wipe(&a->oauth2_client_secret);
		return error_set(err,
		    err->exit_code == EX_OSERR ? EX_OSERR : EX_CONFIG,
		    "too long");
	}
	a->has_oauth2_client_secret = true;
	return 0;
}

static int
set_oauth2_client_secret_file(
    struct account *a, const char *v, struct error *err)
{
	return set_path(&a->oauth2_client_secret_file, v, err);
}

static int
set_oauth2_client_secret_command(
    struct account *a, const char *v, struct error *err)
{
	return set_str(&a->oauth2_client_secret_command, v, err);
}

/* Microsoft's tenant: common, organizations, consumers, a tenant id (a
 * GUID) or a verified domain: one path segment of the endpoint URLs. */
static int
set_oauth2_tenant(struct account *a, const char *v, struct error *err)
{
	if (!hostname_ok(v, false) || strlen(v) > 128)
		return error_set(err, EX_CONFIG,
		    "must be common, organizations, consumers, a tenant id or "
		    "a domain");
	return set_str(&a->oauth2_tenant, v, err);
}

/* RFC 6749 3.1, 3.2: the endpoints are https; no fragment, and nothing
 * that would break the form or the token file's lines. */
static int
set_url(char **dst, const char *v, struct error *err)
{
	if (strncasecmp(v, "https://", 8) != 0 || v[8] == '\0' || v[8] == '/' ||
	    !is_word(v) || strchr(v, '#') != NULL || strlen(v) > 1000)
		return error_set(
		    err, EX_CONFIG, "must be an https:// URL (RFC 6749 3.1)");
	return set_str(dst, v, err);
}

static int
set_oauth2_auth_url(struct account *a, const char *v, struct error *err)
{
	return set_url(&a->oauth2_auth_url, v, err);
}

static int
set_oauth2_token_url(struct account *a, const char *v, struct error *err)
{
	return set_url(&a->oauth2_token_url, v, err);
}

static int
set_oauth2_device_url(struct account *a, const char *v, struct error *err)
{
	return set_url(&a->oauth2_device_url, v, err);
}

/* RFC 6749 3.3: scope tokens of %x21 / %x23-5B / %x5D-7E, separated by
 * single spaces. */
static int
set_oauth2_scope(struct account *a, const char *v, struct error *err)
{
	const char *p;

	for (p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' && p != v && p[1] != '\0' && p[1] != ' ')
			continue;
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return error_set(err, EX_CONFIG,
			    "must be scope tokens separated by single spaces "
			    "(RFC 6749 3.3)");
	}
	return set_str(&a->oauth2_scope, v, err);
}

static int
set_oauth2_trust_file(struct account *a, const char *v, struct error *err)
{
	return set_path(&a->oauth2_trust_file, v, err);
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
			config_keys_free_list(list, n);
			return error_set(err, EX_CONFIG,
			    "item %zu is not an address pattern", i + 1);
		}
	}
	config_keys_free_list(a->senders, a->n_senders);
	a->senders = list;
	a->n_senders = n;
	return 0;
}

/*
 * local_senders = USER: PATTERN [PATTERN ...], USER: ...  (mailsub.conf(5)):
 * stored as "USER:PATTERN", one item per pattern.  USER is a login name
 * or "*"; a pattern is as in senders.
 */
static int
set_local_senders(struct account *a, const char *v, struct error *err)
{
	char **items, **list = NULL;
	size_t n, i, cnt = 0;
	int rc = -1;

	if (split_list(v, SENDERS_MAX, &items, &n, err) == -1)
		return -1;
	if ((list = calloc(SENDERS_MAX, sizeof(*list))) == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *colon = strchr(items[i], ':'), *user = items[i], *p;
		size_t ulen, before = cnt;

		if (colon == NULL) {
			error_set(err, EX_CONFIG,
			    "item %zu is not USER: PATTERN", i + 1);
			goto out;
		}
		for (ulen = (size_t)(colon - user);
		     ulen > 0 && is_blank((unsigned char)user[ulen - 1]);
		     ulen--)
			;
		if (ulen == 0 || strcspn(user, " \t<>@") < ulen) {
			error_set(err, EX_CONFIG,
			    "item %zu does not start with a user name", i + 1);
			goto out;
		}
		p = colon + 1;
		for (;;) {
			size_t plen;

			while (is_blank((unsigned char)*p))
				p++;
			if (*p == '\0')
				break;
			plen = strcspn(p, " \t\r");
			if (memchr(p, '<', plen) != NULL ||
			    memchr(p, '>', plen) != NULL || p[0] == ':') {
				error_set(err, EX_CONFIG,
				    "item %zu holds something that is not an "
				    "address pattern",
				    i + 1);
				goto out;
			}
			if (cnt == SENDERS_MAX) {
				error_set(err, EX_CONFIG,
				    "more than %d patterns", SENDERS_MAX);
				goto out;
			}
			if (asprintf(&list[cnt], "%.*s:%.*s", (int)ulen, user,
				(int)plen, p) == -1) {
				list[cnt] = NULL;
				error_set(err, EX_OSERR, "out of memory");
				goto out;
			}
			cnt++;
			p += plen;
		}
		if (cnt == before) {
			error_set(err, EX_CONFIG,
			    "item %zu names no address pattern", i + 1);
			goto out;
		}
	}
	config_keys_free_list(a->local_senders, a->n_local_senders);
	a->local_senders = list;
	a->n_local_senders = cnt;
	list = NULL;
	rc = 0;
out:
	if (list != NULL)
		config_keys_free_list(list, cnt);
	config_keys_free_list(items, n);
	return rc;
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
	config_keys_free_list(list, n);
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

/* How long failed/ keeps a message; 0 = for ever. */
static int
set_failed_lifetime(struct account *a, const char *v, struct error *err)
{
	long t;

	if (parse_duration(v, FAILED_LIFETIME_MAX, &t) == -1)
		return error_set(err, EX_CONFIG,
		    "must be a duration like 30d, 12h (at most 3660d), or 0 "
		    "to keep failed messages for ever");
	a->failed_lifetime = t;
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
set_max_message_size(struct account *a, const char *v, struct error *err)
{
	unsigned long n;

	if (parse_ulong(v, ULONG_MAX, &n) == -1)
		return error_set(err, EX_CONFIG,
		    "must be a number of bytes (0 for no limit)");
	a->max_message_size = n;
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

/* /etc/mailname ---------------------------------------------------------- */

const char *config_mailname_path = CONFIG_MAILNAME_PATH;

int
config_keys_mailname(char **out, struct error *err)
{
	char buf[HOSTNAME_MAX + 2], *p;
	const char *path = config_mailname_path;
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	*out = NULL;
	/* It completes recipients too: trusted like the aliases file. */
	if (fsperm_check_path(path, FSPERM_MISSING_OK, err) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	n = fdio_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The first line, without its line end and blanks. */
	len = strcspn(buf, "\n");
	while (len > 0 && (is_blank((unsigned char)buf[len - 1])))
		len--;
	buf[len] = '\0';
	for (p = buf; is_blank((unsigned char)*p);)
		p++;
	/* A mail domain: a host name of two labels or more, not localhost;
	 * anything else (a bare host name) is as good as no file. */
	if (!hostname_ok(p, false) || strchr(p, '.') == NULL ||
	    config_keys_is_loopback(p) || strncasecmp(p, "localhost.", 10) == 0)
		return 0;
	return (*out = config_keys_dup(p, err)) != NULL ? 0 : -1;
}

/* The table -------------------------------------------------------------- */

static const struct key_def key_defs[CONFIG_KEYS_COUNT] = {
    [CONFIG_KEYS_HOST] = {"host", set_host},
    [CONFIG_KEYS_PORT] = {"port", set_port},
    [CONFIG_KEYS_PROVIDER] = {"provider", set_provider},
    [CONFIG_KEYS_DOMAIN] = {"domain", set_domain},
    [CONFIG_KEYS_SOURCE_IP] = {"source_ip", set_source_ip},
    [CONFIG_KEYS_TIMEOUT] = {"timeout", set_timeout},
    [CONFIG_KEYS_CONNECT_TIMEOUT] = {"connect_timeout", set_connect_timeout},
    [CONFIG_KEYS_TLS] = {"tls", set_tls},
    [CONFIG_KEYS_TLS_TRUST_FILE] = {"tls_trust_file", set_tls_trust_file},
    [CONFIG_KEYS_TLS_FINGERPRINT] = {"tls_fingerprint", set_tls_fingerprint},
    [CONFIG_KEYS_TLS_CERT_FILE] = {"tls_cert_file", set_tls_cert_file},
    [CONFIG_KEYS_TLS_KEY_FILE] = {"tls_key_file", set_tls_key_file},
    [CONFIG_KEYS_TLS_PRIORITIES] = {"tls_priorities", set_tls_priorities},
    [CONFIG_KEYS_TLS_SERVER_NAME] = {"tls_server_name", set_tls_server_name},
    [CONFIG_KEYS_AUTH] = {"auth", set_auth},
    [CONFIG_KEYS_USER] = {"user", set_user},
    [CONFIG_KEYS_PASSWORD] = {"password", set_password},
    [CONFIG_KEYS_PASSWORD_FILE] = {"password_file", set_password_file},
    [CONFIG_KEYS_PASSWORD_COMMAND] = {"password_command", set_password_command},
    [CONFIG_KEYS_ALLOW_PLAINTEXT_AUTH] = {"allow_plaintext_auth",
	set_allow_plaintext_auth},
    [CONFIG_KEYS_OAUTH2_PROVIDER] = {"oauth2_provider", set_oauth2_provider},
    [CONFIG_KEYS_OAUTH2_CLIENT_ID] = {"oauth2_client_id", set_oauth2_client_id},
    [CONFIG_KEYS_OAUTH2_CLIENT_SECRET] = {"oauth2_client_secret",
	set_oauth2_client_secret},
    [CONFIG_KEYS_OAUTH2_CLIENT_SECRET_FILE] = {"oauth2_client_secret_file",
	set_oauth2_client_secret_file},
    [CONFIG_KEYS_OAUTH2_CLIENT_SECRET_COMMAND] =
	{"oauth2_client_secret_command", set_oauth2_client_secret_command},
    [CONFIG_KEYS_OAUTH2_TENANT] = {"oauth2_tenant", set_oauth2_tenant},
    [CONFIG_KEYS_OAUTH2_AUTH_URL] = {"oauth2_auth_url", set_oauth2_auth_url},
    [CONFIG_KEYS_OAUTH2_TOKEN_URL] = {"oauth2_token_url", set_oauth2_token_url},
    [CONFIG_KEYS_OAUTH2_DEVICE_URL] = {"oauth2_device_url",
	set_oauth2_device_url},
    [CONFIG_KEYS_OAUTH2_SCOPE] = {"oauth2_scope", set_oauth2_scope},
    [CONFIG_KEYS_OAUTH2_TRUST_FILE] = {"oauth2_trust_file",
	set_oauth2_trust_file},
    [CONFIG_KEYS_FROM] = {"from", set_from},
    [CONFIG_KEYS_SENDERS] = {"senders", set_senders},
    [CONFIG_KEYS_DEFAULT_DOMAIN] = {"default_domain", set_default_domain},
    [CONFIG_KEYS_ALIASES] = {"aliases", set_aliases},
    [CONFIG_KEYS_ADD_HEADERS] = {"add_headers", set_add_headers},
    [CONFIG_KEYS_FROM_HEADER] = {"from_header", set_from_header},
    [CONFIG_KEYS_DSN_NOTIFY] = {"dsn_notify", set_dsn_notify},
    [CONFIG_KEYS_DSN_RETURN] = {"dsn_return", set_dsn_return},
    [CONFIG_KEYS_QUEUE_DIR] = {"queue_dir", set_queue_dir},
    [CONFIG_KEYS_QUEUE_LIFETIME] = {"queue_lifetime", set_queue_lifetime},
    [CONFIG_KEYS_FAILED_LIFETIME] = {"failed_lifetime", set_failed_lifetime},
    [CONFIG_KEYS_ON_TEMPFAIL] = {"on_tempfail", set_on_tempfail},
    [CONFIG_KEYS_LOGFILE] = {"logfile", set_logfile},
    [CONFIG_KEYS_SYSLOG] = {"syslog", set_syslog},
    [CONFIG_KEYS_MAX_MESSAGE_SIZE] = {"max_message_size", set_max_message_size},
    [CONFIG_KEYS_LOCAL_SENDERS] = {"local_senders", set_local_senders},
    [CONFIG_KEYS_INHERIT] = {"inherit", NULL},
    [CONFIG_KEYS_ACCOUNT] = {"account", NULL},
};

int
config_keys_find(const char *name)
{
	int i;

	for (i = 0; i < CONFIG_KEYS_COUNT; i++)
		if (strcmp(key_defs[i].name, name) == 0)
			return i;
	return -1;
}

int
config_keys_apply(struct account *a, enum config_keys_id id, const char *value,
    struct error *err)
{
	/* inherit and account are the loader's: calling this for them is a
	 * bug, not a problem in the file. */
	assert(id < CONFIG_KEYS_COUNT && key_defs[id].set != NULL);
	return key_defs[id].set(a, value, err);
}

bool
config_keys_is_password_source(int id)
{
	return id == CONFIG_KEYS_PASSWORD || id == CONFIG_KEYS_PASSWORD_FILE ||
	       id == CONFIG_KEYS_PASSWORD_COMMAND;
}

bool
config_keys_is_client_secret_source(int id)
{
	return id == CONFIG_KEYS_OAUTH2_CLIENT_SECRET ||
	       id == CONFIG_KEYS_OAUTH2_CLIENT_SECRET_FILE ||
	       id == CONFIG_KEYS_OAUTH2_CLIENT_SECRET_COMMAND;
}

/* The account ------------------------------------------------------------ */

void
config_keys_account_free(struct account *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->config_path);
	config_keys_free_list(a->hosts, a->n_hosts);
	free(a->provider);
	free(a->domain);
	free(a->mailname);
	free(a->source_ip);
	free(a->tls_trust_file);
	free(a->tls_fingerprint);
	free(a->tls_cert_file);
	free(a->tls_key_file);
	free(a->tls_priorities);
	free(a->tls_server_name);
	config_keys_free_list(a->auth_mechs, a->n_auth_mechs);
	free(a->user);
	buf_wipe(&a->password);
	free(a->password_file);
	if (a->password_command != NULL)
		secure_wipe(a->password_command, strlen(a->password_command));
	free(a->password_command);
	config_keys_clear_client_secret(a);
	free(a->oauth2_client_id);
	free(a->oauth2_tenant);
	free(a->oauth2_auth_url);
	free(a->oauth2_token_url);
	free(a->oauth2_device_url);
	free(a->oauth2_scope);
	free(a->oauth2_trust_file);
	free(a->from);
	config_keys_free_list(a->senders, a->n_senders);
	config_keys_free_list(a->local_senders, a->n_local_senders);
	free(a->default_domain);
	free(a->aliases);
	free(a->dsn_notify);
	free(a->dsn_return);
	free(a->queue_dir);
	free(a->logfile);
	free(a);
}

struct account *
config_keys_account_new(
    const char *name, const char *path, bool system, struct error *err)
{
	struct account *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		return NULL;
	}
	buf_init(&a->password, PASSWORD_MAX);
	buf_init(&a->oauth2_client_secret, PASSWORD_MAX);
	if ((a->name = config_keys_dup(name, err)) == NULL ||
	    (a->config_path = config_keys_dup(path, err)) == NULL) {
		config_keys_account_free(a);
		return NULL;
	}
	a->system = system;
	a->tls = ACCOUNT_TLS_STARTTLS;
	a->timeout = DEFAULT_TIMEOUT;
	a->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	a->auth = ACCOUNT_AUTH_DEFAULT;
	a->add_headers = true;
	a->from_header = ACCOUNT_FROM_FIX;
	a->queue_lifetime = DEFAULT_LIFETIME;
	a->failed_lifetime = DEFAULT_FAILED_LIFETIME;
	a->on_tempfail = ACCOUNT_TEMPFAIL_QUEUE;
	a->max_message_size = DEFAULT_MESSAGE_SIZE;
	/* Daemons and cron read the system file: their failures must land
	 * somewhere an admin looks. */
	a->syslog_facility = system ? LOG_MAIL : -1;
	return a;
}

unsigned
config_keys_default_port(enum account_tls tls)
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

int
config_keys_default_queue_dir(bool system, char **out, struct error *err)
{
	const char *s;

	if (system) {
		*out = config_keys_dup(SYSTEM_QUEUE_DIR, err);
	} else if ((s = getenv("XDG_STATE_HOME")) != NULL && s[0] == '/') {
		*out = config_keys_join(s, "/mailsub/queue", err);
	} else {
		s = getenv("HOME");
		if (s == NULL || *s == '\0' || strcmp(s, "/") == 0)
			s = home_dir();
		if (s == NULL || strcmp(s, "/") == 0)
			return error_set(err, EX_CONFIG,
			    "no home directory for the default queue_dir; set "
			    "queue_dir");
		*out = config_keys_join(s, "/.local/state/mailsub/queue", err);
	}
	return *out != NULL ? 0 : -1;
}
