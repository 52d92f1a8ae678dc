/* SPDX-License-Identifier: ISC */
/*
 * TLS with GnuTLS: credentials, verification (or sha256 pinning), the
 * handshake with a deadline, and the TLS transport that replaces the socket
 * transport.  Each failure is turned into a cause a user can act on.  The
 * module mailsub-tls.so: its one export, mailsub_tls_module, is at the end
 * (tls.h).
 */
#include "autoconfig.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
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

#include "account.h"
#include "buf.h"
#include "cache.h"
#include "config.h"
#include "error.h"
#include "interrupt.h"
#include "net.h"
#include "tls.h"
#include "tls_cert.h"
#include "tls_trust.h"

/*
 * TLS 1.2 or newer (RFC 8996 deprecates 1.0 and 1.1).  The same groups as
 * NORMAL, X25519 moved first: GnuTLS sends a TLS 1.3 key share for the
 * first group, and X25519 costs a fraction of a P-256 share and shared
 * secret (about 0.5 M instructions a handshake, bench/RESULTS.md); every
 * other group is still offered, so a server without X25519 picks one.
 */
#define TLS_DEFAULT_PRIORITIES                                                 \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:" \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X448:"      \
	"+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:"                  \
	"+GROUP-FFDHE6144:+GROUP-FFDHE8192"
/* RFC 9266 2: the tls-exporter channel binding. */
#define TLS_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define TLS_EXPORTER_LEN 32
#define TLS_CB_MAX 64
/* Used when the account has no timeout (it always should). */
#define TLS_DEFAULT_TIMEOUT_S 60
/* A server asking to renegotiate this often is not worth talking to. */
#define TLS_RENEGOTIATION_MAX 4
/* Time granted to send close_notify when closing. */
#define TLS_BYE_TIMEOUT_MS 1000

