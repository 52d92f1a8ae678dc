/* SPDX-License-Identifier: ISC */
/*
 * --serverinfo: one session with the relay, logged in as nobody, turned
 * into a description.  The connection is relay_open()'s, so what the user
 * sees here is what a delivery meets: the same host order, the same TLS
 * verification, the same STARTTLS rules.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "conn.h"
#include "delivery.h"
#include "error.h"
#include "relay.h"
#include "serverinfo.h"
#include "smtp.h"
#include "text.h"
#include "tls.h"
#include "tlsmod.h"

/* The description is small; a certificate chain is a few KiB. */
#define SERVERINFO_OUTPUT_MAX (1024 * 1024)

/* The capability flags smtp.c knows, in the order they are shown. */
static const struct {
	unsigned flag;
	const char *name;
} cap_names[] = {
    {SMTP_CAP_PIPELINING, "PIPELINING"},
    {SMTP_CAP_SIZE, "SIZE"},
    {SMTP_CAP_8BITMIME, "8BITMIME"},
    {SMTP_CAP_BINARYMIME, "BINARYMIME"},
    {SMTP_CAP_CHUNKING, "CHUNKING"},
    {SMTP_CAP_SMTPUTF8, "SMTPUTF8"},
    {SMTP_CAP_DSN, "DSN"},
    {SMTP_CAP_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES"},
    {SMTP_CAP_STARTTLS, "STARTTLS"},
    {SMTP_CAP_AUTH, "AUTH"},
};

/* Server text for a terminal: control characters and high bytes as \xHH
 * (the -v transcript and error lines do the same). */
static int
append_escaped(struct buf *out, const char *s, struct error *err)
{
	char esc[SMTP_AUTH_MECHS_MAX * 4 + 1];

	error_escape(esc, sizeof(esc), s, strlen(s));
	return buf_appends(out, esc, err);
}

/* --- text ---------------------------------------------------------------- */

static int
text_caps(struct buf *out, const char *label, const struct smtp_caps *caps,
    bool helo_only, struct error *err)
{
	size_t i;
	bool any = false;

	if (buf_printf(out, err, "%s:", label) == -1)
		return -1;
	if (helo_only)
		return buf_appends(
		    out, " none (the server does not know EHLO)\n", err);
	for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (!(caps->flags & cap_names[i].flag))
			continue;
		if (buf_printf(out, err, "%s %s", any ? "," : "",
			cap_names[i].name) == -1)
			return -1;
		any = true;
		if (cap_names[i].flag == SMTP_CAP_SIZE &&
		    caps->size_limit > 0 &&
		    buf_printf(out, err, " %llu", caps->size_limit) == -1)
			return -1;
		if (cap_names[i].flag == SMTP_CAP_AUTH &&
		    caps->auth_mechs[0] != '\0' &&
		    (buf_addch(out, ' ', err) == -1 ||
			append_escaped(out, caps->auth_mechs, err) == -1))
			return -1;
	}
	return buf_appends(out, any ? "\n" : " none\n", err);
}

/* The chain as tls.c wrote it, indented under its heading. */
static int
text_chain(struct buf *out, const char *chain, struct error *err)
{
	const char *p = chain, *nl;

	if (buf_appends(out, "certificate chain:", err) == -1)
		return -1;
	if (chain == NULL || *chain == '\0')
		return buf_appends(out, " none\n", err);
	if (buf_addch(out, '\n', err) == -1)
		return -1;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (buf_appends(out, "  ", err) == -1 ||
		    buf_append(out, p, (size_t)(nl - p), err) == -1 ||
		    buf_addch(out, '\n', err) == -1)
			return -1;
		p = *nl != '\0' ? nl + 1 : nl;
	}
	return 0;
}

