/* SPDX-License-Identifier: ISC */
/*
 * One message from the caller to the relay: the envelope, the spool, the
 * submission and, when it does not go out, the durable copy in new/ or
 * failed/ (mailsub(1), EXIT STATUS).  Past 800 lines and one job: the
 * caller's sender rule, the read, the send (whole or streamed) and the
 * keeping of what did not go out share struct delivery and must agree on
 * every exit status; split, each part would need the others' state.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cli.h"
#include "compose.h"
#include "config.h"
#include "delivery.h"
#include "envelope.h"
#include "error.h"
#include "hint.h"
#include "interrupt.h"
#include "log.h"
#include "message.h"
#include "net.h"
#include "override.h"
#include "queue.h"
#include "relay.h"
#include "stream.h"
#include "submit.h"
#include "sysmode.h"

int
delivery_load_config(
    const struct options *opts, struct config **cfg, struct error *err)
{
	char *path = NULL;
	bool system = false;
	int rc;

	*cfg = NULL;
	/* msmtp(1): --host takes every setting from the command line. */
	if (override_replaces_config(opts))
		return override_config_new(opts, cfg, err);
	if (config_locate(opts->config_file, &path, &system, err) == -1)
		return -1;
	if (sysmode_config_chosen(system, err) == -1) {
		free(path);
		return -1;
	}
	rc = config_load(path, system, cfg, err);
	/* What is wrong in the system file is root's to read (mailsub
	 * --check-config): a caller learns that it is, not what. */
	if (rc == -1 && sysmode_privileged() && err->exit_code == EX_CONFIG)
		error_set(err, EX_CONFIG,
		    "%s: the system configuration cannot be used; root can "
		    "see why with mailsub --check-config",
		    path);
	free(path);
	if (rc == 0 && opts->n_settings > 0 &&
	    override_apply(*cfg, opts, err) == -1) {
		config_free(*cfg);
		*cfg = NULL;
		rc = -1;
	}
	return rc;
}

void
delivery_init(
    struct delivery *d, const struct options *opts, const struct config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->opts = opts;
	d->cfg = cfg;
	address_list_init(&d->rcpts);
	message_init(&d->msg);
}

void
delivery_free(struct delivery *d)
{
	message_free(&d->msg);
	address_list_free(&d->rcpts);
	aliases_free(d->aliases);
	free(d->sender);
	free(d->saved_path);
	memset(d, 0, sizeof(*d));
	d->msg.fd = -1;
}

int
delivery_select(
    struct delivery *d, const char *envelope_from, struct error *err)
{
	aliases_free(d->aliases);
	d->aliases = NULL;
	d->alias_warning = NULL;
	d->acct = NULL;
	if (config_select(
		d->cfg, d->opts->account, envelope_from, &d->acct, err) == -1)
		return -1;
	if (config_check_account_files(d->acct, err) == -1)
		return -1;
	if (d->acct->aliases != NULL) {
		const char *const *w;
		size_t n, all, i;

		if (aliases_load(d->acct->aliases, &d->aliases, err) == -1)
			return -1;
		w = aliases_warnings(d->aliases, &n, &all);
		for (i = 0; i < n; i++)
			log_verbose("warning: %s", w[i]);
		if (all > n)
			log_verbose("warning: %s: %zu more lines or targets "
				    "skipped",
			    d->acct->aliases, all - n);
	}
	return 0;
}

/* The login name, as the queue and the log record name the caller. */
static const char *
login_name(void)
{
	return sysmode_user();
}

int
delivery_add_recipient(struct delivery *d, const char *addr, struct error *err)
{
	size_t before = d->rcpts.n;

	if (address_check_envelope(addr, err) == -1)
		return -1;
	if (address_complete(addr, d->aliases, d->acct->default_domain,
		&d->rcpts, &d->alias_warning, err) == -1)
		return -1;
	/* An address with a domain is added as it is, checked just now;
	 * what an alias gives is checked once the list is complete. */
	if (d->rcpts_checked == before && !address_is_bare(addr))
		d->rcpts_checked = d->rcpts.n;
	return 0;
}

int
delivery_add_recipients(struct delivery *d, const char *text, struct error *err)
{
	struct address_list parsed;
	size_t i;
	int rc = -1;

	/* The common case, without a list in between. */
	if (address_is_plain(text, strlen(text)))
		return delivery_add_recipient(d, text, err);
	address_list_init(&parsed);
	if (address_parse_list(text, strlen(text), &parsed, err) == -1) {
		err->exit_code = EX_USAGE;
		error_prefix(err, "invalid recipient");
		goto out;
	}
	for (i = 0; i < parsed.n; i++)
		if (delivery_add_recipient(d, parsed.addrs[i], err) == -1)
			goto out;
	rc = 0;
out:
	address_list_free(&parsed);
	return rc;
}

