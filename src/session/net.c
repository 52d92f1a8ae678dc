/* SPDX-License-Identifier: ISC */
/*
 * Resolve, connect with a timeout, and move bytes over a descriptor with a
 * timeout on every step.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "interrupt.h"
#include "net.h"

/* Tells a socket transport's ctx from another transport's. */
#define SOCK_MAGIC 0x6e657473u /* "nets" */

struct sock {
	uint32_t magic;
	int in_fd;
	int out_fd;
	bool in_is_socket;
	bool out_is_socket;
	bool out_nonblock; /* O_NONBLOCK set by sock_send_file */
};

/* poll() for one descriptor: 1 ready, 0 timed out, -1 with errno (EINTR:
 * a signal of interrupt.h was caught, now or before). */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	return interrupt_poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
}

/* A failed wait_fd(): interrupted, or poll itself failed. */
static int
wait_error(struct error *err)
{
	if (errno == EINTR && interrupt_check(err, EX_TEMPFAIL) == -1)
		return -1;
	return error_set(err, EX_OSERR, "poll: %s", strerror(errno));
}

static int
timeout_error(int timeout_ms, struct error *err)
{
	return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
	    "timed out after %d s waiting for the server",
	    (timeout_ms + 999) / 1000);
}

static ssize_t
sock_read(void *ctx, void *p, size_t n, int timeout_ms, struct error *err)
{
	struct sock *s = ctx;
	ssize_t r;

	for (;;) {
		int rc;

#ifdef TCP_QUICKACK
		/* Acknowledge at once what we have read.  A server that
		 * leaves Nagle on (smtp-sink, Postfix's smtpd) holds a short
		 * write of pipelined replies until its last segment is
		 * ACKed, and Linux delays that ACK by up to 40 ms (bench
		 * S5: one stall in three runs).  Linux drops the setting
		 * after a while, hence every wait. */
		if (s->in_is_socket) {
			int one = 1;

			(void)setsockopt(s->in_fd, IPPROTO_TCP, TCP_QUICKACK,
			    &one, sizeof(one));
		}
#endif
		rc = wait_fd(s->in_fd, POLLIN, timeout_ms);

		if (rc == 0)
			return timeout_error(timeout_ms, err);
		if (rc == -1)
			return wait_error(err);
		if (s->in_is_socket)
			r = recv(s->in_fd, p, n, MSG_DONTWAIT);
		else
			r = read(s->in_fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		if (errno == ECONNRESET)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL, "connection reset by server");
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "read error: %s", strerror(errno));
	}
}

static int
sock_write(
    void *ctx, const void *p, size_t n, int timeout_ms, struct error *err)
{
	struct sock *s = ctx;
	const char *q = p;

	while (n > 0) {
		ssize_t w;
		int rc = wait_fd(s->out_fd, POLLOUT, timeout_ms);

		if (rc == 0)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL,
			    "timed out after %d s sending to the server",
			    (timeout_ms + 999) / 1000);
		if (rc == -1)
			return wait_error(err);
		/* MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE. */
		if (s->out_is_socket)
			w = send(s->out_fd, q, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			w = write(s->out_fd, q, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return error_set_class(err, ERROR_CLASS_LINK,
				    EX_TEMPFAIL, "connection closed by server");
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL, "write error: %s", strerror(errno));
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The spool straight from the page cache to the socket: no copy through
 * user space.  sendfile(2) has no MSG_DONTWAIT, so the socket is made
 * non-blocking (every other step polls first and copes); a peer that
 * closed is EPIPE, SIGPIPE being ignored (main.c).
 */
static ssize_t
sock_send_file(void *ctx, int fd, off_t *off, size_t n, bool wait,
    int timeout_ms, struct error *err)
{
	struct sock *s = ctx;

	if (!s->out_nonblock) {
		int fl = fcntl(s->out_fd, F_GETFL);

		if (fl == -1 ||
		    fcntl(s->out_fd, F_SETFL, fl | O_NONBLOCK) == -1)
			return -2;
		s->out_nonblock = true;
	}
	for (;;) {
		ssize_t w = sendfile(s->out_fd, fd, off, n);
		int rc;

		if (w > 0)
			return w;
		if (w == 0)
			return error_set(err, EX_IOERR,
			    "the spool file is shorter than recorded");
		if (errno == EINTR)
			continue;
		if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
			return -2;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* As sock_write() says them: the link broke. */
			if (errno == EPIPE || errno == ECONNRESET)
				return error_set_class(err, ERROR_CLASS_LINK,
				    EX_TEMPFAIL, "connection closed by server");
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL, "write error: %s", strerror(errno));
		}
		if (!wait)
			return 0;
		rc = wait_fd(s->out_fd, POLLOUT, timeout_ms);
		if (rc == 0)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL,
			    "timed out after %d s sending to the server",
			    (timeout_ms + 999) / 1000);
		if (rc == -1)
			return wait_error(err);
	}
}

