/* SPDX-License-Identifier: ISC */
/*
 * One message from the caller to the relay: account choice, envelope
 * sender and recipients (aliases, default_domain), reading into the spool,
 * submission, and keeping the message in new/ or failed/ when it did not
 * go out.  Shared by the stdin mode and the -bs SMTP server; prints
 * nothing (main.c and smtpd.c report).
 */
#ifndef MAILSUB_DELIVER_H
#define MAILSUB_DELIVER_H

#include <stdbool.h>

#include "address.h"
#include "error.h"
#include "message.h"
#include "queue.h"
#include "smtp.h"
#include "submit.h"

struct account;
struct aliases;
struct config;
struct options;
struct relay;

struct delivery {
	const struct options *opts; /* borrowed: -N/-R/-V/-B, -odq, -v */
	const struct config *cfg;   /* borrowed */
	const struct account *acct; /* borrowed from cfg; NULL until chosen */
	struct aliases *aliases;
	char *sender; /* "" is the null reverse-path */
	struct address_list rcpts;
	/* rcpts[0..rcpts_checked) passed address_check_envelope already. */
	size_t rcpts_checked;
	bool header_rcpts_added; /* the -t ones are in rcpts */
	struct message msg;
	bool msg_read;
	char queue_id[QUEUE_ID_MAX];
	char *saved_path;   /* where a kept message is */
	const char *status; /* sent, queued, failed */
	bool logged;
	char final_reply[SMTP_REPLY_LINE_MAX];
	char where[300];		 /* "host:port" of the relay */
	char warning[ERROR_MESSAGE_MAX]; /* for stderr, or "" */
	/* An alias used had targets skipped: for the log record (points
	 * into aliases), or NULL. */
	const char *alias_warning;
	/* A sender the caller may not use was replaced (sysmode.h): for
	 * stderr and the log record, or "". */
	char sender_warning[ERROR_MESSAGE_MAX];
	char hint[ERROR_MESSAGE_MAX]; /* what to do, after the error line
					 (hint.h), or "" */
};

/* Find and load the configuration opts names (-C, $MAILSUB_CONFIG, XDG,
 * /etc/mailsub.conf). */
int delivery_load_config(
    const struct options *opts, struct config **cfg, struct error *err);

void delivery_init(
    struct delivery *d, const struct options *opts, const struct config *cfg);
/* Release everything; the spool is removed unless kept. */
void delivery_free(struct delivery *d);

/*
 * Choose the account (-a, else the senders matching envelope_from, else
 * the default), check the files it names, load its aliases.
 */
int delivery_select(
    struct delivery *d, const char *envelope_from, struct error *err);

/* mailsub(1), DESCRIPTION: given (-f, "<>" or "" for the null sender),
 * else the account's from, else user@default_domain (or the host's name).  A
 * bare name gets
 * @default_domain.  Bad addresses are EX_USAGE.  A restricted caller's
 * default is its first exact local_senders address, if any; a sender it
 * may not use (delivery_sender_allowed()) is replaced by that default,
 * the account chosen again without it (unless -a), and sender_warning
 * says so. */
int delivery_set_sender(
    struct delivery *d, const char *given, struct error *err);

/*
 * Whether the caller may use addr as a sender through d->acct: anyone
 * unless the run is restricted (sysmode.h: a caller other than root on
 * the system file); then the null sender, the account's from, the
 * caller's own address (login@default_domain, or @ the host's name) and
 * what local_senders allows the caller (mailsub.conf(5)).
 */
bool delivery_sender_allowed(const struct delivery *d, const char *addr);

/* Recipients from one argv string (a comma list, Name <addr> forms), each
 * checked and completed (aliases, default_domain).  EX_USAGE when bad. */
int delivery_add_recipients(
    struct delivery *d, const char *text, struct error *err);
/* One addr-spec (an SMTP RCPT path), checked and completed. */
int delivery_add_recipient(
    struct delivery *d, const char *addr, struct error *err);

/*
 * Read the message from fd into the spool (stop_at_dot: a lone "." line
 * ends it), add the -t recipients and check the recipient set.  A content
 * error (NUL bytes, header too large, no recipients: EX_DATAERR) saves the
 * message to failed/; a read or spool error, or a message over
 * max_message_size (EX_DATAERR), leaves it with the caller, as does a
 * signal (interrupt.h) before the end of stdin.
 */
int delivery_read(
    struct delivery *d, int fd, bool stop_at_dot, struct error *err);

/*
 * Send the read message (or queue it for -odq).  On failure the message
 * is kept: new/ for a temporary failure (exit 75, or 0 with on_tempfail =
 * queue-ok: then the record is already logged and d->warning says so),
 * failed/ otherwise; err ends with where it is.
 */
int delivery_send(struct delivery *d, struct error *err);

/* The whole stdin run of `mailsub [options] rcpt... < message`. */
int delivery_run_stdin(struct delivery *d, struct error *err);

/* The hint (hint.h) for a failure of relay, which ended in phase, into
 * d->hint ("" for none). */
void delivery_hint(struct delivery *d, const struct relay *relay,
    enum submit_phase phase, const struct error *err);

/* One log record (logfile, syslog) for the message; a no-op before an
 * account is chosen or once logged. */
void delivery_log(struct delivery *d, int exit_code, const char *reply);

#endif