/* A local_senders item "USER:PATTERN" for user (or "*"): its pattern. */
static const char *
local_pattern(const char *item, const char *user)
{
	const char *colon = strchr(item, ':');
	size_t n;

	if (colon == NULL)
		return NULL;
	n = (size_t)(colon - item);
	if ((n == 1 && item[0] == '*') ||
	    (strlen(user) == n && strncmp(item, user, n) == 0))
		return colon + 1;
	return NULL;
}

/* The caller's first exact local_senders address (named for it, not
 * "*"), or NULL. */
static const char *
own_listed(const struct account *a, const char *user)
{
	size_t i;

	for (i = 0; i < a->n_local_senders; i++) {
		const char *item = a->local_senders[i], *p;

		if (item[0] == '*' && item[1] == ':')
			continue;
		if ((p = local_pattern(item, user)) != NULL &&
		    strpbrk(p, "*?[") == NULL)
			return p;
	}
	return NULL;
}

bool
delivery_sender_allowed(const struct delivery *d, const char *addr)
{
	const struct account *a = d->acct;
	const char *user = sysmode_user(), *p, *at;
	char host[256];
	size_t i;

	if (!sysmode_restricted() || addr == NULL || *addr == '\0')
		return true;
	if (a->from != NULL && strcasecmp(a->from, addr) == 0)
		return true;
	/* login@default_domain, or @ the host's name without one. */
	at = strrchr(addr, '@');
	if (at != NULL && (size_t)(at - addr) == strlen(user) &&
	    strncmp(addr, user, strlen(user)) == 0) {
		if (a->default_domain != NULL) {
			if (strcasecmp(at + 1, a->default_domain) == 0)
				return true;
		} else {
			net_local_fqdn(host, sizeof(host));
			if (strcasecmp(at + 1, host) == 0)
				return true;
		}
	}
	if (at == NULL && strcmp(addr, user) == 0)
		return true; /* a bare From: completed to that anyway */
	for (i = 0; i < a->n_local_senders; i++)
		if ((p = local_pattern(a->local_senders[i], user)) != NULL &&
		    config_sender_matches(p, addr))
			return true;
	return false;
}

static int compute_sender(
    struct delivery *d, const char *given, struct error *err);

int
delivery_set_sender(struct delivery *d, const char *given, struct error *err)
{
	char was[300];
	char *old;

	d->sender_warning[0] = '\0';
	if (given == NULL && sysmode_restricted())
		given = own_listed(d->acct, sysmode_user());
	if (compute_sender(d, given, err) == -1)
		return -1;
	if (delivery_sender_allowed(d, d->sender))
		return 0;
	/* Through the shared account nobody sends as someone else. */
	old = d->sender;
	d->sender = NULL;
	error_escape(was, sizeof(was), old, strlen(old));
	free(old);
	if (d->opts->account == NULL && delivery_select(d, NULL, err) == -1)
		return -1;
	if (compute_sender(d, own_listed(d->acct, sysmode_user()), err) == -1)
		return -1;
	snprintf(d->sender_warning, sizeof(d->sender_warning),
	    "sender <%s> is not %s's to use (local_senders): sent as <%s>", was,
	    sysmode_user(), d->sender[0] != '\0' ? d->sender : "");
	log_verbose("%s", d->sender_warning);
	return 0;
}

/* RFC 5321 4.1.2: a reverse-path is a whole address; a bare name takes
 * the account's domain (default_domain, else /etc/mailname) or is
 * refused: it never reaches the wire. */
