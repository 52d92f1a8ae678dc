/* SPDX-License-Identifier: ISC */
/*
 * -bs: the server side of SMTP on stdin and stdout, for callers that speak
 * SMTP to "sendmail -bs" (Symfony Mailer, Laravel).  A small, strict,
 * bounded RFC 5321 server: each message the caller sends in DATA goes
 * through the normal delivery path (delivery.c), and the reply to the final
 * dot is the relay's outcome.  The relay is reached only after DATA.
 */
#ifndef MAILSUB_SMTPD_H
#define MAILSUB_SMTPD_H

#include <stddef.h>

struct error;
struct options;

/* RFC 5321 4.5.3.1.4 allows 512 octets for a command line; extension
 * parameters (RFC 5321 4.1.1.11) may add to it, so allow some more. */
#define SMTPD_COMMAND_MAX 2048
/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
#define SMTPD_REPLY_LINE_MAX 512
/* RFC 5321 4.5.3.1.8 demands room for 100 recipients; more is refused
 * with 452 (RFC 5321 4.5.3.1.10). */
#define SMTPD_RCPTS_MAX 1000
/* The SIZE we advertise (RFC 1870): larger messages get 552. */
#define SMTPD_SIZE_MAX (2ULL * 1024 * 1024 * 1024)
/* Messages in one session, and bad commands before we hang up. */
#define SMTPD_MESSAGES_MAX 1000
#define SMTPD_ERRORS_MAX   20
/* Commands in one session, so that NOOPs cannot keep it open forever. */
#define SMTPD_COMMANDS_MAX 100000
/* RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for a command. */
#define SMTPD_TIMEOUT_MS (5 * 60 * 1000)

/*
 * Run one SMTP session: commands from in_fd, replies to out_fd, until QUIT,
 * end of input, a timeout or too many errors.  The configuration is the one
 * opts names; when it cannot be loaded the greeting is 554 and every
 * command but QUIT gets 503 (RFC 5321 3.1).  Returns 0, or -1 with err set:
 * EX_CONFIG for that configuration, EX_IOERR when the input ended inside
 * DATA, timed out, or a reply could not be written.
 */
int smtpd_run(
    int in_fd, int out_fd, const struct options *opts, struct error *err);

/*
 * Parse the argument of MAIL ("FROM:<path> params") or RCPT ("TO:<path>
 * params"): keyword is "FROM:" or "TO:" (case-insensitive), space after
 * the colon tolerated, an RFC 5321 4.1.2 source route dropped.  The path
 * without its angle brackets goes to addr ("" for <>), *params points at
 * the parameters (or at "").  Returns 0, or -1 on bad syntax.
 */
int smtpd_parse_path(const char *arg, const char *keyword, char *addr,
    size_t addr_size, const char **params);

/* The reply code and enhanced status code (RFC 3463) that tell an SMTP
 * client the outcome of a delivery that ended with exit_code. */
int smtpd_reply_code(int exit_code, const char **enhanced);

#endif
