/* SPDX-License-Identifier: ISC */
/*
 * Output other than the final error line: the -v transcript on stderr
 * (control characters escaped, secrets redacted), and one record per
 * message to the log file (one write(2) with O_APPEND, so parallel runs
 * never interleave) and to syslog.
 */
#ifndef MAILSUB_LOG_H
#define MAILSUB_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct account;

void log_set_verbose(bool on);
bool log_verbose_enabled(void);

/* A -v note: fmt without the prefix; printed as "mailsub: connecting to
 * host:port" with control characters escaped. */
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* conn_trace_fn for the -v transcript: "<-- 250 ok" / "--> MAIL FROM:..."
 * with secret lines shown as "--> (authentication data hidden)". */
void log_transcript(
    void *arg, char dir, const char *line, size_t len, bool secret);

struct log_record {
	const char *account;
	const char *host;
	const char *sender;
	const char *const *rcpts;
	size_t n_rcpts;
	unsigned long long size;
	const char *message_id;
	const char *reply; /* server's final reply, or the error line */
	int exit_code;
	const char *queue_id;  /* or NULL */
	const char *status;    /* "sent", "queued", "failed" */
	const char *warning;   /* something the run skipped, or NULL */
	const char *submitter; /* who submitted it (the system file's
				  records), or NULL */
	unsigned long submitter_uid;
};

/* Write the record to acct->logfile and syslog as configured.  Failures to
 * log are reported on stderr once and never change the exit status. */
void log_record(const struct account *acct, const struct log_record *rec);

#endif
