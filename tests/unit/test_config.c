/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for config.c: lookup order, [defaults] + inherit + provider
 * precedence, every key's validation, iniparser's traps with their line
 * numbers, the permission rule, account selection, and that no password
 * ever reaches an error or a warning.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "sasl_mechs.h"
#include "relay.h"

#define CANARY "CANARY-pw;#s3cret"

static char tmpdir[PATH_MAX];
static char fixture_dir[PATH_MAX];
static char mailname[PATH_MAX]; /* config_mailname_path: none unless made */
static const char *const env_names[] = {
    "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "MAILSUB_CONFIG"};
static char *saved_env[4];

/* Helpers ---------------------------------------------------------------- */

static void fmt_into(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf for paths: truncation would only make a test fail. */
static void
fmt_into(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	size_t i;
	char buf[PATH_MAX];

	for (i = 0; i < 4; i++) {
		const char *v = getenv(env_names[i]);

		saved_env[i] = v != NULL ? strdup(v) : NULL;
	}
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	/* Predictable defaults: no user config, queue under tmpdir. */
	unsetenv("MAILSUB_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", tmpdir, 1);
	fmt_into(buf, sizeof(buf), "%s/state", tmpdir);
	setenv("XDG_STATE_HOME", buf, 1);
	fmt_into(mailname, sizeof(mailname), "%s/mailname", tmpdir);
	config_mailname_path = mailname;
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < 4; i++) {
		if (saved_env[i] != NULL)
			setenv(env_names[i], saved_env[i], 1);
		else
			unsetenv(env_names[i]);
		free(saved_env[i]);
		saved_env[i] = NULL;
	}
	return 0;
}

static void
tmp_path(char *dst, const char *name)
{
	fmt_into(dst, PATH_MAX, "%s/%s", tmpdir, name);
}

static void
write_bytes(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Write content to tmpdir/name with mode; the path goes to dst. */
static void
write_file(char *dst, const char *name, const char *content, mode_t mode)
{
	tmp_path(dst, name);
	write_bytes(dst, content, strlen(content), mode);
}

/* Copy a fixture into tmpdir (git keeps no modes, the checkout may belong
 * to someone else) with the given mode. */
static void
copy_fixture(char *dst, const char *name, mode_t mode)
{
	char src[PATH_MAX], data[65536];
	FILE *f;
	size_t n;

	fmt_into(src, sizeof(src), "%s/%s", fixture_dir, name);
	f = fopen(src, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s: %s", src, strerror(errno));
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	tmp_path(dst, name);
	write_bytes(dst, data, n, mode);
}

static int
load_str(const char *content, struct config **cfg, struct error *err)
{
	char path[PATH_MAX];

	write_file(path, "config.ini", content, 0600);
	error_clear(err);
	return config_load(path, false, cfg, err);
}

static struct config *
load_ok(const char *content)
{
	struct config *cfg = NULL;
	struct error err;

	if (load_str(content, &cfg, &err) != 0)
		fail_msg("load failed: %s", err.message);
	return cfg;
}

/* Load and expect EX_CONFIG with every needle in the message. */
static void
load_fails(const char *content, const char *needle1, const char *needle2)
{
	struct config *cfg = NULL;
	struct error err;

	if (load_str(content, &cfg, &err) != -1)
		fail_msg("loaded but should fail: %s", content);
	assert_null(cfg);
	assert_int_equal(err.exit_code, EX_CONFIG);
	if (needle1 != NULL && strstr(err.message, needle1) == NULL)
		fail_msg("'%s' not in '%s'", needle1, err.message);
	if (needle2 != NULL && strstr(err.message, needle2) == NULL)
		fail_msg("'%s' not in '%s'", needle2, err.message);
}

static const struct account *
get_acct(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++)
		if (strcmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	fail_msg("no account %s", name);
	return NULL;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, hay ? hay : "(null)");
}

static size_t
count_findings(const struct config *cfg, enum config_severity sev)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->n_findings; i++)
		if (cfg->findings[i].severity == sev)
			n++;
	return n;
}

/* The finding of severity sev whose line (config_finding_format) holds
 * needle; fails when none does. */
static void
assert_finding(
    const struct config *cfg, enum config_severity sev, const char *needle)
{
	char line[1024];
	size_t i;

	for (i = 0; i < cfg->n_findings; i++) {
		config_finding_format(
		    cfg, &cfg->findings[i], line, sizeof(line));
		if (cfg->findings[i].severity == sev &&
		    strstr(line, needle) != NULL)
			return;
	}
	fail_msg("no %s with '%s' among %zu findings",
	    sev == CONFIG_WARNING ? "warning" : "note", needle,
	    cfg->n_findings);
}

/* Lookup ----------------------------------------------------------------- */

static void
test_locate_cli_path_wins(void **state)
{
	char p[PATH_MAX], env[PATH_MAX], *path;
	bool sys = true;
	struct error err;

	write_file(p, "cli.ini", "[a]\nhost = x\n", 0600);
	write_file(env, "env.ini", "[a]\nhost = x\n", 0600);
	setenv("MAILSUB_CONFIG", env, 1);
	assert_int_equal(config_locate(p, &path, &sys, &err), 0);
	assert_string_equal(path, p);
	assert_false(sys);
	free(path);
}

static void
test_locate_cli_missing_is_config_error(void **state)
{
	char p[PATH_MAX], *path = NULL;
	bool sys;
	struct error err;

	tmp_path(p, "nosuch.ini");
	error_clear(&err);
	assert_int_equal(config_locate(p, &path, &sys, &err), -1);
	assert_null(path);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, p);
	assert_contains(err.message, "No such file");
}