static int
compute_sender(struct delivery *d, const char *given, struct error *err)
{
	struct address_list l;
	const char *dom = d->acct->default_domain;
	char esc[200];

	free(d->sender);
	d->sender = NULL;
	if (given == NULL)
		given = d->acct->from;
	if (given != NULL && (given[0] == '\0' || strcmp(given, "<>") == 0)) {
		d->sender = strdup(""); /* the null reverse-path */
		return d->sender == NULL
			   ? error_set(err, EX_OSERR, "out of memory")
			   : 0;
	}
	if (given == NULL) {
		if (dom == NULL)
			return error_set(err, EX_CONFIG,
			    "%s: no sender address: set from = ADDRESS in "
			    "[%s] of %s (or default_domain, or the mail "
			    "domain in %s), or give -f ADDRESS",
			    d->acct->name, d->acct->name, d->acct->config_path,
			    config_mailname_path);
		if (asprintf(&d->sender, "%s@%s", login_name(), dom) == -1) {
			d->sender = NULL;
			return error_set(err, EX_OSERR, "out of memory");
		}
		return 0;
	}
	/* <addr> and "Name <addr>" forms are accepted for -f too. */
	address_list_init(&l);
	if (address_parse_list(given, strlen(given), &l, err) == -1 ||
	    l.n != 1) {
		address_list_free(&l);
		if (!error_is_set(err) || err->exit_code != EX_OSERR)
			error_set(err, EX_USAGE, "invalid sender address '%s'",
			    error_escape(
				esc, sizeof(esc), given, strlen(given)));
		return -1;
	}
	if (address_check_envelope(l.addrs[0], err) == -1) {
		address_list_free(&l);
		return -1;
	}
	if (address_is_bare(l.addrs[0]) && dom == NULL) {
		error_set(err, EX_CONFIG,
		    "%s: the sender '%s' has no domain and [%s] of %s has none "
		    "to add: give the whole address, or set default_domain "
		    "(or the mail domain in %s)",
		    d->acct->name,
		    error_escape(
			esc, sizeof(esc), l.addrs[0], strlen(l.addrs[0])),
		    d->acct->name, d->acct->config_path, config_mailname_path);
		address_list_free(&l);
		return -1;
	}
	if (address_is_bare(l.addrs[0])) {
		if (asprintf(&d->sender, "%s@%s", l.addrs[0], dom) == -1)
			d->sender = NULL;
	} else
		d->sender = strdup(l.addrs[0]);
	address_list_free(&l);
	return d->sender == NULL ? error_set(err, EX_OSERR, "out of memory")
				 : 0;
}

/*
 * Keep the message: into new/ for a temporary failure (the caller may be
 * told 75), into failed/ otherwise.  If that write fails the exit status
 * becomes the queue's (73/74): the caller still holds the message.
 */
static void
keep_message(struct delivery *d, enum queue_area area, struct error *err)
{
	struct queue_meta meta;
	struct error qerr;
	struct envelope env;
	char msg[ERROR_MESSAGE_MAX];
	time_t now = time(NULL);
	char **rcpts = d->rcpts.addrs, **kept = NULL;
	size_t i, n = d->rcpts.n;
	int rc;

	if (!d->msg_read)
		return; /* not read: the caller still holds it */
	if (d->msg.fd < 0 || d->msg.spool_partial) {
		/* No whole spool: never kept, and the line says so rather
		 * than a 75 that promises a queued copy. */
		snprintf(msg, sizeof(msg),
		    "%.300s; nothing was queued or saved", err->message);
		error_set(err, EX_IOERR, "%s", msg);
		d->status = "failed";
		return;
	}
	if (d->rcpts_checked < d->rcpts.n) {
		/* The message was refused for an address that a queue file
		 * cannot hold (a control character, too long): it is kept
		 * without it, and last-error names it. */
		if ((kept = calloc(d->rcpts.n, sizeof(*kept))) != NULL) {
			for (i = n = 0; i < d->rcpts.n; i++) {
				error_clear(&qerr);
				if (i < d->rcpts_checked ||
				    address_check_envelope(
					d->rcpts.addrs[i], &qerr) == 0)
					kept[n++] = d->rcpts.addrs[i];
			}
			rcpts = kept;
		}
	}
	memset(&meta, 0, sizeof(meta));
	meta.account = d->acct->name;
	/* Whose it is: mailq, --queue-delete, --requeue and -q of a caller
	 * other than root act on that caller's messages only. */
	meta.submitter = sysmode_user();
	meta.submitter_uid = sysmode_uid();
	meta.attempts = d->opts->delivery == CLI_DELIVERY_QUEUE ? 0 : 1;
	meta.first_attempt = now;
	meta.last_attempt = now;
	meta.last_error = err->message;
	error_clear(&qerr);
	rc = envelope_build(
	    &env, d->sender, rcpts, n, &d->msg, d->opts, d->acct, &qerr);
	free(kept);
	if (rc == 0) {
		rc = queue_store(d->acct->queue_dir, area, &env, &meta,
		    d->msg.fd, d->msg.size, d->queue_id, &d->saved_path, &qerr);
		envelope_free(&env);
	}
	if (rc == -1) {
		snprintf(msg, sizeof(msg),
		    "%.200s; and the message could not "
		    "be kept: %.250s",
		    err->message, qerr.message);
		error_set(err, qerr.exit_code, "%s", msg);
		d->status = "failed";
		return;
	}
	d->status = area == QUEUE_AREA_NEW ? "queued" : "failed";
	snprintf(msg, sizeof(msg), "%.300s; %s %s", err->message,
	    area == QUEUE_AREA_NEW ? "message queued as" : "message saved as",
	    d->saved_path);
	memcpy(err->message, msg, sizeof(err->message));
}