static int
format_text(const struct serverinfo *si, struct buf *out, struct error *err)
{
	const struct smtp_caps *caps = si->caps;
	bool tls = si->tls_version != NULL;

	/* smtp_reply_summary() already escaped the greeting. */
	if (buf_printf(out, err,
		"account: %s\nserver: %s:%u\ngreeting: %s\nEHLO name: ",
		si->account, si->host, si->port, si->greeting) == -1 ||
	    append_escaped(
		out, si->helo_only ? "" : caps->greeting_name, err) == -1 ||
	    buf_printf(out, err, "\nTLS mode: %s\n",
		strcmp(si->tls_mode, "implicit") == 0 ? "implicit TLS"
		: strcmp(si->tls_mode, "off") == 0    ? "off (no TLS)"
						      : "STARTTLS") == -1)
		return -1;
	if (si->caps_before_tls != NULL &&
	    text_caps(out, "capabilities before TLS", si->caps_before_tls,
		false, err) == -1)
		return -1;
	if (text_caps(out, tls ? "capabilities after TLS" : "capabilities",
		caps, si->helo_only, err) == -1)
		return -1;
	if (tls && buf_printf(out, err, "TLS version: %s\nTLS cipher: %s%s\n",
		       si->tls_version,
		       si->tls_cipher != NULL ? si->tls_cipher : "unknown",
		       si->tls_resumed ? " (session resumed)" : "") == -1)
		return -1;
	if (buf_appends(out, "AUTH mechanisms: ", err) == -1 ||
	    append_escaped(out,
		caps->auth_mechs[0] != '\0' ? caps->auth_mechs : "none offered",
		err) == -1 ||
	    buf_addch(out, '\n', err) == -1)
		return -1;
	return text_chain(out, tls ? si->chain : NULL, err);
}

/* --- JSON ---------------------------------------------------------------- */

/* "AUTH" with its mechanisms and "SIZE" with its limit, as EHLO says. */
static int
json_caps(struct buf *out, const struct smtp_caps *caps, bool helo_only,
    struct error *err)
{
	size_t i;
	bool first = true;

	if (buf_addch(out, '[', err) == -1)
		return -1;
	for (i = 0; !helo_only && i < sizeof(cap_names) / sizeof(cap_names[0]);
	     i++) {
		if (!(caps->flags & cap_names[i].flag))
			continue;
		if (!first && buf_addch(out, ',', err) == -1)
			return -1;
		first = false;
		if (buf_printf(out, err, "\"%s", cap_names[i].name) == -1)
			return -1;
		if (cap_names[i].flag == SMTP_CAP_SIZE &&
		    caps->size_limit > 0 &&
		    buf_printf(out, err, " %llu", caps->size_limit) == -1)
			return -1;
		if (cap_names[i].flag == SMTP_CAP_AUTH &&
		    caps->auth_mechs[0] != '\0' &&
		    (buf_addch(out, ' ', err) == -1 ||
			text_append_utf8(out, caps->auth_mechs, true, err) ==
			    -1))
			return -1;
		if (buf_addch(out, '"', err) == -1)
			return -1;
	}
	return buf_addch(out, ']', err);
}