static void
test_locate_env_then_xdg_then_home(void **state)
{
	char env[PATH_MAX], xdg[PATH_MAX], xdgfile[PATH_MAX];
	char homefile[PATH_MAX], *path;
	bool sys = true;
	struct error err;

	/* $HOME/.config/mailsub/config.ini */
	tmp_path(homefile, ".config");
	assert_int_equal(mkdir(homefile, 0700), 0);
	tmp_path(homefile, ".config/mailsub");
	assert_int_equal(mkdir(homefile, 0700), 0);
	write_file(
	    homefile, ".config/mailsub/config.ini", "[a]\nhost=x\n", 0600);
	/* $XDG_CONFIG_HOME/mailsub/config.ini */
	tmp_path(xdg, "xdg");
	assert_int_equal(mkdir(xdg, 0700), 0);
	tmp_path(xdgfile, "xdg/mailsub");
	assert_int_equal(mkdir(xdgfile, 0700), 0);
	write_file(xdgfile, "xdg/mailsub/config.ini", "[a]\nhost=x\n", 0600);
	write_file(env, "env.ini", "[a]\nhost=x\n", 0600);

	setenv("MAILSUB_CONFIG", env, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	assert_int_equal(config_locate(NULL, &path, &sys, &err), 0);
	assert_string_equal(path, env);
	assert_false(sys);
	free(path);

	unsetenv("MAILSUB_CONFIG");
	assert_int_equal(config_locate(NULL, &path, &sys, &err), 0);
	assert_string_equal(path, xdgfile);
	free(path);

	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(config_locate(NULL, &path, &sys, &err), 0);
	assert_string_equal(path, homefile);
	assert_false(sys);
	free(path);

	/* a relative XDG_CONFIG_HOME is ignored (XDG Base Directory) */
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	assert_int_equal(config_locate(NULL, &path, &sys, &err), 0);
	assert_string_equal(path, homefile);
	free(path);
}

static void
test_locate_env_missing_is_error(void **state)
{
	char p[PATH_MAX], *path = NULL;
	bool sys;
	struct error err;

	tmp_path(p, "gone.ini");
	setenv("MAILSUB_CONFIG", p, 1);
	error_clear(&err);
	assert_int_equal(config_locate(NULL, &path, &sys, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, p);
	assert_contains(err.message, "MAILSUB_CONFIG");
}

static void
test_locate_none_names_every_path(void **state)
{
	char xdg[PATH_MAX], want[PATH_MAX], *path = NULL;
	bool sys = false;
	struct error err;
	struct stat st;

	tmp_path(xdg, "emptyxdg");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	error_clear(&err);
	if (stat(CONFIG_SYSTEM_PATH, &st) == 0) {
		/* this machine has a system file: it must be the answer */
		assert_int_equal(config_locate(NULL, &path, &sys, &err), 0);
		assert_string_equal(path, CONFIG_SYSTEM_PATH);
		assert_true(sys);
		free(path);
		return;
	}
	assert_int_equal(config_locate(NULL, &path, &sys, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	fmt_into(want, sizeof(want), "%s/mailsub/config.ini", xdg);
	assert_contains(err.message, want);
	fmt_into(want, sizeof(want), "%s/.config/mailsub/config.ini", tmpdir);
	assert_contains(err.message, want);
	assert_contains(err.message, CONFIG_SYSTEM_PATH);
}

static void
test_locate_home_slash_is_skipped(void **state)
{
	char *path = NULL;
	bool sys = false;
	struct error err;
	struct stat st;
	const char *homes[] = {"/", ""};
	size_t i;

	for (i = 0; i < 2; i++) {
		setenv("HOME", homes[i], 1);
		error_clear(&err);
		if (stat(CONFIG_SYSTEM_PATH, &st) == 0) {
			assert_int_equal(
			    config_locate(NULL, &path, &sys, &err), 0);
			assert_true(sys);
			free(path);
			continue;
		}
		assert_int_equal(config_locate(NULL, &path, &sys, &err), -1);
		assert_contains(err.message, CONFIG_SYSTEM_PATH);
		assert_null(strstr(err.message, ".config"));
	}
	unsetenv("HOME");
	error_clear(&err);
	if (stat(CONFIG_SYSTEM_PATH, &st) != 0) {
		assert_int_equal(config_locate(NULL, &path, &sys, &err), -1);
		assert_null(strstr(err.message, ".config"));
	}
}

/* Defaults and precedence ------------------------------------------------ */

static void
test_builtin_defaults(void **state)
{
	struct config *cfg = load_ok("[only]\nhost = smtp.example.com\n");
	const struct account *a = get_acct(cfg, "only");
	char q[PATH_MAX];

	assert_int_equal(a->n_hosts, 1);
	assert_string_equal(a->hosts[0], "smtp.example.com");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, ACCOUNT_TLS_STARTTLS);
	assert_int_equal(a->timeout, 60);
	assert_int_equal(a->connect_timeout, 30);
	assert_int_equal(a->auth, ACCOUNT_AUTH_DEFAULT);
	assert_false(a->has_password);
	assert_false(a->allow_plaintext_auth);
	assert_true(a->add_headers);
	assert_int_equal(a->from_header, ACCOUNT_FROM_FIX);
	assert_int_equal(a->queue_lifetime, 5 * 86400);
	assert_int_equal(a->on_tempfail, ACCOUNT_TEMPFAIL_QUEUE);
	assert_int_equal(a->max_message_size, 268435456ULL);
	assert_int_equal(a->syslog_facility, -1);
	assert_null(a->dsn_notify);
	assert_null(a->from);
	assert_false(a->system);
	assert_string_equal(a->config_path, cfg->path);
	fmt_into(q, sizeof(q), "%s/state/mailsub/queue", tmpdir);
	assert_string_equal(a->queue_dir, q);
	assert_null(cfg->default_account);
	/* no from and no domain for one: only -f can name the sender */
	assert_int_equal(cfg->n_findings, 1);
	assert_finding(cfg, CONFIG_WARNING, "config.ini:1: [only]: no from");
	config_free(cfg);
}

static void
test_queue_dir_falls_back_to_home(void **state)
{
	struct config *cfg;
	char q[PATH_MAX];

	unsetenv("XDG_STATE_HOME");
	cfg = load_ok("[a]\nhost = x.example\n");
	fmt_into(q, sizeof(q), "%s/.local/state/mailsub/queue", tmpdir);
	assert_string_equal(get_acct(cfg, "a")->queue_dir, q);
	config_free(cfg);
}

static void
test_system_file_defaults(void **state)
{
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	const struct account *a;

	/* the system file may be group-readable even with a password */
	write_file(p, "system.conf",
	    "[sys]\nhost = relay.example\nuser = u\npassword = pw\n", 0640);
	error_clear(&err);
	assert_int_equal(config_load(p, true, &cfg, &err), 0);
	a = get_acct(cfg, "sys");
	assert_true(a->system);
	assert_true(cfg->system);
	assert_int_equal(a->syslog_facility, LOG_MAIL);
	/* $(localstatedir)/spool/mailsub (configure) */
	assert_string_equal(a->queue_dir, LOCALSTATEDIR "/spool/mailsub");
	config_free(cfg);

	/* but never world-readable */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(config_load(p, true, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "readable by others (mode 0644)");
}

static void
test_port_follows_tls(void **state)
{
	struct config *cfg = load_ok(
	    "[on]\nhost = a.example\ntls = on\n[off]\nhost = 127.0.0.1\ntls = "
	    "OFF\n[set]\nhost = a.example\ntls = on\nport = 1465\n");

	assert_int_equal(get_acct(cfg, "on")->port, 465);
	assert_int_equal(get_acct(cfg, "on")->tls, ACCOUNT_TLS_ON);
	assert_int_equal(get_acct(cfg, "off")->port, 25);
	assert_int_equal(get_acct(cfg, "off")->tls, ACCOUNT_TLS_OFF);
	assert_int_equal(get_acct(cfg, "set")->port, 1465);
	config_free(cfg);
}

static void
test_full_fixture_every_key(void **state)
{
	char p[PATH_MAX], want[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	const struct account *a;

	copy_fixture(p, "full.ini", 0600);
	error_clear(&err);
	if (config_load(p, false, &cfg, &err) != 0)
		fail_msg("%s", err.message);
	assert_string_equal(cfg->default_account, "full");
	assert_int_equal(cfg->n_accounts, 2);
	a = get_acct(cfg, "full");
	assert_int_equal(a->n_hosts, 3);
	assert_string_equal(a->hosts[0], "smtp1.example.com");
	assert_string_equal(a->hosts[1], "smtp2.example.com");
	assert_string_equal(a->hosts[2], "192.0.2.7");
	assert_int_equal(a->port, 2587);
	assert_string_equal(a->domain, "client.example.org");
	assert_string_equal(a->source_ip, "192.0.2.10");
	assert_int_equal(a->timeout, 45); /* from [defaults] */
	assert_int_equal(a->connect_timeout, 120);
	assert_int_equal(a->tls, ACCOUNT_TLS_STARTTLS);
	assert_string_equal(
	    a->tls_trust_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_string_equal(a->tls_fingerprint,
	    "sha256:"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_string_equal(a->tls_cert_file, "/etc/ssl/client.pem");
	fmt_into(want, sizeof(want), "%s/client.key", tmpdir);
	assert_string_equal(a->tls_key_file, want);
	assert_string_equal(a->tls_priorities, "SECURE256:-VERS-TLS1.2");
	assert_string_equal(a->tls_server_name, "mx.example.com");
	assert_int_equal(a->auth, ACCOUNT_AUTH_LIST);
	assert_int_equal(a->n_auth_mechs, 2);
	assert_string_equal(a->auth_mechs[0], "SCRAM-SHA-256");
	assert_string_equal(a->auth_mechs[1], "PLAIN");
	assert_string_equal(a->user, "alice@example.com");
	assert_false(a->has_password);
	fmt_into(want, sizeof(want), "%s/.config/mailsub/full.pw", tmpdir);
	assert_string_equal(a->password_file, want);
	assert_null(a->password_command);
	assert_true(a->allow_plaintext_auth);
	assert_string_equal(a->from, "alice@example.com");
	assert_int_equal(a->n_senders, 3);
	assert_string_equal(a->senders[1], "*@example.org");
	assert_string_equal(a->senders[2], "bob+*@example.net");
	assert_string_equal(a->default_domain, "example.com");
	assert_string_equal(a->aliases, "/etc/aliases");
	assert_false(a->add_headers);
	assert_int_equal(a->from_header, ACCOUNT_FROM_FORCE);
	assert_string_equal(a->dsn_notify, "FAILURE,DELAY");
	assert_string_equal(a->dsn_return, "HDRS");
	fmt_into(want, sizeof(want), "%s/queue", tmpdir);
	assert_string_equal(a->queue_dir, want);
	assert_int_equal(a->queue_lifetime, 12 * 3600);
	assert_int_equal(a->on_tempfail, ACCOUNT_TEMPFAIL_QUEUE_OK);
	fmt_into(want, sizeof(want), "%s/mailsub.log", tmpdir);
	assert_string_equal(a->logfile, want);
	assert_int_equal(a->syslog_facility, LOG_LOCAL3);
	config_free(cfg);
}

static void
test_defaults_inherit_precedence(void **state)
{
	char p[PATH_MAX], want[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	const struct account *a;

	copy_fixture(p, "inherit.ini", 0600);
	error_clear(&err);
	if (config_load(p, false, &cfg, &err) != 0)
		fail_msg("%s", err.message);
	a = get_acct(cfg, "base");
	assert_int_equal(a->timeout, 20);	  /* own beats defaults */
	assert_int_equal(a->tls, ACCOUNT_TLS_ON); /* from defaults */
	assert_int_equal(a->port, 465);		  /* follows tls */
	assert_string_equal(a->from, "defaults@example.com");
	assert_string_equal(a->password_command, "pass show mail");
	a = get_acct(cfg, "middle");
	assert_string_equal(a->hosts[0], "base.example.com"); /* inherited */
	assert_string_equal(a->user, "base-user");
	assert_int_equal(a->timeout, 30);
	/* its own password source replaces the one from [defaults] */
	fmt_into(want, sizeof(want), "%s/middle.pw", tmpdir);
	assert_string_equal(a->password_file, want);
	assert_null(a->password_command);
	a = get_acct(cfg, "leaf");
	assert_string_equal(a->hosts[0], "base.example.com");
	assert_int_equal(a->timeout, 30); /* from middle */
	assert_string_equal(a->from, "leaf@example.com");
	assert_string_equal(a->password_file, want);
	assert_null(a->password_command);
	assert_int_equal(a->n_senders, 1);
	config_free(cfg);
}

static void
test_inherit_cycle_and_errors(void **state)
{
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	char deep[4096];
	size_t o = 0;
	int i;

	copy_fixture(p, "cycle.ini", 0600);
	error_clear(&err);
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "cycle.ini:12: [c] inherit");
	assert_contains(err.message, "a -> b -> c -> a");

	load_fails("[a]\nhost = x.example\ninherit = a\n",
	    "config.ini:3: [a] inherit", "cycle");
	load_fails("[a]\nhost = x.example\ninherit = nosuch\n[b]\nhost = y\n",
	    "[a] inherit: names no account", "known: a, b");
	load_fails("[defaults]\ninherit = a\n[a]\nhost = x\n",
	    "config.ini:2: [defaults] inherit", "not allowed");
	load_fails("[defaults]\nhost = x\n[a]\ninherit = defaults\n",
	    "[a] inherit", NULL);

	/* a chain of 9 inherits is one too deep */
	for (i = 0; i <= 9; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o,
		    "[a%d]\nhost = h.example\n%s%s%d\n", i,
		    i < 9 ? "inherit = " : "; end", i < 9 ? "a" : "", i + 1);
	load_fails(deep, "deeper than 8", NULL);
}

static void
test_provider_presets(void **state)
{
	struct config *cfg =
	    load_ok("[defaults]\ntls = starttls\nhost = "
		    "default.example\n[g]\nprovider = gmail\n[g587]\nprovider "
		    "= GMail\ntls = starttls\n[gport]\nprovider = gmail\nport "
		    "= 2525\n[ghost]\nprovider = gmail\nhost = "
		    "relay.example\n[o365]\nprovider = "
		    "office365\n[kid]\ninherit = g\n[plain]\nport = 26\n");
	const struct account *a;

	a = get_acct(cfg, "g"); /* the preset beats [defaults] */
	assert_string_equal(a->hosts[0], "smtp.gmail.com");
	assert_int_equal(a->n_hosts, 1);
	assert_int_equal(a->port, 465);
	assert_int_equal(a->tls, ACCOUNT_TLS_ON);
	assert_string_equal(a->provider, "gmail");
	a = get_acct(cfg, "g587"); /* the account's tls wins, port follows */
	assert_int_equal(a->tls, ACCOUNT_TLS_STARTTLS);
	assert_int_equal(a->port, 587);
	assert_string_equal(a->provider, "gmail");
	a = get_acct(cfg, "gport");
	assert_int_equal(a->port, 2525);
	assert_int_equal(a->tls, ACCOUNT_TLS_ON);
	a = get_acct(cfg, "ghost");
	assert_string_equal(a->hosts[0], "relay.example");
	a = get_acct(cfg, "o365");
	assert_string_equal(a->hosts[0], "smtp.office365.com");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, ACCOUNT_TLS_STARTTLS);
	a = get_acct(cfg, "kid"); /* the preset comes with inherit */
	assert_string_equal(a->hosts[0], "smtp.gmail.com");
	assert_int_equal(a->port, 465);
	a = get_acct(cfg, "plain"); /* no preset: [defaults] host */
	assert_string_equal(a->hosts[0], "default.example");
	assert_int_equal(a->port, 26);
	config_free(cfg);

	load_fails("[a]\nprovider = nosuchmail\n",
	    "config.ini:2: [a] provider: unknown provider",
	    "gmail, workspace, outlook");
}

static void
test_provider_table(void **state)
{
	static const char *const names[] = {"gmail", "workspace", "outlook",
	    "office365", "godaddy-m365", "godaddy", "yahoo", "aol", "icloud",
	    "fastmail", "zoho", "zoho-eu", "gmx", "webde", "mailcom", "proton",
	    "yandex", "mailboxorg", "posteo"};
	const struct config_provider *p;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p = config_provider_find(names[i]);
		assert_non_null(p);
		assert_non_null(p->note);
		assert_true(p->port == 465 || p->port == 587);
		assert_int_equal(p->port == 465, p->tls == ACCOUNT_TLS_ON);
		assert_ptr_equal(config_provider_note(names[i]), p->note);
	}
	assert_string_equal(
	    config_provider_find("yahoo")->host, "smtp.mail.yahoo.com");
	assert_string_equal(config_provider_find("posteo")->host, "posteo.de");
	assert_string_equal(
	    config_provider_find("proton")->host, "smtp.protonmail.ch");
	assert_contains(config_provider_note("outlook"), "OAuth2");
	assert_null(config_provider_find("nosuch"));
	assert_null(config_provider_note("nosuch"));
	assert_null(config_provider_find(NULL));
	assert_string_equal(
	    config_provider_for_domain("GMail.com")->name, "gmail");
	assert_string_equal(
	    config_provider_for_domain("web.de")->name, "webde");
	assert_null(config_provider_for_domain("example.com"));
}

/* Key validation --------------------------------------------------------- */

static void
test_host_list(void **state)
{
	struct config *cfg =
	    load_ok("[a]\nhost = a.example , 2001:db8::1,192.0.2.1\n");
	const struct account *a = get_acct(cfg, "a");

	assert_int_equal(a->n_hosts, 3);
	assert_string_equal(a->hosts[0], "a.example");
	assert_string_equal(a->hosts[1], "2001:db8::1");
	config_free(cfg);
	load_fails("[a]\nport = 25\nhost = a.example, -bad.example\n",
	    "config.ini:3: [a] host: item 2", NULL);
	load_fails("[a]\nhost = a.example,,b.example\n", "[a] host", "empty");
	load_fails("[a]\nhost = under_score.example\n", "[a] host", NULL);
	load_fails("[a]\nhost = a..example\n", "[a] host", NULL);
	load_fails("[a]\nport = 25\n", "config.ini:1: [a]: no host", NULL);
}

static void
test_port_and_timeouts(void **state)
{
	static const char *const bad_ports[] = {
	    "0", "65536", "abc", "-1", "587x", "99999999999999999999"};
	static const char *const bad_times[] = {
	    "0", "3601", "abc", "-5", "1h1", "2h"};
	char buf[256];
	size_t i;
	struct config *cfg =
	    load_ok("[a]\nhost = x.example\nport = 65535\ntimeout = "
		    "3600\nconnect_timeout = 90s\n");

	assert_int_equal(get_acct(cfg, "a")->port, 65535);
	assert_int_equal(get_acct(cfg, "a")->timeout, 3600);
	assert_int_equal(get_acct(cfg, "a")->connect_timeout, 90);
	config_free(cfg);
	for (i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
		fmt_into(buf, sizeof(buf), "[a]\nhost = x.example\nport = %s\n",
		    bad_ports[i]);
		load_fails(
		    buf, "config.ini:3: [a] port: must be a number", NULL);
	}
	for (i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\nconnect_timeout = %s\n",
		    bad_times[i]);
		load_fails(
		    buf, "[a] connect_timeout: must be from 1 to 3600", NULL);
	}
	load_fails("[a]\nhost = x.example\ntimeout = 0\n", "[a] timeout", NULL);
}

static void
test_simple_keys_bad_values(void **state)
{
	load_fails(
	    "[a]\nhost = x\ntls = maybe\n", "[a] tls: must be starttls", NULL);
	load_fails(
	    "[a]\nhost = x\nsource_ip = host.example\n", "[a] source_ip", NULL);
	load_fails("[a]\nhost = x\ndomain = bad domain\n", "[a] domain", NULL);
	load_fails("[a]\nhost = x\ndomain = [300.1.1.1]\n", "[a] domain", NULL);
	load_fails("[a]\nhost = x\ntls_server_name = a_b\n",
	    "[a] tls_server_name", NULL);
	load_fails("[a]\nhost = x\nallow_plaintext_auth = maybe\n",
	    "[a] allow_plaintext_auth: must be on or off", NULL);
	load_fails("[a]\nhost = x\nadd_headers = on\n", "[a] add_headers",
	    "auto or off");
	load_fails("[a]\nhost = x\nfrom_header = rewrite\n", "[a] from_header",
	    "keep, fix or force");
	load_fails(
	    "[a]\nhost = x\non_tempfail = drop\n", "[a] on_tempfail", NULL);
	load_fails(
	    "[a]\nhost = x\ndsn_return = body\n", "[a] dsn_return", NULL);
	load_fails("[a]\nhost = x\nsyslog = kern\n", "[a] syslog", "local0");
	load_fails(
	    "[a]\nhost = x\nfrom = Alice <a@example.com>\n", "[a] from", NULL);
	load_fails("[a]\nhost = x\nfrom = a@bad_domain\n", "[a] from", NULL);
	load_fails("[a]\nhost = x\nsenders = a@b.example, c d\n",
	    "[a] senders: item 2", NULL);
	load_fails("[a]\nhost = x\ndefault_domain = -x.example\n",
	    "[a] default_domain", NULL);
	load_fails("[a]\nhost = x\nhost2 = y\n",
	    "config.ini:3: [a] host2: unknown key", NULL);
	load_fails(
	    "[a]\nhost = x\naccount = a\n", "[a] account: unknown key", NULL);
}

/* local_senders = USER: PATTERN ..., USER: ...: one "USER:PATTERN" item
 * per pattern; inherited from [defaults] like any key. */
static void
test_local_senders(void **state)
{
	struct config *cfg = load_ok(
	    "[defaults]\nlocal_senders = www-data: *@shop.example.com, "
	    "alice :alice@example.org  *@alice.example.org ,*: noreply@x\n"
	    "[a]\nhost = x.example\n[b]\nhost = x.example\n"
	    "local_senders = bob: bob@example.org\n");
	const struct account *a = get_acct(cfg, "a");

	assert_int_equal(a->n_local_senders, 4);
	assert_string_equal(a->local_senders[0], "www-data:*@shop.example.com");
	assert_string_equal(a->local_senders[1], "alice:alice@example.org");
	assert_string_equal(a->local_senders[2], "alice:*@alice.example.org");
	assert_string_equal(a->local_senders[3], "*:noreply@x");
	assert_int_equal(get_acct(cfg, "b")->n_local_senders, 1);
	config_free(cfg);

	load_fails("[a]\nhost = x\nlocal_senders = alice@example.org\n",
	    "local_senders", "not USER: PATTERN");
	load_fails("[a]\nhost = x\nlocal_senders = : a@b\n", "local_senders",
	    "user name");
	load_fails("[a]\nhost = x\nlocal_senders = a@b: c@d\n", "local_senders",
	    "user name");
	load_fails("[a]\nhost = x\nlocal_senders = alice:\n", "local_senders",
	    "no address pattern");
	load_fails("[a]\nhost = x\nlocal_senders = alice: <a@b>\n",
	    "local_senders", "not an address pattern");
	load_fails("[a]\nhost = x\nlocal_senders = alice: a@b,, bob: c@d\n",
	    "local_senders", "empty");
}

static void
test_simple_keys_good_values(void **state)
{
	struct config *cfg =
	    load_ok("[a]\nhost = x.example\nallow_plaintext_auth = "
		    "TRUE\nsyslog = on\ndomain = [192.0.2.1]\nfrom_header = "
		    "keep\non_tempfail = queue\ndsn_return = Full\n[b]\nhost = "
		    "x.example\nallow_plaintext_auth = 0\nsyslog = "
		    "user\ndomain = [IPv6:2001:db8::1]\nfrom = root\n"
		    "default_domain = example.org\n[c]\nhost "
		    "= x.example\nsyslog = off\nallow_plaintext_auth = No\n");

	assert_true(get_acct(cfg, "a")->allow_plaintext_auth);
	assert_int_equal(get_acct(cfg, "a")->syslog_facility, LOG_MAIL);
	assert_string_equal(get_acct(cfg, "a")->domain, "[192.0.2.1]");
	assert_int_equal(get_acct(cfg, "a")->from_header, ACCOUNT_FROM_KEEP);
	assert_string_equal(get_acct(cfg, "a")->dsn_return, "FULL");
	assert_false(get_acct(cfg, "b")->allow_plaintext_auth);
	assert_int_equal(get_acct(cfg, "b")->syslog_facility, LOG_USER);
	assert_string_equal(get_acct(cfg, "b")->from, "root");
	assert_int_equal(get_acct(cfg, "c")->syslog_facility, -1);
	assert_false(get_acct(cfg, "c")->allow_plaintext_auth);
	config_free(cfg);
}

static void
test_fingerprint(void **state)
{
	static const char *const bad[] = {
	    "sha1:abcdef",
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	    "sha256:"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678",
	    "sha256:"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567890",
	    "sha256:"
	    "gbcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	    "sha256:a:"
	    "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	    "sha256::"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	    "sha256:ab::"
	    "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	};
	char buf[512];
	size_t i;
	struct config *cfg = load_ok("[a]\nhost = x.example\ntls_fingerprint = "
				     "SHA256:"
				     "ABCDEF0123456789ABCDEF0123456789ABCDEF012"
				     "3456789ABCDEF0123456789\n");

	assert_string_equal(get_acct(cfg, "a")->tls_fingerprint,
	    "sha256:"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	config_free(cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\ntls_fingerprint = %s\n", bad[i]);
		load_fails(buf, "[a] tls_fingerprint: must be sha256:", NULL);
	}
	load_fails("[a]\nhost = 127.0.0.1\ntls = off\ntls_fingerprint = "
		   "sha256:"
		   "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234"
		   "56789\n",
	    "[a] tls_fingerprint", "tls = off");
}

static void
test_tls_files_pair(void **state)
{
	load_fails("[a]\nhost = x.example\ntls_cert_file = /c.pem\n",
	    "config.ini:3: [a] tls_cert_file", "go together");
	load_fails("[a]\nhost = x.example\ntls_key_file = /k.pem\n",
	    "[a] tls_key_file", "go together");
	load_fails("[a]\nhost = x.example\ntls_trust_file = relative.pem\n",
	    "[a] tls_trust_file: must be an absolute path", NULL);
	load_fails("[a]\nhost = x.example\naliases = ~bob/aliases\n",
	    "[a] aliases", "~user");
}

static void
test_auth(void **state)
{
	struct config *cfg =
	    load_ok("[a]\nhost = x.example\nuser = u\nauth = "
		    "cram-md5,Scram-Sha-1-Plus, xoauth2\n[b]\nhost = "
		    "x.example\nauth = OFF\n[c]\nhost = x.example\nauth = "
		    "on\nuser = u\n[d]\nhost = x.example\nauth = external\n");
	const struct account *a = get_acct(cfg, "a");
	const struct sasl_mech *m;

	assert_int_equal(a->auth, ACCOUNT_AUTH_LIST);
	assert_int_equal(a->n_auth_mechs, 3);
	assert_string_equal(a->auth_mechs[0], "CRAM-MD5");
	assert_string_equal(a->auth_mechs[1], "SCRAM-SHA-1-PLUS");
	assert_string_equal(a->auth_mechs[2], "XOAUTH2");
	assert_int_equal(get_acct(cfg, "b")->auth, ACCOUNT_AUTH_OFF);
	assert_int_equal(get_acct(cfg, "c")->auth, ACCOUNT_AUTH_ON);
	assert_int_equal(get_acct(cfg, "c")->n_auth_mechs, 0);
	assert_int_equal(get_acct(cfg, "d")->auth, ACCOUNT_AUTH_LIST);
	config_free(cfg);
	load_fails("[a]\nhost = x\nuser = u\nauth = plain, digest-md5\n",
	    "config.ini:4: [a] auth: item 2",
	    "is not on, off or a known mechanism (SCRAM-SHA-256-PLUS, "
	    "SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN, "
	    "CRAM-MD5, XOAUTH2, OAUTHBEARER, GSSAPI, EXTERNAL)");
	/* As many items as there are mechanisms. */
	load_fails("[a]\nhost = x\nuser = u\nauth = a,b,c,d,e,f,g,h,i,j,k,l\n",
	    "[a] auth: more than 11 items", NULL);
	/* Every mechanism of the table, in lower case. */
	for (m = sasl_mechs; m->name != NULL; m++) {
		char ini[128];
		size_t i, head;

		head = (size_t)snprintf(ini, sizeof(ini),
		    "[a]\nhost = x.example\nuser = u\nauth = ");
		for (i = 0; m->name[i] != '\0'; i++)
			ini[head + i] =
			    (char)tolower((unsigned char)m->name[i]);
		ini[head + i] = '\n';
		ini[head + i + 1] = '\0';
		cfg = load_ok(ini);
		a = get_acct(cfg, "a");
		assert_int_equal(a->auth, ACCOUNT_AUTH_LIST);
		assert_int_equal(a->n_auth_mechs, 1);
		assert_string_equal(a->auth_mechs[0], m->name);
		config_free(cfg);
	}
	load_fails("[a]\nhost = x\nuser = u\nauth = plain,PLAIN\n",
	    "[a] auth: item 2 is listed twice", NULL);
	load_fails("[a]\nhost = x\nauth = on\n", "[a] auth", "no user");
}

static void
test_password_sources(void **state)
{
	struct config *cfg;

	load_fails("[a]\nhost = x\nuser = u\npassword_command = pass "
		   "x\npassword_file = /pw\n",
	    "config.ini:5: [a] password_file: only one of", "line 4");
	cfg = load_ok("[defaults]\npassword_command = pass show x\n[a]\nhost = "
		      "x.example\nuser = u\npassword = secret\n[b]\nhost = "
		      "x.example\nuser = u\n");
	assert_true(get_acct(cfg, "a")->has_password);
	assert_string_equal(buf_str(&get_acct(cfg, "a")->password), "secret");
	assert_null(get_acct(cfg, "a")->password_command);
	assert_string_equal(
	    get_acct(cfg, "b")->password_command, "pass show x");
	assert_false(get_acct(cfg, "b")->has_password);
	config_free(cfg);
}

static bool
warned(const struct config *cfg, const char *a, const char *b)
{
	size_t i;

	char line[ERROR_MESSAGE_MAX * 2];

	for (i = 0; i < cfg->n_findings; i++) {
		config_finding_format(
		    cfg, &cfg->findings[i], line, sizeof(line));
		if (cfg->findings[i].severity == CONFIG_WARNING &&
		    strstr(line, a) != NULL && strstr(line, b) != NULL)
			return true;
	}
	return false;
}

/* mailsub.conf(5) OAUTH2: the keys, how they default and go together. */
static void
test_oauth2_keys(void **state)
{
	struct config *cfg;
	const struct account *a;
	char path[PATH_MAX];

	(void)state;
	cfg = load_ok(
	    "[ms]\nprovider = outlook\nuser = u@outlook.com\n"
	    "oauth2_client_id = 0a1b-2c3d\noauth2_tenant = consumers\n"
	    "oauth2_client_secret = \"" CANARY "\"\n"
	    "[ms-pw]\nprovider = office365\nuser = u@x.example\n"
	    "password = pw\n"
	    "[ms-nouser]\nprovider = office365\n"
	    "[ms-noid]\nprovider = outlook\nuser = u@outlook.com\n"
	    "[g]\nprovider = gmail\nuser = u@gmail.com\n"
	    "oauth2_client_id = x.apps.googleusercontent.com\n"
	    "auth = oauthbearer\n"
	    "[gpw]\nprovider = gmail\nuser = u@gmail.com\npassword = pw\n"
	    "[c]\nhost = smtp.example.com\nuser = u\n"
	    "oauth2_provider = Custom\noauth2_client_id = c\n"
	    "oauth2_token_url = https://idp.example/token\n"
	    "oauth2_auth_url = https://idp.example/auth?x=1\n"
	    "oauth2_scope = smtp offline_access\n"
	    "oauth2_trust_file = ~/ca.pem\n"
	    "[plainauth]\nprovider = outlook\nuser = u@outlook.com\n"
	    "oauth2_client_id = 0a1b\nauth = plain\n");
	a = get_acct(cfg, "ms");
	assert_int_equal(a->oauth2_provider, ACCOUNT_OAUTH2_MICROSOFT);
	assert_int_equal(a->auth, ACCOUNT_AUTH_LIST);
	assert_int_equal(a->n_auth_mechs, 1);
	assert_string_equal(a->auth_mechs[0], "XOAUTH2");
	assert_string_equal(a->oauth2_client_id, "0a1b-2c3d");
	assert_string_equal(a->oauth2_tenant, "consumers");
	assert_true(a->has_oauth2_client_secret);
	assert_string_equal(buf_str(&a->oauth2_client_secret), CANARY);
	/* A Microsoft 365 account with a password keeps password logins. */
	a = get_acct(cfg, "ms-pw");
	assert_int_equal(a->auth, ACCOUNT_AUTH_DEFAULT);
	assert_int_equal(a->oauth2_provider, ACCOUNT_OAUTH2_MICROSOFT);
	assert_int_equal(
	    get_acct(cfg, "ms-nouser")->auth, ACCOUNT_AUTH_DEFAULT);
	/* Outlook.com takes nothing but a token. */
	a = get_acct(cfg, "ms-noid");
	assert_int_equal(a->auth, ACCOUNT_AUTH_LIST);
	assert_string_equal(a->auth_mechs[0], "XOAUTH2");
	assert_null(a->oauth2_client_id);
	a = get_acct(cfg, "g");
	assert_int_equal(a->oauth2_provider, ACCOUNT_OAUTH2_GOOGLE);
	assert_string_equal(a->auth_mechs[0], "OAUTHBEARER");
	/* Gmail offers an app password or OAuth2. */
	assert_int_equal(get_acct(cfg, "gpw")->auth, ACCOUNT_AUTH_DEFAULT);
	a = get_acct(cfg, "c");
	assert_int_equal(a->oauth2_provider, ACCOUNT_OAUTH2_CUSTOM);
	assert_string_equal(a->oauth2_token_url, "https://idp.example/token");
	assert_string_equal(a->oauth2_auth_url, "https://idp.example/auth?x=1");
	assert_string_equal(a->oauth2_scope, "smtp offline_access");
	fmt_into(path, sizeof(path), "%s/ca.pem", tmpdir);
	assert_string_equal(a->oauth2_trust_file, path);
	assert_true(warned(cfg, "[plainauth]", "neither XOAUTH2"));
	config_free(cfg);

	load_fails("[a]\nhost = x.example\nuser = u\noauth2_client_id = c\n",
	    "config.ini:4: [a] oauth2_client_id", "oauth2_provider");
	load_fails("[a]\nhost = x.example\nuser = u\noauth2_client_id = c\n"
		   "oauth2_provider = custom\n",
	    "[a] oauth2_provider", "needs oauth2_token_url");
	load_fails("[a]\nhost = x.example\noauth2_provider = google\n"
		   "oauth2_client_id = c\n",
	    "no user is set", NULL);
	load_fails("[a]\nhost = x\noauth2_provider = yahoo\n",
	    "[a] oauth2_provider", "google, microsoft or custom");
	load_fails("[a]\nhost = x\noauth2_client_id = \"a b\"\n",
	    "[a] oauth2_client_id", "no blanks");
	load_fails("[a]\nhost = x\noauth2_token_url = http://idp/token\n",
	    "[a] oauth2_token_url", "https://");
	load_fails("[a]\nhost = x\noauth2_auth_url = https:///x\n",
	    "[a] oauth2_auth_url", "https://");
	load_fails("[a]\nhost = x\noauth2_device_url = \"https://x/ y\"\n",
	    "[a] oauth2_device_url", "https://");
	load_fails("[a]\nhost = x\noauth2_scope = \"a  b\"\n",
	    "[a] oauth2_scope", "RFC 6749 3.3");
	load_fails("[a]\nhost = x\noauth2_tenant = a/b\n", "[a] oauth2_tenant",
	    "tenant id");
	load_fails("[a]\nhost = x\noauth2_client_secret = s\n"
		   "oauth2_client_secret_file = /s\n",
	    "config.ini:4: [a] oauth2_client_secret_file: only one of",
	    "line 3");
	/* A layer naming a client secret source replaces the inherited
	 * one. */
	cfg = load_ok("[defaults]\noauth2_client_secret_command = pass x\n"
		      "[a]\nhost = x.example\noauth2_client_secret = s\n"
		      "[b]\nhost = x.example\n");
	assert_null(get_acct(cfg, "a")->oauth2_client_secret_command);
	assert_true(get_acct(cfg, "a")->has_oauth2_client_secret);
	assert_string_equal(
	    get_acct(cfg, "b")->oauth2_client_secret_command, "pass x");
	assert_true(warned(cfg, "[a]", "no oauth2_client_id"));
	config_free(cfg);
	/* A client secret in the file: the file is kept like a password. */
	{
		struct config *c2 = NULL;
		struct error err;

		write_file(path, "config.ini",
		    "[a]\nhost = x.example\noauth2_client_secret = s\n", 0644);
		error_clear(&err);
		assert_int_equal(config_load(path, false, &c2, &err), -1);
		assert_contains(err.message, "readable by");
	}
}

static void
test_plaintext_auth_rule(void **state)
{
	struct config *cfg;

	/* tests/FAULTS.md 7 */
	load_fails("[a]\nhost = smtp.example.com\nuser = u\ntls = off\n",
	    "config.ini:4: [a] tls",
	    "would send the password in clear; set allow_plaintext_auth = on");
	load_fails("[a]\nhost = 127.0.0.1, smtp.example.com\ntls = off\nauth = "
		   "plain\nuser = u\n",
	    "in clear", NULL);
	load_fails("[defaults]\ntls = off\n[a]\nhost = 10.0.0.1\nuser = u\n",
	    "config.ini:2: [defaults] tls", "in clear");
	cfg =
	    load_ok("[lo4]\nhost = 127.0.0.9\nuser = u\ntls = off\n[lo6]\nhost "
		    "= ::1\nuser = u\ntls = off\n[lon]\nhost = LocalHost\nuser "
		    "= u\ntls = off\n[noauth]\nhost = smtp.example.com\ntls = "
		    "off\n[ext]\nhost = smtp.example.com\ntls = off\nauth = "
		    "external\n[ok]\nhost = smtp.example.com\nuser = u\ntls = "
		    "off\nallow_plaintext_auth = on\n");
	assert_int_equal(cfg->n_accounts, 6);
	/* the explicit opt-in still earns a note */
	assert_finding(cfg, CONFIG_NOTE, "[ok]: allow_plaintext_auth = on");
	config_free(cfg);
}

static void
test_dsn_and_lifetime(void **state)
{
	static const struct {
		const char *in;
		long secs;
	} durations[] = {{"5d", 432000}, {"12h", 43200}, {"30m", 1800},
	    {"90s", 90}, {"100", 100}, {"366d", 366L * 86400}};
	static const char *const bad_life[] = {
	    "5x", "0", "d", "367d", "-1", "1.5d"};
	static const char *const bad_dsn[] = {
	    "never,success", "bogus", "success,success", "success,,delay"};
	char buf[256];
	size_t i;
	struct config *cfg;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\nqueue_lifetime = %s\n",
		    durations[i].in);
		cfg = load_ok(buf);
		assert_int_equal(
		    get_acct(cfg, "a")->queue_lifetime, durations[i].secs);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(bad_life) / sizeof(bad_life[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\nqueue_lifetime = %s\n",
		    bad_life[i]);
		load_fails(buf, "config.ini:3: [a] queue_lifetime", NULL);
	}
	/* failed_lifetime: 30d by default, 0 = for ever, at most 3660d. */
	cfg = load_ok("[a]\nhost = x.example\n[b]\nhost = x.example\n"
		      "failed_lifetime = 0\n[c]\nhost = x.example\n"
		      "failed_lifetime = 12h\n");
	assert_int_equal(get_acct(cfg, "a")->failed_lifetime, 30L * 86400);
	assert_int_equal(get_acct(cfg, "b")->failed_lifetime, 0);
	assert_int_equal(get_acct(cfg, "c")->failed_lifetime, 12L * 3600);
	config_free(cfg);
	load_fails("[a]\nhost = x.example\nfailed_lifetime = 3661d\n",
	    "config.ini:3: [a] failed_lifetime", NULL);
	load_fails("[a]\nhost = x.example\nfailed_lifetime = soon\n",
	    "config.ini:3: [a] failed_lifetime", NULL);
	cfg = load_ok("[a]\nhost = x.example\ndsn_notify = Never\n[b]\nhost = "
		      "x.example\ndsn_notify = delay , success,failure\n");
	assert_string_equal(get_acct(cfg, "a")->dsn_notify, "NEVER");
	assert_string_equal(
	    get_acct(cfg, "b")->dsn_notify, "DELAY,SUCCESS,FAILURE");
	config_free(cfg);
	for (i = 0; i < sizeof(bad_dsn) / sizeof(bad_dsn[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\ndsn_notify = %s\n", bad_dsn[i]);
		load_fails(buf, "config.ini:3: [a] dsn_notify", NULL);
	}
}

static void
test_max_message_size(void **state)
{
	static const struct {
		const char *in;
		unsigned long long bytes;
	} good[] = {{"0", 0}, {"1048576", 1048576},
	    {"18446744073709551615", 18446744073709551615ULL}};
	static const char *const bad[] = {
	    "-1", "1M", "1.5", "x", "18446744073709551616", "1 000"};
	char buf[256];
	size_t i;
	struct config *cfg;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[defaults]\nmax_message_size = %s\n[a]\nhost = "
		    "x.example\n",
		    good[i].in);
		cfg = load_ok(buf);
		assert_int_equal(
		    get_acct(cfg, "a")->max_message_size, good[i].bytes);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fmt_into(buf, sizeof(buf),
		    "[a]\nhost = x.example\nmax_message_size = %s\n", bad[i]);
		load_fails(buf, "config.ini:3: [a] max_message_size",
		    "number of bytes");
	}
}

static void
test_tilde_expansion(void **state)
{
	struct config *cfg;
	char want[PATH_MAX];

	cfg = load_ok("[a]\nhost = x.example\npassword_file = ~/pw\nlogfile = "
		      "~/log\nqueue_dir = /var/q\n");
	fmt_into(want, sizeof(want), "%s/pw", tmpdir);
	assert_string_equal(get_acct(cfg, "a")->password_file, want);
	assert_string_equal(get_acct(cfg, "a")->queue_dir, "/var/q");
	config_free(cfg);
	/* HOME=/ must not give //pw */
	setenv("HOME", "/", 1);
	cfg = load_ok("[a]\nhost = x.example\npassword_file = ~/pw\n");
	assert_string_equal(get_acct(cfg, "a")->password_file, "/pw");
	config_free(cfg);
	load_fails("[a]\nhost = x.example\nlogfile = log.txt\n",
	    "[a] logfile: must be an absolute path", NULL);
}

static void
test_names_are_case_insensitive(void **state)
{
	struct config *cfg = load_ok("[Work]\nHOST = x.example\nPort = "
				     "2525\n[DEFAULTS]\nAccount = WORK\n");

	assert_int_equal(cfg->n_accounts, 1);
	assert_string_equal(cfg->accounts[0]->name, "work");
	assert_int_equal(cfg->accounts[0]->port, 2525);
	assert_string_equal(cfg->default_account, "work");
	config_free(cfg);
	load_fails("[a]\nhost = x\n[A]\nport = 1\n",
	    "config.ini:3: [a] appears twice (first on line 1)", NULL);
	load_fails("[a]\nhost = x\nHost = y\n",
	    "config.ini:3: [a] host: set twice (first on line 2)", NULL);
}

static void
test_structure_errors(void **state)
{
	load_fails(
	    "; only defaults\n[defaults]\ntls = on\n", "no account", NULL);
	load_fails("", "no account", NULL);
	load_fails("[defaults]\naccount = nosuch\n[a]\nhost = x\n",
	    "config.ini:2: [defaults] account: names no account", "known: a");
	load_fails("host = x\n[a]\n",
	    "config.ini:1: host: key outside any [section]", NULL);
	load_fails(
	    "[a]\nhost = x\n= value\n", "config.ini:3: '=' without", NULL);
	load_fails(
	    "[a]\nhost = x\nbad key = 1\n", "config.ini:3: a key name", NULL);
	load_fails("[a]\nhost = x\n[]\n", "config.ini:3: empty section", NULL);
	load_fails(
	    "[a]\nhost = x\n[b c]\n", "config.ini:3: a section name", NULL);
	load_fails("[a]\nhost = x\n[b]x\n", "config.ini:3: text after", NULL);
}

static void
test_size_limits(void **state)
{
	struct buf b;
	struct config *cfg;
	int i;

	/* 1000 accounts load (and fast: the checks are bounded) */
	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(
		    buf_printf(&b, NULL, "[a%d]\nhost = h%d.example\n%s%d\n", i,
			i, i % 8 != 0 ? "inherit = a" : "; ", i - 1),
		    0);
	cfg = load_ok(buf_str(&b));
	assert_int_equal(cfg->n_accounts, 1000);
	assert_string_equal(get_acct(cfg, "a999")->hosts[0], "h999.example");
	config_free(cfg);
	assert_int_equal(
	    buf_appends(&b, "[one-too-many]\nhost = x\n", NULL), 0);
	load_fails(
	    buf_str(&b), "config.ini:3001: more than 1000 sections", NULL);
	buf_free(&b);
}

/* iniparser's traps ------------------------------------------------------ */

static void
test_trap_fixtures_line_17(void **state)
{
	static const struct {
		const char *file;
		const char *reason;
	} traps[] = {
	    {"trap-colon.ini", "section name contains ':'"},
	    {"trap-section-comment.ini", "comment after a section header"},
	    {"trap-unterminated.ini", "unterminated section header"},
	    {"trap-noequals.ini", "not a [section] header"},
	    {"trap-continuation.ini", "line ends in '\\'"},
	    {"trap-quote.ini", "unterminated quote"},
	};
	char p[PATH_MAX], want[PATH_MAX + 8];
	struct config *cfg = NULL;
	struct error err;
	size_t i;

	for (i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		copy_fixture(p, traps[i].file, 0600);
		error_clear(&err);
		assert_int_equal(config_load(p, false, &cfg, &err), -1);
		assert_null(cfg);
		assert_int_equal(err.exit_code, EX_CONFIG);
		fmt_into(want, sizeof(want), "%s:17: ", p);
		assert_contains(err.message, want);
		assert_contains(err.message, traps[i].reason);
		/* nothing of the file's content beyond names */
		assert_null(strstr(err.message, "pass show"));
	}
}

static void
test_trap_long_line(void **state)
{
	char buf[2100];
	size_t n;
	struct config *cfg;

	/* 1022 bytes before the newline is iniparser's maximum */
	n = (size_t)snprintf(
	    buf, sizeof(buf), "[a]\nhost = x.example\ntls_priorities = ");
	memset(buf + n, 'N', 1022 - strlen("tls_priorities = "));
	strcpy(buf + n + 1022 - strlen("tls_priorities = "), "\n");
	cfg = load_ok(buf);
	assert_int_equal(strlen(get_acct(cfg, "a")->tls_priorities),
	    1022 - strlen("tls_priorities = "));
	config_free(cfg);
	/* one more byte and iniparser would fail the whole file */
	n = (size_t)snprintf(
	    buf, sizeof(buf), "[a]\nhost = x.example\ntls_priorities = ");
	memset(buf + n, 'N', 1023 - strlen("tls_priorities = "));
	strcpy(buf + n + 1023 - strlen("tls_priorities = "), "\n");
	load_fails(buf, "config.ini:3: line longer than 1022 bytes", NULL);
	/* also without a final newline */
	buf[strlen(buf) - 1] = '\0';
	load_fails(buf, "config.ini:3: line longer", NULL);
}

static void
test_trap_bytes(void **state)
{
	static const char nul[] = "[a]\nhost = x.example\nuser = a\0b\n";
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;

	tmp_path(p, "nul.ini");
	write_bytes(p, nul, sizeof(nul) - 1, 0600);
	error_clear(&err);
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "nul.ini:3: NUL byte");

	load_fails("[a]\nhost = x.example\nfrom = \xc3(a@example.com\n",
	    "config.ini:3: invalid UTF-8", NULL);
	load_fails("[a]\nhost = x.example\nfrom = \xc0\xaf"
		   "a@example.com\n",
	    "config.ini:3: invalid UTF-8", NULL);
	load_fails("[a]\nhost = x.example\nuser = a\x1b[2Jb\n",
	    "config.ini:3: control character", NULL);
	load_fails("[a]\nhost = x.example\nuser = a\rb\n",
	    "config.ini:3: control character", NULL);
	/* A byte-order mark is named, not "not a key = value line" */
	load_fails("\xef\xbb\xbf[a]\nhost = x.example\n",
	    "config.ini:1: UTF-8 byte-order mark; save the file without it",
	    NULL);
	load_fails("\xef\xbb\xbfhost = x.example\n[a]\n",
	    "config.ini:1: UTF-8 byte-order mark", NULL);
	/* CRLF line ends are fine, and so is UTF-8 */
	cfg = load_ok("[a]\r\nhost = x.example\r\nuser = J\xc3\xb6rg\r\n");
	assert_string_equal(get_acct(cfg, "a")->user, "J\xc3\xb6rg");
	config_free(cfg);
}

/* Where iniparser cuts an unquoted value at ';' or '#', mailsub refuses
 * the file, for every kind of key, and never shows the value. */
static void
test_cut_values_refused(void **state)
{
	static const struct {
		const char *line;
		const char *key;
		char c;
	} cut[] = {
	    /* strings */
	    {"user = ab;XYZ", "user", ';'},
	    {"tls_priorities = NORMAL#XYZ", "tls_priorities", '#'},
	    {"from = ab#XYZ@example.com", "from", '#'},
	    {"domain = client.example;XYZ", "domain", ';'},
	    /* lists */
	    {"host = a.example,b.example#XYZ", "host", '#'},
	    {"senders = a@example.com;XYZ@example.com", "senders", ';'},
	    {"auth = plain;XYZ", "auth", ';'},
	    /* numbers and durations */
	    {"port = 587;XYZ", "port", ';'},
	    {"timeout = 10#XYZ", "timeout", '#'},
	    {"max_message_size = 1000;XYZ", "max_message_size", ';'},
	    /* booleans and words */
	    {"allow_plaintext_auth = on#XYZ", "allow_plaintext_auth", '#'},
	    {"tls = starttls;XYZ", "tls", ';'},
	    /* paths */
	    {"password_file = ~/pw#XYZ", "password_file", '#'},
	    {"aliases = /etc/aliases;XYZ", "aliases", ';'},
	    /* a command: after a blank too, it may be part of it */
	    {"password_command = cat ~/.pw; echo XYZ", "password_command", ';'},
	    {"password_command = cat ~/.pw ; echo XYZ", "password_command",
		';'},
	    {"password_command = pass show XYZ # the store", "password_command",
		'#'},
	    /* a secret: after a blank too, at its start too */
	    {"password = QQ#XYZ", "password", '#'},
	    {"password = QQ;XYZ", "password", ';'},
	    {"password = QQ #XYZ", "password", '#'},
	    {"password = ;XYZ", "password", ';'},
	};
	char conf[512], want[256];
	struct config *cfg = NULL;
	struct error err;
	size_t i;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		/* the line is line 2, before any key it could clash with */
		fmt_into(conf, sizeof(conf), "[a]\n%s\n%s", cut[i].line,
		    strncmp(cut[i].line, "host", 4) == 0
			? ""
			: "host = x.example\n");
		if (load_str(conf, &cfg, &err) != -1)
			fail_msg("loaded: %s", cut[i].line);
		assert_null(cfg);
		assert_int_equal(err.exit_code, EX_CONFIG);
		fmt_into(want, sizeof(want),
		    "config.ini:2: [a] %s: iniparser ends an unquoted value at "
		    "'%c'",
		    cut[i].key, cut[i].c);
		assert_contains(err.message, want);
		fmt_into(
		    want, sizeof(want), "quote the value: %s = \"", cut[i].key);
		assert_contains(err.message, want);
		if (strstr(err.message, "XYZ") != NULL ||
		    strstr(err.message, "QQ") != NULL ||
		    strstr(err.message, "cat ") != NULL)
			fail_msg("the value is shown: %s", err.message);
	}
	/* the same in [defaults] */
	load_fails("[defaults]\npassword = pa;ss\n[a]\nhost = x\n",
	    "config.ini:2: [defaults] password: iniparser ends", NULL);
}

static void
test_quotes_and_comments(void **state)
{
	struct config *cfg;
	const struct account *a;

	/* quoted: ; and # are part of the value */
	cfg =
	    load_ok("[a]\nhost = x.example\nuser = u\nfrom = a@example.com\n"
		    "password = \"p;a#ss\" ; quoted\ntls_priorities = "
		    "'NORMAL:#x'\n[b]\nhost = y.example\nfrom = b@example.com\n"
		    "user = u\npassword_command = \"cat ~/.pw; echo x\"\n");
	a = get_acct(cfg, "a");
	assert_string_equal(buf_str(&a->password), "p;a#ss");
	assert_string_equal(a->tls_priorities, "NORMAL:#x");
	assert_string_equal(
	    get_acct(cfg, "b")->password_command, "cat ~/.pw; echo x");
	assert_int_equal(cfg->n_findings, 0);
	config_free(cfg);

	/* after a blank, a comment: the value is what comes before it */
	cfg = load_ok(
	    "[a]\nhost = x.example ; the relay\nport = 2525 # test\n"
	    "user = u\t; me\nfrom = a@example.com  # mine\ntls = on ;x\n"
	    "senders = a@example.com, *@example.org ; both\n");
	a = get_acct(cfg, "a");
	assert_string_equal(a->hosts[0], "x.example");
	assert_int_equal(a->port, 2525);
	assert_string_equal(a->user, "u");
	assert_string_equal(a->from, "a@example.com");
	assert_int_equal(a->tls, ACCOUNT_TLS_ON);
	assert_int_equal(a->n_senders, 2);
	assert_int_equal(cfg->n_findings, 0);
	config_free(cfg);

	load_fails("[a]\nhost = x.example\nuser = \"u\"x\n",
	    "config.ini:3: [a] user: text after the closing quote", NULL);
}

/* Permissions ------------------------------------------------------------ */

static void
test_password_file_mode(void **state)
{
	static const mode_t bad[] = {0644, 0640, 0604, 0660};
	char p[PATH_MAX], link[PATH_MAX], want[64];
	struct config *cfg = NULL;
	struct error err;
	size_t i;

	copy_fixture(p, "password.ini", 0600);
	error_clear(&err);
	if (config_load(p, false, &cfg, &err) != 0)
		fail_msg("%s", err.message);
	assert_string_equal(
	    buf_str(&get_acct(cfg, "secret")->password), CANARY);
	config_free(cfg);
	cfg = NULL;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(p, bad[i]), 0);
		error_clear(&err);
		assert_int_equal(config_load(p, false, &cfg, &err), -1);
		assert_null(cfg);
		assert_int_equal(err.exit_code, EX_CONFIG);
		fmt_into(want, sizeof(want), "(mode %04o)", (unsigned)bad[i]);
		assert_contains(err.message, want);
		assert_contains(err.message,
		    "holds a password but is readable by group/others");
		assert_contains(err.message, "chmod 600");
		assert_contains(err.message, p);
		assert_null(strstr(err.message, "CANARY"));
	}
	/* a symlink to a 0600 file is refused too */
	assert_int_equal(chmod(p, 0600), 0);
	tmp_path(link, "link.ini");
	assert_int_equal(symlink(p, link), 0);
	error_clear(&err);
	assert_int_equal(config_load(link, false, &cfg, &err), -1);
	assert_contains(err.message, "symbolic link");
	/* without a password key, group-readable is fine */
	write_file(p, "nopw.ini", "[a]\nhost = x.example\n", 0644);
	assert_int_equal(config_load(p, false, &cfg, &err), 0);
	config_free(cfg);
}

static void
test_foreign_owner_refused(void **state)
{
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;

	if (geteuid() != 0) {
		/* only root can give a file away; CI runs every case */
		const char *e = getenv("MAILSUB_NO_SKIP");

		if (e != NULL && strcmp(e, "1") == 0)
			fail_msg("needs root (MAILSUB_NO_SKIP=1)");
		skip();
	}
	write_file(p, "foreign.ini",
	    "[a]\nhost = x.example\nuser = topsecret-value\n", 0600);
	assert_int_equal(chown(p, 65534, 65534), 0);
	error_clear(&err);
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "owned by uid 65534");
	assert_null(strstr(err.message, "topsecret"));
}

