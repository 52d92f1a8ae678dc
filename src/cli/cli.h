/* SPDX-License-Identifier: ISC */
/*
 * The sendmail-compatible command line -> struct options.  Pure: no I/O,
 * no allocation that outlives argv except the recipient list.
 */
#ifndef MAILSUB_CLI_H
#define MAILSUB_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "compose.h"

struct error;

enum cli_mode {
	CLI_MODE_DELIVER,	 /* -bm, the default */
	CLI_MODE_QUEUE_LIST,	 /* -bp, mailq, --queue */
	CLI_MODE_FLUSH,		 /* -q, --flush */
	CLI_MODE_NEWALIASES,	 /* -bi, newaliases */
	CLI_MODE_SMTP_STDIO,	 /* -bs */
	CLI_MODE_VERIFY,	 /* -bv */
	CLI_MODE_HELP,		 /* --help */
	CLI_MODE_VERSION,	 /* --version */
	CLI_MODE_SERVERINFO,	 /* --serverinfo */
	CLI_MODE_CHECK_CONFIG,	 /* --check-config */
	CLI_MODE_CONFIGURE,	 /* --configure ADDRESS */
	CLI_MODE_QUEUE_DELETE,	 /* --queue-delete ID */
	CLI_MODE_REQUEUE,	 /* --requeue ID */
	CLI_MODE_PRETEND,	 /* -P, --pretend: print the account */
	CLI_MODE_IMPORT_MSMTPRC, /* --import-msmtprc [FILE] */
	CLI_MODE_OAUTH2_LOGIN,	 /* --oauth2-login ACCOUNT */
};

enum cli_delivery {
	CLI_DELIVERY_INTERACTIVE, /* -odi */
	CLI_DELIVERY_QUEUE,	  /* -odq */
	CLI_DELIVERY_BACKGROUND,  /* -odb */
};

/*
 * An account setting from msmtp's command line (--host, --port, ...): the
 * mailsub.conf(5) key it sets, and the value as given; NULL for an option
 * given without "=value" (--tls, --auth, --syslog), "" for msmtp's "unset"
 * (--user=).  override.h applies them.  A repeated option replaces the
 * earlier value, so the list holds each key once.
 */
#define CLI_SETTINGS_MAX 24
struct cli_setting {
	const char *key;    /* "host", "tls", "tls_starttls", ... */
	const char *option; /* as msmtp spells it, for error messages */
	const char *value;  /* points into argv */
};

struct options {
	enum cli_mode mode;
	enum cli_delivery delivery;
	const char *progname;	   /* basename of argv[0] */
	bool read_recipients;	   /* -t */
	bool ignore_dots;	   /* -i, -oi */
	bool verbose;		   /* -v */
	bool json;		   /* --json */
	bool write;		   /* --write (with --configure) */
	const char *envelope_from; /* -f, -r, --from outside compose mode */
	const char *full_name;	   /* -F */
	const char *config_file;   /* -C */
	const char *account;	   /* -a, --account */
	const char *dsn_notify;	   /* -N */
	const char *dsn_return;	   /* -R */
	const char *dsn_envid;	   /* -V */
	const char *body_type;	   /* -B: "7BIT" or "8BITMIME" */
	char error_mode;	   /* -oeX / -eX letter, or 0 */
	const char *mode_argument; /* --queue-delete/--requeue ID,
				      --configure ADDRESS,
				      --import-msmtprc FILE (or NULL),
				      --oauth2-login ACCOUNT */
	bool oauth2_paste;	   /* --paste */
	bool oauth2_device;	   /* --device */
	const char **recipients;   /* argv strings as given (may hold
				      comma lists and Name <addr>) */
	size_t n_recipients;
	const char **ignored; /* options accepted and ignored, for -v */
	size_t n_ignored;
	struct compose_options compose; /* --to, --cc and --bcc are also in
					   recipients (the envelope) */
	bool read_envelope_from;	/* msmtp's --read-envelope-from */
	struct cli_setting settings[CLI_SETTINGS_MAX];
	size_t n_settings;
};

/* The setting for key, or NULL. */
const struct cli_setting *cli_setting_find(
    const struct options *opts, const char *key);

/*
 * Parse argv.  The invocation name selects the mode for mailq and
 * newaliases.  Unknown options and missing arguments are EX_USAGE; so are
 * CR, LF or NUL in -f, -F and recipients, and invalid -N/-R/-B values;
 * in compose mode a --header without a colon, with a control character or
 * naming a field compose writes itself, a bad --attach type, --body with
 * --body-file, -t, and a mode other than delivery.
 * Returns 0 or -1; cli_free() releases the arrays.
 */
int cli_parse(struct options *opts, int argc, char **argv, struct error *err);
void cli_free(struct options *opts);

/* The whole synopsis, for usage errors and --help. */
const char *cli_usage(void);

#endif
