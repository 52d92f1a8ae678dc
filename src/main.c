/* SPDX-License-Identifier: ISC */
/*
 * mailsub: cli -> config -> message -> submit or queue.  Turns the one
 * struct error of a run into one stderr line and the exit status; the only
 * place that exits.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkconfig.h"
#include "cli.h"
#include "config.h"
#include "configwrite.h"
#include "delivery.h"
#include "discover.h"
#include "error.h"
#include "flush.h"
#include "interrupt.h"
#include "import.h"
#include "log.h"
#include "login.h"
#include "mailq.h"
#include "pretend.h"
#include "serverinfo.h"
#include "smtpd.h"
#include "sysmode.h"
#include "verify.h"
#include "version.h"

/* What main() holds for any mode. */
struct run {
	struct options opts;
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
}

static void
run_free(struct run *r)
{
	cli_free(&r->opts);
}

static void
print_error(const struct delivery *d, const struct error *err)
{
	if (d->acct != NULL)
		fprintf(
		    stderr, "mailsub: %s: %s\n", d->acct->name, err->message);
	else
		fprintf(stderr, "mailsub: %s\n", err->message);
	if (d->acct != NULL && d->hint[0] != '\0')
		fprintf(
		    stderr, "mailsub: %s: hint: %s\n", d->acct->name, d->hint);
}

/* A mode's result: 0, or its one error line and exit status. */
static int
report(int rc, const struct error *err)
{
	if (rc == 0)
		return EX_OK;
	fprintf(stderr, "mailsub: %s\n", err->message);
	return err->exit_code;
}

/* The default mode: one message from stdin, delivered or kept. */
static int
mode_deliver(const struct options *given)
{
	const struct options *opts = given;
	struct options bg;
	struct config *cfg = NULL;
	struct delivery d;
	struct error err;
	int code = EX_OK;

	/* -odb: queue as -odq does, then deliver from the queue in a
	 * detached child (flush.c). */
	if (given->delivery == CLI_DELIVERY_BACKGROUND) {
		bg = *given;
		bg.delivery = CLI_DELIVERY_QUEUE;
		opts = &bg;
	}
	error_clear(&err);
	delivery_init(&d, opts, NULL);
	if (delivery_load_config(opts, &cfg, &err) == 0) {
		d.cfg = cfg;
		if (delivery_run_stdin(&d, &err) == 0) {
			if (d.sender_warning[0] != '\0')
				fprintf(stderr, "mailsub: %s: %s\n",
				    d.acct->name, d.sender_warning);
			if (d.warning[0] != '\0')
				fprintf(stderr, "mailsub: %s: %s\n",
				    d.acct->name, d.warning);
			delivery_log(&d, EX_OK,
			    d.final_reply[0] ? d.final_reply : "queued");
			/* Queued messages also go out after the next
			 * successful submission through the account
			 * (mailsub(1), EXIT STATUS);
			 * not once told to stop (they stay queued). */
			if (given->delivery == CLI_DELIVERY_BACKGROUND &&
			    d.queue_id[0] != '\0' && !interrupt_caught() &&
			    flush_background(
				cfg, d.acct, given, d.queue_id, &err) == -1)
				fprintf(stderr,
				    "mailsub: %s: %s; the message "
				    "stays queued\n",
				    d.acct->name, err.message);
			else if (d.status != NULL &&
				 strcmp(d.status, "sent") == 0 &&
				 !interrupt_caught())
				flush_after_delivery(cfg, d.acct, opts, stderr);
		} else
			code = -1;
	} else
		code = -1;
	if (code == -1) {
		print_error(&d, &err);
		code = err.exit_code;
		delivery_log(&d, code, err.message);
	}
	delivery_free(&d);
	config_free(cfg);
	return code;
}

int
main(int argc, char **argv)
{
	struct run r;
	struct error err;
	int code;

	/* Writes to a closed socket are errors, not deaths; a file size limit
	 * is an EFBIG error we report (74) instead of a signal. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* Callers such as sudo may start us with stderr closed: keep 0-2
	 * open so no file we open lands there. */
	while (fcntl(STDERR_FILENO, F_GETFD) == -1 && errno == EBADF) {
		int fd = open("/dev/null", O_RDWR);

		if (fd == -1 || fd > STDERR_FILENO)
			break;
	}

	run_init(&r);
	error_clear(&err);
	if (cli_parse(&r.opts, argc, argv, &err) == -1) {
		fprintf(stderr,
		    "mailsub: %s\nusage: mailsub [options] [--] "
		    "[recipient ...] < message; mailsub --help lists the "
		    "options\n",
		    err.message);
		run_free(&r);
		return EX_USAGE;
	}
	/* The setgid privilege is decided before anything is opened. */
	if (sysmode_start(&r.opts, &err) == -1) {
		fprintf(stderr, "mailsub: %s\n", err.message);
		run_free(&r);
		return err.exit_code;
	}
	log_set_verbose(r.opts.verbose);
	switch (r.opts.mode) {
	case CLI_MODE_HELP:
		fputs(cli_usage(), stdout);
		code = EX_OK;
		break;
	case CLI_MODE_VERSION:
		code = version_run(&r.opts, stdout);
		break;
	case CLI_MODE_NEWALIASES:
		/* mailsub reads the aliases file directly: nothing to build. */
		code = EX_OK;
		break;
	case CLI_MODE_DELIVER:
		/* From here on a message may be held: SIGTERM, SIGHUP and
		 * SIGINT queue it or drop it cleanly (mailsub(1), EXIT
		 * STATUS) instead of killing us. */
		interrupt_install();
		code = mode_deliver(&r.opts);
		break;
	case CLI_MODE_VERIFY:
		code = report(verify_run(&r.opts, stdout, &err), &err);
		break;
	case CLI_MODE_CHECK_CONFIG:
		code = report(checkconfig_run(&r.opts, stdout, &err), &err);
		break;
	case CLI_MODE_IMPORT_MSMTPRC:
		code = report(
		    import_run(r.opts.mode_argument, stdout, &err), &err);
		break;
	case CLI_MODE_PRETEND:
		code = report(pretend_run(&r.opts, stdout, &err), &err);
		break;
	case CLI_MODE_SERVERINFO:
		code = report(serverinfo_run(&r.opts, stdout, &err), &err);
		break;
	case CLI_MODE_CONFIGURE:
		code = report(
		    r.opts.write
			? configwrite_run(&r.opts, stdout, &err)
			: discover_run(r.opts.mode_argument, stdout, &err),
		    &err);
		break;
	case CLI_MODE_SMTP_STDIO:
		interrupt_install();
		code = EX_OK;
		if (smtpd_run(STDIN_FILENO, STDOUT_FILENO, &r.opts, &err) ==
		    -1) {
			fprintf(stderr, "mailsub: %s\n", err.message);
			code = err.exit_code;
		}
		break;
	case CLI_MODE_OAUTH2_LOGIN:
		code = report(login_run(&r.opts, stdout, &err), &err);
		break;
	case CLI_MODE_QUEUE_LIST:
	case CLI_MODE_FLUSH:
	case CLI_MODE_QUEUE_DELETE:
	case CLI_MODE_REQUEUE:
		if (r.opts.mode == CLI_MODE_FLUSH)
			interrupt_install();
		code = mailq_command(&r.opts, stdout, stderr);
		break;
	default:
		fprintf(stderr, "mailsub: this mode is not available in this "
				"build\n");
		code = EX_SOFTWARE;
		break;
	}
	run_free(&r);
	return code;
}