static void
test_not_regular_or_too_big(void **state)
{
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	char *big;

	tmp_path(p, "dir.ini");
	assert_int_equal(mkdir(p, 0700), 0);
	error_clear(&err);
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_contains(err.message, "not a regular file");

	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	load_fails(big, "larger than 1048576 bytes", NULL);
	free(big);

	tmp_path(p, "absent.ini");
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "absent.ini");
}

static void
test_password_never_echoed(void **state)
{
	static const char *const bad[] = {
	    "[a]\nhost = x.example\nuser = u\npassword = " CANARY
	    "x\nport = 0\n",
	    "[a]\nhost = x.example\nuser = u\npassword = \"" CANARY
	    "\nport = 1\n",
	    "[a]\nhost = x.example\nuser = u\npassword = \"" CANARY "\"x\n",
	    "[a]\nhost = x.example\nuser = u\npassword = " CANARY "\\\n",
	    "[a]\nhost = x.example\nuser = u\npassword " CANARY "\n",
	    "[a]\nhost = x.example\nuser = u\npassword = " CANARY "\x01\n",
	    "[a]\nhost = x.example\nuser = u\n" CANARY " = x\n",
	    "[a]\nhost = x.example\nuser = u\n[" CANARY "]\n",
	    "[a]\nhost = x.example\nuser = u\npassword = " CANARY
	    "\npassword_command = " CANARY "\n",
	};
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	size_t i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(p, "canary.ini", bad[i], 0600);
		error_clear(&err);
		assert_int_equal(config_load(p, false, &cfg, &err), -1);
		assert_int_equal(err.exit_code, EX_CONFIG);
		if (strstr(err.message, "CANARY") != NULL ||
		    strstr(err.message, "s3cret") != NULL)
			fail_msg("case %zu leaks: %s", i, err.message);
		/* and the same file world-readable */
		assert_int_equal(chmod(p, 0644), 0);
		assert_int_equal(config_load(p, false, &cfg, &err), -1);
		assert_null(strstr(err.message, "s3cret"));
	}
	/* findings do not carry it either */
	cfg = load_ok("[a]\nhost = x.example\nuser = u\npassword = \"" CANARY
		      "\"\nallow_plaintext_auth = on\ntls = off\n"
		      "tls_server_name = x.example\n");
	assert_true(cfg->n_findings >= 3);
	for (j = 0; j < cfg->n_findings; j++)
		assert_null(strstr(cfg->findings[j].message, "s3cret"));
	config_free(cfg);
}