struct tls {
	gnutls_session_t                 session;
	gnutls_certificate_credentials_t cred;
	int                              fd;
	bool                             eof;  /* close_notify or EOF seen */
	bool                             dead; /* fatal error: no more I/O */
	unsigned                         renegotiations;
	struct tls_info                  info;
	char                             version[32];
	char                             cipher[64];
	unsigned char                    cb[TLS_CB_MAX];
	char                            *peer_summary;
	/* Session resumption across runs (cache.h): the entry of this
	 * account, server and verification setup, or "" for none. */
	char                             cache_name[CACHE_NAME_MAX];
	bool                             ticket_saved;
	/* Certificate verification, done by verify_peer() when the server
	 * shows a certificate: a resumed session shows none, and then the
	 * trust store is never loaded. */
	const struct account            *acct;
	const char                      *host;
	bool                             client_cert; /* one is configured */
	bool                             got_data; /* read since handshake */
	bool                             trust_loaded;
	bool                             verify_failed;
	unsigned                         verify_status;
	struct error                     trust_err;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready in the direction GnuTLS last wanted.  0 ready,
 * 1 timed out, -1 poll failed or (errno EINTR) a signal of interrupt.h
 * was caught. */
static int
wait_fd(int fd, bool want_write, long long deadline)
{
	struct pollfd pfd;
	long long     left;
	int           r;

#ifdef TCP_QUICKACK
	/* Acknowledge at once what arrives while we wait.  A server that
	 * leaves Nagle on (Postfix's smtpd does) writes its TLS 1.3 session
	 * tickets and then the greeting of implicit TLS: the greeting waits
	 * for the tickets' ACK, and a delayed ACK costs 40 ms on Linux
	 * (bench S3-cold).  Linux drops the setting after the next
	 * exchange, hence every wait. */
	if (!want_write) {
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
	}
#endif
	for (;;) {
		left = deadline < 0 ? -1 : deadline - now_ms();
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

static long long
deadline_after(int timeout_ms)
{
	return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

/* A failed wait_fd(): interrupted, or poll itself failed. */
static int
wait_error(struct error *err)
{
	if (errno == EINTR && interrupt_check(err, EX_TEMPFAIL) == -1)
		return -1;
	return error_set(err, EX_OSERR, "poll: %s", strerror(errno));
}

/* GnuTLS's messages end in a full stop; ours continue after them. */
static const char *
tls_strerror(int code, char *buf, size_t size)
{
	size_t n;

	snprintf(buf, size, "%s", gnutls_strerror(code));
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

static const char *
alert_name(gnutls_session_t session)
{
	const char *name;

	name = gnutls_alert_get_name(gnutls_alert_get(session));
	return name != NULL ? name : "unknown alert";
}

/* Parse "sha256:AB:CD..." / "sha256:abcd..." into 32 bytes. */
static int
parse_fingerprint(const char *s, unsigned char out[TLS_SHA256_LEN],
    struct error *err)
{
	size_t n = 0;
	int    hi = -1, v;

	if (strncasecmp(s, "sha256:", 7) != 0)
		goto bad;
	for (s += 7; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			goto bad;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == TLS_SHA256_LEN)
			goto bad;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (n == TLS_SHA256_LEN && hi < 0)
		return 0;
bad:
	return error_set(err, EX_CONFIG,
	    "tls_fingerprint must be sha256: followed by 64 hex digits");
}

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

static int
handshake_error(gnutls_session_t session, int rc, const char *hostname,
    int timeout_ms, const struct account *acct, struct error *err)
{
	char why[400], msg[200];

	switch (rc) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		tls_describe_status(session,
		    gnutls_session_get_verify_cert_status(session), hostname,
		    why, sizeof(why));
		return error_set(err, EX_UNAVAILABLE,
		    "certificate not trusted: %s", why);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return error_set(err, EX_UNAVAILABLE,
		    "TLS handshake failed: server sent alert \"%s\"",
		    alert_name(session));
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return error_set(err, EX_TEMPFAIL,
		    "TLS handshake: connection closed by server");
	case GNUTLS_E_TIMEDOUT:
		return error_set(err, EX_TEMPFAIL,
		    "TLS handshake timed out after %d s",
		    (timeout_ms + 999) / 1000);
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		/* Mostly tls = on against a port that speaks plain SMTP:
		 * its "220 " greeting is no TLS record.  On a port known
		 * for plain text first that is the account, not the
		 * server. */
		tls_strerror(rc, msg, sizeof(msg));
		if (acct == NULL || acct->tls != ACCOUNT_TLS_ON)
			return error_set(
			    err, EX_UNAVAILABLE, "TLS handshake failed: %s", msg);
		if (config_port_tls_mismatch(acct, why, sizeof(why)))
			return error_set(err, EX_CONFIG,
			    "TLS handshake failed: %s: the server speaks "
			    "plain SMTP first: set tls = starttls",
			    msg);
		return error_set(err, EX_UNAVAILABLE,
		    "TLS handshake failed: %s: the server probably speaks "
		    "plain SMTP first: then set tls = starttls (tls = on is "
		    "implicit TLS, usually port 465)",
		    msg);
	default:
		return error_set(err, EX_UNAVAILABLE,
		    "TLS handshake failed: %s",
		    tls_strerror(rc, msg, sizeof(msg)));
	}
}

/*
 * The trust anchors: tls_trust_file, or the system's store unless a pin
 * replaces the chain.  The system store is some 140 certificates, about
 * 70 M instructions to parse: more than the rest of a run, and needless
 * when the session is resumed (verify_peer).
 */
static int
load_trust(gnutls_certificate_credentials_t cred, const struct account *acct,
    bool pinned, struct error *err)
{
	char msg[200];
	int  r;

	if (acct->tls_trust_file != NULL) {
		if (access(acct->tls_trust_file, R_OK) == -1)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: %s", acct->tls_trust_file,
			    strerror(errno));
		r = gnutls_certificate_set_x509_trust_file(cred,
		    acct->tls_trust_file, GNUTLS_X509_FMT_PEM);
		if (r < 0)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: %s", acct->tls_trust_file,
			    tls_strerror(r, msg, sizeof(msg)));
		if (r == 0)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: no certificates in it",
			    acct->tls_trust_file);
	} else if (!pinned) {
		r = gnutls_certificate_set_x509_system_trust(cred);
		if (r <= 0)
			return error_set(err, EX_CONFIG,
			    "cannot load the system trust store (%s); install "
			    "ca-certificates or set tls_trust_file",
			    r < 0 ? tls_strerror(r, msg, sizeof(msg)) :
				    "no certificates");
	}
	return 0;
}

/* The client certificate, when the account has one. */
static int
load_client_cert(gnutls_certificate_credentials_t cred,
    const struct account *acct, struct error *err)
{
	if ((acct->tls_cert_file == NULL) != (acct->tls_key_file == NULL))
		return error_set(err, EX_CONFIG,
		    "tls_cert_file and tls_key_file must be set together");
	if (acct->tls_cert_file != NULL) {
		char msg[200];
		int  r;

		if (access(acct->tls_cert_file, R_OK) == -1 ||
		    access(acct->tls_key_file, R_OK) == -1)
			return error_set(err, EX_CONFIG, "%s %s: %s",
			    access(acct->tls_cert_file, R_OK) == -1 ?
				"tls_cert_file" :
				"tls_key_file",
			    access(acct->tls_cert_file, R_OK) == -1 ?
				acct->tls_cert_file :
				acct->tls_key_file,
			    strerror(errno));
		r = gnutls_certificate_set_x509_key_file2(cred,
		    acct->tls_cert_file, acct->tls_key_file,
		    GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r < 0)
			return error_set(err, EX_CONFIG,
			    "tls_cert_file %s / tls_key_file %s: %s",
			    acct->tls_cert_file, acct->tls_key_file,
			    tls_strerror(r, msg, sizeof(msg)));
	}
	return 0;
}

/* RFC 9266 tls-exporter on TLS 1.3; RFC 5929 tls-unique on TLS 1.2, and
 * only with the extended master secret (RFC 7627), without which it does
 * not identify the connection (the triple handshake attack). */
static void
channel_binding(struct tls *tls)
{
	gnutls_protocol_t ver = gnutls_protocol_get_version(tls->session);
	gnutls_datum_t    cb = {NULL, 0};

	if (ver == GNUTLS_TLS1_3) {
		if (gnutls_prf_rfc5705(tls->session,
			strlen(TLS_EXPORTER_LABEL), TLS_EXPORTER_LABEL, 0,
			NULL, TLS_EXPORTER_LEN, (char *)tls->cb) == 0) {
			tls->info.cb_data = tls->cb;
			tls->info.cb_len = TLS_EXPORTER_LEN;
			tls->info.cb_type = "tls-exporter";
		}
		return;
	}
	if (!gnutls_session_ext_master_secret_status(tls->session))
		return;
	if (gnutls_session_channel_binding(tls->session, GNUTLS_CB_TLS_UNIQUE,
		&cb) == 0 &&
	    cb.size > 0 && cb.size <= sizeof(tls->cb)) {
		memcpy(tls->cb, cb.data, cb.size);
		tls->info.cb_data = tls->cb;
		tls->info.cb_len = cb.size;
		tls->info.cb_type = "tls-unique";
	}
	gnutls_free(cb.data);
}

static void
fill_info(struct tls *tls)
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

static void
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
static void
session_cache_name(const struct account *acct, const char *host,
    char *out, size_t size)
{
	gnutls_datum_t key;
	unsigned char  digest[TLS_SHA256_LEN];
	char           hexs[TLS_SHA256_LEN * 3 + 1], *text = NULL;
	int            n;

	out[0] = '\0';
	n = asprintf(&text, "%s\n%s\n%u\n%s\n%s\n%s\n%s\n%s",
	    acct->name ? acct->name : "", host, acct->port,
	    acct->tls_trust_file ? acct->tls_trust_file : "(system)",
	    acct->tls_fingerprint ? acct->tls_fingerprint : "",
	    acct->tls_cert_file ? acct->tls_cert_file : "",
	    acct->tls_priorities ? acct->tls_priorities : "",
	    acct->tls_server_name ? acct->tls_server_name : "");
	if (n < 0)
		return;
	key.data = (unsigned char *)text;
	key.size = (unsigned)n;
	if (tls_sha256(&key, digest) == 0) {
		tls_hex(digest, 16, false, hexs);
		snprintf(out, size, "tls-session-%s", hexs);
	}
	free(text);
}

/* Offer the cached session, if any; GnuTLS falls back to a full
 * handshake by itself when the server declines or the ticket expired. */
static void
session_offer(struct tls *tls)
{
	unsigned char *data;
	size_t         len;

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
			return error_set(err, EX_UNAVAILABLE,
			    "server refused our client certificate (TLS "
			    "alert: %s)",
			    alert_name(tls->session));
		return error_set(err, EX_UNAVAILABLE,
		    "server requires a client certificate (TLS alert: %s); "
		    "set tls_cert_file and tls_key_file",
		    alert_name(tls->session));
	default:
		return error_set(err, EX_TEMPFAIL, "TLS alert from server: %s",
		    alert_name(tls->session));
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
		error_set(err, EX_UNAVAILABLE,
		    "server refused our client certificate (it asked for one "
		    "and closed the connection)");
	else
		error_set(err, EX_UNAVAILABLE,
		    "server requires a client certificate (it asked for one "
		    "and closed the connection); set tls_cert_file and "
		    "tls_key_file");
	return true;
}

static ssize_t
tls_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct tls *tls = ctx;
	long long   deadline = deadline_after(timeout_ms);
	char        msg[200];
	ssize_t     r;
	int         w;

