/* SPDX-License-Identifier: ISC */
/*
 * Name resolution and TCP connection with a timeout, and the socket
 * transport.  Knows nothing of SMTP or TLS.
 */
#ifndef MAILSUB_NET_H
#define MAILSUB_NET_H

#include "conn.h"

struct error;

/*
 * Connect to host:port, trying every address the name resolves to (IPv6
 * and IPv4) in turn, each with connect_timeout_ms.  source_ip may be NULL.
 * Sets TCP_NODELAY.  Unknown host -> EX_NOHOST; temporary DNS failure,
 * refused, unreachable or timed out -> EX_TEMPFAIL.  On success fills t with
 * a socket transport owning the descriptor.
 */
int net_connect(const char *host, unsigned port, const char *source_ip,
    int connect_timeout_ms, struct transport *t, struct error *err);

/* The socket transport over an already connected descriptor (also used for
 * -bs on stdin/stdout with in_fd != out_fd). */
int net_transport_fd(
    int in_fd, int out_fd, struct transport *t, struct error *err);

/* The descriptor under a socket transport, for tls.c; -1 if not a socket
 * transport. */
int net_transport_get_fd(const struct transport *t);

/* The host's fully qualified name for EHLO; never "localhost" when a FQDN
 * exists.  Writes into name (size bytes). */
void net_local_fqdn(char *name, size_t size);

#endif