/* Empty values and the sender's domain --------------------------------- */

static void
test_empty_values_not_set(void **state)
{
	struct config *cfg;
	const struct account *a;

	/* as if the line were not there: [defaults] shows through */
	cfg = load_ok("[defaults]\nuser = d\ntimeout = 30\naccount =\n"
		      "[a]\nhost = x.example\nfrom = a@example.com\nuser =\n"
		      "port =\ntls =\ntimeout =\npassword =\npassword_command "
		      "= echo x\nprovider =\ninherit =\naliases = ''\n"
		      "[b]\nhost = y.example\nfrom = b@example.com\n");
	a = get_acct(cfg, "a");
	assert_string_equal(a->user, "d");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, ACCOUNT_TLS_STARTTLS);
	assert_int_equal(a->timeout, 30);
	assert_false(a->has_password);
	assert_string_equal(a->password_command, "echo x");
	assert_null(a->provider);
	assert_null(a->aliases);
	assert_null(cfg->default_account);
	assert_int_equal(count_findings(cfg, CONFIG_WARNING), 0);
	assert_int_equal(count_findings(cfg, CONFIG_NOTE), 9);
	assert_finding(
	    cfg, CONFIG_NOTE, "config.ini:4: [defaults] account: empty value");
	assert_finding(cfg, CONFIG_NOTE, "config.ini:8: [a] user: empty value");
	assert_finding(
	    cfg, CONFIG_NOTE, "config.ini:12: [a] password: empty value");
	assert_finding(
	    cfg, CONFIG_NOTE, "config.ini:16: [a] aliases: empty value");
	config_free(cfg);

	/* an empty password does not replace an inherited password_file */
	cfg = load_ok("[defaults]\npassword_file = ~/pw\n[a]\nhost = x\nfrom = "
		      "a@example.com\nuser = u\npassword =\n");
	assert_non_null(get_acct(cfg, "a")->password_file);
	config_free(cfg);

	/* an account needs a host */
	load_fails("[a]\nhost =\nfrom = a@example.com\n",
	    "config.ini:2: [a] host: empty value: an account needs a host",
	    NULL);
	load_fails("[defaults]\nhost = x\n[a]\nhost = ;\n",
	    "config.ini:4: [a] host: empty value", NULL);
}