	/* After close_notify or EOF nothing more can come: keep saying so,
	 * and touch nothing that closing will free. */
	if (tls->eof)
		return 0;
	if (tls->dead)
		return error_set(err, EX_TEMPFAIL, "TLS connection is broken");
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
			w = wait_fd(tls->fd,
			    gnutls_record_get_direction(tls->session) == 1,
			    deadline);
			if (w == 1)
				return error_set(err, EX_TEMPFAIL,
				    "timed out after %d s waiting for the "
				    "server",
				    (timeout_ms + 999) / 1000);
			if (w == -1) {
				tls->dead = true;
				return wait_error(err);
			}
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
			if (deadline >= 0 && now_ms() > deadline)
				return error_set(err, EX_TEMPFAIL,
				    "timed out after %d s waiting for the "
				    "server",
				    (timeout_ms + 999) / 1000);
			continue;
		}
		tls->dead = true;
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			return alert_error(tls, err);
		if (r == GNUTLS_E_PULL_ERROR)
			return error_set(err, EX_TEMPFAIL,
			    "connection reset by server");
		return error_set(err, EX_TEMPFAIL, "TLS read: %s",
		    tls_strerror((int)r, msg, sizeof(msg)));
	}
}

static int
tls_write(void *ctx, const void *p, size_t n, int timeout_ms,
    struct error *err)
{
	struct tls          *tls = ctx;
	const unsigned char *q = p;
	long long            deadline = deadline_after(timeout_ms);
	char                 msg[200];
	ssize_t              r;
	size_t               chunk;
	int                  w;