void
delivery_log(struct delivery *d, int exit_code, const char *reply)
{
	struct log_record rec;

	if (d->acct == NULL || d->logged)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.account = d->acct->name;
	rec.host = d->where[0] ? d->where
			       : (d->acct->n_hosts ? d->acct->hosts[0] : "");
	rec.sender = d->sender ? d->sender : "";
	rec.rcpts = (const char *const *)d->rcpts.addrs;
	rec.n_rcpts = d->rcpts.n;
	rec.size = d->msg.size;
	rec.message_id = d->msg.message_id ? d->msg.message_id : "";
	rec.reply = reply;
	rec.exit_code = exit_code;
	rec.queue_id = d->queue_id[0] ? d->queue_id : NULL;
	rec.status =
	    d->status ? d->status : (exit_code == 0 ? "sent" : "failed");
	rec.warning =
	    d->alias_warning != NULL ? d->alias_warning : d->msg.alias_warning;
	if (rec.warning == NULL && d->sender_warning[0] != '\0')
		rec.warning = d->sender_warning;
	if (rec.warning == NULL)
		rec.warning = d->msg.sender_warning;
	/* The system accounts serve every user: the record names whose
	 * message it is, as Postfix's pickup does. */
	if (d->acct->system) {
		rec.submitter = sysmode_user();
		rec.submitter_uid = (unsigned long)sysmode_uid();
	}
	log_record(d->acct, &rec);
	d->logged = true;
}

void
delivery_hint(struct delivery *d, const struct relay *relay,
    enum submit_phase phase, const struct error *err)
{
	struct hint_facts f;

	memset(&f, 0, sizeof(f));
	f.acct = d->acct;
	f.host = relay->peer.host;
	f.greeting = relay->session.greeting;
	f.phase = phase;
	f.exit_code = err->exit_code;
	f.class = err->class;
	f.message = err->message;
	if (hint_for(&f, d->hint, sizeof(d->hint)) == NULL)
		d->hint[0] = '\0';
}

/* The transaction over the open relay, and what it leaves for the
 * caller's line: the final reply, the hint, the DSN warning. */
static int
send_over(struct delivery *d, struct relay *relay, const struct envelope *env,
    const struct message_source *src, struct error *err)
{
	struct submit_result res;
	int rc;

	submit_result_init(&res);
	rc = submit_send(&relay->session, env, src, &res, err);
	if (rc == -1) {
		error_prefix(err, "%s", relay->where);
		delivery_hint(d, relay, res.phase, err);
	} else
		snprintf(d->final_reply, sizeof(d->final_reply), "%s",
		    res.final_reply);
	if (rc == 0 && res.dsn_ignored)
		snprintf(d->warning, sizeof(d->warning),
		    "%s: warning: the "
		    "server does not offer DSN; delivery status notifications "
		    "were not requested",
		    relay->where);
	submit_result_free(&res);
	return rc;
}

/* Submit the spooled message through the account's relay. */
static int
submit(struct delivery *d, struct error *err)
{
	struct relay relay;
	struct envelope env;
	struct message_source src;
	int rc;

	if (relay_open(&relay, d->acct, d->opts->verbose, err) == -1) {
		snprintf(d->where, sizeof(d->where), "%s", relay.where);
		delivery_hint(d, &relay, relay.failed_phase, err);
		return -1;
	}
	snprintf(d->where, sizeof(d->where), "%s", relay.where);
	if (envelope_build(&env, d->sender, d->rcpts.addrs, d->rcpts.n, &d->msg,
		d->opts, d->acct, err) == -1) {
		relay_close(&relay);
		return -1;
	}
	memset(&src, 0, sizeof(src));
	src.fd = d->msg.fd;
	src.offset = 0;
	src.size = d->msg.size;
	rc = send_over(d, &relay, &env, &src, err);
	envelope_free(&env);
	relay_close(&relay);
	return rc;
}

