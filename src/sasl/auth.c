/* SPDX-License-Identifier: ISC */
/*
 * SMTP AUTH (RFC 4954): choosing the mechanism, then the 334 challenge loop
 * with libgsasl doing the mechanism (SCRAM, PLAIN, LOGIN, CRAM-MD5, ...)
 * and this file doing XOAUTH2 and OAUTHBEARER (RFC 7628).  The loop never
 * trusts the server to end the exchange early.  Which mechanisms exist and
 * what each needs is sasl_mechs.c.  The module mailsub-sasl.so: its one
 * export, mailsub_sasl_module, is at the end (auth.h).  Past 800 lines
 * as one job: the whole of that module, whose parts (the exchange, the
 * SCRAM cache that feeds libgsasl, XOAUTH2) serve the one challenge loop.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsasl.h>

#include "account.h"
#include "auth.h"
#include "buf.h"
#include "cache.h"
#include "conn.h"
#include "error.h"
#include "log.h"
#include "oauth.h"
#include "peer.h"
#include "sasl_mechs.h"
#include "secret.h"
#include "smtp.h"

/* RFC 5321 4.5.3.1.4 and RFC 4954 4: an initial response that would make
 * the AUTH line longer than 512 octets is sent after an empty 334 instead. */
#define AUTH_COMMAND_LINE_MAX 512
/* Passwords and tokens are short; OAuth tokens reach a few KiB. */
#define AUTH_SECRET_MAX 65536

/* A mechanism libgsasl knows but sasl_mechs.h does not (auth =
 * DIGEST-MD5): treated as needing the password and speaking second. */
static const struct sasl_mech other_mech = {NULL, SASL_MECH_PASSWORD};

static bool
gsasl_supports(const char *name)
{
	Gsasl *ctx;
	bool ok;

	if (gsasl_init(&ctx) != GSASL_OK)
		return false;
	ok = gsasl_client_support_p(ctx, name) != 0;
	gsasl_done(ctx);
	return ok;
}

/* Whether the space-separated list has name (case-insensitive). */
static bool
offered(const char *list, const char *name)
{
	size_t n = strlen(name), len;

	while (*list != '\0') {
		while (*list == ' ')
			list++;
		len = strcspn(list, " ");
		if (len == n && len > 0 && strncasecmp(list, name, n) == 0)
			return true;
		list += len;
	}
	return false;
}

static bool
list_empty(const char *list)
{
	return list == NULL || list[strspn(list, " ")] == '\0';
}

static void
configured_list(const struct account *acct, char *out, size_t size)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < acct->n_auth_mechs && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i > 0 ? "," : "", acct->auth_mechs[i]);
}

static int
refuse_plaintext(struct error *err)
{
	return error_set(err, EX_CONFIG,
	    "refusing to send the password over an unencrypted connection; "
	    "use TLS or set allow_plaintext_auth = on");
}

/* Names are case-insensitive (RFC 4422 3.1); the registry and libgsasl
 * write them in upper case. */
static int
upper(const char *name, char *out, size_t size)
{
	size_t i;

	if (strlen(name) >= size)
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[i] = '\0';
	return 0;
}

static int
copy_mech(const char *name, char *mech, size_t mech_size, struct error *err)
{
	if (upper(name, mech, mech_size) == -1)
		return error_set(err, EX_SOFTWARE, "mechanism name too long");
	return 0;
}

int
auth_choose(const struct account *acct, const char *server_mechs,
    bool tls_active, bool have_channel_binding, char *mech, size_t mech_size,
    struct error *err)
{
	const struct sasl_mech *m;
	char no_cb[64] = "", unsupported[64] = "";
	char offer[SMTP_AUTH_MECHS_MAX], wanted[256];
	bool plaintext_ok, refused_plain = false;
	bool no_cert = false;
	size_t i;

	if (list_empty(server_mechs))
		return error_set(
		    err, EX_UNAVAILABLE, "server does not offer AUTH");
	plaintext_ok = tls_active || acct->allow_plaintext_auth;
	error_escape(offer, sizeof(offer), server_mechs, strlen(server_mechs));