	if (tls->dead)
		return error_set(err, EX_TEMPFAIL, "TLS connection is broken");
	while (n > 0) {
		chunk = n > 16384 ? 16384 : n;
		r = gnutls_record_send(tls->session, q, chunk);
		if (r > 0) {
			q += r;
			n -= (size_t)r;
			/* Progress restarts the clock: the timeout is per
			 * I/O step, not for the whole message. */
			deadline = deadline_after(timeout_ms);
			continue;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			/* GnuTLS wants the same arguments again. */
			w = wait_fd(tls->fd,
			    gnutls_record_get_direction(tls->session) == 1,
			    deadline);
			if (w == 1)
				return error_set(err, EX_TEMPFAIL,
				    "timed out after %d s sending to the "
				    "server",
				    (timeout_ms + 999) / 1000);
			if (w == -1) {
				tls->dead = true;
				return wait_error(err);
			}
			continue;
		}
		tls->dead = true;
		if (r == GNUTLS_E_PUSH_ERROR && refused_client_cert(tls, err))
			return -1;
		if (r == GNUTLS_E_PUSH_ERROR)
			return error_set(err, EX_TEMPFAIL,
			    "connection closed by server");
		return error_set(err, EX_TEMPFAIL, "TLS write: %s",
		    tls_strerror((int)r, msg, sizeof(msg)));
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
	long long   deadline;
	int         r, tries;

	if (tls == NULL)
		return;
	/* close_notify, best effort and bounded: the server may be gone. */
	if (!tls->dead) {
		deadline = deadline_after(TLS_BYE_TIMEOUT_MS);
		for (tries = 0; tries < 16; tries++) {
			r = gnutls_bye(tls->session, GNUTLS_SHUT_WR);
			if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
				break;
			if (wait_fd(tls->fd,
				gnutls_record_get_direction(tls->session) == 1,
				deadline) != 0)
				break;
		}
	}
	tls_free(tls);
}

/* --- the handshake ---------------------------------------------------- */

/* The bundle GnuTLS reads as the system store on Debian (and where most
 * distributions keep their TLS server CAs). */
#define TLS_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* More certificates than any real chain has. */
#define TLS_CHAIN_NAMES_MAX 32

/*
 * The anchors this server's chain needs (tls_trust.h): from tls_trust_file,
 * or from the system bundle, only the certificates named as issuer or
 * subject in the chain; the whole store, as load_trust() reads it, when
 * none of them matches (or the file cannot be read): the result, and the
 * error message if any, are then exactly those of loading everything.
 */
static int
load_trust_for_chain(struct tls *tls, struct error *err)
{
	const char *bundle = tls->acct->tls_trust_file;
	const gnutls_datum_t *peers;
	struct trust_name names[TLS_CHAIN_NAMES_MAX];
	unsigned n_peers = 0, i;
	size_t n = 0;

	if (bundle == NULL && access(TLS_SYSTEM_BUNDLE, R_OK) == 0)
		bundle = TLS_SYSTEM_BUNDLE;
	peers = gnutls_certificate_get_peers(tls->session, &n_peers);
	for (i = 0; bundle != NULL && peers != NULL && i < n_peers &&
		    n + 2 <= TLS_CHAIN_NAMES_MAX;
	     i++)
		if (trust_der_names(
			peers[i].data, peers[i].size, &names[n], &names[n + 1]))
			n += 2;
	if (n > 0 && trust_load_matching(tls->cred, bundle, names, n) > 0)
		return 0;
	return load_trust(tls->cred, tls->acct, false, err);
}

/*
 * GnuTLS calls this when the server's certificate has arrived (never on a
 * resumed session): load the trust anchors now, then check the chain, the
 * name (RFC 6125) and the purpose as gnutls_session_set_verify_cert()
 * would.  Non-zero fails the handshake; do_handshake() reports why.
 */
static int
verify_peer(gnutls_session_t session)
{
	struct tls *tls = gnutls_session_get_ptr(session);
	gnutls_typed_vdata_st data[2];
	unsigned status = 0;

	/* No certificate is checked after the handshake (renegotiation is
	 * refused). */
	if (tls == NULL || tls->host == NULL)
		return -1;
	if (!tls->trust_loaded) {
		if (load_trust_for_chain(tls, &tls->trust_err) == -1)
			return -1;
		tls->trust_loaded = true;
	}
	memset(data, 0, sizeof(data));
	data[0].type = GNUTLS_DT_DNS_HOSTNAME;
	data[0].data = (unsigned char *)(uintptr_t)tls->host;
	data[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[1].data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER;
	if (gnutls_certificate_verify_peers(session, data, 2, &status) < 0 &&
	    status == 0)
		status = GNUTLS_CERT_INVALID;
	if (status == 0)
		return 0;
	tls->verify_failed = true;
	tls->verify_status = status;
	return -1;
}

static int
do_handshake(
    struct tls *tls, const char *hostname, int timeout_ms, struct error *err)
{
	long long deadline = deadline_after(timeout_ms);
	int       r, w;

	for (;;) {
		r = gnutls_handshake(tls->session);
		if (r == 0)
			return 0;
		/* A server that trickles warning alerts still meets the
		 * deadline. */
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED && deadline >= 0 &&
		    now_ms() > deadline)
			r = GNUTLS_E_TIMEDOUT;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			w = wait_fd(tls->fd,
			    gnutls_record_get_direction(tls->session) == 1,
			    deadline);
			if (w == 1)
				r = GNUTLS_E_TIMEDOUT;
			else if (w == -1)
				return wait_error(err);
			else
				continue;
		}
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED)
			continue;
		/* Tell the server why (bad_certificate, ...), best effort:
		 * GnuTLS leaves alerts to the application. */
		if (r != GNUTLS_E_PREMATURE_TERMINATION &&
		    r != GNUTLS_E_PULL_ERROR && r != GNUTLS_E_PUSH_ERROR &&
		    r != GNUTLS_E_TIMEDOUT &&
		    r != GNUTLS_E_FATAL_ALERT_RECEIVED)
			gnutls_alert_send_appropriate(tls->session, r);
		if (error_is_set(&tls->trust_err)) {
			*err = tls->trust_err;
			return -1;
		}
		if (tls->verify_failed) {
			char why[400];

			tls_describe_status(tls->session, tls->verify_status,
			    hostname, why, sizeof(why));
			return error_set(err, EX_UNAVAILABLE,
			    "certificate not trusted: %s", why);
		}
		return handshake_error(
		    tls->session, r, hostname, timeout_ms, tls->acct, err);
	}
}

