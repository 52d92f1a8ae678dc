/* SPDX-License-Identifier: ISC */
/*
 * One SMTP session as straight-line code with a named phase: greeting,
 * EHLO, STARTTLS, EHLO again, AUTH, then one transaction per message
 * (MAIL, RCPT..., DATA or BDAT), QUIT.  Knows the dialogue, not where the
 * message or the connection come from.
 */
#ifndef MAILSUB_SUBMIT_H
#define MAILSUB_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "envelope.h"
#include "smtp.h"

struct account;
struct conn;
struct error;
struct peer;

enum submit_phase {
	SUBMIT_PHASE_CONNECT,
	SUBMIT_PHASE_GREETING,
	SUBMIT_PHASE_EHLO,
	SUBMIT_PHASE_STARTTLS,
	SUBMIT_PHASE_TLS,
	SUBMIT_PHASE_AUTH,
	SUBMIT_PHASE_MAIL,
	SUBMIT_PHASE_RCPT,
	SUBMIT_PHASE_DATA,
	SUBMIT_PHASE_END_OF_DATA, /* after the final dot: a drop keeps it queued
				   */
	SUBMIT_PHASE_RSET,
	SUBMIT_PHASE_QUIT,
	SUBMIT_PHASE_DONE,
};

const char *submit_phase_name(enum submit_phase phase);

/* The message in wire form (CRLF, dot-stuffed) in a file. */
struct message_source {
	int fd;
	off_t offset;
	unsigned long long size;
	/*
	 * A message still being read (mailsub(1), STREAMING): its size is
	 * not known, so no SIZE= is declared and DATA is used even where
	 * CHUNKING is offered.  After the 354, stream() sends the message
	 * from offset, all of it, reading the rest as it comes, and sets
	 * *size and tail (its last two bytes, "\r\n" when it has fewer);
	 * then the final dot follows.  -1 (err set) ends the session
	 * without the final dot, so the server discards what it got.
	 */
	int (*stream)(void *arg, struct conn *c, unsigned long long *size,
	    char tail[2], struct error *err);
	void *stream_arg;
};

struct submit_session {
	const char *ehlo_name; /* set by the caller: acct->domain or
				  the host's FQDN */
	struct conn *conn;
	const struct account *acct; /* the dialogue's settings and AUTH's
				       credentials */
	const struct peer *peer;    /* the server: for STARTTLS, and the
				       host AUTH names */
	struct smtp_caps caps;
	enum submit_phase phase;
	bool tls_active;
	bool authenticated;
	bool helo_only;	  /* server refused EHLO */
	bool closed;	  /* after 421 or a protocol error */
	bool out_of_step; /* a reply that fits no command:
			     later replies cannot be matched
			     to their commands */
	char greeting[SMTP_REPLY_LINE_MAX];
	struct smtp_caps caps_before_tls; /* for --serverinfo */
	unsigned messages_sent;
};

/* Result of one transaction, for logs and the caller. */
struct submit_result {
	enum submit_phase phase;	       /* where it ended */
	char final_reply[SMTP_REPLY_LINE_MAX]; /* server's last words */
	char **refused; /* recipients refused (5xx), owned */
	size_t n_refused;
	char **deferred; /* recipients deferred (4xx), owned */
	size_t n_deferred;
	bool data_sent;	  /* the final dot went out */
	bool dsn_ignored; /* DSN asked for, server lacks it:
			     the caller prints a warning */
};

void submit_result_init(struct submit_result *res);
void submit_result_free(struct submit_result *res);

/*
 * Open the session over conn (s zeroed by the caller, s->ehlo_name set)
 * to peer (peer.h; made from acct, and both outlive s): greeting, EHLO
 * (HELO fallback where allowed), STARTTLS and EHLO again as the account
 * demands, AUTH.  On failure the error names the phase and the server's
 * words; the session is unusable.
 */
int submit_open(struct submit_session *s, struct conn *conn,
    const struct account *acct, const struct peer *peer, struct error *err);

/*
 * One transaction: MAIL, RCPT for every recipient and DATA pipelined when
 * offered, then the message.  All recipients or none: if any is refused the
 * transaction is reset and every refused address is named in err.  A 452
 * too-many-recipients splits the batch into several transactions.
 */
int submit_send(struct submit_session *s, const struct envelope *env,
    const struct message_source *msg, struct submit_result *res,
    struct error *err);

/* RSET between messages on one session. */
int submit_reset(struct submit_session *s, struct error *err);

/* QUIT (unless the session is already dead) and forget the session; the
 * caller frees the conn. */
void submit_close(struct submit_session *s);

#endif