	if (acct->auth == ACCOUNT_AUTH_LIST) {
		/* Honoured strictly: the first listed mechanism that can
		 * run, never one the user did not name. */
		for (i = 0; i < acct->n_auth_mechs; i++) {
			char name[64];

			/* libgsasl's names are upper case. */
			if (upper(acct->auth_mechs[i], name, sizeof(name)) ==
			    -1)
				continue;

			if (!offered(server_mechs, name))
				continue;
			m = sasl_mech_find(name);
			if ((m == NULL || !(m->flags & SASL_MECH_TOKEN)) &&
			    !gsasl_supports(name)) {
				snprintf(unsupported, sizeof(unsupported), "%s",
				    name);
				continue;
			}
			if (m == NULL)
				m = &other_mech;
			if ((m->flags & SASL_MECH_PLUS) &&
			    !have_channel_binding) {
				snprintf(no_cb, sizeof(no_cb), "%s", name);
				continue;
			}
			if ((m->flags & SASL_MECH_CERT) &&
			    (!tls_active || acct->tls_cert_file == NULL)) {
				no_cert = true;
				continue;
			}
			if ((m->flags & SASL_MECH_PASSWORD) && !plaintext_ok) {
				refused_plain = true;
				continue;
			}
			return copy_mech(name, mech, mech_size, err);
		}
		if (refused_plain)
			return refuse_plaintext(err);
		if (no_cert)
			return error_set(err, EX_CONFIG,
			    "auth = EXTERNAL needs TLS with a client "
			    "certificate (tls_cert_file, tls_key_file)");
		if (no_cb[0] != '\0')
			return error_set(err, EX_UNAVAILABLE,
			    "%s needs TLS channel binding, which this "
			    "connection does not provide",
			    no_cb);
		if (unsupported[0] != '\0')
			return error_set(err, EX_CONFIG,
			    "AUTH %s is not supported by mailsub", unsupported);
		configured_list(acct, wanted, sizeof(wanted));
		return error_set(err, EX_UNAVAILABLE,
		    "server offers AUTH %s; configured auth = %s is not among "
		    "them",
		    offer, wanted);
	}

	/* sasl_mechs.h: the table's order is the preference order. */
	for (m = sasl_mechs; m->name != NULL; m++) {
		if (m->flags & SASL_MECH_EXPLICIT)
			continue;
		if (!offered(server_mechs, m->name))
			continue;
		if ((m->flags & SASL_MECH_PLUS) && !have_channel_binding)
			continue;
		if ((m->flags & SASL_MECH_PASSWORD) && !plaintext_ok) {
			refused_plain = true;
			continue;
		}
		if (!gsasl_supports(m->name))
			continue;
		return copy_mech(m->name, mech, mech_size, err);
	}
	if (refused_plain)
		return refuse_plaintext(err);
	return error_set(err, EX_UNAVAILABLE,
	    "server offers AUTH %s, none of which mailsub uses unless named "
	    "with auth = MECHANISM",
	    offer);
}

/* --- encoding ------------------------------------------------------------ */

/* base64 of p (n bytes) into a new string ("" for n == 0); free with
 * wipe_free(). */
static char *
b64_encode(const char *p, size_t n, struct error *err)
{
	char *out = NULL;
	size_t len = 0;

	if (n == 0) {
		out = calloc(1, 1);
	} else if (gsasl_base64_to(p, n, &out, &len) != GSASL_OK) {
		out = NULL;
	}
	if (out == NULL)
		error_set(err, EX_OSERR, "out of memory");
	return out;
}

static void
wipe_free(char *p, size_t n)
{
	if (p == NULL)
		return;
	secure_wipe(p, n);
	free(p);
}

static void
wipe_str(char *p)
{
	if (p != NULL)
		wipe_free(p, strlen(p));
}

/* --- the exchange -------------------------------------------------------- */

struct exchange;

/*
 * One mechanism step: in is the decoded challenge (NULL for the initial
 * response).  Sets *out and *out_len (malloc'd, may be empty) and x->done
 * when the mechanism has nothing more to check.  -1 with err set on failure.
 */
