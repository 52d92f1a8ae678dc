/* SPDX-License-Identifier: ISC */
/*
 * Inside the TLS module: the state of one TLS connection (struct tls) and
 * what tls_handshake.c, which sets it up, needs from tls.c, which runs the
 * transport over it.  The rest of the tree sees tls.h only.
 */
#ifndef MAILSUB_TLS_TRANSPORT_H
#define MAILSUB_TLS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

#include "cache.h"
#include "conn.h"
#include "error.h"
#include "peer.h"

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
/* Used when the peer has no timeout (it always should). */
#define TLS_DEFAULT_TIMEOUT_S 60
/* Room for a channel binding (tls-exporter: 32 bytes). */
#define TLS_CB_MAX 64

/* One TLS connection: the TLS transport's context. */
struct tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	int fd;
	bool eof;  /* close_notify or EOF seen */
	bool dead; /* fatal error: no more I/O */
	unsigned renegotiations;
	struct tls_info info;
	char version[32];
	char cipher[64];
	unsigned char cb[TLS_CB_MAX];
	char *peer_summary;
	/* Session resumption across runs (cache.h): the entry of this
	 * account, server and verification setup, or "" for none. */
	char cache_name[CACHE_NAME_MAX];
	bool ticket_saved;
	/* Certificate verification, done by verify_peer() when the server
	 * shows a certificate: a resumed session shows none, and then the
	 * trust store is never loaded. */
	const struct peer *peer;
	const char *host;
	bool client_cert; /* one is configured */
	bool got_data;	  /* read since handshake */
	bool trust_loaded;
	bool verify_failed;
	unsigned verify_status;
	struct error trust_err;
};

/* Wait until fd is ready in the direction GnuTLS last wanted, until the
 * deadline (fdio_now_ms(); -1 none).  0 ready, 1 timed out, -1 poll
 * failed or (errno EINTR) a signal of interrupt.h was caught. */
int tls_wait_fd(int fd, bool want_write, long long deadline);

/* The deadline timeout_ms from now, or -1 for none (timeout_ms <= 0). */
long long tls_deadline_after(int timeout_ms);

/* The error of a failed tls_wait_fd(): interrupted, or poll failed. */
int tls_wait_error(struct error *err);

/* GnuTLS's message for code into buf, without its full stop. */
const char *tls_strerror(int code, char *buf, size_t size);

/* The name of the last alert the session received. */
const char *tls_alert_name(gnutls_session_t session);

/* The session cache entry's name for peer and host, the name verified
 * (RFC 8446 4.6.1). */
void tls_session_cache_name(
    const struct peer *peer, const char *host, char *out, size_t size);

/* Offer the cached ticket of tls->cache_name, if any. */
void tls_session_offer(struct tls *tls);

/* After the handshake: the version, cipher, channel binding and peer
 * summary into tls->info. */
void tls_fill_info(struct tls *tls);

/* Free tls and what it holds; tls_free(NULL) is a no-op. */
void tls_free(struct tls *tls);

/* Commit: the socket transport lets go of its descriptor and *t becomes
 * the TLS transport over tls. */
void tls_take_over(struct transport *t, struct tls *tls);

#endif