/* header_options.sender_ok: an address the caller may use, or the
 * envelope sender itself. */
static bool
header_sender_ok(void *arg, const char *addr)
{
	const struct delivery *d = arg;

	return (d->sender != NULL && strcasecmp(addr, d->sender) == 0) ||
	       delivery_sender_allowed(d, addr);
}

/* The caller's default sender (the null sender aside), into buf. */
static const char *
own_address(const struct delivery *d, char *buf, size_t size)
{
	const char *listed = own_listed(d->acct, sysmode_user());
	char host[256];

	if (listed != NULL)
		snprintf(buf, size, "%s", listed);
	else if (d->acct->from != NULL)
		snprintf(buf, size, "%s", d->acct->from);
	else if (d->acct->default_domain != NULL)
		snprintf(buf, size, "%s@%s", sysmode_user(),
		    d->acct->default_domain);
	else {
		net_local_fqdn(host, sizeof(host));
		snprintf(buf, size, "%s@%s", sysmode_user(), host);
	}
	return buf;
}

/*
 * --read-envelope-from (msmtp(1)): the From field's address is the
 * envelope sender and, without -a, chooses the account as -f does; called
 * by message.c once the header block is complete, before it is processed.
 */
static int
sender_from_header(void *arg, const char *from_address,
    struct message_options *mo, struct error *err)
{
	struct delivery *d = arg;
	const struct account *before = d->acct;
	size_t i;

	if (from_address == NULL)
		return 0; /* no From: -f or the account's from stays */
	if (d->opts->account == NULL &&
	    delivery_select(d, from_address, err) == -1)
		return -1;
	if (delivery_set_sender(d, from_address, err) == -1) {
		if (err->exit_code == EX_USAGE)
			err->exit_code = EX_DATAERR;
		error_prefix(err, "From field");
		return -1;
	}
	if (d->acct != before) {
		/* The argument recipients again, with this account's
		 * aliases and default_domain. */
		address_list_free(&d->rcpts);
		address_list_init(&d->rcpts);
		d->rcpts_checked = 0;
		for (i = 0; i < d->opts->n_recipients; i++)
			if (delivery_add_recipients(
				d, d->opts->recipients[i], err) == -1)
				return -1;
	}
	mo->header.envelope_from = d->sender;
	mo->header.acct = d->acct;
	mo->header.aliases = d->aliases;
	return 0;
}

/* How the message is read from fd: the options of this run and account;
 * own is a buffer for the caller's default address. */
static void
message_opts(struct delivery *d, int fd, bool stop_at_dot, char *hostname,
    size_t hostname_size, char *own, size_t own_size,
    struct message_options *mo)
{
	net_local_fqdn(hostname, hostname_size);
	memset(mo, 0, sizeof(*mo));
	mo->header.read_recipients = d->opts->read_recipients;
	mo->stop_at_dot = stop_at_dot;
	/* The caller's input can be cut short by a signal; -bs hands over
	 * a message it has received in full. */
	mo->interruptible = fd == STDIN_FILENO;
	mo->header.envelope_from = d->sender;
	mo->header.full_name = d->opts->full_name;
	mo->header.passwd_name = true;
	mo->header.hostname = hostname;
	mo->header.acct = d->acct;
	mo->header.aliases = d->aliases;
	if (sysmode_restricted()) {
		mo->header.sender_ok = header_sender_ok;
		mo->header.sender_ok_arg = d;
		mo->header.own_address = own_address(d, own, own_size);
	}
	if (d->opts->read_envelope_from) {
		mo->choose_sender = sender_from_header;
		mo->choose_sender_arg = d;
	}
}

/* The -t recipients joined to the others (once), and the whole set
 * checked: EX_DATAERR when there is none or one is bad.  A failure
 * leaves the set as it was, to be checked again. */
static int
recipients_ready(struct delivery *d, struct error *err)
{
	size_t i;

	if (!d->header_rcpts_added) {
		for (i = 0; i < d->msg.header_rcpts.n; i++)
			if (address_list_add(&d->rcpts,
				d->msg.header_rcpts.addrs[i], err) == -1)
				return -1;
		d->header_rcpts_added = true;
	}
	if (d->rcpts.n == 0)
		return error_set(err, EX_DATAERR,
		    "no recipients: the message has no "
		    "To, Cc or Bcc and none were given as arguments");
	for (i = d->rcpts_checked; i < d->rcpts.n; i++)
		if (address_check_envelope(d->rcpts.addrs[i], err) == -1) {
			err->exit_code = EX_DATAERR;
			return -1;
		}
	d->rcpts_checked = d->rcpts.n;
	return 0;
}