/* The space-separated mechanism list as an array. */
static int
json_mechs(struct buf *out, const char *mechs, struct error *err)
{
	const char *p = mechs;
	bool first = true;

	if (buf_addch(out, '[', err) == -1)
		return -1;
	while (*p != '\0') {
		char one[SMTP_AUTH_MECHS_MAX];
		size_t n = strcspn(p, " ");

		if (n > 0) {
			memcpy(one, p, n);
			one[n] = '\0';
			if ((!first && buf_addch(out, ',', err) == -1) ||
			    text_json_string(out, one, err) == -1)
				return -1;
			first = false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return buf_addch(out, ']', err);
}

static int
format_json(const struct serverinfo *si, struct buf *out, struct error *err)
{
	const struct smtp_caps *caps = si->caps;
	bool tls = si->tls_version != NULL;

	if (buf_appends(out, "{\"account\":", err) == -1 ||
	    text_json_string(out, si->account, err) == -1 ||
	    buf_appends(out, ",\"host\":", err) == -1 ||
	    text_json_string(out, si->host, err) == -1 ||
	    buf_printf(out, err, ",\"port\":%u,\"tls_mode\":", si->port) ==
		-1 ||
	    text_json_string(out, si->tls_mode, err) == -1 ||
	    buf_appends(out, ",\"greeting\":", err) == -1 ||
	    text_json_string(out, si->greeting, err) == -1 ||
	    buf_printf(out, err, ",\"ehlo\":%s,\"ehlo_name\":",
		si->helo_only ? "false" : "true") == -1 ||
	    text_json_string(
		out, si->helo_only ? "" : caps->greeting_name, err) == -1 ||
	    buf_appends(out, ",\"capabilities_before_tls\":", err) == -1)
		return -1;
	if (si->caps_before_tls == NULL) {
		if (buf_appends(out, "null", err) == -1)
			return -1;
	} else if (json_caps(out, si->caps_before_tls, false, err) == -1)
		return -1;
	if (buf_appends(out, ",\"capabilities\":", err) == -1 ||
	    json_caps(out, caps, si->helo_only, err) == -1)
		return -1;
	if (caps->size_limit > 0) {
		if (buf_printf(out, err, ",\"size_limit\":%llu",
			caps->size_limit) == -1)
			return -1;
	} else if (buf_appends(out, ",\"size_limit\":null", err) == -1)
		return -1;
	if (buf_appends(out, ",\"auth_mechanisms\":", err) == -1 ||
	    json_mechs(out, caps->auth_mechs, err) == -1 ||
	    buf_appends(out, ",\"tls\":", err) == -1)
		return -1;
	if (!tls)
		return buf_appends(out, "null}\n", err);
	if (buf_appends(out, "{\"version\":", err) == -1 ||
	    text_json_string(out, si->tls_version, err) == -1 ||
	    buf_appends(out, ",\"cipher\":", err) == -1 ||
	    text_json_string(out, si->tls_cipher, err) == -1 ||
	    buf_printf(out, err, ",\"resumed\":%s,\"certificates\":",
		si->tls_resumed ? "true" : "false") == -1)
		return -1;
	/* tls.c escapes the chain's strings; U+FFFD stands in for a byte
	 * that is not UTF-8, which JSON cannot carry. */
	if (si->chain != NULL && si->chain[0] == '[') {
		if (text_append_utf8(out, si->chain, false, err) == -1)
			return -1;
	} else if (buf_appends(out, "[]", err) == -1)
		return -1;
	return buf_appends(out, "}}\n", err);
}

int
serverinfo_format(
    const struct serverinfo *si, bool json, struct buf *out, struct error *err)
{
	return json ? format_json(si, out, err) : format_text(si, out, err);
}

/* --- the session --------------------------------------------------------- */

static const char *
tls_mode_name(enum account_tls tls)
{
	switch (tls) {
	case ACCOUNT_TLS_ON:
		return "implicit";
	case ACCOUNT_TLS_OFF:
		return "off";
	case ACCOUNT_TLS_STARTTLS:
		break;
	}
	return "starttls";
}

static int
describe(const struct account *acct, const struct options *opts,
    struct buf *out, struct error *err)
{
	struct account quiet = *acct;
	struct relay relay;
	struct serverinfo si;
	const struct tls_info *ti;
	struct buf chain;
	int rc = -1;

	/* Look, do not log in: no password is read, none is sent. */
	quiet.auth = ACCOUNT_AUTH_OFF;
	if (relay_open(&relay, &quiet, opts->verbose, err) == -1)
		return -1;
	buf_init(&chain, SERVERINFO_OUTPUT_MAX);
	memset(&si, 0, sizeof(si));
	si.account = acct->name;
	si.host = relay.peer.host;
	si.port = relay.peer.port;
	si.tls_mode = tls_mode_name(acct->tls);
	si.greeting = relay.session.greeting;
	si.helo_only = relay.session.helo_only;
	si.caps = &relay.session.caps;
	/* submit.c keeps the clear-text list only when STARTTLS ran. */
	if (acct->tls == ACCOUNT_TLS_STARTTLS && relay.session.tls_active)
		si.caps_before_tls = &relay.session.caps_before_tls;
	ti = conn_tls_info(&relay.conn);
	if (ti != NULL) {
		/* Loaded already: TLS is up. */
		const struct tls_module *tls = tlsmod_tls(err);

		si.tls_version = ti->version != NULL ? ti->version : "unknown";
		si.tls_cipher = ti->cipher;
		si.tls_resumed = ti->resumed;
		if (tls == NULL || tls->describe_chain(&relay.conn.t,
				       opts->json, &chain, err) == -1) {
			error_prefix(err, "%s: certificate chain", relay.where);
			goto out;
		}
		si.chain = buf_str(&chain);
	}
	rc = serverinfo_format(&si, opts->json, out, err);
out:
	buf_free(&chain);
	relay_close(&relay);
	return rc;
}

int
serverinfo_run(const struct options *opts, FILE *out, struct error *err)
{
	struct config *cfg = NULL;
	const struct account *acct = NULL;
	struct buf text;
	int rc = -1;

	buf_init(&text, SERVERINFO_OUTPUT_MAX);
	if (delivery_load_config(opts, &cfg, err) == -1)
		goto out;
	if (config_select(
		cfg, opts->account, opts->envelope_from, &acct, err) == -1)
		goto out;
	if (describe(acct, opts, &text, err) == -1) {
		error_prefix(err, "%s", acct->name);
		goto out;
	}
	/* All or nothing: a failure leaves no half description behind. */
	if (fwrite(buf_str(&text), 1, text.len, out) != text.len ||
	    fflush(out) == EOF) {
		error_set(err, EX_IOERR, "cannot write the description");
		goto out;
	}
	rc = 0;
out:
	buf_free(&text);
	config_free(cfg);
	return rc;
}