static void
write_mailname(const char *content, mode_t mode)
{
	write_bytes(mailname, content, strlen(content), mode);
}

static void
test_from_needs_a_domain(void **state)
{
	struct config *cfg;
	const struct account *a;
	struct error err;
	static const char *const no_domain[] = {NULL, "", "vm\n", "localhost\n",
	    "localhost.localdomain\n", "not a domain\n", "-x.example\n"};
	size_t i;

	/* no default_domain, no /etc/mailname (or none usable): a bare
	 * from is refused, no from is a warning */
	for (i = 0; i < sizeof(no_domain) / sizeof(no_domain[0]); i++) {
		unlink(mailname);
		if (no_domain[i] != NULL)
			write_mailname(no_domain[i], 0644);
		load_fails("[a]\nhost = x\nfrom = alice\n",
		    "config.ini:3: [a] from: no domain to complete it with",
		    "from = NAME@example.com, or set default_domain");
		cfg = load_ok("[a]\nhost = x\n");
		assert_finding(cfg, CONFIG_WARNING,
		    "config.ini:1: [a]: no from and no domain for the sender");
		assert_null(get_acct(cfg, "a")->default_domain);
		assert_null(get_acct(cfg, "a")->mailname);
		config_free(cfg);
	}
	/* default_domain completes it */
	unlink(mailname);
	cfg = load_ok(
	    "[a]\nhost = x\nfrom = alice\ndefault_domain = "
	    "example.org\n[b]\nhost = x\ndefault_domain = example.org\n");
	assert_int_equal(cfg->n_findings, 0);
	assert_false(get_acct(cfg, "a")->default_domain_mailname);
	config_free(cfg);

	/* /etc/mailname completes it when default_domain is not set */
	write_mailname("  example.net \r\n", 0644);
	cfg = load_ok("[a]\nhost = x\nfrom = alice\n[b]\nhost = x\n"
		      "[c]\nhost = x\ndefault_domain = example.org\n");
	assert_int_equal(cfg->n_findings, 0);
	a = get_acct(cfg, "a");
	assert_string_equal(a->default_domain, "example.net");
	assert_true(a->default_domain_mailname);
	assert_string_equal(a->mailname, "example.net");
	assert_string_equal(get_acct(cfg, "b")->default_domain, "example.net");
	a = get_acct(cfg, "c");
	assert_string_equal(a->default_domain, "example.org");
	assert_false(a->default_domain_mailname);
	assert_string_equal(a->mailname, "example.net");
	config_free(cfg);

	/* one that others may write is not trusted (it completes
	 * recipients too) */
	assert_int_equal(chmod(mailname, 0666), 0);
	load_fails(
	    "[a]\nhost = x\nfrom = a@example.com\n", mailname, "chmod go-w");
	unlink(mailname);
	error_clear(&err);
}