int
delivery_read(struct delivery *d, int fd, bool stop_at_dot, struct error *err)
{
	struct message_options mo;
	char hostname[256], spool_dir[4096], own[512];

	if (queue_prepare(d->acct->queue_dir, err) == -1)
		return -1;
	message_opts(d, fd, stop_at_dot, hostname, sizeof(hostname), own,
	    sizeof(own), &mo);
	snprintf(spool_dir, sizeof(spool_dir), "%s/tmp", d->acct->queue_dir);

	if (d->opts->compose.print) {
		d->logged = true; /* --print sends nothing: no log record */
		return compose_print(
		    &d->opts->compose, fd, STDOUT_FILENO, &mo, err);
	}
	/* From here on the message is read: every failure keeps it.  In
	 * compose mode (compose.h) the message is built, not read. */
	if ((d->opts->compose.active
		    ? compose_read(
			  &d->opts->compose, fd, spool_dir, &mo, &d->msg, err)
		    : message_read(fd, spool_dir, &mo, &d->msg, err)) == -1) {
		if (d->msg.fd < 0)
			return -1; /* nothing kept: the caller holds it */
		d->msg_read = true;
		keep_message(d, QUEUE_AREA_FAILED, err);
		return -1;
	}
	d->msg_read = true;
	if (recipients_ready(d, err) == -1) {
		keep_message(d, QUEUE_AREA_FAILED, err);
		return -1;
	}
	return 0;
}

/* After a failed submission: kept in new/ or failed/ as
 * error_is_retryable() says, and the exit status (on_tempfail = queue-ok
 * makes a queued one a success). */
static int
delivery_failed(struct delivery *d, struct error *err)
{
	if (!error_is_retryable(err)) {
		keep_message(d, QUEUE_AREA_FAILED, err);
		return -1;
	}
	keep_message(d, QUEUE_AREA_NEW, err);
	/* What the caller is told: a 75 (queued: keep_message() makes it
	 * 73/74 when it could not be) that queue-ok turns into 0. */
	if (err->exit_code == EX_TEMPFAIL &&
	    d->acct->on_tempfail == ACCOUNT_TEMPFAIL_QUEUE_OK) {
		/* The account asked for queued to count as done: log the
		 * failure now, report success. */
		snprintf(d->warning, sizeof(d->warning), "%s", err->message);
		delivery_log(d, EX_OK, err->message);
		error_clear(err);
		return 0;
	}
	return -1;
}

int
delivery_send(struct delivery *d, struct error *err)
{
	if (d->opts->delivery == CLI_DELIVERY_QUEUE) {
		error_set(err, EX_TEMPFAIL, "queued on request (-odq)");
		keep_message(d, QUEUE_AREA_NEW, err);
		/* keep_message() says "not kept" by the exit code (73/74). */
		if (err->exit_code != EX_TEMPFAIL)
			return -1;
		error_clear(err);
		return 0;
	}
	if (submit(d, err) == 0) {
		d->status = "sent";
		return 0;
	}
	return delivery_failed(d, err);
}

/* ---- streaming (mailsub(1), STREAMING) ----------------------------- */

/* Only a message read from stdin and sent right away may be sent while
 * it is read; not one a person types (the input is slow), composed, or
 * queued. */
static bool
may_stream(const struct delivery *d, bool stop_at_dot)
{
	const struct options *o = d->opts;

	return !stop_at_dot && o->delivery == CLI_DELIVERY_INTERACTIVE &&
	       !o->compose.active && !o->compose.print;
}