static const struct tls_info *
sock_tls_info(void *ctx)
{
	return NULL;
}

static void
sock_close(void *ctx)
{
	struct sock *s = ctx;

	if (s == NULL)
		return;
	if (s->in_fd >= 0)
		close(s->in_fd);
	if (s->out_fd >= 0 && s->out_fd != s->in_fd)
		close(s->out_fd);
	s->magic = 0;
	free(s);
}

static bool
is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int
net_transport_fd(int in_fd, int out_fd, struct transport *t, struct error *err)
{
	struct sock *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	s->magic = SOCK_MAGIC;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->in_is_socket = is_socket(in_fd);
	s->out_is_socket =
	    out_fd == in_fd ? s->in_is_socket : is_socket(out_fd);
	memset(t, 0, sizeof(*t));
	t->read = sock_read;
	t->write = sock_write;
	/* TLS is the caller's choice: relay.c sets t->starttls to the TLS
	 * module's upgrade. */
	t->starttls = NULL;
	t->tls_info = sock_tls_info;
	t->close = sock_close;
	/* Only on a socket: the caller's pipes keep their flags (-bs). */
	t->send_file = s->out_is_socket ? sock_send_file : NULL;
	t->ctx = s;
	return 0;
}

int
net_transport_get_fd(const struct transport *t)
{
	const struct sock *s;

	if (t == NULL || t->read != sock_read || t->ctx == NULL)
		return -1;
	s = t->ctx;
	if (s->magic != SOCK_MAGIC || s->in_fd != s->out_fd)
		return -1;
	return s->in_fd;
}

static void
format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
	/* Numeric forms only: INET6_ADDRSTRLEN plus a scope id fits. */
	char host[64], serv[8];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
		NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, size, "(unknown address)");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(out, size, "[%s]:%s", host, serv);
	else
		snprintf(out, size, "%s:%s", host, serv);
}

static int
set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