typedef int (*step_fn)(struct exchange *x, const char *in, size_t in_len,
    char **out, size_t *out_len, struct error *err);

struct exchange {
	struct conn *c;
	const struct account *acct; /* the credentials */
	const struct peer *peer;    /* the server (host, port) */
	const char *mech;
	unsigned flags;
	step_fn step;
	Gsasl_session *gs;	  /* libgsasl mechanisms */
	const struct buf *secret; /* XOAUTH2 / OAUTHBEARER token */
	bool done;		  /* the client side has finished */
	bool oauth_error;	  /* the server sent its JSON error */
	char server_said[160];	  /* that error, escaped */
	bool scram_cached;	  /* the salted password came from
				     the cache (RFC 5802 5.1) */
	bool scram_no_cache;	  /* retrying without it */
};

static int
send_line(struct exchange *x, const char *line, bool secret, struct error *err)
{
	bool saved = x->c->trace_secret;
	int rc;

	x->c->trace_secret = secret;
	rc = conn_command(x->c, err, "%s", line);
	x->c->trace_secret = saved;
	if (rc == 0)
		rc = conn_flush(x->c, err);
	return rc;
}

/* RFC 4954 4: "*" cancels the exchange.  The reply is left unread: the
 * session is over once the server broke the protocol. */
static void
cancel(struct exchange *x)
{
	struct error ignored;

	error_clear(&ignored);
	send_line(x, "*", false, &ignored);
}

static int
failure_reply(struct exchange *x, const struct smtp_reply *r, struct error *err)
{
	char sum[300];
	int code = r->code;

	smtp_reply_summary(r, sum, sizeof(sum));
	if (code / 100 == 4)
		return error_set_reply(err, ERROR_REPLY_AUTH, code,
		    "temporary authentication failure: %s (AUTH %s)", sum,
		    x->mech);
	if (code / 100 == 5)
		return error_set_reply(err, ERROR_REPLY_AUTH, code,
		    "authentication failed: %s (AUTH %s)%s%s", sum, x->mech,
		    x->server_said[0] != '\0' ? "; server said " : "",
		    x->server_said);
	return error_set(
	    err, EX_PROTOCOL, "unexpected reply to AUTH %s: %s", x->mech, sum);
}

/* Send the command, with the initial response when it fits. */
static int
send_auth(struct exchange *x, char **pending, struct error *err)
{
	struct buf line;
	char *ir = NULL, *raw = NULL;
	size_t raw_len = 0;
	int rc = -1;

	buf_init(&line, AUTH_SECRET_MAX * 2);
	if (x->flags & SASL_MECH_CLIENT_FIRST) {
		if (x->step(x, NULL, 0, &raw, &raw_len, err) == -1)
			goto out;
		ir = b64_encode(raw, raw_len, err);
		if (ir == NULL)
			goto out;
	}
	if (ir == NULL) {
		rc = buf_printf(&line, err, "AUTH %s", x->mech);
	} else if (strlen(x->mech) + strlen(ir) + 8 > AUTH_COMMAND_LINE_MAX) {
		/* Too long for the command line: answer the empty 334. */
		rc = buf_printf(&line, err, "AUTH %s", x->mech);
		*pending = ir;
		ir = NULL;
	} else {
		/* RFC 4954 4: a zero-length initial response is "=". */
		rc = buf_printf(
		    &line, err, "AUTH %s %s", x->mech, *ir != '\0' ? ir : "=");
	}
	if (rc == 0)
		rc = send_line(x, buf_str(&line), ir != NULL, err);
out:
	wipe_free(raw, raw_len);
	wipe_str(ir);
	buf_wipe(&line);
	return rc;
}

