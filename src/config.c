/* SPDX-License-Identifier: ISC */
/*
 * The configuration file.  The file is read once and scanned line by line
 * for the inputs iniparser 4.1 fails on or silently misreads, so that every
 * problem is reported as FILE:LINE; only then does iniparser parse it, and
 * its values are copied into struct account with [defaults], inherit and
 * provider presets (presets.c) applied and every key validated (each key's
 * own check is in config_keys.c).  No value from the file is ever echoed in
 * an error or a warning: only key and account names.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef HAVE_INIPARSER_INIPARSER_H
#include <iniparser/iniparser.h>
#else
#include <iniparser.h>
#endif

#include "address.h"
#include "buf.h"
#include "cache.h"
#include "config.h"
#include "config_keys.h"
#include "error.h"
#include "fsperm.h"
#include "inilint.h"
#include "queue.h"
#include "sasl_mechs.h"

/* A configuration file is a few KiB; anything past this is a mistake. */
#define FILE_MAX	  (1024 * 1024)
#define NAME_MAX_LEN	  INILINT_NAME_MAX
#define INHERIT_DEPTH_MAX 8

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
	int id;		   /* enum config_keys_id, or -1 */
	const char *value; /* borrowed from iniparser's dictionary */
	bool empty;	   /* an empty value: the key is not set */
};

struct origin {
	enum origin_kind kind;
	const struct scan_key *key;
};

struct loader {
	const char *path;
	const char *text; /* the file as read, for the values as written */
	bool system;
	struct config *cfg;
	struct inilint lint;
	struct scan_key *keys;
	size_t n_keys;
	bool has_password;
	long defaults; /* index of [defaults], or -1 */
	dictionary *dict;
	char *mailname; /* /etc/mailname's domain, once read */
	bool mailname_read;
};

static int add_finding(struct config *, struct error *, enum config_severity,
    unsigned, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 7, 8)));

static int
add_finding(struct config *cfg, struct error *err, enum config_severity sev,
    unsigned line, const char *account, const char *key, const char *fmt, ...)
{
	char msg[ERROR_MESSAGE_MAX];
	struct config_finding *tmp, *f;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tmp = realloc(cfg->findings, (cfg->n_findings + 1) * sizeof(*tmp));
	if (tmp == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	cfg->findings = tmp;
	f = &tmp[cfg->n_findings];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->line = line;
	if ((account != NULL && (f->account = strdup(account)) == NULL) ||
	    (key != NULL && (f->key = strdup(key)) == NULL) ||
	    (f->message = strdup(msg)) == NULL) {
		free(f->account);
		free(f->key);
		return error_set(err, EX_OSERR, "out of memory");
	}
	cfg->n_findings++;
	return 0;
}

void
config_finding_format(const struct config *cfg, const struct config_finding *f,
    char *dst, size_t size)
{
	char line[16] = "";

	if (f->line != 0)
		snprintf(line, sizeof(line), ":%u", f->line);
	snprintf(dst, size, "%s%s: %s%s%s%s%s%s", cfg->path, line,
	    f->account != NULL ? "[" : "", f->account != NULL ? f->account : "",
	    f->account != NULL ? "]" : "",
	    f->key != NULL ? (f->account != NULL ? " " : "") : "",
	    f->key != NULL ? f->key : "",
	    f->account != NULL || f->key != NULL ? ": " : "");
	snprintf(dst + strlen(dst), size - strlen(dst), "%s", f->message);
}

/* Files ------------------------------------------------------------------ */

/*
 * A file holding a password: no symbolic link (name the file itself), and
 * the rule of fsperm.h for secrets; the system file may be owned by root
 * and readable by a group (admins grant access that way).
 */
static int
check_secret_mode(const char *path, const struct stat *lst,
    const struct stat *st, bool system, struct error *err)
{
	if (S_ISLNK(lst->st_mode))
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is a symbolic link; name the "
		    "file itself",
		    path);
	if (!S_ISREG(st->st_mode) || lst->st_dev != st->st_dev ||
	    lst->st_ino != st->st_ino)
		return error_set(err, EX_CONFIG,
		    "%s: holds a password but is not a regular file", path);
	return fsperm_check_stat(
	    path, st, FSPERM_SECRET | (system ? FSPERM_SYSTEM : 0), err);
}

