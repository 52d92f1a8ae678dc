/* SPDX-License-Identifier: ISC */
/*
 * The script transport: a struct transport that plays the server side of a
 * scenario file (tests/scenarios/README) and checks every byte the client
 * sends against it, so submit.c runs unchanged against scripted servers.
 */
#ifndef MAILSUB_SCRIPT_TRANSPORT_H
#define MAILSUB_SCRIPT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conn.h"

#define SCRIPT_FAILURE_MAX 1024
#define SCRIPT_RCPTS_MAX   64
#define SCRIPT_CONFIG_MAX  32

enum script_step_kind {
	SCRIPT_S,	     /* S: text */
	SCRIPT_S_MORE,	     /* S+ text: same write as the next */
	SCRIPT_C,	     /* C: pattern */
	SCRIPT_D,	     /* D: message data up to the final dot */
	SCRIPT_DROP,	     /* !drop */
	SCRIPT_DELAY,	     /* !delay MS (ignored here) */
	SCRIPT_STALL,	     /* !stall */
	SCRIPT_RAW,	     /* !raw bytes */
	SCRIPT_STARTTLS,     /* !starttls */
	SCRIPT_LONG_LINE,    /* !long-line N */
	SCRIPT_CLOSE_NOTIFY, /* !close-notify */
	SCRIPT_END,	     /* end: the client must close */
};

struct script_step {
	enum script_step_kind kind;
	char *text; /* S/S+/C/!raw: decoded bytes */
	size_t len;
	unsigned long n; /* !long-line, !delay */
	int lineno;
};

struct script {
	char *name; /* file name, for messages */
	/* Header directives. */
	int exit_code; /* -1 when missing */
	char *stderr_re;
	char *where;
	char *from;
	char *rcpts[SCRIPT_RCPTS_MAX];
	size_t n_rcpts;
	char *message;
	char *args;
	char *level;
	char *config_key[SCRIPT_CONFIG_MAX];
	char *config_value[SCRIPT_CONFIG_MAX];
	size_t n_config;
	/* The dialogue. */
	struct script_step *steps;
	size_t n_steps;
	size_t pos;
	/* Playing it. */
	struct buf out; /* server bytes not yet read by the client */
	size_t out_pos;
	struct buf line; /* the client's partial line */
	struct buf data; /* message bytes received (D: and BDAT) */
	unsigned long long bdat_left;
	bool in_data;
	bool dropped;
	bool stalled;
	bool tls;
	bool closed; /* the client closed the transport */
	size_t client_lines;
	char failure[SCRIPT_FAILURE_MAX];
	struct tls_info info;
};

/* Parse a scenario from a file or from memory; NULL with why filled. */
struct script *script_load(const char *path, char *why, size_t why_size);
struct script *script_parse(
    const char *name, const char *text, char *why, size_t why_size);
void script_free(struct script *sc);

/* A transport playing sc (which must outlive it); close() only marks the
 * script closed. */
void script_transport(struct script *sc, struct transport *t);

/* The first mismatch seen, or NULL. */
const char *script_failure(const struct script *sc);
/* Whether every step was played (trailing !delay and end excepted);
 * otherwise why names the next step. */
bool script_finished(const struct script *sc, char *why, size_t why_size);
/* A config value from the header, or NULL. */
const char *script_config(const struct script *sc, const char *key);

/* '*' matches any run of characters; everything else exactly. */
bool script_glob(const char *pattern, const char *s);

#endif