/* Answer one 334: decode, step, encode, send. */
static int
answer(struct exchange *x, const struct smtp_reply *r, struct error *err)
{
	char *in = NULL, *out = NULL, *b64 = NULL;
	size_t in_len = 0, out_len = 0;
	int rc = -1;

	if (r->text_len > 0 && (gsasl_base64_from(r->text, r->text_len, &in,
				    &in_len) != GSASL_OK ||
				   in == NULL)) {
		in = NULL;
		cancel(x);
		return error_set(err, EX_PROTOCOL,
		    "server sent an AUTH %s challenge that is not base64",
		    x->mech);
	}
	if (x->done) {
		/* OAuth: the 334 carries the error; acknowledge it and read
		 * the final reply (RFC 7628 3.2.3; Google's XOAUTH2). */
		if ((x->flags & SASL_MECH_TOKEN) && !x->oauth_error) {
			x->oauth_error = true;
			error_escape(x->server_said, sizeof(x->server_said),
			    in != NULL ? in : "", in_len);
			rc = send_line(x,
			    strcmp(x->mech, "OAUTHBEARER") == 0 ? "AQ==" : "",
			    false, err);
			goto out;
		}
		cancel(x);
		error_set(err, EX_PROTOCOL,
		    "server sent another AUTH %s challenge after the exchange "
		    "was complete",
		    x->mech);
		goto out;
	}
	if (x->step(x, in != NULL ? in : "", in_len, &out, &out_len, err) ==
	    -1) {
		cancel(x);
		goto out;
	}
	b64 = b64_encode(out, out_len, err);
	if (b64 != NULL)
		rc = send_line(x, b64, true, err);
out:
	wipe_free(in, in_len);
	wipe_free(out, out_len);
	wipe_str(b64);
	return rc;
}

static int
run_exchange(struct exchange *x, struct error *err)
{
	struct smtp_reply r;
	char *pending = NULL;
	unsigned rounds = 0;
	int rc = -1;

	smtp_reply_init(&r);
	if (send_auth(x, &pending, err) == -1)
		goto out;
	for (;;) {
		if (smtp_read_reply(x->c, &r, err) == -1)
			goto out;
		if (r.code == 235) {
			/* A server that says yes before SCRAM's server-final
			 * message has not proved it knows the password. */
			if (!x->done || pending != NULL) {
				error_set(err, EX_PROTOCOL,
				    "server accepted authentication before it "
				    "was complete (AUTH %s)",
				    x->mech);
				goto out;
			}
			rc = 0;
			goto out;
		}
		if (r.code != 334) {
			failure_reply(x, &r, err);
			goto out;
		}
		if (++rounds > AUTH_ROUNDS_MAX) {
			cancel(x);
			error_set(err, EX_PROTOCOL,
			    "server sent more than %d AUTH %s challenges",
			    AUTH_ROUNDS_MAX, x->mech);
			goto out;
		}
		if (pending != NULL) {
			if (r.text_len != 0) {
				cancel(x);
				error_set(err, EX_PROTOCOL,
				    "server sent a non-empty challenge where "
				    "AUTH %s starts",
				    x->mech);
				goto out;
			}
			rc = send_line(x, pending, true, err);
			wipe_str(pending);
			pending = NULL;
			if (rc == -1)
				goto out;
			rc = -1;
			continue;
		}
		if (answer(x, &r, err) == -1)
			goto out;
	}
out:
	wipe_str(pending);
	if (r.text != NULL)
		secure_wipe(r.text, r.text_len);
	smtp_reply_free(&r);
	return rc;
}

/* --- libgsasl mechanisms ----------------------------------------------- */

