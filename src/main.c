/*
 * mailsub: cli -> config -> message -> submit or queue.  Turns the one
 * struct error of a run into one stderr line and the exit status; the only
 * place that exits.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "cli.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "net.h"
#include "queue.h"
#include "relay.h"
#include "submit.h"

/* Everything one delivery run holds, released in one place. */
struct run {
	struct options        opts;
	struct config        *cfg;
	const struct account *acct;
	struct aliases       *aliases;
	char                 *sender;
	struct address_list   rcpts;
	struct message        msg;
	bool                  msg_read;
	char                  queue_id[QUEUE_ID_MAX];
	char                 *saved_path;
	const char           *status; /* for the log: sent, queued, failed */
	char                  final_reply[SMTP_REPLY_LINE_MAX];
	char                  where[300];
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	address_list_init(&r->rcpts);
	message_init(&r->msg);
}

static void
run_free(struct run *r)
{
	message_free(&r->msg);
	address_list_free(&r->rcpts);
	aliases_free(r->aliases);
	free(r->sender);
	free(r->saved_path);
	config_free(r->cfg);
	cli_free(&r->opts);
}

static const char *
login_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	return pw != NULL ? pw->pw_name : "nobody";
}

/* The full name for a generated From: -F, else the GECOS field. */
static const char *
full_name(const struct options *opts, char *buf, size_t size)
{
	struct passwd *pw;
	size_t         n;

	if (opts->full_name != NULL)
		return opts->full_name;
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_gecos == NULL || pw->pw_gecos[0] == '\0')
		return NULL;
	n = strcspn(pw->pw_gecos, ",");
	if (n == 0 || n >= size)
		return NULL;
	memcpy(buf, pw->pw_gecos, n);
	buf[n] = '\0';
	return buf;
}

/* Complete one address (aliases, default_domain) and check it for the
 * envelope.  Bad argv addresses are usage errors. */
static int
add_recipients(struct run *r, const char *text, struct error *err)
{
	struct address_list parsed;
	size_t              i;
	int                 rc = -1;

	address_list_init(&parsed);
	if (address_parse_list(text, strlen(text), &parsed, err) == -1) {
		err->exit_code = EX_USAGE;
		error_prefix(err, "invalid recipient");
		goto out;
	}
	for (i = 0; i < parsed.n; i++) {
		if (address_check_envelope(parsed.addrs[i], err) == -1)
			goto out;
		if (address_complete(parsed.addrs[i], r->aliases,
			r->acct->default_domain, &r->rcpts, err) == -1)
			goto out;
	}
	rc = 0;
out:
	address_list_free(&parsed);
	return rc;
}

/* DESIGN 3: -f, else the account's from, else user@default_domain (or
 * the host's name). */
static int
decide_sender(struct run *r, struct error *err)
{
	const char         *given = r->opts.envelope_from;
	struct address_list l;
	char                host[256];

	if (given == NULL)
		given = r->acct->from;
	if (given != NULL && (given[0] == '\0' || strcmp(given, "<>") == 0)) {
		r->sender = strdup(""); /* the null reverse-path */
		return r->sender == NULL ?
		    error_set(err, EX_OSERR, "out of memory") : 0;
	}
	if (given == NULL) {
		const char *dom = r->acct->default_domain;

		if (dom == NULL) {
			net_local_fqdn(host, sizeof(host));
			dom = host;
		}
		if (asprintf(&r->sender, "%s@%s", login_name(), dom) == -1) {
			r->sender = NULL;
			return error_set(err, EX_OSERR, "out of memory");
		}
		return 0;
	}
	/* <addr> and "Name <addr>" forms are accepted for -f too. */
	address_list_init(&l);
	if (address_parse_list(given, strlen(given), &l, err) == -1 ||
	    l.n != 1) {
		address_list_free(&l);
		if (!error_is_set(err) || err->exit_code != EX_OSERR) {
			char esc[200];

			error_set(err, EX_USAGE, "invalid sender address '%s'",
			    error_escape(esc, sizeof(esc), given,
				strlen(given)));
		}
		return -1;
	}
	if (address_check_envelope(l.addrs[0], err) == -1) {
		address_list_free(&l);
		return -1;
	}
	if (address_is_bare(l.addrs[0]) && r->acct->default_domain != NULL) {
		if (asprintf(&r->sender, "%s@%s", l.addrs[0],
			r->acct->default_domain) == -1)
			r->sender = NULL;
	} else
		r->sender = strdup(l.addrs[0]);
	address_list_free(&l);
	return r->sender == NULL ? error_set(err, EX_OSERR, "out of memory") :
	    0;
}

