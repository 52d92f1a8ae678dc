/* SPDX-License-Identifier: ISC */
/*
 * The parser cli_parse() shares with compose's options (cli_compose.c):
 * its state and the checks every argument goes through.  Internal to the
 * command line; the rest of the tree sees cli.h only.
 */
#ifndef MAILSUB_CLI_PARSER_H
#define MAILSUB_CLI_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "error.h"

/* How much of a bad argument an error message quotes. */
#define CLI_QUOTE_MAX 64

/* The state of one cli_parse(). */
struct cli_parser {
	struct options *opts;
	int argc;
	char **argv;
	int i; /* the argv element being read */
	size_t rcpt_cap;
	size_t ign_cap;
	size_t to_cap;
	size_t cc_cap;
	size_t hdr_cap;
	size_t att_cap;
	bool date_header;    /* --header Date: given */
	bool msgid_header;   /* --header Message-ID: given */
	const char *refiner; /* a compose refining option seen, e.g. "--to" */
};

/* An argument quoted for an error message into dst: escaped and
 * shortened to CLI_QUOTE_MAX bytes; returns dst. */
const char *cli_quote(char *dst, size_t size, const char *s);

/* EX_USAGE naming what when value holds a control character. */
int cli_check_control(const char *what, const char *value, struct error *err);

/* Room for element n of *arr (capacity *cap), doubling as needed. */
int cli_grow(const char ***arr, size_t *cap, size_t n, struct error *err);

/* One envelope recipient, checked. */
int cli_add_recipient(struct cli_parser *p, const char *s, struct error *err);

/* A compose recipient (--to, --cc, --bcc, a plain argument): into the
 * envelope, and into *arr (NULL for Bcc) for the header; n counts. */
int cli_compose_rcpt(struct cli_parser *p, const char ***arr, size_t *cap,
    size_t *n, const char *s, struct error *err);

/* One of compose mode's long options (--subject to --print), name as
 * given without the dashes, v its checked argument. */
int cli_compose_long(
    struct cli_parser *p, const char *name, const char *v, struct error *err);

/* Once every option is read: compose mode or not, and what it cannot be
 * combined with. */
int cli_compose_settle(struct cli_parser *p, struct error *err);

/* Free what the compose options own and zero them. */
void cli_compose_free(struct compose_options *c);

#endif