/*
 * Read the whole file, bounded, refusing anything but a regular file; whose
 * it is, config_load() checks next (its content is never printed).
 */
static int
read_config(const char *path, int *fd_out, char **data, size_t *len,
    struct stat *lst, struct stat *st, struct error *err)
{
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

/* Keys whose value may hold blanks before a ';' or '#' that belongs to
 * it: a secret, and a command for /bin/sh. */
static bool
cut_always_refused(int id)
{
	return id == CONFIG_KEYS_PASSWORD || id == CONFIG_KEYS_PASSWORD_COMMAND;
}

/*
 * Compare what iniparser made of an unquoted value with its text on the
 * line.  iniparser ends such a value at the first ';' or '#' and drops the
 * rest as a comment.  That is a comment when a blank comes before it
 * ("host = a.example ; the relay"), except for a password or a command,
 * which may hold blanks; glued to the value ("pa#ss") it is not, and
 * mailsub never uses the value cut short (mailsub.conf(5), Syntax).
 */
static int
check_cut(const struct loader *ld, const struct scan_key *k,
    const struct inilint_key *lk, struct error *err)
{
	const char *raw = ld->text + lk->value_off;
	size_t vlen = strlen(k->value), p;
	const char *sec = ld->lint.sections[k->section].name;

	if (lk->quoted)
		return 0;
	if (vlen == lk->value_len && memcmp(raw, k->value, vlen) == 0)
		return 0;
	/* iniparser strips the blanks before what it cut off */
	for (p = vlen; p < lk->value_len && (raw[p] == ' ' || raw[p] == '\t');)
		p++;
	if (vlen > lk->value_len || memcmp(raw, k->value, vlen) != 0 ||
	    p == lk->value_len || (raw[p] != ';' && raw[p] != '#'))
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s] %s: iniparser read the value differently "
		    "from the line; quote the value",
		    ld->path, k->line, sec, k->name);
	if ((p == vlen && vlen > 0) || cut_always_refused(k->id))
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s] %s: iniparser ends an unquoted value at "
		    "'%c' and reads the rest as a comment; quote the value: "
		    "%s = \"...\"%s",
		    ld->path, k->line, sec, k->name, raw[p], k->name,
		    p > vlen ? ", or put the comment on a line of its own"
			     : "");
	return 0;
}