static bool
needs_smtputf8(const struct run *r)
{
	size_t i;

	if (!address_is_ascii(r->sender))
		return true;
	for (i = 0; i < r->rcpts.n; i++)
		if (!address_is_ascii(r->rcpts.addrs[i]))
			return true;
	return false;
}

static void
fill_envelope(const struct run *r, struct envelope *env)
{
	const struct account *a = r->acct;

	memset(env, 0, sizeof(*env));
	env->sender = r->sender;
	env->rcpts = r->rcpts.addrs;
	env->n_rcpts = r->rcpts.n;
	env->dsn_notify = r->opts.dsn_notify ? r->opts.dsn_notify :
	    a->dsn_notify;
	env->dsn_return = r->opts.dsn_return ? r->opts.dsn_return :
	    a->dsn_return;
	env->dsn_envid = r->opts.dsn_envid;
	if (r->opts.body_type != NULL)
		env->body_8bit = strcasecmp(r->opts.body_type, "8BITMIME") == 0;
	else
		env->body_8bit = r->msg.has_8bit;
	env->needs_smtputf8 = needs_smtputf8(r);
}

/*
 * Keep the message: into new/ for a temporary failure (the caller may be
 * told 75), into failed/ otherwise.  If that write fails the exit status
 * becomes the queue's (73/74): the caller still holds the message.
 */
static void
keep_message(struct run *r, enum queue_area area, struct error *err)
{
	struct queue_envelope qe;
	struct error          qerr;
	struct envelope       env;
	time_t                now = time(NULL);

	if (!r->msg_read || r->msg.fd < 0)
		return;
	fill_envelope(r, &env);
	memset(&qe, 0, sizeof(qe));
	qe.account = r->acct != NULL ? r->acct->name : "";
	qe.sender = r->sender != NULL ? r->sender : "";
	qe.rcpts = (const char *const *)r->rcpts.addrs;
	qe.n_rcpts = r->rcpts.n;
	qe.dsn_notify = env.dsn_notify;
	qe.dsn_return = env.dsn_return;
	qe.dsn_envid = env.dsn_envid;
	qe.body_8bit = env.body_8bit;
	qe.attempts = r->opts.delivery == CLI_DELIVERY_QUEUE ? 0 : 1;
	qe.first_attempt = now;
	qe.last_attempt = now;
	qe.last_error = err->message;
	error_clear(&qerr);
	if (queue_store(r->acct->queue_dir, area, &qe, r->msg.fd, r->msg.size,
		r->queue_id, &r->saved_path, &qerr) == -1) {
		char msg[ERROR_MESSAGE_MAX];

		snprintf(msg, sizeof(msg), "%.200s; and the message could not "
		    "be kept: %.250s", err->message, qerr.message);
		error_set(err, qerr.exit_code, "%s", msg);
		r->status = "failed";
		return;
	}
	r->status = area == QUEUE_AREA_NEW ? "queued" : "failed";
	{
		char msg[ERROR_MESSAGE_MAX];

		snprintf(msg, sizeof(msg), "%.300s; %s %s", err->message,
		    area == QUEUE_AREA_NEW ? "message queued as" :
		    "message saved as", r->saved_path);
		memcpy(err->message, msg, sizeof(err->message));
	}
}