static void
test_port_tls_mismatch(void **state)
{
	static const struct {
		const char *keys;
		const char *want; /* NULL: no warning */
	} cases[] = {
	    {"port = 465\ntls = starttls\n",
		"config.ini:3: [a]: port 465 speaks TLS from the first byte: "
		"set tls = on"},
	    {"port = 465\ntls = off\n", "port 465 speaks TLS"},
	    {"tls = starttls\nport = 465\n", "config.ini:4: [a]: port 465"},
	    {"port = 587\ntls = on\n",
		"port 587 speaks plain SMTP first: set tls = starttls"},
	    {"port = 25\ntls = on\n", "port 25 speaks plain SMTP first"},
	    {"port = 465\ntls = on\n", NULL},
	    {"port = 587\ntls = starttls\n", NULL},
	    {"tls = on\n", NULL},	       /* 465 by default */
	    {"port = 2525\ntls = on\n", NULL}, /* nothing known of it */
	};
	char conf[256];
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_into(conf, sizeof(conf),
		    "[a]\nhost = x.example\n%sfrom = a@example.com\n",
		    cases[i].keys);
		cfg = load_ok(conf);
		if (cases[i].want == NULL)
			assert_int_equal(cfg->n_findings, 0);
		else {
			assert_int_equal(cfg->n_findings, 1);
			assert_finding(cfg, CONFIG_WARNING, cases[i].want);
		}
		config_free(cfg);
	}
	/* from [defaults] too */
	cfg = load_ok("[defaults]\ntls = on\n[a]\nhost = x\nport = 587\nfrom = "
		      "a@example.com\n");
	assert_finding(cfg, CONFIG_WARNING, "config.ini:5: [a]: port 587");
	config_free(cfg);
}

