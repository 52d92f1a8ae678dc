/* SPDX-License-Identifier: ISC */
/*
 * Where a password comes from: the password key, password_file (first
 * line, permissions checked), password_command (/bin/sh -c, stdin from
 * /dev/null, bounded time and output) or a prompt on /dev/tty.
 */
#ifndef MAILSUB_SECRET_H
#define MAILSUB_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct account;
struct buf;
struct error;

#define SECRET_COMMAND_OUTPUT_MAX 65536
#define SECRET_COMMAND_TIMEOUT_MS 30000

/* Fill out (a buffer the caller wipes) with the account's password or
 * token.  host, the server it is for (or NULL: the account's first), is
 * named when the password is asked for on the terminal.  Failures are
 * EX_CONFIG (bad file, permissions, command failed) or EX_TEMPFAIL
 * (command timed out) and never include the secret. */
int secret_get_password(const struct account *acct, const char *host,
    struct buf *out, struct error *err);

/* The account's OAuth2 client secret (oauth2_client_secret, _file or
 * _command, read like the password) into out; out stays empty when none
 * is set (a public client).  Errors as secret_get_password(). */
int secret_get_client_secret(
    const struct account *acct, struct buf *out, struct error *err);

/* Run command with /bin/sh -c (stdin /dev/null, stdout a pipe, stderr
 * inherited, in its own process group) and put the first line of its output
 * into out.  More than max_out bytes -> EX_CONFIG, longer than timeout_ms ->
 * EX_TEMPFAIL (the process group is killed), non-zero exit or nothing
 * printed -> EX_CONFIG.  Exported with its limits as parameters for tests. */
int secret_run_command(const char *command, int timeout_ms, size_t max_out,
    struct buf *out, struct error *err);

/* 0 if path may hold a password (fsperm.h: the user's own, no symlink, no
 * access for group or others, the way to it trusted); else EX_CONFIG
 * naming the file and its mode. */
int secret_check_file_mode(const char *path, struct error *err);

#endif