/* Compare the leaf's SHA-256 with the pin, in time independent of where
 * they differ. */
static int
check_pin(struct tls *tls, const unsigned char want[TLS_SHA256_LEN],
    struct error *err)
{
	const gnutls_datum_t *leaf = tls_peer_leaf(tls->session);
	unsigned char         got[TLS_SHA256_LEN], diff = 0;
	char                  gothex[TLS_SHA256_LEN * 3 + 1];
	size_t                i;

	if (leaf == NULL || tls_sha256(leaf, got) == -1)
		return error_set(err, EX_UNAVAILABLE,
		    "certificate fingerprint mismatch: server sent no "
		    "certificate");
	for (i = 0; i < TLS_SHA256_LEN; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	if (diff == 0)
		return 0;
	tls_hex(got, sizeof(got), true, gothex);
	return error_set(err, EX_UNAVAILABLE,
	    "certificate fingerprint mismatch: got sha256:%s", gothex);
}

static int
global_init(struct error *err)
{
	static bool done;
	char        msg[200];
	int         r;

	/* Only TLS connections pay for this; GnuTLS >= 3.7 has usually
	 * initialised itself already, and this is reference counted. */
	if (done)
		return 0;
	r = gnutls_global_init();
	if (r < 0)
		return error_set(err, EX_SOFTWARE, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
	done = true;
	return 0;
}

int
tls_upgrade(struct transport *t, const struct account *acct,
    struct error *err)
{
	unsigned char pin[TLS_SHA256_LEN];
	const char   *name, *prio, *errpos = NULL;
	char          host[256], msg[200];
	struct tls   *tls;
	bool          pinned = acct->tls_fingerprint != NULL;
	int           fd, flags, timeout_ms, r;

	fd = net_transport_get_fd(t);
	if (fd == -1)
		return error_set(err, EX_SOFTWARE,
		    "TLS needs a socket connection");
	if (pinned && parse_fingerprint(acct->tls_fingerprint, pin, err) == -1)
		return -1;
	name = acct->tls_server_name != NULL ? acct->tls_server_name :
	    acct->current_host;
	if (name == NULL)
		name = "";
	/* "[::1]" as written in a config names the address ::1. */
	if (name[0] == '[' && strlen(name) > 2 &&
	    name[strlen(name) - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)strlen(name) - 2,
		    name + 1);
	else
		snprintf(host, sizeof(host), "%s", name);
	timeout_ms = (int)(acct->timeout > 0 ? acct->timeout :
	    TLS_DEFAULT_TIMEOUT_S) * 1000;
	if (global_init(err) == -1)
		return -1;

	tls = calloc(1, sizeof(*tls));
	if (tls == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	/* Our own descriptor for the same socket: the socket transport can
	 * then be closed normally once TLS owns the connection. */
	tls->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (tls->fd == -1) {
		free(tls);
		return error_set(err, EX_OSERR, "dup: %s", strerror(errno));
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		error_set(err, EX_OSERR, "fcntl: %s", strerror(errno));
		flags = -1;
		goto fail;
	}

	r = gnutls_certificate_allocate_credentials(&tls->cred);
	if (r < 0) {
		error_set(err, EX_OSERR, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
		goto fail;
	}
	/* Without a pin the trust anchors wait for a certificate to check
	 * (verify_peer); a missing tls_trust_file is still named now. */
	if (pinned) {
		if (load_trust(tls->cred, acct, true, err) == -1)
			goto fail;
	} else if (acct->tls_trust_file != NULL &&
		   access(acct->tls_trust_file, R_OK) == -1) {
		error_set(err, EX_CONFIG, "tls_trust_file %s: %s",
		    acct->tls_trust_file, strerror(errno));
		goto fail;
	}
	if (load_client_cert(tls->cred, acct, err) == -1)
		goto fail;
	tls->acct = acct;
	tls->client_cert = acct->tls_cert_file != NULL;
	error_clear(&tls->trust_err);
	r = gnutls_init(&tls->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_NO_SIGNAL);
	if (r < 0) {
		tls->session = NULL;
		error_set(err, EX_OSERR, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
		goto fail;
	}
	prio = acct->tls_priorities != NULL ? acct->tls_priorities :
	    TLS_DEFAULT_PRIORITIES;
	r = gnutls_priority_set_direct(tls->session, prio, &errpos);
	if (r < 0) {
		if (errpos != NULL)
			error_set(err, EX_CONFIG,
			    "tls_priorities \"%s\": invalid at \"%s\"", prio,
			    errpos);
		else
			error_set(err, EX_CONFIG, "tls_priorities \"%s\": %s",
			    prio, tls_strerror(r, msg, sizeof(msg)));
		goto fail;
	}
	r = gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE,
	    tls->cred);
	if (r < 0) {
		error_set(err, EX_SOFTWARE, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
		goto fail;
	}
	/* RFC 6066 3: SNI carries host names only, never address literals. */
	if (host[0] != '\0' && !is_ip_literal(host)) {
		r = gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS, host,
		    strlen(host));
		if (r < 0) {
			error_set(err, EX_CONFIG, "server name %s: %s", host,
			    tls_strerror(r, msg, sizeof(msg)));
			goto fail;
		}
	}
	/* A pin replaces the chain and the name (self-signed servers);
	 * otherwise verify_peer checks both during the handshake (RFC
	 * 6125). */
	if (!pinned) {
		tls->host = host;
		gnutls_session_set_ptr(tls->session, tls);
		gnutls_session_set_verify_function(tls->session, verify_peer);
	}
	gnutls_transport_set_int(tls->session, tls->fd);
	session_cache_name(acct, host, tls->cache_name,
	    sizeof(tls->cache_name));
	session_offer(tls);

	if (do_handshake(tls, host, timeout_ms, err) == -1)
		goto fail;
	tls->host = NULL; /* host[] is ours only until we return */
	if (pinned && check_pin(tls, pin, err) == -1)
		goto fail;
	fill_info(tls);

	/* Commit: the socket transport lets go of its descriptor. */
	if (t->close != NULL)
		t->close(t->ctx);
	memset(t, 0, sizeof(*t));
	t->read = tls_read;
	t->write = tls_write;
	t->starttls = NULL; /* TLS inside TLS makes no sense */
	t->tls_info = tls_info_of;
	t->close = tls_close;
	t->ctx = tls;
	secure_wipe(pin, sizeof(pin));
	return 0;

fail:
	/* *t is untouched; give the descriptor back as it was. */
	if (flags != -1)
		fcntl(fd, F_SETFL, flags);
	tls_free(tls);
	return -1;
}

/* --- describing the chain for --serverinfo ---------------------------- */

int
tls_describe_chain(const struct transport *t, bool json, struct buf *out,
    struct error *err)
{
	const struct tls *tls;

	if (t == NULL || t->read != tls_read || t->ctx == NULL)
		return error_set(err, EX_SOFTWARE, "TLS is not active");
	tls = t->ctx;
	return tls_describe_peers(tls->session, json, out, err);
}

/* --- the module's one export (tls.h, tlsmod.h) ------------------------ */

TLSMOD_EXPORT const struct tls_module mailsub_tls_module = {
    .head = {TLS_MODULE_ABI, PACKAGE_VERSION},
    .upgrade = tls_upgrade,
    .describe_chain = tls_describe_chain,
};
