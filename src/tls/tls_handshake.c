/* SPDX-License-Identifier: ISC */
/*
 * Setting up a TLS connection (tls_upgrade(), tls.h): the credentials,
 * certificate verification (the trust anchors a chain needs, the name,
 * RFC 6125) or sha256 pinning, the client certificate, and the handshake
 * with a deadline.  Each failure is turned into a cause a user can act
 * on.  tls.c runs the transport once the handshake is done.
 */
#include "autoconfig.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "config.h"
#include "error.h"
#include "fdio.h"
#include "net.h"
#include "peer.h"
#include "tls.h"
#include "tls_cert.h"
#include "tls_transport.h"
#include "tls_trust.h"

/* Parse "sha256:AB:CD..." / "sha256:abcd..." into 32 bytes. */
static int
parse_fingerprint(
    const char *s, unsigned char out[TLS_SHA256_LEN], struct error *err)
{
	size_t n = 0;
	int hi = -1, v;

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
    int timeout_ms, const struct peer *peer, struct error *err)
{
	char why[400], msg[200];

	switch (rc) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		tls_describe_status(session,
		    gnutls_session_get_verify_cert_status(session), hostname,
		    why, sizeof(why));
		return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
		    "certificate not trusted: %s", why);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
		    "TLS handshake failed: server sent alert \"%s\"",
		    tls_alert_name(session));
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "TLS handshake: connection closed by server");
	case GNUTLS_E_TIMEDOUT:
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
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
		if (peer == NULL || peer->tls != ACCOUNT_TLS_ON)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_UNAVAILABLE, "TLS handshake failed: %s", msg);
		if (config_port_tls_mismatch(
			peer->port, peer->tls, why, sizeof(why)))
			return error_set(err, EX_CONFIG,
			    "TLS handshake failed: %s: the server speaks "
			    "plain SMTP first: set tls = starttls",
			    msg);
		return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
		    "TLS handshake failed: %s: the server probably speaks "
		    "plain SMTP first: then set tls = starttls (tls = on is "
		    "implicit TLS, usually port 465)",
		    msg);
	default:
		return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
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
load_trust(gnutls_certificate_credentials_t cred, const struct peer *peer,
    bool pinned, struct error *err)
{
	char msg[200];
	int r;

	if (peer->tls_trust_file != NULL) {
		if (access(peer->tls_trust_file, R_OK) == -1)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: %s", peer->tls_trust_file,
			    strerror(errno));
		r = gnutls_certificate_set_x509_trust_file(
		    cred, peer->tls_trust_file, GNUTLS_X509_FMT_PEM);
		if (r < 0)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: %s", peer->tls_trust_file,
			    tls_strerror(r, msg, sizeof(msg)));
		if (r == 0)
			return error_set(err, EX_CONFIG,
			    "tls_trust_file %s: no certificates in it",
			    peer->tls_trust_file);
	} else if (!pinned) {
		r = gnutls_certificate_set_x509_system_trust(cred);
		if (r <= 0)
			return error_set(err, EX_CONFIG,
			    "cannot load the system trust store (%s); install "
			    "ca-certificates or set tls_trust_file",
			    r < 0 ? tls_strerror(r, msg, sizeof(msg))
				  : "no certificates");
	}
	return 0;
}