/* The transaction of a message still being read; err as submit(). */
static int
stream_submit(struct delivery *d, struct stream *st, struct error *err)
{
	struct relay relay;
	struct envelope env;
	struct message_source src;
	const struct smtp_caps *caps;
	int rc;

	log_verbose("the input comes fast: sending the message while it is "
		    "read");
	if (relay_open(&relay, d->acct, d->opts->verbose, err) == -1) {
		snprintf(d->where, sizeof(d->where), "%s", relay.where);
		delivery_hint(d, &relay, relay.failed_phase, err);
		return -1;
	}
	snprintf(d->where, sizeof(d->where), "%s", relay.where);
	caps = &relay.session.caps;
	if (envelope_build(&env, d->sender, d->rcpts.addrs, d->rcpts.n, &d->msg,
		d->opts, d->acct, err) == -1) {
		relay_close(&relay);
		return -1;
	}
	/* What the rest holds is not known: 8-bit data is announced where
	 * it may be (RFC 6152), and the size checked as it grows. */
	if (d->opts->body_type == NULL)
		env.body_8bit = (caps->flags & SMTP_CAP_8BITMIME) != 0;
	st->may_8bit = d->opts->body_type != NULL || env.body_8bit;
	st->size_limit =
	    (caps->flags & SMTP_CAP_SIZE) != 0 ? caps->size_limit : 0;
	memset(&src, 0, sizeof(src));
	src.fd = d->msg.fd;
	src.stream = stream_send;
	src.stream_arg = st;
	rc = send_over(d, &relay, &env, &src, err);
	if (st->stop == STREAM_FALLBACK)
		log_verbose("%s: %s: the stream is given up, the message is "
			    "sent once read",
		    relay.where, st->why.message);
	envelope_free(&env);
	relay_close(&relay);
	return rc;
}

/* The file given as input, as it was when the first reading began. */
struct input_file {
	off_t start;
	struct stat st;
};

/* The file is the one it was, with the same size and time. */
static bool
input_unchanged(const struct input_file *in)
{
	struct stat now;

	return fstat(STDIN_FILENO, &now) == 0 && now.st_dev == in->st.st_dev &&
	       now.st_ino == in->st.st_ino && now.st_size == in->st.st_size &&
	       now.st_mtim.tv_sec == in->st.st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == in->st.st_mtim.tv_nsec;
}

/* The reading again, into a whole spool; after a signal, as stream.c
 * drains a pipe: for at most STREAM_GAP_MS (mailsub(1), Signals). */
static int
read_again(struct delivery *d, const struct message_options *mo,
    const char *spool_dir, struct error *err)
{
	struct message_reader *mr;
	int rc;

	if (message_reader_open(
		STDIN_FILENO, spool_dir, mo, &d->msg, &mr, err) == -1)
		return -1;
	if (interrupt_caught())
		rc = message_reader_drain(mr, STREAM_GAP_MS, err);
	else
		while ((rc = message_reader_step(mr, err)) == 1)
			;
	if (rc == 0)
		rc = message_reader_finish(mr, err);
	message_reader_free(mr);
	return rc;
}

/*
 * A regular file as input was sent straight from the file (stream.h) and
 * the server did not take it: the file is read again, from where the
 * first reading began, into a whole spool, whose verdict (content errors,
 * max_message_size) is the reading's, with the Date and Message-ID the
 * first reading generated, so that what is kept is what the server was
 * sent.  A file that changed in between is not kept (mailsub(1),
 * STREAMING); the error then says what the server said.
 */
static int
respool(struct delivery *d, const struct input_file *in,
    const struct error *outcome, struct error *err)
{
	struct message_options mo;
	char hostname[256], spool_dir[4096], own[512];
	char *message_id = d->msg.message_id;
	time_t date = d->msg.date;
	int rc;

	log_verbose("reading the input file again to keep the message");
	d->msg.message_id = NULL;
	message_free(&d->msg);
	if (!input_unchanged(in))
		error_set(err, EX_IOERR,
		    "the input file changed while it was sent; nothing was "
		    "queued or saved");
	else if (lseek(STDIN_FILENO, in->start, SEEK_SET) == -1)
		error_set(err, EX_IOERR,
		    "cannot read the input file again: %s; nothing was "
		    "queued or saved",
		    strerror(errno));
	else {
		/* The options again: the first reading's may point at a
		 * sender it replaced (--read-envelope-from). */
		message_opts(d, STDIN_FILENO, false, hostname, sizeof(hostname),
		    own, sizeof(own), &mo);
		mo.header.date = date;
		mo.header.message_id = message_id;
		snprintf(
		    spool_dir, sizeof(spool_dir), "%s/tmp", d->acct->queue_dir);
		rc = read_again(d, &mo, spool_dir, err);
		free(message_id);
		return rc;
	}
	free(message_id);
	if (outcome->message[0] != '\0')
		error_prefix(err, "%s", outcome->message);
	return -1;
}

/*
 * delivery_read() and delivery_send() in one, the sending started before
 * the end of the input when it comes fast (stream.h); the outcome is the
 * same as theirs in every case.
 */