/* One address: 0 with *fdp set, or -1 with why filled. */
static int
connect_one(const struct addrinfo *ai, const struct addrinfo *src,
    int timeout_ms, int *fdp, char *why, size_t why_size)
{
	char addr[80];
	int fd, rc, soerr = 0, one = 1;
	socklen_t slen = sizeof(soerr);

	format_addr(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1) {
		snprintf(
		    why, why_size, "%s: socket: %s", addr, strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    set_blocking(fd, false) == -1) {
		snprintf(why, why_size, "%s: fcntl: %s", addr, strerror(errno));
		goto fail;
	}
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) == -1) {
		snprintf(why, why_size, "%s: bind to source_ip: %s", addr,
		    strerror(errno));
		goto fail;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc == -1 && errno != EINPROGRESS && errno != EINTR) {
		snprintf(why, why_size, "%s: %s", addr, strerror(errno));
		goto fail;
	}
	if (rc == -1) {
		rc = wait_fd(fd, POLLOUT, timeout_ms);
		if (rc == 0) {
			snprintf(why, why_size,
			    "%s: connection timed out "
			    "after %d s",
			    addr, (timeout_ms + 999) / 1000);
			goto fail;
		}
		if (rc == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1) {
			snprintf(
			    why, why_size, "%s: %s", addr, strerror(errno));
			goto fail;
		}
		if (soerr != 0) {
			snprintf(
			    why, why_size, "%s: %s", addr, strerror(soerr));
			goto fail;
		}
	}
	/* Every flush is a complete command group: Nagle would only hold
	 * the last segment back for the server's delayed ACK (~40 ms). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) {
		snprintf(why, why_size, "%s: TCP_NODELAY: %s", addr,
		    strerror(errno));
		goto fail;
	}
	/* Blocking again for whoever layers on the descriptor (GnuTLS);
	 * the transport polls before every step. */
	if (set_blocking(fd, true) == -1) {
		snprintf(why, why_size, "%s: fcntl: %s", addr, strerror(errno));
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int
net_connect(const char *host, unsigned port, const char *source_ip,
    int connect_timeout_ms, struct transport *t, struct error *err)
{
	struct addrinfo hints, *res, *ai, *src = NULL;
	char serv[16], why[512] = "";
	int rc, fd = -1;

	if (port == 0 || port > 65535)
		return error_set(err, EX_CONFIG, "invalid port %u", port);
	if (interrupt_check(err, EX_TEMPFAIL) == -1)
		return -1;
	if (source_ip != NULL && *source_ip != '\0') {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		rc = getaddrinfo(source_ip, NULL, &hints, &src);
		if (rc != 0)
			return error_set(err, EX_CONFIG,
			    "source_ip %s is not an IP address", source_ip);
	}
	snprintf(serv, sizeof(serv), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: with only loopback configured glibc would hide
	 * 127.0.0.1 itself; an unreachable family just fails over. */
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc != 0) {
		if (src != NULL)
			freeaddrinfo(src);
		/* The one permanent answer: the name does not exist. */
		if (rc == EAI_NONAME
#ifdef EAI_NODATA
		    || rc == EAI_NODATA
#endif
		)
			return error_set_class(err, ERROR_CLASS_LINK, EX_NOHOST,
			    "%s: host not found", host);
		if (rc == EAI_SYSTEM)
			return error_set_class(err, ERROR_CLASS_LINK,
			    EX_TEMPFAIL,
			    "%s: name "
			    "resolution failed: %s",
			    host, strerror(errno));
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL,
		    "%s: name resolution "
		    "failed: %s",
		    host, gai_strerror(rc));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/* A signal ends the attempts (the resolver may have waited
		 * through it). */
		if (interrupt_caught())
			break;
		/* A source address binds only sockets of its own family. */
		if (src != NULL && ai->ai_family != src->ai_family) {
			if (why[0] == '\0')
				snprintf(why, sizeof(why),
				    "%s: no address of "
				    "the source_ip's family",
				    host);
			continue;
		}
		if (connect_one(ai, src, connect_timeout_ms, &fd, why,
			sizeof(why)) == 0)
			break;
	}
	freeaddrinfo(res);
	if (src != NULL)
		freeaddrinfo(src);
	if (fd == -1 && interrupt_check(err, EX_TEMPFAIL) == -1)
		return -1;
	if (fd == -1)
		return error_set_class(err, ERROR_CLASS_LINK, EX_TEMPFAIL, "%s",
		    why[0] ? why : "no address to connect to");
	if (net_transport_fd(fd, fd, t, err) == -1) {
		close(fd);
		return -1;
	}
	return 0;
}

static bool
is_localhost(const char *name)
{
	return strcasecmp(name, "localhost") == 0 ||
	       strncasecmp(name, "localhost.", 10) == 0;
}

/* net_local_fqdn without the memory. */
static void
fqdn_lookup(char *name, size_t size)
{
	struct addrinfo hints, *res = NULL;
	char host[256];

	if (size == 0)
		return;
	if (gethostname(host, sizeof(host)) == -1) {
		snprintf(name, size, "localhost.localdomain");
		return;
	}
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	/* The canonical name is what hostname -f prints; an EHLO name
	 * should be one the world can look up (RFC 5321 4.1.4). */
	if (host[0] != '\0' && getaddrinfo(host, NULL, &hints, &res) == 0 &&
	    res != NULL && res->ai_canonname != NULL &&
	    strchr(res->ai_canonname, '.') != NULL &&
	    !is_localhost(res->ai_canonname) &&
	    strlen(res->ai_canonname) < size) {
		snprintf(name, size, "%s", res->ai_canonname);
		freeaddrinfo(res);
		return;
	}
	if (res != NULL)
		freeaddrinfo(res);
	if (host[0] != '\0' && !is_localhost(host) && strlen(host) < size)
		snprintf(name, size, "%s", host);
	else
		snprintf(name, size, "localhost.localdomain");
}

void
net_local_fqdn(char *name, size_t size)
{
	/* Asked for the Message-ID and again for EHLO: one lookup a run. */
	static char known[256];

	if (size == 0)
		return;
	if (known[0] == '\0')
		fqdn_lookup(known, sizeof(known));
	snprintf(name, size, "%s", known);
}
