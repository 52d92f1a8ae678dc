/* SPDX-License-Identifier: ISC */
/*
 * The TLS transport over GnuTLS: reads and writes with a deadline,
 * renegotiation and alerts, close_notify, session tickets kept across runs
 * (cache.h), and the module mailsub-tls.so's one export,
 * mailsub_tls_module, at the end (tls.h).  tls_handshake.c sets the
 * connection up.
 */
/*
 * TLS with GnuTLS: credentials, verification (or sha256 pinning), the
 * handshake with a deadline, and the TLS transport that replaces the socket
 * transport.  Each failure is turned into a cause a user can act on.  The
 * module mailsub-tls.so: its one export, mailsub_tls_module, is at the end
 * (tls.h).
 */
#include "autoconfig.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "cache.h"
#include "error.h"
#include "fdio.h"
#include "interrupt.h"
#include "net.h"
#include "tls.h"
#include "tls_cert.h"
#include "tls_transport.h"
#include "tls_trust.h"

/* RFC 9266 2: the tls-exporter channel binding. */
#define TLS_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define TLS_EXPORTER_LEN   32
/* A server asking to renegotiate this often is not worth talking to. */
#define TLS_RENEGOTIATION_MAX 4
/* Time granted to send close_notify when closing. */
#define TLS_BYE_TIMEOUT_MS 1000

/* Wait until fd is ready in the direction GnuTLS last wanted.  0 ready,
 * 1 timed out, -1 poll failed or (errno EINTR) a signal of interrupt.h
 * was caught. */
int
tls_wait_fd(int fd, bool want_write, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int r;

#ifdef TCP_QUICKACK
	/* Acknowledge at once what arrives while we wait.  A server that
	 * leaves Nagle on (Postfix's smtpd does) writes its TLS 1.3 session
	 * tickets and then the greeting of implicit TLS: the greeting waits
	 * for the tickets' ACK, and a delayed ACK costs 40 ms on Linux
	 * (bench S3-cold).  Linux drops the setting after the next
	 * exchange, hence every wait. */
	if (!want_write) {
		int one = 1;

		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
#endif
	for (;;) {
		left = deadline < 0 ? -1 : deadline - fdio_now_ms();
		if (deadline >= 0 && left <= 0)
			return 1;
		pfd.fd = fd;
		pfd.events = want_write ? POLLOUT : POLLIN;
		pfd.revents = 0;
		r = interrupt_poll(
		    &pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r == -1)
			return -1; /* EINTR: a signal was caught */
		if (r > 0)
			return 0;
	}
}

long long
tls_deadline_after(int timeout_ms)
{
	return timeout_ms > 0 ? fdio_now_ms() + timeout_ms : -1;
}

/* A failed tls_wait_fd(): interrupted, or poll itself failed. */
int
tls_wait_error(struct error *err)
{
	if (errno == EINTR && interrupt_check(err, EX_TEMPFAIL) == -1)
		return -1;
	return error_set(err, EX_OSERR, "poll: %s", strerror(errno));
}

/* GnuTLS asked for the same call again: wait for the direction it needs
 * until the deadline; 0 to call again, -1 with err set (what: "waiting
 * for" or "sending to" the server, for the timeout's message). */
static int
wait_again(struct tls *tls, long long deadline, int timeout_ms,
    const char *what, struct error *err)
{
	int w = tls_wait_fd(
	    tls->fd, gnutls_record_get_direction(tls->session) == 1, deadline);

	if (w == 1)
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "timed out after %d s %s the server",
		    (timeout_ms + 999) / 1000, what);
	if (w == -1) {
		tls->dead = true;
		return tls_wait_error(err);
	}
	return 0;
}