static int
gsasl_step_fn(struct exchange *x, const char *in, size_t in_len, char **out,
    size_t *out_len, struct error *err)
{
	char *o = NULL;
	size_t olen = 0;
	int r;

	r = gsasl_step(x->gs, in, in_len, &o, &olen);
	if (r == GSASL_OK || r == GSASL_NEEDS_MORE) {
		x->done = r == GSASL_OK;
		*out = o;
		*out_len = olen;
		if (o == NULL) {
			*out = calloc(1, 1);
			*out_len = 0;
			if (*out == NULL)
				return error_set(
				    err, EX_OSERR, "out of memory");
		}
		return 0;
	}
	wipe_free(o, olen);
	/* RFC 5802 7: server-final "e=..." says why the server refused. */
	if (in != NULL && in_len > 2 && strncmp(in, "e=", 2) == 0) {
		char why[100];

		error_escape(why, sizeof(why), in + 2, in_len - 2);
		return error_set(err, EX_NOPERM,
		    "authentication failed: server said %s (AUTH %s)", why,
		    x->mech);
	}
	/* RFC 5802 5.1: "v=" carries the server's signature. */
	if (r == GSASL_AUTHENTICATION_ERROR && in != NULL && in_len > 2 &&
	    strncmp(in, "v=", 2) == 0 && strncmp(x->mech, "SCRAM-", 6) == 0)
		return error_set(err, EX_PROTOCOL,
		    "server's AUTH %s proof did not verify: it does not know "
		    "the password (or the channel is not the one it claims)",
		    x->mech);
	return error_set(err, EX_PROTOCOL,
	    "AUTH %s: the server's challenge does not fit the mechanism (%s)",
	    x->mech, gsasl_strerror(r));
}

/* --- the SCRAM salted-password cache ---------------------------------- */

/*
 * RFC 5802 5.1: a client may cache SaltedPassword for a given salt and
 * iteration count, which saves the PBKDF2 (4096 rounds and more) of every
 * login.  SaltedPassword lets its holder log in as the user, so it is kept
 * like the password (cache.h).  The entry names the account, server, user
 * and mechanism it was made for and the salt and count; any difference is
 * a miss.
 */
static void
scram_cache_name(const struct exchange *x, char *out, size_t size)
{
	const char *a = x->acct->name != NULL ? x->acct->name : "";
	size_t o = 0;

	o = (size_t)snprintf(out, size, "scram-%s-", x->mech);
	for (; *a != '\0' && o + 1 < size; a++) {
		char c = *a;

		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			       (c >= '0' && c <= '9') || c == '.' || c == '-')
			       ? c
			       : '_';
	}
	out[o < size ? o : size - 1] = '\0';
}

/* What the entry must match: everything but the value itself. */
static int
scram_cache_id(const struct exchange *x, const char *salt, const char *iter,
    struct buf *id)
{
	return buf_printf(id, NULL,
	    "mailsub-scram 1\n%s\n%s\n%u\n%s\n%s\n%s\n%s\n",
	    x->acct->name != NULL ? x->acct->name : "",
	    x->peer->host != NULL ? x->peer->host : "", x->peer->port,
	    x->acct->user != NULL ? x->acct->user : "", x->mech, salt, iter);
}

/* libgsasl asks for GSASL_SCRAM_SALTED_PASSWORD once it has the server's
 * salt and count; the cached value answers, or the password is used. */
static int
scram_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct exchange *x = gsasl_session_hook_get(gs);
	const char *salt, *iter;
	unsigned char *val;
	struct buf id;
	char name[CACHE_NAME_MAX];
	size_t len;
	int rc = GSASL_NO_CALLBACK;

	if (prop != GSASL_SCRAM_SALTED_PASSWORD || x == NULL ||
	    x->scram_no_cache)
		return GSASL_NO_CALLBACK;
	salt = gsasl_property_fast(gs, GSASL_SCRAM_SALT);
	iter = gsasl_property_fast(gs, GSASL_SCRAM_ITER);
	if (salt == NULL || iter == NULL)
		return GSASL_NO_CALLBACK;
	val = malloc(CACHE_VALUE_MAX + 1);
	if (val == NULL)
		return GSASL_NO_CALLBACK;
	buf_init(&id, CACHE_VALUE_MAX);
	scram_cache_name(x, name, sizeof(name));
	if (scram_cache_id(x, salt, iter, &id) == 0 &&
	    cache_load(name, val, CACHE_VALUE_MAX, &len) && len > id.len &&
	    memcmp(val, id.data, id.len) == 0) {
		val[len] = '\0';
		val[strcspn((char *)val + id.len, "\n") + id.len] = '\0';
		if (gsasl_property_set(gs, GSASL_SCRAM_SALTED_PASSWORD,
			(char *)val + id.len) == GSASL_OK) {
			x->scram_cached = true;
			rc = GSASL_OK;
		}
	}
	secure_wipe(val, CACHE_VALUE_MAX + 1);
	free(val);
	buf_free(&id);
	return rc;
}