static void
write_log(struct run *r, int exit_code, const char *reply)
{
	struct log_record rec;

	if (r->acct == NULL)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.account = r->acct->name;
	rec.host = r->where[0] ? r->where :
	    (r->acct->n_hosts ? r->acct->hosts[0] : "");
	rec.sender = r->sender ? r->sender : "";
	rec.rcpts = (const char *const *)r->rcpts.addrs;
	rec.n_rcpts = r->rcpts.n;
	rec.size = r->msg.size;
	rec.message_id = r->msg.message_id ? r->msg.message_id : "";
	rec.reply = reply;
	rec.exit_code = exit_code;
	rec.queue_id = r->queue_id[0] ? r->queue_id : NULL;
	rec.status = r->status ? r->status : (exit_code == 0 ? "sent" :
	    "failed");
	log_record(r->acct, &rec);
}

/* Submit the spooled message through the account's relay. */
static int
submit(struct run *r, struct error *err)
{
	struct relay         relay;
	struct envelope      env;
	struct message_source src;
	struct submit_result res;
	int                  rc;

	if (relay_open(&relay, r->acct, r->opts.verbose, err) == -1) {
		snprintf(r->where, sizeof(r->where), "%s", relay.where);
		return -1;
	}
	snprintf(r->where, sizeof(r->where), "%s", relay.where);
	fill_envelope(r, &env);
	src.fd = r->msg.fd;
	src.offset = 0;
	src.size = r->msg.size;
	submit_result_init(&res);
	rc = submit_send(&relay.session, &env, &src, &res, err);
	if (rc == -1)
		error_prefix(err, "%s", relay.where);
	else
		snprintf(r->final_reply, sizeof(r->final_reply), "%s",
		    res.final_reply);
	if (rc == 0 && res.dsn_ignored)
		fprintf(stderr, "mailsub: %s: %s: warning: the server does "
		    "not offer DSN; delivery status notifications were not "
		    "requested\n", r->acct->name, relay.where);
	submit_result_free(&res);
	relay_close(&relay);
	return rc;
}