/*
 * Hand iniparser the file already opened and checked (through /dev/fd, so
 * a file swapped after the checks is never read), then check that it saw
 * what the scan saw, and that it kept every value whole.
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
		if (check_cut(ld, k, &ld->lint.keys[i], err) == -1)
			return -1;
		k->empty = *k->value == '\0';
	}
	return 0;
mismatch:
	return error_set(err, EX_CONFIG,
	    "%s:%u: iniparser read this file differently from mailsub's own "
	    "check",
	    ld->path, line);
}

/* Accounts --------------------------------------------------------------- */

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
		if (ld->keys[i].section == sec && !ld->keys[i].empty &&
		    config_keys_is_password_source(ld->keys[i].id)) {
			config_keys_clear_password(a);
			break;
		}
	}
	for (i = 0; i < ld->n_keys; i++) {
		const struct scan_key *k = &ld->keys[i];

		if (k->section != sec || k->empty ||
		    k->id == CONFIG_KEYS_INHERIT ||
		    k->id == CONFIG_KEYS_ACCOUNT)
			continue;
		if (config_keys_apply(
			a, (enum config_keys_id)k->id, k->value, err) == -1)
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
		if (ld->keys[i].section == sec && ld->keys[i].id == id &&
		    !ld->keys[i].empty)
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
	while ((k = section_key(ld, cur, CONFIG_KEYS_INHERIT)) != NULL) {
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

/* Whether authentication would send a password (or token). */
static bool
auth_sends_secret(const struct account *a)
{
	const struct sasl_mech *m;
	size_t i;

	if (!sasl_auth_needed(a))
		return false;
	if (a->auth != ACCOUNT_AUTH_LIST)
		return true;
	for (i = 0; i < a->n_auth_mechs; i++) {
		m = sasl_mech_find(a->auth_mechs[i]);
		if (m == NULL || (m->flags & SASL_MECH_PASSWORD))
			return true;
	}
	return false;
}

bool
config_port_tls_mismatch(const struct account *a, char *why, size_t size)
{
	/* RFC 8314 7.3: 465 is implicit TLS; RFC 6409 and 5321: 587 and
	 * 25 begin in plain text, with STARTTLS (RFC 3207) if at all. */
	if (a->port == 465 && a->tls != ACCOUNT_TLS_ON) {
		snprintf(why, size,
		    "port 465 speaks TLS from the first byte: set tls = on "
		    "(with tls = %s mailsub waits for a greeting that never "
		    "comes)",
		    a->tls == ACCOUNT_TLS_OFF ? "off" : "starttls");
		return true;
	}
	if ((a->port == 587 || a->port == 25) && a->tls == ACCOUNT_TLS_ON) {
		snprintf(why, size,
		    "port %u speaks plain SMTP first: set tls = starttls "
		    "(with tls = on the TLS handshake fails)",
		    a->port);
		return true;
	}
	return false;
}

/* The sender's domain (mailsub.conf(5), from): a bare from needs one, and
 * without from and a domain only -f can name the sender. */
static int
validate_from(const struct loader *ld, const struct account *a, size_t sec,
    const struct origin *org, struct error *err)
{
	if (a->default_domain != NULL)
		return 0;
	if (a->from != NULL && address_is_bare(a->from)) {
		error_set(err, EX_CONFIG,
		    "no domain to complete it with (no default_domain, and "
		    "%s names none): write the whole address, from = "
		    "NAME@example.com, or set default_domain",
		    config_mailname_path);
		return key_error(ld, org[CONFIG_KEYS_FROM].key, err);
	}
	if (a->from == NULL)
		return add_finding(ld->cfg, err, CONFIG_WARNING,
		    ld->lint.sections[sec].line, a->name, NULL,
		    "no from and no domain for the sender (no "
		    "default_domain, and %s names none): mailsub sends "
		    "nothing without -f ADDRESS; set from = ADDRESS",
		    config_mailname_path);
	return 0;
}

/* Cross-key rules, once the account is complete. */
static int
validate_account(const struct loader *ld, struct account *a, size_t sec,
    const struct origin *org, struct error *err)
{
	const struct scan_key *k;
	char why[200];
	size_t i;
	bool remote = false;

	if (a->n_hosts == 0)
		return error_set(err, EX_CONFIG,
		    "%s:%u: [%s]: no host (set host or provider here or in "
		    "[defaults])",
		    ld->path, ld->lint.sections[sec].line, a->name);
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL)) {
		k = org[a->tls_cert_file != NULL ? CONFIG_KEYS_TLS_CERT_FILE
						 : CONFIG_KEYS_TLS_KEY_FILE]
			.key;
		error_set(err, EX_CONFIG,
		    "tls_cert_file and tls_key_file go together");
		return key_error(ld, k, err);
	}
	if (a->tls == ACCOUNT_TLS_OFF && a->tls_fingerprint != NULL) {
		error_set(err, EX_CONFIG, "a pin needs TLS, but tls = off");
		return key_error(ld, org[CONFIG_KEYS_TLS_FINGERPRINT].key, err);
	}
	if ((a->auth == ACCOUNT_AUTH_ON ||
		(a->auth == ACCOUNT_AUTH_LIST && auth_sends_secret(a))) &&
	    a->user == NULL) {
		error_set(
		    err, EX_CONFIG, "authentication is on but no user is set");
		return key_error(ld, org[CONFIG_KEYS_AUTH].key, err);
	}
	for (i = 0; i < a->n_hosts; i++)
		if (!config_keys_is_loopback(a->hosts[i]))
			remote = true;
	/* tests/FAULTS.md 7, RFC 8314 3: no password over a link anyone can
	 * read. */
	if (a->tls == ACCOUNT_TLS_OFF && remote && auth_sends_secret(a)) {
		if (!a->allow_plaintext_auth) {
			k = org[CONFIG_KEYS_TLS].key;
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
		if (add_finding(ld->cfg, err, CONFIG_NOTE, 0, a->name, NULL,
			"allow_plaintext_auth = on: the password crosses the "
			"network unencrypted") == -1)
			return -1;
	}
	if (a->auth == ACCOUNT_AUTH_DEFAULT && a->user == NULL &&
	    (a->has_password || a->password_file != NULL ||
		a->password_command != NULL) &&
	    add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name, NULL,
		"a password is set but no user, so mailsub will not "
		"authenticate") == -1)
		return -1;
	if (a->tls == ACCOUNT_TLS_OFF &&
	    (a->tls_trust_file != NULL || a->tls_cert_file != NULL ||
		a->tls_server_name != NULL || a->tls_priorities != NULL) &&
	    add_finding(ld->cfg, err, CONFIG_WARNING, 0, a->name, NULL,
		"tls = off, so the tls_* keys have no effect") == -1)
		return -1;
	k = org[CONFIG_KEYS_PORT].key != NULL ? org[CONFIG_KEYS_PORT].key
					      : org[CONFIG_KEYS_TLS].key;
	if (config_port_tls_mismatch(a, why, sizeof(why)) &&
	    add_finding(ld->cfg, err, CONFIG_WARNING,
		k != NULL ? k->line : ld->lint.sections[sec].line, a->name,
		NULL, "%s", why) == -1)
		return -1;
	return validate_from(ld, a, sec, org, err);
}