/* The same rule at run time (relay.c): no greeting on 465 without
 * tls = on is the account, not a server to retry. */
static void
test_port_465_greeting_explained(void **state)
{
	struct account a;
	struct error err;

	memset(&a, 0, sizeof(a));
	a.port = 465;
	a.tls = ACCOUNT_TLS_STARTTLS;
	error_set(&err, EX_TEMPFAIL,
	    "greeting: timed out after 2 s waiting for the server");
	relay_explain(&a, SUBMIT_PHASE_GREETING, &err);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_string_equal(err.message,
	    "greeting: timed out after 2 s waiting for the server; port 465 "
	    "speaks TLS from the first byte: set tls = on");
	a.tls = ACCOUNT_TLS_OFF;
	error_set(&err, EX_TEMPFAIL, "greeting: connection closed");
	relay_explain(&a, SUBMIT_PHASE_GREETING, &err);
	assert_int_equal(err.exit_code, EX_CONFIG);
	/* left alone: implicit TLS, another port, another phase or code */
	a.tls = ACCOUNT_TLS_ON;
	error_set(&err, EX_TEMPFAIL, "greeting: timed out");
	relay_explain(&a, SUBMIT_PHASE_GREETING, &err);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	a.tls = ACCOUNT_TLS_STARTTLS;
	a.port = 4650;
	relay_explain(&a, SUBMIT_PHASE_GREETING, &err);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	a.port = 465;
	relay_explain(&a, SUBMIT_PHASE_CONNECT, &err);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	error_set(&err, EX_UNAVAILABLE, "greeting: 554 no");
	relay_explain(&a, SUBMIT_PHASE_GREETING, &err);
	assert_int_equal(err.exit_code, EX_UNAVAILABLE);
	assert_string_equal(err.message, "greeting: 554 no");
}

/* Selection -------------------------------------------------------------- */