/* GnuTLS's messages end in a full stop; ours continue after them. */
const char *
tls_strerror(int code, char *buf, size_t size)
{
	size_t n;

	snprintf(buf, size, "%s", gnutls_strerror(code));
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

const char *
tls_alert_name(gnutls_session_t session)
{
	const char *name;

	name = gnutls_alert_get_name(gnutls_alert_get(session));
	return name != NULL ? name : "unknown alert";
}

/* RFC 9266 tls-exporter on TLS 1.3; RFC 5929 tls-unique on TLS 1.2, and
 * only with the extended master secret (RFC 7627), without which it does
 * not identify the connection (the triple handshake attack). */
static void
channel_binding(struct tls *tls)
{
	gnutls_protocol_t ver = gnutls_protocol_get_version(tls->session);
	gnutls_datum_t cb = {NULL, 0};

	if (ver == GNUTLS_TLS1_3) {
		if (gnutls_prf_rfc5705(tls->session, strlen(TLS_EXPORTER_LABEL),
			TLS_EXPORTER_LABEL, 0, NULL, TLS_EXPORTER_LEN,
			(char *)tls->cb) == 0) {
			tls->info.cb_data = tls->cb;
			tls->info.cb_len = TLS_EXPORTER_LEN;
			tls->info.cb_type = "tls-exporter";
		}
		return;
	}
	if (!gnutls_session_ext_master_secret_status(tls->session))
		return;
	if (gnutls_session_channel_binding(
		tls->session, GNUTLS_CB_TLS_UNIQUE, &cb) == 0 &&
	    cb.size > 0 && cb.size <= sizeof(tls->cb)) {
		memcpy(tls->cb, cb.data, cb.size);
		tls->info.cb_data = tls->cb;
		tls->info.cb_len = cb.size;
		tls->info.cb_type = "tls-unique";
	}
	gnutls_free(cb.data);
}

void
tls_fill_info(struct tls *tls)
{
	const char *v, *c;

	v = gnutls_protocol_get_name(gnutls_protocol_get_version(tls->session));
	c = gnutls_cipher_get_name(gnutls_cipher_get(tls->session));
	snprintf(tls->version, sizeof(tls->version), "%s", v ? v : "?");
	snprintf(tls->cipher, sizeof(tls->cipher), "%s", c ? c : "?");
	tls->info.version = tls->version;
	tls->info.cipher = tls->cipher;
	tls->info.resumed = gnutls_session_is_resumed(tls->session) != 0;
	channel_binding(tls);
	tls->peer_summary = tls_summarise_peer(tls->session);
	tls->info.peer_summary = tls->peer_summary;
}

void
tls_free(struct tls *tls)
{
	if (tls == NULL)
		return;
	if (tls->session != NULL)
		gnutls_deinit(tls->session);
	if (tls->cred != NULL)
		gnutls_certificate_free_credentials(tls->cred);
	if (tls->fd >= 0)
		close(tls->fd);
	free(tls->peer_summary);
	secure_wipe(tls->cb, sizeof(tls->cb));
	free(tls);
}

/* --- the TLS transport ------------------------------------------------ */

/*
 * The cache entry for a session: a hash of everything the verification of
 * the original handshake depended on (account, name, port, trust file or
 * pin, client certificate, priorities), so a ticket is only offered to the
 * server that was verified the same way (RFC 8446 4.6.1, 2.2).
 */
void
tls_session_cache_name(
    const struct peer *peer, const char *host, char *out, size_t size)
{
	gnutls_datum_t key;
	unsigned char digest[TLS_SHA256_LEN];
	char hexs[TLS_SHA256_LEN * 3 + 1], *text = NULL;
	int n;

	out[0] = '\0';
	n = asprintf(&text, "%s\n%s\n%u\n%s\n%s\n%s\n%s\n%s",
	    peer->account ? peer->account : "", host, peer->port,
	    peer->tls_trust_file ? peer->tls_trust_file : "(system)",
	    peer->tls_fingerprint ? peer->tls_fingerprint : "",
	    peer->tls_cert_file ? peer->tls_cert_file : "",
	    peer->tls_priorities ? peer->tls_priorities : "",
	    peer->tls_server_name ? peer->tls_server_name : "");
	if (n < 0)
		return;
	key.data = (unsigned char *)text;
	key.size = (unsigned)n;
	if (tls_sha256(key.data, key.size, digest) == 0) {
		tls_hex(digest, 16, false, hexs);
		snprintf(out, size, "tls-session-%s", hexs);
	}
	free(text);
}

/* Offer the cached session, if any; GnuTLS falls back to a full
 * handshake by itself when the server declines or the ticket expired. */
void
tls_session_offer(struct tls *tls)
{
	unsigned char *data;
	size_t len;

	if (tls->cache_name[0] == '\0')
		return;
	data = malloc(CACHE_VALUE_MAX);
	if (data == NULL)
		return;
	if (cache_load(tls->cache_name, data, CACHE_VALUE_MAX, &len) &&
	    gnutls_session_set_data(tls->session, data, len) < 0)
		cache_forget(tls->cache_name);
	secure_wipe(data, CACHE_VALUE_MAX);
	free(data);
}

/* Keep the session for the next run, once it can be resumed: TLS 1.3
 * tickets arrive after the handshake, with the first records read. */
static void
session_keep(struct tls *tls)
{
	gnutls_datum_t d = {NULL, 0};

	if (tls->ticket_saved || tls->cache_name[0] == '\0')
		return;
	if (gnutls_protocol_get_version(tls->session) == GNUTLS_TLS1_3 &&
	    !(gnutls_session_get_flags(tls->session) &
		GNUTLS_SFLAGS_SESSION_TICKET))
		return;
	tls->ticket_saved = true;
	if (gnutls_session_get_data2(tls->session, &d) == 0 && d.size > 0)
		cache_store(tls->cache_name, d.data, d.size);
	if (d.data != NULL) {
		secure_wipe(d.data, d.size);
		gnutls_free(d.data);
	}
}

/*
 * A fatal alert after the handshake.  In TLS 1.3 (RFC 8446 4.4.2.4) a
 * server judges our client certificate, or its absence, only after our
 * Finished, so its refusal arrives here, with the first reply: that is a
 * setup to fix, not a failure to retry (69, as when the handshake itself
 * fails).  Any other alert may pass (75).
 */
static int
alert_error(struct tls *tls, struct error *err)
{
	switch (gnutls_alert_get(tls->session)) {
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		if (tls->client_cert)
			return error_set_class(err, ERROR_CLASS_PERMFAIL,
			    EX_UNAVAILABLE,
			    "server refused our client certificate (TLS "
			    "alert: %s)",
			    tls_alert_name(tls->session));
		return error_set_class(err, ERROR_CLASS_PERMFAIL,
		    EX_UNAVAILABLE,
		    "server requires a client certificate (TLS alert: %s); "
		    "set tls_cert_file and tls_key_file",
		    tls_alert_name(tls->session));
	default:
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS alert from server: %s", tls_alert_name(tls->session));
	}
}

/*
 * The link closed before the server said a word after the handshake, and
 * it had asked for a client certificate: in TLS 1.3 that is how a server
 * refuses ours, or its absence (RFC 8446 4.4.2.4), the alert lost when
 * the connection was reset under our first command.  True, with the
 * error set (69, as alert_error() says it when the alert arrives).
 */
static bool
refused_client_cert(struct tls *tls, struct error *err)
{
	if (tls->got_data ||
	    gnutls_certificate_client_get_request_status(tls->session) == 0)
		return false;
	tls->dead = true;
	if (tls->client_cert)
		error_set_class(err, ERROR_CLASS_PERMFAIL, EX_UNAVAILABLE,
		    "server refused our client certificate (it asked for one "
		    "and closed the connection)");
	else
		error_set_class(err, ERROR_CLASS_PERMFAIL, EX_UNAVAILABLE,
		    "server requires a client certificate (it asked for one "
		    "and closed the connection); set tls_cert_file and "
		    "tls_key_file");
	return true;
}

static ssize_t
tls_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct tls *tls = ctx;
	long long deadline = tls_deadline_after(timeout_ms);
	char msg[200];
	ssize_t r;

	/* After close_notify or EOF nothing more can come: keep saying so,
	 * and touch nothing that closing will free. */
	if (tls->eof)
		return 0;
	if (tls->dead)
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS connection is broken");
	for (;;) {
		r = gnutls_record_recv(tls->session, p, n);
		if (r > 0) {
			tls->got_data = true;
			session_keep(tls);
			return r;
		}
		if ((r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION ||
			r == GNUTLS_E_PULL_ERROR) &&
		    refused_client_cert(tls, err))
			return -1;
		if (r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION) {
			tls->eof = true;
			return 0;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (wait_again(tls, deadline, timeout_ms, "waiting for",
				err) == -1)
				return -1;
			continue;
		}
		if (r == GNUTLS_E_REHANDSHAKE) {
			/* TLS 1.2 HelloRequest: a client may decline
			 * (RFC 5246 7.4.1.1); renegotiating mid-session only
			 * widens the attack surface. */
			if (++tls->renegotiations > TLS_RENEGOTIATION_MAX) {
				tls->dead = true;
				return error_set(err, EX_PROTOCOL,
				    "server keeps asking to renegotiate TLS");
			}
			gnutls_alert_send(tls->session, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			continue;
		}
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED) {
			if (deadline >= 0 && fdio_now_ms() > deadline)
				return error_set_class(err, ERROR_CLASS_LINK,
				    EX_TEMPFAIL,
				    "timed out after %d s waiting for the "
				    "server",
				    (timeout_ms + 999) / 1000);
			continue;
		}
		tls->dead = true;
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			return alert_error(tls, err);
		if (r == GNUTLS_E_PULL_ERROR)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL, "connection reset by server");
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS read: %s", tls_strerror((int)r, msg, sizeof(msg)));
	}
}