static int
delivery_stream(struct delivery *d, struct error *err)
{
	struct message_options mo;
	struct stream st;
	struct stream_rate rate;
	struct error outcome;
	char hostname[256], spool_dir[4096], own[512];
	bool tried = false, streamed = false;
	int rc, sent = -1;
	struct input_file in;

	if (queue_prepare(d->acct->queue_dir, err) == -1)
		return -1;
	in.start = -1;
	if (fstat(STDIN_FILENO, &in.st) == 0 && S_ISREG(in.st.st_mode))
		in.start = lseek(STDIN_FILENO, 0, SEEK_CUR);
	message_opts(d, STDIN_FILENO, false, hostname, sizeof(hostname), own,
	    sizeof(own), &mo);
	snprintf(spool_dir, sizeof(spool_dir), "%s/tmp", d->acct->queue_dir);
	memset(&st, 0, sizeof(st));
	st.m = &d->msg;
	st.in_fd = STDIN_FILENO;
	st.in_file = in.start >= 0;
	error_clear(&outcome);
	if (message_reader_open(
		STDIN_FILENO, spool_dir, &mo, &d->msg, &st.mr, err) == -1)
		return -1;
	stream_rate_init(&rate);
	while ((rc = message_reader_step(st.mr, err)) == 1) {
		if (tried || !message_reader_in_body(st.mr) ||
		    !stream_rate_fast(&rate, d->msg.input_bytes))
			continue;
		tried = true;
		/* Nothing is sent that would be refused at the end anyway:
		 * that is said once the whole message is read. */
		if (!message_reader_clean(st.mr) ||
		    message_reader_flush(st.mr, err) == -1 ||
		    recipients_ready(d, &outcome) == -1) {
			if (d->msg.fd < 0) {
				rc = -1;
				break;
			}
			error_clear(&outcome);
			continue;
		}
		streamed = true;
		sent = stream_submit(d, &st, &outcome);
		break;
	}
	if (rc == -1) {
		/* Nothing kept: the caller still holds the message. */
		message_reader_free(st.mr);
		return -1;
	}
	if (streamed && sent != 0 && d->msg.spool_partial) {
		message_reader_free(st.mr);
		st.mr = NULL;
		rc = respool(d, &in, &outcome, err);
	} else if (streamed)
		rc = stream_read_rest(&st, err);
	else
		rc = message_reader_finish(st.mr, err);
	message_reader_free(st.mr);
	if (rc == -1) {
		if (d->msg.fd < 0)
			return -1;
		d->msg_read = true;
		keep_message(d, QUEUE_AREA_FAILED, err);
		return -1;
	}
	d->msg_read = true;
	if (recipients_ready(d, err) == -1) {
		keep_message(d, QUEUE_AREA_FAILED, err);
		return -1;
	}
	if (!streamed || st.stop == STREAM_FALLBACK)
		return delivery_send(d, err);
	if (sent == 0) {
		d->status = "sent";
		return 0;
	}
	if (st.stop == STREAM_OVERSIZE)
		/* As submit_send() says it for a message of known size. */
		error_set(err, EX_DATAERR,
		    "%s: message is %llu bytes, server limit is %llu", d->where,
		    d->msg.size, st.size_limit);
	else
		*err = outcome;
	return delivery_failed(d, err);
}

int
delivery_run_stdin(struct delivery *d, struct error *err)
{
	const struct options *o = d->opts;
	bool stop_at_dot;
	size_t i;

	if (delivery_select(d, o->envelope_from, err) == -1)
		return -1;
	if (delivery_set_sender(d, o->envelope_from, err) == -1)
		return -1;
	/* One argument is usually one address: size the list once. */
	if (address_list_reserve(&d->rcpts, o->n_recipients, err) == -1)
		return -1;
	for (i = 0; i < o->n_recipients; i++)
		if (delivery_add_recipients(d, o->recipients[i], err) == -1)
			return -1;
	if (!o->read_recipients && !o->compose.print && d->rcpts.n == 0)
		return error_set(err, EX_USAGE,
		    "no recipients given (name them as arguments or use -t)");
	/* Read to EOF unless a person types the message at a terminal
	 * without -i (mailsub(1), OPTIONS). */
	stop_at_dot = isatty(STDIN_FILENO) && !o->ignore_dots;
	if (may_stream(d, stop_at_dot))
		return delivery_stream(d, err);
	if (delivery_read(d, STDIN_FILENO, stop_at_dot, err) == -1)
		return -1;
	if (o->compose.print)
		return 0; /* written to stdout instead */
	return delivery_send(d, err);
}