/* The client certificate, when the account has one. */
static int
load_client_cert(gnutls_certificate_credentials_t cred, const struct peer *peer,
    struct error *err)
{
	if ((peer->tls_cert_file == NULL) != (peer->tls_key_file == NULL))
		return error_set(err, EX_CONFIG,
		    "tls_cert_file and tls_key_file must be set together");
	if (peer->tls_cert_file != NULL) {
		char msg[200];
		int r;

		if (access(peer->tls_cert_file, R_OK) == -1 ||
		    access(peer->tls_key_file, R_OK) == -1)
			return error_set(err, EX_CONFIG, "%s %s: %s",
			    access(peer->tls_cert_file, R_OK) == -1
				? "tls_cert_file"
				: "tls_key_file",
			    access(peer->tls_cert_file, R_OK) == -1
				? peer->tls_cert_file
				: peer->tls_key_file,
			    strerror(errno));
		r = gnutls_certificate_set_x509_key_file2(cred,
		    peer->tls_cert_file, peer->tls_key_file,
		    GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r < 0)
			return error_set(err, EX_CONFIG,
			    "tls_cert_file %s / tls_key_file %s: %s",
			    peer->tls_cert_file, peer->tls_key_file,
			    tls_strerror(r, msg, sizeof(msg)));
	}
	return 0;
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
	const char *bundle = tls->peer->tls_trust_file;
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
		if (tls_trust_der_names(
			peers[i].data, peers[i].size, &names[n], &names[n + 1]))
			n += 2;
	if (n > 0 && tls_trust_load_matching(tls->cred, bundle, names, n) > 0)
		return 0;
	return load_trust(tls->cred, tls->peer, false, err);
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
	long long deadline = tls_deadline_after(timeout_ms);
	int r, w;

	for (;;) {
		r = gnutls_handshake(tls->session);
		if (r == 0)
			return 0;
		/* A server that trickles warning alerts still meets the
		 * deadline. */
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED && deadline >= 0 &&
		    fdio_now_ms() > deadline)
			r = GNUTLS_E_TIMEDOUT;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			w = tls_wait_fd(tls->fd,
			    gnutls_record_get_direction(tls->session) == 1,
			    deadline);
			if (w == 1)
				r = GNUTLS_E_TIMEDOUT;
			else if (w == -1)
				return tls_wait_error(err);
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
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_UNAVAILABLE, "certificate not trusted: %s", why);
		}
		return handshake_error(
		    tls->session, r, hostname, timeout_ms, tls->peer, err);
	}
}

/* Compare the leaf's SHA-256 with the pin, in time independent of where
 * they differ. */
static int
check_pin(struct tls *tls, const unsigned char want[TLS_SHA256_LEN],
    struct error *err)
{
	const gnutls_datum_t *leaf = tls_peer_leaf(tls->session);
	unsigned char got[TLS_SHA256_LEN], diff = 0;
	char gothex[TLS_SHA256_LEN * 3 + 1];
	size_t i;

	if (leaf == NULL || tls_sha256(leaf->data, leaf->size, got) == -1)
		return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
		    "certificate fingerprint mismatch: server sent no "
		    "certificate");
	for (i = 0; i < TLS_SHA256_LEN; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	if (diff == 0)
		return 0;
	tls_hex(got, sizeof(got), true, gothex);
	return error_set_class(err, ERROR_CLASS_LINK, EX_UNAVAILABLE,
	    "certificate fingerprint mismatch: got sha256:%s", gothex);
}