static int
tls_write(void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	struct tls *tls = ctx;
	const unsigned char *q = p;
	long long deadline = tls_deadline_after(timeout_ms);
	char msg[200];
	ssize_t r;
	size_t chunk;

	if (tls->dead)
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS connection is broken");
	while (n > 0) {
		chunk = n > 16384 ? 16384 : n;
		r = gnutls_record_send(tls->session, q, chunk);
		if (r > 0) {
			q += r;
			n -= (size_t)r;
			/* Progress restarts the clock: the timeout is per
			 * I/O step, not for the whole message. */
			deadline = tls_deadline_after(timeout_ms);
			continue;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			/* GnuTLS wants the same arguments again. */
			if (wait_again(tls, deadline, timeout_ms, "sending to",
				err) == -1)
				return -1;
			continue;
		}
		tls->dead = true;
		if (r == GNUTLS_E_PUSH_ERROR && refused_client_cert(tls, err))
			return -1;
		if (r == GNUTLS_E_PUSH_ERROR)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL, "connection closed by server");
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS write: %s", tls_strerror((int)r, msg, sizeof(msg)));
	}
	return 0;
}

static const struct tls_info *
tls_info_of(void *ctx)
{
	struct tls *tls = ctx;

	return &tls->info;
}

static void
tls_close(void *ctx)
{
	struct tls *tls = ctx;
	long long deadline;
	int r, tries;

	if (tls == NULL)
		return;
	/* close_notify, best effort and bounded: the server may be gone. */
	if (!tls->dead) {
		deadline = tls_deadline_after(TLS_BYE_TIMEOUT_MS);
		for (tries = 0; tries < 16; tries++) {
			r = gnutls_bye(tls->session, GNUTLS_SHUT_WR);
			if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
				break;
			if (tls_wait_fd(tls->fd,
				gnutls_record_get_direction(tls->session) == 1,
				deadline) != 0)
				break;
		}
	}
	tls_free(tls);
}

