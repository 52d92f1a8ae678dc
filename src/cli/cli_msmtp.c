/* SPDX-License-Identifier: ISC */
/*
 * msmtp's long options.  The table follows msmtp(1) 1.8.23, section
 * OPTIONS; mailsub(1), section MSMTP COMPATIBILITY, lists the same.  An
 * option msmtp has and mailsub does not carry is never taken with another
 * meaning: it is refused with the way to get the same effect.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_msmtp.h"
#include "error.h"
#include "msmtprc.h"

enum action {
	ACT_SET,       /* an account setting: the msmtprc command */
	ACT_PRETEND,   /* -P */
	ACT_READ_FROM, /* --read-envelope-from */
	ACT_VERBOSE,   /* --debug = -v */
	ACT_READ_RCPT, /* --read-recipients = -t */
	ACT_FILE,      /* --file = -C */
	ACT_REFUSE,
};

/* msmtp(1): "--name" sets the msmtprc command of the same name with '_'
 * for '-'; msmtprc_convert() says what each value means here. */
static const struct {
	const char *name;
	enum cli_msmtp_arg arg;
	enum action act;
	const char *hint; /* ACT_REFUSE: what to do instead */
} msmtp_options[] = {
    {"host", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"port", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"source-ip", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"proxy-host", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"proxy-port", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"socket", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"timeout", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"protocol", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"domain", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"auth", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"user", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"passwordeval", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"tls-starttls", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"tls-trust-file", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-crl-file", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-fingerprint", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-key-file", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-cert-file", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-certcheck", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"tls-priorities", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-host-override", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"tls-min-dh-prime-bits", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"set-from-header", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"set-date-header", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"set-msgid-header", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"remove-bcc-headers", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"undisclosed-recipients", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"logfile", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"logfile-time-format", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"syslog", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"aliases", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"auto-from", CLI_MSMTP_ARG_OPTIONAL, ACT_SET, NULL},
    {"maildomain", CLI_MSMTP_ARG_REQUIRED, ACT_SET, NULL},
    {"pretend", CLI_MSMTP_ARG_NONE, ACT_PRETEND, NULL},
    {"read-envelope-from", CLI_MSMTP_ARG_NONE, ACT_READ_FROM, NULL},
    {"debug", CLI_MSMTP_ARG_NONE, ACT_VERBOSE, NULL},
    {"read-recipients", CLI_MSMTP_ARG_NONE, ACT_READ_RCPT, NULL},
    {"file", CLI_MSMTP_ARG_REQUIRED, ACT_FILE, NULL},
    {"rmqs", CLI_MSMTP_ARG_REQUIRED, ACT_REFUSE,
	"mailsub does not send remote queue starting requests (ETRN, RFC "
	"1985): run the server's own queue command"},
};

/* The msmtprc commands, in msmtp's spelling (cli_setting.key). */
static const char *const commands[] = {"host", "port", "source_ip",
    "proxy_host", "proxy_port", "socket", "timeout", "protocol", "domain",
    "auth", "user", "passwordeval", "tls", "tls_starttls", "tls_trust_file",
    "tls_crl_file", "tls_fingerprint", "tls_key_file", "tls_cert_file",
    "tls_certcheck", "tls_priorities", "tls_host_override",
    "tls_min_dh_prime_bits", "set_from_header", "set_date_header",
    "set_msgid_header", "remove_bcc_headers", "undisclosed_recipients",
    "logfile", "logfile_time_format", "syslog", "aliases", "auto_from",
    "maildomain"};

#define N_OPTIONS (sizeof(msmtp_options) / sizeof(msmtp_options[0]))

static long
find(const char *name, size_t n)
{
	size_t k;

	for (k = 0; k < N_OPTIONS; k++)
		if (strlen(msmtp_options[k].name) == n &&
		    strncmp(msmtp_options[k].name, name, n) == 0)
			return (long)k;
	return -1;
}

bool
cli_msmtp_find(const char *name, size_t n, enum cli_msmtp_arg *arg)
{
	long k = find(name, n);

	if (k < 0)
		return false;
	*arg = msmtp_options[k].arg;
	return true;
}

const struct cli_setting *
cli_setting_find(const struct options *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n_settings; i++)
		if (strcmp(o->settings[i].key, key) == 0)
			return &o->settings[i];
	return NULL;
}

static int
set(struct options *o, const char *key, const char *option, const char *value,
    struct error *err)
{
	size_t i;

	for (i = 0; i < o->n_settings; i++)
		if (strcmp(o->settings[i].key, key) == 0)
			break;
	if (i == CLI_SETTINGS_MAX)
		return error_set(err, EX_SOFTWARE, "too many settings");
	o->settings[i].key = key;
	o->settings[i].option = option;
	o->settings[i].value = value;
	if (i == o->n_settings)
		o->n_settings++;
	return 0;
}

/* The msmtprc command an option sets: its name with '_' for '-'. */
static const char *
command_of(const char *name)
{
	size_t k, i;

	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		for (i = 0; name[i] != '\0' && commands[k][i] != '\0'; i++)
			if (commands[k][i] != (name[i] == '-' ? '_' : name[i]))
				break;
		if (name[i] == '\0' && commands[k][i] == '\0')
			return commands[k];
	}
	return NULL;
}

static int
setting(
    struct options *o, const char *option, const char *value, struct error *err)
{
	struct msmtprc_setting s;
	const char *cmd = command_of(option);

	if (cmd == NULL)
		return error_set(
		    err, EX_SOFTWARE, "no command for --%s", option);
	/* mailsub(1): no option writes a file chosen by the caller: a log
	 * record holds the addresses the caller gave, so a file named here
	 * could be made a script (sendmail -X, CVE-2016-10033). */
	if (strcmp(cmd, "logfile") == 0 && value != NULL && value[0] != '\0')
		return error_set(err, EX_USAGE,
		    "--logfile=%s: mailsub never writes a file named on its "
		    "command line; set logfile = FILE in the configuration "
		    "(--logfile= turns it off)",
		    value);
	msmtprc_convert(cmd, value != NULL ? value : "", &s);
	if (s.kind == MSMTPRC_REFUSE)
		return error_set(err, EX_USAGE, "--%s%s%s: %s", option,
		    value != NULL ? "=" : "", value != NULL ? value : "",
		    s.why);
	if (s.kind == MSMTPRC_IGNORE)
		return 0;
	return set(o, cmd, option, value, err);
}

int
cli_msmtp_apply(struct options *o, const char *name, size_t n,
    const char *value, struct error *err)
{
	long k = find(name, n);

	if (k < 0)
		return error_set(err, EX_SOFTWARE, "not an msmtp option");
	switch (msmtp_options[k].act) {
	case ACT_SET:
		return setting(o, msmtp_options[k].name, value, err);
	case ACT_PRETEND:
		o->mode = CLI_MODE_PRETEND;
		return 0;
	case ACT_READ_FROM:
		o->read_envelope_from = true;
		return 0;
	case ACT_VERBOSE:
		o->verbose = true;
		return 0;
	case ACT_READ_RCPT:
		o->read_recipients = true;
		return 0;
	case ACT_FILE:
		if (value[0] == '\0')
			return error_set(
			    err, EX_USAGE, "option --file: empty argument");
		o->config_file = value;
		return 0;
	case ACT_REFUSE:
		break;
	}
	return error_set(err, EX_USAGE, "--%s: %s", msmtp_options[k].name,
	    msmtp_options[k].hint);
}