static int
global_init(struct error *err)
{
	static bool done;
	char msg[200];
	int r;

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

/* The name to verify and to send as SNI: tls_server_name, else the host;
 * "[::1]" as written in a config names the address ::1. */
static void
server_name(const struct peer *peer, char *host, size_t size)
{
	const char *name;

	name =
	    peer->tls_server_name != NULL ? peer->tls_server_name : peer->host;
	if (name == NULL)
		name = "";
	if (name[0] == '[' && strlen(name) > 2 && name[strlen(name) - 1] == ']')
		snprintf(host, size, "%.*s", (int)strlen(name) - 2, name + 1);
	else
		snprintf(host, size, "%s", name);
}

/* The certificate credentials: trust anchors (now only for a pin) and the
 * client certificate. */
static int
set_credentials(
    struct tls *tls, const struct peer *peer, bool pinned, struct error *err)
{
	char msg[200];
	int r;

	r = gnutls_certificate_allocate_credentials(&tls->cred);
	if (r < 0)
		return error_set(err, EX_OSERR, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
	/* Without a pin the trust anchors wait for a certificate to check
	 * (verify_peer); a missing tls_trust_file is still named now. */
	if (pinned) {
		if (load_trust(tls->cred, peer, true, err) == -1)
			return -1;
	} else if (peer->tls_trust_file != NULL &&
		   access(peer->tls_trust_file, R_OK) == -1) {
		return error_set(err, EX_CONFIG, "tls_trust_file %s: %s",
		    peer->tls_trust_file, strerror(errno));
	}
	if (load_client_cert(tls->cred, peer, err) == -1)
		return -1;
	tls->peer = peer;
	tls->client_cert = peer->tls_cert_file != NULL;
	error_clear(&tls->trust_err);
	return 0;
}

/* The session before the handshake: priorities, credentials, SNI, the
 * verification callback, the descriptor and a cached ticket to offer. */
static int
set_session(struct tls *tls, const struct peer *peer, const char *host,
    bool pinned, struct error *err)
{
	const char *prio, *errpos = NULL;
	char msg[200];
	int r;

	r = gnutls_init(
	    &tls->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (r < 0) {
		tls->session = NULL;
		return error_set(err, EX_OSERR, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
	}
	prio = peer->tls_priorities != NULL ? peer->tls_priorities
					    : TLS_DEFAULT_PRIORITIES;
	r = gnutls_priority_set_direct(tls->session, prio, &errpos);
	if (r < 0) {
		if (errpos != NULL)
			return error_set(err, EX_CONFIG,
			    "tls_priorities \"%s\": invalid at \"%s\"", prio,
			    errpos);
		return error_set(err, EX_CONFIG, "tls_priorities \"%s\": %s",
		    prio, tls_strerror(r, msg, sizeof(msg)));
	}
	r = gnutls_credentials_set(
	    tls->session, GNUTLS_CRD_CERTIFICATE, tls->cred);
	if (r < 0)
		return error_set(err, EX_SOFTWARE, "GnuTLS: %s",
		    tls_strerror(r, msg, sizeof(msg)));
	/* RFC 6066 3: SNI carries host names only, never address literals. */
	if (host[0] != '\0' && !is_ip_literal(host)) {
		r = gnutls_server_name_set(
		    tls->session, GNUTLS_NAME_DNS, host, strlen(host));
		if (r < 0)
			return error_set(err, EX_CONFIG, "server name %s: %s",
			    host, tls_strerror(r, msg, sizeof(msg)));
	}
	/* A pin replaces the chain and the name (self-signed servers);
	 * otherwise verify_peer checks both during the handshake (RFC
	 * 6125). */
	if (!pinned) {
		gnutls_session_set_ptr(tls->session, tls);
		gnutls_session_set_verify_function(tls->session, verify_peer);
	}
	gnutls_transport_set_int(tls->session, tls->fd);
	tls_session_cache_name(
	    peer, host, tls->cache_name, sizeof(tls->cache_name));
	tls_session_offer(tls);
	return 0;
}

int
tls_upgrade(struct transport *t, const struct peer *peer, struct error *err)
{
	unsigned char pin[TLS_SHA256_LEN];
	char host[256];
	struct tls *tls;
	bool pinned = peer->tls_fingerprint != NULL;
	int fd, flags, timeout_ms;

	fd = net_transport_get_fd(t);
	if (fd == -1)
		return error_set(
		    err, EX_SOFTWARE, "TLS needs a socket connection");
	if (pinned && parse_fingerprint(peer->tls_fingerprint, pin, err) == -1)
		return -1;
	server_name(peer, host, sizeof(host));
	timeout_ms =
	    (int)(peer->timeout > 0 ? peer->timeout : TLS_DEFAULT_TIMEOUT_S) *
	    1000;
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
	if (set_credentials(tls, peer, pinned, err) == -1)
		goto fail;
	/* verify_peer reads host[], which is ours only until we return. */
	if (!pinned)
		tls->host = host;
	if (set_session(tls, peer, host, pinned, err) == -1)
		goto fail;
	if (do_handshake(tls, host, timeout_ms, err) == -1)
		goto fail;
	tls->host = NULL;
	if (pinned && check_pin(tls, pin, err) == -1)
		goto fail;
	tls_fill_info(tls);
	tls_take_over(t, tls);
	secure_wipe(pin, sizeof(pin));
	return 0;

fail:
	/* *t is untouched; give the descriptor back as it was. */
	if (flags != -1)
		fcntl(fd, F_SETFL, flags);
	tls_free(tls);
	return -1;
}