static void
test_select_rules(void **state)
{
	char p[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	const struct account *a;

	copy_fixture(p, "select.ini", 0600);
	error_clear(&err);
	if (config_load(p, false, &cfg, &err) != 0)
		fail_msg("%s", err.message);
	/* 1: -a wins over everything, case-insensitive */
	assert_int_equal(
	    config_select(cfg, "WORK", "x@home.example", &a, &err), 0);
	assert_string_equal(a->name, "work");
	/* 2: the first account whose senders match -f */
	assert_int_equal(
	    config_select(cfg, NULL, "bob@Corp.Example", &a, &err), 0);
	assert_string_equal(a->name, "work");
	assert_int_equal(
	    config_select(cfg, NULL, "alice@home.example", &a, &err), 0);
	assert_string_equal(a->name, "home");
	assert_int_equal(
	    config_select(cfg, NULL, "news-owner@lists.example", &a, &err), 0);
	assert_string_equal(a->name, "lists");
	/* 3: [defaults] account */
	assert_int_equal(
	    config_select(cfg, NULL, "nobody@else.example", &a, &err), 0);
	assert_string_equal(a->name, "home");
	assert_int_equal(config_select(cfg, NULL, NULL, &a, &err), 0);
	assert_string_equal(a->name, "home");
	/* unknown -a lists the known names */
	error_clear(&err);
	assert_int_equal(config_select(cfg, "nosuch", NULL, &a, &err), -1);
	assert_null(a);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "no account named nosuch");
	assert_contains(err.message, "known: work, home, lists");
	/* control characters in -a are escaped */
	assert_int_equal(config_select(cfg, "x\x1b[2J", NULL, &a, &err), -1);
	assert_null(strchr(err.message, '\x1b'));
	config_free(cfg);

	/* 4: the only account */
	cfg = load_ok("[solo]\nhost = x.example\nsenders = a@b.example\n");
	assert_int_equal(config_select(cfg, NULL, "z@y.example", &a, &err), 0);
	assert_string_equal(a->name, "solo");
	config_free(cfg);

	/* several, no default, no match: ambiguous */
	cfg = load_ok("[one]\nhost = x.example\n[two]\nhost = y.example\n");
	error_clear(&err);
	assert_int_equal(config_select(cfg, NULL, "z@y.example", &a, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "known: one, two");
	config_free(cfg);
}

static void
test_sender_matches(void **state)
{
	assert_true(
	    config_sender_matches("alice@example.com", "Alice@Example.COM"));
	assert_false(
	    config_sender_matches("alice@example.com", "alice@example.co"));
	assert_true(config_sender_matches("*@example.com", "bob@EXAMPLE.com"));
	assert_false(
	    config_sender_matches("*@example.com", "bob@sub.example.com"));
	assert_false(
	    config_sender_matches("*@example.com", "bob@evil-example.com"));
	assert_false(config_sender_matches("*@example.com", "a@b@example.com"));
	assert_false(config_sender_matches("*@example.com", "@example.com"));
	assert_true(
	    config_sender_matches("*@*.example.com", "bob@mail.Example.com"));
	assert_true(
	    config_sender_matches("list-?@example.com", "list-A@example.com"));
	assert_true(config_sender_matches("[ab]*@x.example", "bob@x.example"));
	assert_false(config_sender_matches("[ab]*@x.example", "cat@x.example"));
	assert_false(config_sender_matches(NULL, "a@b"));
	assert_false(config_sender_matches("a@b", NULL));
	assert_false(config_sender_matches("", ""));
}

/* Files an account names ------------------------------------------------- */

static void
test_check_account_files(void **state)
{
	char pw[PATH_MAX], ca[PATH_MAX], al[PATH_MAX];
	char cfgtext[4 * PATH_MAX];
	struct config *cfg;
	struct error err;
	const struct account *a;

	write_file(pw, "pw", "CANARY-pw\n", 0600);
	write_file(ca, "ca.pem", "not really\n", 0644);
	fmt_into(cfgtext, sizeof(cfgtext),
	    "[a]\nhost = x.example\nuser = u\npassword_file = "
	    "~/pw\ntls_trust_file = %s\naliases = ~/aliases\n[b]\nhost = "
	    "x.example\ntls_trust_file = ~/nosuch.pem\n[c]\nhost = x.example\n",
	    ca);
	cfg = load_ok(cfgtext);

	/* aliases is missing */
	a = get_acct(cfg, "a");
	error_clear(&err);
	assert_int_equal(config_check_account_files(a, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "a: aliases: ");
	assert_contains(err.message, "No such file");
	write_file(al, "aliases", "root: a@x.example\n", 0644);
	assert_int_equal(config_check_account_files(a, &err), 0);

	/* password_file follows the config file's rule */
	assert_int_equal(chmod(pw, 0640), 0);
	error_clear(&err);
	assert_int_equal(config_check_account_files(a, &err), -1);
	assert_contains(err.message, "a: password_file: ");
	assert_contains(err.message, "(mode 0640); chmod 600");
	assert_null(strstr(err.message, "CANARY"));
	assert_int_equal(unlink(pw), 0);
	assert_int_equal(config_check_account_files(a, &err), -1);
	assert_contains(err.message, "No such file");

	error_clear(&err);
	assert_int_equal(
	    config_check_account_files(get_acct(cfg, "b"), &err), -1);
	assert_contains(err.message, "b: tls_trust_file: ");
	assert_int_equal(
	    config_check_account_files(get_acct(cfg, "c"), &err), 0);
	config_free(cfg);
}

static void
test_design_example(void **state)
{
	/* mailsub.conf(5) EXAMPLES */
	struct config *cfg = load_ok(
	    "; [defaults] is inherited by every account\n[defaults]\ntls = "
	    "starttls\naccount = work            ; the default "
	    "account\n\n[work]\nhost = smtp.example.com\nport = 587\nuser = "
	    "alice@example.com\npassword_command = pass show mail/work\nfrom = "
	    "alice@example.com\nsenders = alice@example.com, *@example.com   ; "
	    "-f addresses\n\n[gmail]\nprovider = gmail          ; fills host, "
	    "port and tls\nuser = alice@gmail.com\npassword_file = "
	    "~/.config/mailsub/gmail.pw\n\n; everything from [work], then "
	    "these\n[bulk]\ninherit = work\nhost = relay1.example.com, "
	    "relay2.example.com   ; in order\n");
	const struct account *a;
	struct error err;

	assert_int_equal(cfg->n_accounts, 3);
	assert_string_equal(cfg->default_account, "work");
	/* [gmail] has no from, and nothing gives its sender a domain */
	assert_int_equal(cfg->n_findings, 1);
	assert_finding(cfg, CONFIG_WARNING, "config.ini:14: [gmail]: no from");
	a = get_acct(cfg, "gmail");
	assert_string_equal(a->hosts[0], "smtp.gmail.com");
	assert_int_equal(a->port, 465);
	assert_int_equal(a->tls, ACCOUNT_TLS_ON);
	a = get_acct(cfg, "bulk");
	assert_int_equal(a->n_hosts, 2);
	assert_string_equal(a->hosts[1], "relay2.example.com");
	assert_string_equal(a->password_command, "pass show mail/work");
	assert_int_equal(a->port, 587);
	/* work comes first in the file, so -f picks it over bulk */
	assert_int_equal(
	    config_select(cfg, NULL, "x@example.com", &a, &err), 0);
	assert_string_equal(a->name, "work");
	config_free(cfg);
}

static void
test_writable_refused_and_empty_quotes(void **state)
{
	static const mode_t bad[] = {0666, 0620, 0602, 0660};
	char p[PATH_MAX], want[64], sub[PATH_MAX];
	struct config *cfg = NULL;
	struct error err;
	size_t i;

	/* Writable by anyone else: refused, with or without a secret (its
	 * keys choose the server, the commands and the files written). */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(p, "shared.ini",
		    "[a]\nhost = x.example\npassword_command = echo "
		    "CANARY\n",
		    bad[i]);
		error_clear(&err);
		assert_int_equal(config_load(p, false, &cfg, &err), -1);
		assert_null(cfg);
		assert_int_equal(err.exit_code, EX_CONFIG);
		fmt_into(want, sizeof(want), "mode %04o", (unsigned)bad[i]);
		assert_contains(err.message, want);
		assert_contains(err.message, "chmod go-w");
		assert_contains(err.message, p);
		assert_null(strstr(err.message, "CANARY"));
	}
	write_file(p, "shared.ini",
	    "[a]\nhost = x.example\nfrom = a@example.com\n", 0644);
	assert_int_equal(config_load(p, false, &cfg, &err), 0);
	assert_int_equal(cfg->n_findings, 0);
	config_free(cfg);
	cfg = NULL;
	/* A directory on the way that others can write: refused too. */
	tmp_path(sub, "open");
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(p, "open/c.ini", "[a]\nhost = x.example\n", 0600);
	assert_int_equal(chmod(sub, 0777), 0);
	error_clear(&err);
	assert_int_equal(config_load(p, false, &cfg, &err), -1);
	assert_int_equal(err.exit_code, EX_CONFIG);
	assert_contains(err.message, "a directory on the way");
	assert_contains(err.message, sub);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(config_load(p, false, &cfg, &err), 0);
	config_free(cfg);
	/* iniparser reads "" as an empty value: not set, like any empty one */
	cfg = load_ok("[a]\nhost = x.example\nfrom = a@example.com\nuser = "
		      "\"\"\n");
	assert_null(get_acct(cfg, "a")->user);
	assert_finding(cfg, CONFIG_NOTE, "config.ini:4: [a] user: empty value");
	config_free(cfg);
	config_free(NULL); /* harmless */
}

/* config.example -------------------------------------------------------- */

static void
test_config_example_loads(void **state)
{
	char src[PATH_MAX], p[PATH_MAX], data[65536];
	const char *srcdir = getenv("SRCDIR");
	struct config *cfg = NULL;
	struct error err;
	const struct account *a;
	FILE *f;
	size_t n;

	/* fixture_dir is TOP/tests/fixtures/config */
	if (srcdir != NULL && *srcdir != '\0')
		fmt_into(src, sizeof(src), "%s/config.example", srcdir);
	else
		fmt_into(src, sizeof(src), "%s/../../../config.example",
		    fixture_dir);
	f = fopen(src, "rb");
	if (f == NULL)
		fail_msg("cannot open %s: %s", src, strerror(errno));
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	tmp_path(p, "config.example");
	write_bytes(p, data, n, 0644);
	error_clear(&err);
	if (config_load(p, false, &cfg, &err) != 0)
		fail_msg("config.example: %s", err.message);
	assert_string_equal(cfg->default_account, "example");
	assert_int_equal(config_select(cfg, NULL, NULL, &a, &err), 0);
	assert_string_equal(a->name, "example");
	assert_string_equal(a->hosts[0], "127.0.0.1");
	assert_int_equal(a->port, 2525);
	assert_int_equal(a->tls, ACCOUNT_TLS_OFF);
	assert_string_equal(a->from, "alice@example.org");
	assert_false(a->has_password);
	assert_null(a->password_file);
	assert_null(a->password_command);
	assert_int_equal(cfg->n_findings, 0);
	config_free(cfg);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_locate_cli_path_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_locate_cli_missing_is_config_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_locate_env_then_xdg_then_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_locate_env_missing_is_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_locate_none_names_every_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_locate_home_slash_is_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_builtin_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_queue_dir_falls_back_to_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_system_file_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_port_follows_tls, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_full_fixture_every_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_defaults_inherit_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_inherit_cycle_and_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_provider_presets, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_provider_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_port_and_timeouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_simple_keys_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_simple_keys_good_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_local_senders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fingerprint, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tls_files_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_password_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oauth2_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_plaintext_auth_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_dsn_and_lifetime, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_max_message_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tilde_expansion, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_names_are_case_insensitive, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_structure_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_trap_fixtures_line_17, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_trap_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trap_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_cut_values_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_quotes_and_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_empty_values_not_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_from_needs_a_domain, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_port_tls_mismatch, setup, teardown),
	    cmocka_unit_test(test_port_465_greeting_explained),
	    cmocka_unit_test_setup_teardown(
		test_password_file_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_foreign_owner_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_not_regular_or_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_password_never_echoed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_select_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_sender_matches, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_check_account_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_design_example, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_writable_refused_and_empty_quotes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_config_example_loads, setup, teardown),
	};
	const char *srcdir = getenv("SRCDIR");

	if (srcdir != NULL && *srcdir != '\0') {
		fmt_into(fixture_dir, sizeof(fixture_dir),
		    "%s/tests/fixtures/config", srcdir);
	} else {
		/* tests/unit/test_config in an in-tree build */
		char *slash;

		fmt_into(fixture_dir, sizeof(fixture_dir), "%s", argv[0]);
		slash = strrchr(fixture_dir, '/');
		if (slash != NULL)
			*slash = '\0';
		else
			strcpy(fixture_dir, ".");
		strncat(fixture_dir, "/../fixtures/config",
		    sizeof(fixture_dir) - strlen(fixture_dir) - 1);
	}
	(void)argc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