/* After a successful login: keep what libgsasl derived. */
static void
scram_cache_keep(const struct exchange *x)
{
	const char *salt, *iter, *salted;
	struct buf entry;
	char name[CACHE_NAME_MAX];

	if (x->scram_cached || strncmp(x->mech, "SCRAM-", 6) != 0)
		return;
	salt = gsasl_property_fast(x->gs, GSASL_SCRAM_SALT);
	iter = gsasl_property_fast(x->gs, GSASL_SCRAM_ITER);
	salted = gsasl_property_fast(x->gs, GSASL_SCRAM_SALTED_PASSWORD);
	if (salt == NULL || iter == NULL || salted == NULL)
		return;
	buf_init(&entry, CACHE_VALUE_MAX);
	scram_cache_name(x, name, sizeof(name));
	if (scram_cache_id(x, salt, iter, &entry) == 0 &&
	    buf_printf(&entry, NULL, "%s\n", salted) == 0)
		cache_store(name, entry.data, entry.len);
	buf_wipe(&entry);
}

/* libgsasl keeps copies of these; clear them before it frees them. */
static void
wipe_gsasl_properties(Gsasl_session *gs)
{
	static const Gsasl_property secret_props[] = {GSASL_PASSWORD,
	    GSASL_SCRAM_SALTED_PASSWORD, GSASL_SCRAM_SERVERKEY,
	    GSASL_SCRAM_STOREDKEY};
	size_t i;

	for (i = 0; i < sizeof(secret_props) / sizeof(secret_props[0]); i++) {
		char *p = (char *)gsasl_property_fast(gs, secret_props[i]);

		if (p != NULL)
			secure_wipe(p, strlen(p));
	}
}

static int
set_property(Gsasl_session *gs, Gsasl_property prop, const char *value,
    struct error *err)
{
	if (gsasl_property_set(gs, prop, value) != GSASL_OK)
		return error_set(err, EX_OSERR, "out of memory");
	return 0;
}

static int
run_gsasl(struct exchange *x, const struct buf *password,
    const struct tls_info *info, struct error *err)
{
	Gsasl *ctx = NULL;
	char *cb = NULL;
	int r, rc = -1;

	r = gsasl_init(&ctx);
	if (r != GSASL_OK)
		return error_set(
		    err, EX_SOFTWARE, "libgsasl: %s", gsasl_strerror(r));
	gsasl_callback_set(ctx, scram_callback);
	r = gsasl_client_start(ctx, x->mech, &x->gs);
	if (r != GSASL_OK) {
		x->gs = NULL;
		error_set(
		    err, EX_CONFIG, "AUTH %s: %s", x->mech, gsasl_strerror(r));
		goto out;
	}
	gsasl_session_hook_set(x->gs, x);
	if (x->acct->user != NULL &&
	    set_property(x->gs, GSASL_AUTHID, x->acct->user, err) == -1)
		goto out;
	if (password != NULL &&
	    set_property(x->gs, GSASL_PASSWORD, buf_str(password), err) == -1)
		goto out;
	/* GSSAPI names the service principal smtp/HOST (RFC 4954 4). */
	if (set_property(x->gs, GSASL_SERVICE, "smtp", err) == -1)
		goto out;
	if (x->peer->host != NULL &&
	    set_property(x->gs, GSASL_HOSTNAME, x->peer->host, err) == -1)
		goto out;
	/* Only -PLUS gets the binding: libgsasl's plain SCRAM refuses to
	 * run when it is given one. */
	if ((x->flags & SASL_MECH_PLUS) && info != NULL &&
	    info->cb_data != NULL) {
		cb = b64_encode((const char *)info->cb_data, info->cb_len, err);
		if (cb == NULL)
			goto out;
		if (set_property(x->gs,
			info->cb_type != NULL &&
				strcmp(info->cb_type, "tls-exporter") == 0
			    ? GSASL_CB_TLS_EXPORTER
			    : GSASL_CB_TLS_UNIQUE,
			cb, err) == -1)
			goto out;
	}
	x->step = gsasl_step_fn;
	rc = run_exchange(x, err);
	if (rc == 0)
		scram_cache_keep(x);
out:
	wipe_str(cb);
	if (x->gs != NULL) {
		wipe_gsasl_properties(x->gs);
		gsasl_finish(x->gs);
		x->gs = NULL;
	}
	gsasl_done(ctx);
	return rc;
}