/* Commit: the socket transport lets go of its descriptor and *t becomes
 * the TLS transport. */
void
tls_take_over(struct transport *t, struct tls *tls)
{
	if (t->close != NULL)
		t->close(t->ctx);
	memset(t, 0, sizeof(*t));
	t->read = tls_read;
	t->write = tls_write;
	t->starttls = NULL; /* TLS inside TLS makes no sense */
	t->tls_info = tls_info_of;
	t->close = tls_close;
	t->ctx = tls;
}

/* --- describing the chain for --serverinfo ---------------------------- */

int
tls_describe_chain(
    const struct transport *t, bool json, struct buf *out, struct error *err)
{
	const struct tls *tls;

	if (t == NULL || t->read != tls_read || t->ctx == NULL)
		return error_set(err, EX_SOFTWARE, "TLS is not active");
	tls = t->ctx;
	return tls_describe_peers(tls->session, json, out, err);
}

/* --- the module's one export (tls.h, tlsmod.h) ------------------------ */

void
tls_versions(const char **built, const char **loaded)
{
	*built = GNUTLS_VERSION;
	*loaded = gnutls_check_version(NULL);
}

TLSMOD_EXPORT const struct tls_module mailsub_tls_module = {
    .head = {TLS_MODULE_ABI, PACKAGE_VERSION},
    .upgrade = tls_upgrade,
    .describe_chain = tls_describe_chain,
    .versions = tls_versions,
    .sha256 = tls_sha256,
};