static int
deliver(struct run *r, struct error *err)
{
	struct message_options mo;
	char                   hostname[256], namebuf[256];
	bool                   content_error = false;
	char                  *cfg_path = NULL;
	bool                   system = false;
	size_t                 i;

	if (config_locate(r->opts.config_file, &cfg_path, &system, err) == -1)
		return -1;
	if (config_load(cfg_path, system, &r->cfg, err) == -1) {
		free(cfg_path);
		return -1;
	}
	free(cfg_path);
	if (config_select(r->cfg, r->opts.account, r->opts.envelope_from,
		&r->acct, err) == -1)
		return -1;
	if (config_check_account_files(r->acct, err) == -1)
		return -1;
	if (r->acct->aliases != NULL &&
	    aliases_load(r->acct->aliases, &r->aliases, err) == -1)
		return -1;
	if (decide_sender(r, err) == -1)
		return -1;
	for (i = 0; i < r->opts.n_recipients; i++)
		if (add_recipients(r, r->opts.recipients[i], err) == -1)
			return -1;
	if (!r->opts.read_recipients && r->rcpts.n == 0)
		return error_set(err, EX_USAGE,
		    "no recipients given (name them as arguments or use -t)");
	if (queue_prepare(r->acct->queue_dir, err) == -1)
		return -1;

	/* From here on the message is read: every failure keeps it. */
	net_local_fqdn(hostname, sizeof(hostname));
	memset(&mo, 0, sizeof(mo));
	mo.read_recipients = r->opts.read_recipients;
	mo.stop_at_dot = isatty(STDIN_FILENO) && !r->opts.ignore_dots;
	mo.envelope_from = r->sender;
	mo.full_name = full_name(&r->opts, namebuf, sizeof(namebuf));
	mo.hostname = hostname;
	mo.acct = r->acct;
	mo.aliases = r->aliases;
	{
		char spool_dir[4096];

		snprintf(spool_dir, sizeof(spool_dir), "%s/tmp",
		    r->acct->queue_dir);
		if (message_read(STDIN_FILENO, spool_dir, &mo, &r->msg, err) ==
		    -1) {
			if (r->msg.fd < 0)
				return -1; /* nothing kept: caller holds it */
			content_error = true;
		}
	}
	r->msg_read = true;
	if (content_error) {
		keep_message(r, QUEUE_AREA_FAILED, err);
		return -1;
	}
	for (i = 0; i < r->msg.header_rcpts.n; i++)
		if (address_list_add(&r->rcpts, r->msg.header_rcpts.addrs[i],
			err) == -1)
			return -1;
	if (r->rcpts.n == 0) {
		error_set(err, EX_DATAERR, "no recipients: the message has no "
		    "To, Cc or Bcc and none were given as arguments");
		keep_message(r, QUEUE_AREA_FAILED, err);
		return -1;
	}
	for (i = 0; i < r->rcpts.n; i++)
		if (address_check_envelope(r->rcpts.addrs[i], err) == -1) {
			err->exit_code = EX_DATAERR;
			keep_message(r, QUEUE_AREA_FAILED, err);
			return -1;
		}

	if (r->opts.delivery == CLI_DELIVERY_QUEUE) {
		error_set(err, EX_TEMPFAIL, "queued on request (-odq)");
		keep_message(r, QUEUE_AREA_NEW, err);
		if (err->exit_code != EX_TEMPFAIL)
			return -1;
		error_clear(err);
		return 0;
	}
	if (submit(r, err) == -1) {
		if (error_is_temporary(err->exit_code)) {
			keep_message(r, QUEUE_AREA_NEW, err);
			if (err->exit_code == EX_TEMPFAIL &&
			    r->acct->on_tempfail == ACCOUNT_TEMPFAIL_QUEUE_OK) {
				fprintf(stderr, "mailsub: %s: %s\n",
				    r->acct->name, err->message);
				write_log(r, EX_OK, err->message);
				error_clear(err);
				r->status = "done";
				return 0;
			}
		} else
			keep_message(r, QUEUE_AREA_FAILED, err);
		return -1;
	}
	r->status = "sent";
	return 0;
}

static void
print_error(const struct run *r, const struct error *err)
{
	if (r->acct != NULL)
		fprintf(stderr, "mailsub: %s: %s\n", r->acct->name,
		    err->message);
	else
		fprintf(stderr, "mailsub: %s\n", err->message);
}

int
main(int argc, char **argv)
{
	struct run   r;
	struct error err;
	int          code;

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
		fprintf(stderr, "mailsub: %s\nusage: mailsub [options] [--] "
		    "[recipient ...] < message; mailsub --help lists the "
		    "options\n", err.message);
		run_free(&r);
		return EX_USAGE;
	}
	log_set_verbose(r.opts.verbose);
	switch (r.opts.mode) {
	case CLI_MODE_HELP:
		fputs(cli_usage(), stdout);
		code = EX_OK;
		break;
	case CLI_MODE_VERSION:
		printf("mailsub %s\n", PACKAGE_VERSION);
		code = EX_OK;
		break;
	case CLI_MODE_NEWALIASES:
		/* mailsub reads the aliases file directly: nothing to build. */
		code = EX_OK;
		break;
	case CLI_MODE_DELIVER:
		if (deliver(&r, &err) == -1) {
			print_error(&r, &err);
			code = err.exit_code;
			write_log(&r, code, err.message);
		} else {
			code = EX_OK;
			if (r.status == NULL || strcmp(r.status, "done") != 0)
				write_log(&r, code, r.final_reply[0] ?
				    r.final_reply : "queued");
		}
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