/* --- XOAUTH2 and OAUTHBEARER -------------------------------------------- */

/* RFC 5801 4 saslname: "," and "=" are escaped in the authzid. */
static int
append_saslname(struct buf *b, const char *s, struct error *err)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (*s == ',')
			r = buf_appends(b, "=2C", err);
		else if (*s == '=')
			r = buf_appends(b, "=3D", err);
		else
			r = buf_addch(b, *s, err);
	}
	return r;
}

static int
oauth_step_fn(struct exchange *x, const char *in, size_t in_len, char **out,
    size_t *out_len, struct error *err)
{
	struct buf msg;
	const char *user = x->acct->user;
	int r;

	if (in != NULL) {
		/* Both are one-message mechanisms: any challenge before
		 * the reply is the error, handled in answer(). */
		return error_set(
		    err, EX_PROTOCOL, "unexpected AUTH %s challenge", x->mech);
	}
	buf_init(&msg, AUTH_SECRET_MAX * 2);
	if (strcmp(x->mech, "XOAUTH2") == 0) {
		/* Google's and Microsoft's format. */
		r = buf_printf(&msg, err, "user=%s\001auth=Bearer ", user);
	} else {
		/* RFC 7628 3.1: gs2-header, then key=value pairs. */
		r = buf_appends(&msg, "n,a=", err);
		if (r == 0)
			r = append_saslname(&msg, user, err);
		if (r == 0)
			r = buf_printf(&msg, err,
			    ",\001host=%s\001port=%u\001auth=Bearer ",
			    x->peer->host != NULL ? x->peer->host : "",
			    x->peer->port);
	}
	if (r == 0)
		r = buf_append(&msg, buf_str(x->secret), x->secret->len, err);
	if (r == 0)
		r = buf_appends(&msg, "\001\001", err);
	if (r == -1) {
		buf_wipe(&msg);
		return -1;
	}
	*out_len = msg.len;
	*out = buf_detach(&msg);
	x->done = true;
	return 0;
}

static bool
has_password_source(const struct account *acct)
{
	return acct->has_password || acct->password_file != NULL ||
	       acct->password_command != NULL;
}

/*
 * XOAUTH2 or OAUTHBEARER: the token from mailsub's own store (oauth.h)
 * when oauth2_client_id is set, else from the password sources (a token
 * helper's password_command).  A stored token the server refuses may
 * have been revoked before its time: one new one is fetched and tried
 * (RFC 4954 4 allows another AUTH after a failed one); a token fetched in
 * this very run that the server refuses is a login failure (EX_NOPERM).
 */