/*
 * Layers, weakest first: built-in defaults, [defaults], the provider
 * preset (host, tls; it beats [defaults] so that a preset account keeps a
 * matching port and TLS mode), then the inherited accounts, oldest first,
 * and the account itself.
 */
static int
resolve_account(
    struct loader *ld, size_t sec, struct account **out, struct error *err)
{
	size_t chain[INHERIT_DEPTH_MAX + 1], depth, i;
	struct origin org[CONFIG_KEYS_COUNT];
	const struct scan_key *pk = NULL, *k;
	const struct config_provider *preset = NULL;
	struct account *a;

	*out = NULL;
	memset(org, 0, sizeof(org));
	if (inherit_chain(ld, sec, chain, &depth, err) == -1)
		return -1;
	if (ld->defaults >= 0)
		pk =
		    section_key(ld, (size_t)ld->defaults, CONFIG_KEYS_PROVIDER);
	for (i = depth; i-- > 0;)
		if ((k = section_key(ld, chain[i], CONFIG_KEYS_PROVIDER)) !=
		    NULL)
			pk = k;
	if (pk != NULL &&
	    (preset = config_provider_require(pk->value, err)) == NULL)
		return key_error(ld, pk, err);
	if ((a = config_keys_account_new(ld->lint.sections[sec].name, ld->path,
		 ld->system, err)) == NULL)
		return -1;
	if (ld->defaults >= 0 && apply_layer(ld, a, (size_t)ld->defaults,
				     ORIGIN_DEFAULTS, org, err) == -1)
		goto fail;
	if (preset != NULL) {
		if (config_keys_apply(a, CONFIG_KEYS_HOST, preset->host, err) ==
		    -1)
			goto fail;
		a->tls = preset->tls;
		org[CONFIG_KEYS_HOST].kind = org[CONFIG_KEYS_TLS].kind =
		    ORIGIN_PRESET;
		org[CONFIG_KEYS_HOST].key = org[CONFIG_KEYS_TLS].key = NULL;
	}
	for (i = depth; i-- > 0;)
		if (apply_layer(ld, a, chain[i], ORIGIN_ACCOUNT, org, err) ==
		    -1)
			goto fail;
	/* The port follows the TLS mode unless the account names one: a
	 * preset's port only fits the preset's own TLS mode. */
	if (org[CONFIG_KEYS_PORT].kind != ORIGIN_ACCOUNT) {
		if (preset != NULL)
			a->port = a->tls == preset->tls
				      ? preset->port
				      : config_keys_default_port(a->tls);
		else if (org[CONFIG_KEYS_PORT].kind == ORIGIN_NONE)
			a->port = config_keys_default_port(a->tls);
	}
	if (a->queue_dir == NULL && config_keys_default_queue_dir(
					ld->system, &a->queue_dir, err) == -1) {
		error_prefix(err, "%s: [%s]", ld->path, a->name);
		goto fail;
	}
	/* Debian's convention: /etc/mailname is the domain of the mail the
	 * system sends. */
	if (!ld->mailname_read) {
		if (config_keys_mailname(&ld->mailname, err) == -1) {
			error_prefix(err, "%s: [%s]", ld->path, a->name);
			goto fail;
		}
		ld->mailname_read = true;
	}
	if (ld->mailname != NULL &&
	    (a->mailname = config_keys_dup(ld->mailname, err)) == NULL)
		goto fail;
	if (a->default_domain == NULL && a->mailname != NULL) {
		if ((a->default_domain = config_keys_dup(a->mailname, err)) ==
		    NULL)
			goto fail;
		a->default_domain_mailname = true;
	}
	if (validate_account(ld, a, sec, org, err) == -1)
		goto fail;
	*out = a;
	return 0;
fail:
	config_keys_account_free(a);
	return -1;
}