static int
run_oauth(struct exchange *x, struct buf *token, struct error *err)
{
	const struct account *acct = x->acct;
	bool fetched = false;
	int rc;

	x->secret = token;
	x->step = oauth_step_fn;
	if (!oauth_enabled(acct)) {
		if (!has_password_source(acct)) {
			buf_wipe(token);
			return error_set(err, EX_CONFIG,
			    "AUTH %s needs a token: set oauth2_client_id and "
			    "run mailsub --oauth2-login %s (mailsub.conf(5), "
			    "OAUTH2), or a password_command that prints one",
			    x->mech, acct->name);
		}
		rc = secret_get_password(acct, x->peer->host, token, err);
		if (rc == 0)
			rc = run_exchange(x, err);
		buf_wipe(token);
		return rc;
	}
	if (oauth_get_token(acct, NULL, token, &fetched, err) == -1) {
		buf_wipe(token);
		return -1;
	}
	rc = run_exchange(x, err);
	if (rc == -1 && !fetched && err->exit_code == EX_NOPERM &&
	    !x->c->io_failed && !x->c->eof) {
		struct buf rejected;

		log_verbose("OAuth2: the server refused the stored token; "
			    "fetching a new one");
		buf_init(&rejected, AUTH_SECRET_MAX);
		error_clear(err);
		if (buf_append(&rejected, buf_str(token), token->len, err) ==
			-1 ||
		    oauth_get_token(acct, &rejected, token, &fetched, err) ==
			-1) {
			/* Why no new token came (a revoked refresh token,
			 * say) is what the user must act on. */
			buf_wipe(&rejected);
			buf_wipe(token);
			return -1;
		}
		buf_wipe(&rejected);
		x->done = false;
		x->oauth_error = false;
		x->server_said[0] = '\0';
		rc = run_exchange(x, err);
	}
	if (rc == -1 && fetched && err->exit_code == EX_NOPERM &&
	    x->oauth_error) {
		size_t n = strlen(err->message);

		snprintf(err->message + n, sizeof(err->message) - n, "%s",
		    "; the token was new: check oauth2_scope and that the "
		    "mailbox may use SMTP AUTH");
	}
	buf_wipe(token);
	return rc;
}

/* --- entry point --------------------------------------------------------- */

int
auth_login(struct conn *c, const struct account *acct, const struct peer *peer,
    const struct smtp_caps *caps, bool tls_active, struct error *err)
{
	const struct tls_info *info = conn_tls_info(c);
	const struct sasl_mech *m;
	struct exchange x;
	struct buf password;
	char mech[64];
	bool have_cb, have_user;
	int rc;

	if (!sasl_auth_needed(acct))
		return 0;
	have_user = acct->user != NULL && acct->user[0] != '\0';
	have_cb = tls_active && info != NULL && info->cb_data != NULL &&
		  info->cb_len > 0;
	if (auth_choose(acct, caps->auth_mechs, tls_active, have_cb, mech,
		sizeof(mech), err) == -1)
		return -1;
	m = sasl_mech_find(mech);
	if (m == NULL)
		m = &other_mech;
	if (!have_user && !(m->flags & SASL_MECH_NO_USER))
		return error_set(err, EX_CONFIG,
		    "AUTH %s needs a user name: set user in the account", mech);

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.acct = acct;
	x.peer = peer;
	x.mech = mech;
	x.flags = m->flags;
	buf_init(&password, AUTH_SECRET_MAX);
	if (m->flags & SASL_MECH_TOKEN)
		return run_oauth(&x, &password, err);
	if ((m->flags & SASL_MECH_PASSWORD) &&
	    secret_get_password(acct, peer->host, &password, err) == -1) {
		buf_wipe(&password);
		return -1;
	}
	{
		rc = run_gsasl(&x,
		    (m->flags & SASL_MECH_PASSWORD) ? &password : NULL,
		    tls_active ? info : NULL, err);
		/* A cached SCRAM value the server refused is stale (a new
		 * password under the old salt): forget it and log in once
		 * more with the password itself (RFC 4954 4 allows another
		 * AUTH after a failed one). */
		if (rc == -1 && x.scram_cached && err->exit_code == EX_NOPERM &&
		    !c->io_failed && !c->eof) {
			char name[CACHE_NAME_MAX];

			scram_cache_name(&x, name, sizeof(name));
			cache_forget(name);
			error_clear(err);
			x.scram_cached = false;
			x.scram_no_cache = true;
			x.done = false;
			x.oauth_error = false;
			rc = run_gsasl(
			    &x, &password, tls_active ? info : NULL, err);
		}
	}
	buf_wipe(&password);
	return rc;
}

/* --- the module's one export (auth.h, tlsmod.h) ---------------------- */

void
auth_versions(const char **built, const char **loaded)
{
	*built = GSASL_VERSION;
	*loaded = gsasl_check_version(NULL);
}

TLSMOD_EXPORT const struct sasl_module mailsub_sasl_module = {
    .head = {SASL_MODULE_ABI, PACKAGE_VERSION},
    .login = auth_login,
    .versions = auth_versions,
};