/* Checks that need only the scan: unknown and misplaced keys, empty
 * values, one password source per section. */
static int
check_keys(const struct loader *ld, struct error *err)
{
	size_t i, j;

	for (i = 0; i < ld->n_keys; i++) {
		const struct scan_key *k = &ld->keys[i];
		bool in_defaults = (long)k->section == ld->defaults;

		if (k->id < 0 ||
		    (k->id == CONFIG_KEYS_ACCOUNT && !in_defaults)) {
			error_set(err, EX_CONFIG, "unknown key%s",
			    k->id == CONFIG_KEYS_ACCOUNT
				? " (account belongs in [defaults])"
				: "");
			return key_error(ld, k, err);
		}
		if (k->id == CONFIG_KEYS_INHERIT && in_defaults) {
			error_set(err, EX_CONFIG, "not allowed in [defaults]");
			return key_error(ld, k, err);
		}
		if (k->empty && k->id == CONFIG_KEYS_HOST) {
			error_set(err, EX_CONFIG,
			    "empty value: an account needs a host; leave the "
			    "line out to take the one of [defaults], the "
			    "provider or an inherited account");
			return key_error(ld, k, err);
		}
		/* An empty value is the key not set (mailsub.conf(5)):
		 * configuration tools write one for a key they leave unset. */
		if (k->empty) {
			if (add_finding(ld->cfg, err, CONFIG_NOTE, k->line,
				ld->lint.sections[k->section].name, k->name,
				"empty value: the key is not set") == -1)
				return -1;
			continue;
		}
		if (!config_keys_is_password_source(k->id))
			continue;
		for (j = 0; j < i; j++) {
			if (ld->keys[j].section == k->section &&
			    !ld->keys[j].empty &&
			    config_keys_is_password_source(ld->keys[j].id)) {
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
	if (ld->defaults >= 0 && (k = section_key(ld, (size_t)ld->defaults,
				      CONFIG_KEYS_ACCOUNT)) != NULL) {
		long s = section_find(ld, k->value);

		if (s < 0 || s == ld->defaults) {
			account_names(ld, names, sizeof(names));
			error_set(err, EX_CONFIG,
			    "names no account (known: %s)", names);
			return key_error(ld, k, err);
		}
		if ((cfg->default_account = config_keys_dup(
			 ld->lint.sections[s].name, err)) == NULL)
			return -1;
	}
	return 0;
}

/* Name every key the scan found and find [defaults]. */
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
		k->id = config_keys_find(lk->name);
		if (k->id == CONFIG_KEYS_PASSWORD)
			ld->has_password = true;
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
	free(ld->mailname);
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
	if ((ld.cfg->path = config_keys_dup(path, err)) == NULL)
		goto out;
	ld.cfg->system = system;
	if (read_config(path, &fd, &data, &len, &lst, &st, err) == -1)
		goto out;
	ld.text = data;
	if (inilint_scan(data, len, &ld.lint, err) == -1 ||
	    index_keys(&ld, err) == -1)
		goto out;
	/* The permission checks come before syntax errors: they are the
	 * ones that matter when both apply.  Every config is trusted input
	 * (fsperm.h), not only one with a secret: its keys choose the
	 * server a password goes to, the commands run and the files written.
	 * The walk checks the way to the file; fsperm_check_stat() the file
	 * that was opened. */
	if (ld.has_password &&
	    check_secret_mode(path, &lst, &st, system, err) == -1)
		goto out;
	if (fsperm_check_path(path, 0, err) == -1 ||
	    fsperm_check_stat(path, &st, 0, err) == -1)
		goto out;
	if (ld.lint.error_line != 0) {
		error_set(err, EX_CONFIG, "%s:%u: %s", path, ld.lint.error_line,
		    ld.lint.error);
		goto out;
	}
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
		config_keys_account_free(cfg->accounts[i]);
	free(cfg->accounts);
	for (i = 0; i < cfg->n_findings; i++) {
		free(cfg->findings[i].account);
		free(cfg->findings[i].key);
		free(cfg->findings[i].message);
	}
	free(cfg->findings);
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
	return (*path = config_keys_dup(p, err)) != NULL ? 0 : -1;
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
	    (cand[n++] = config_keys_join(env, "/mailsub/config.ini", err)) ==
		NULL)
		goto out;
	/* sudo and cron run with HOME=/ or no HOME: no user file then. */
	home = getenv("HOME");
	if (home != NULL && *home != '\0' && strcmp(home, "/") != 0) {
		if ((cand[n] = config_keys_join(
			 home, "/.config/mailsub/config.ini", err)) == NULL)
			goto out;
		if (n > 0 && strcmp(cand[0], cand[n]) == 0)
			free(cand[n]);
		else
			n++;
	}
	if ((cand[n++] = config_keys_dup(CONFIG_SYSTEM_PATH, err)) == NULL)
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

/* A file the account reads: trusted (fsperm.h) and readable. */
static int
check_file(const struct account *acct, const char *key, const char *path,
    unsigned flags, struct error *err)
{
	if (path == NULL)
		return 0;
	if (fsperm_check_path(path, flags, err) == 0) {
		if (access(path, R_OK) == 0)
			return 0;
		error_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
	}
	error_prefix(err, "%s: %s", acct->name, key);
	return -1;
}

int
config_check_account_files(const struct account *acct, struct error *err)
{
	if (check_file(acct, "password_file", acct->password_file,
		FSPERM_SECRET | FSPERM_NOFOLLOW |
		    (acct->system ? FSPERM_SYSTEM : 0),
		err) == -1 ||
	    check_file(acct, "tls_trust_file", acct->tls_trust_file, 0, err) ==
		-1 ||
	    check_file(acct, "tls_cert_file", acct->tls_cert_file, 0, err) ==
		-1 ||
	    check_file(acct, "tls_key_file", acct->tls_key_file, 0, err) ==
		-1 ||
	    check_file(acct, "aliases", acct->aliases, 0, err) == -1)
		return -1;
	/* The directories a run writes: the queue, the state (cache) and
	 * the logfile's. */
	if (acct->queue_dir != NULL &&
	    queue_check(acct->queue_dir, err) == -1) {
		error_prefix(err, "%s: queue_dir", acct->name);
		return -1;
	}
	if (cache_check(err) == -1) {
		error_prefix(err, "%s: state directory", acct->name);
		return -1;
	}
	if (acct->logfile != NULL && *acct->logfile != '\0' &&
	    fsperm_check_new_file(acct->logfile, err) == -1) {
		error_prefix(err, "%s: logfile", acct->name);
		return -1;
	}
	return 0;
}
