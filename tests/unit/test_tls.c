/* SPDX-License-Identifier: ISC */
/*
 * tls.c against a GnuTLS server in a forked child over a socketpair, with
 * the test PKI from tests/pki.sh: verification causes, pinning, SNI,
 * channel binding, client certificates, timeouts, and the record layer's
 * end-of-stream cases (close_notify, abrupt close, alerts, renegotiation).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "account.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "net.h"
#include "peer.h"
#include "text.h"
#include "tls.h"
#include "tls_cert.h"
#include "tls_trust.h"
#include "tlsmod.h"

static const char *argv0;
static char pki[64];

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* A case that cannot run here is skipped, unless every case must run
 * (MAILSUB_NO_SKIP=1, as in CI and tests/lib.sh): then it fails. */
static bool
no_skip(void)
{
	const char *e = getenv("MAILSUB_NO_SKIP");

	return e != NULL && strcmp(e, "1") == 0;
}

/* --- the server in a child --------------------------------------------- */

enum action {
	SRV_ECHO,	 /* greet, then echo */
	SRV_SINK,	 /* greet, read SINK_BYTES, say how many */
	SRV_BYE,	 /* greet, "partial", close_notify */
	SRV_ABRUPT,	 /* greet, "data", close without close_notify */
	SRV_ALERT,	 /* greet, fatal alert */
	SRV_REHANDSHAKE, /* greet, HelloRequest, "after", echo */
	SRV_SILENT,	 /* never answers the ClientHello */
	SRV_CLOSE,	 /* closes at once */
	SRV_PLAINTEXT,	 /* speaks SMTP, not TLS */
};

#define SINK_BYTES (1024 * 1024 + 17)

struct server {
	const char *cert; /* file name under pki */
	const char *prio; /* NULL: NORMAL */
	enum action action;
	bool want_client_cert;
};

static void
pki_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", pki, name);
}

/* Write pki/NAME: the system's CAs (when there), then, with_ca, the test
 * CA; returns the number of certificates in it. */
static size_t
write_bundle(const char *name, bool with_ca, char *path, size_t size)
{
	gnutls_datum_t pem;
	char ca[PATH_MAX];
	const char *p;
	size_t n = 0;
	FILE *out;

	pki_path(path, size, name);
	out = fopen(path, "w");
	assert_non_null(out);
	if (access(SYSTEM_BUNDLE, R_OK) == 0) {
		assert_int_equal(gnutls_load_file(SYSTEM_BUNDLE, &pem), 0);
		assert_int_equal(fwrite(pem.data, 1, pem.size, out), pem.size);
		for (p = (const char *)pem.data;
		     (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL;
		     p++)
			n++;
		gnutls_free(pem.data);
	}
	if (with_ca) {
		pki_path(ca, sizeof(ca), "ca.crt");
		assert_int_equal(gnutls_load_file(ca, &pem), 0);
		assert_int_equal(fwrite(pem.data, 1, pem.size, out), pem.size);
		gnutls_free(pem.data);
		n++;
	}
	assert_int_equal(fclose(out), 0);
	return n;
}

static void
hexify(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
	out[2 * n] = '\0';
}

/* The server's view of the channel binding, to compare with the client's. */
static void
server_cb(gnutls_session_t s, char *out)
{
	unsigned char buf[64];
	gnutls_datum_t cb = {NULL, 0};

	strcpy(out, "-");
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3) {
		if (gnutls_prf_rfc5705(s, 24, "EXPORTER-Channel-Binding", 0,
			NULL, 32, (char *)buf) == 0)
			hexify(buf, 32, out);
	} else if (gnutls_session_channel_binding(
		       s, GNUTLS_CB_TLS_UNIQUE, &cb) == 0) {
		hexify(cb.data, cb.size, out);
		gnutls_free(cb.data);
	}
}

static void
srv_send(gnutls_session_t s, const char *text)
{
	ssize_t r;

	do
		r = gnutls_record_send(s, text, strlen(text));
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
}

static void
echo(gnutls_session_t s)
{
	char buf[16385];
	ssize_t r;

	for (;;) {
		r = gnutls_record_recv(s, buf, sizeof(buf) - 1);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
		    r == GNUTLS_E_WARNING_ALERT_RECEIVED)
			continue;
		if (r <= 0)
			break;
		buf[r] = '\0';
		srv_send(s, buf);
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
}

static void
run_server(int fd, const struct server *o)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], name[256];
	char greet[512], cb[200], buf[16384];
	size_t nlen = sizeof(name), total = 0;
	ssize_t r;
	unsigned type, status = 1;
	int h;
	const char *group;

	alarm(30); /* never outlive a broken test */
	if (o->action == SRV_CLOSE) {
		close(fd);
		_exit(0);
	}
	if (o->action == SRV_SILENT || o->action == SRV_PLAINTEXT) {
		if (o->action == SRV_PLAINTEXT &&
		    write(fd, "220 mail.example ESMTP\r\n", 24) != 24)
			_exit(1);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	pki_path(cert, sizeof(cert), o->cert);
	snprintf(key, sizeof(key), "%s", cert);
	strcpy(strrchr(key, '.'), ".key");
	/* server-chain.crt is served with server.key. */
	if (strstr(key, "-chain.key") != NULL)
		strcpy(strstr(key, "-chain.key"), ".key");
	pki_path(ca, sizeof(ca), "ca.crt");

	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_key_file(
		cred, cert, key, GNUTLS_X509_FMT_PEM) < 0)
		_exit(2);
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_priority_set_direct(
	    s, o->prio != NULL ? o->prio : "NORMAL", NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (o->want_client_cert) {
		gnutls_certificate_set_x509_trust_file(
		    cred, ca, GNUTLS_X509_FMT_PEM);
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 20000);
	do
		h = gnutls_handshake(s);
	while (h < 0 && !gnutls_error_is_fatal(h));
	if (h < 0) {
		/* GnuTLS leaves alerts to the application; real servers
		 * send them. */
		gnutls_alert_send_appropriate(s, h);
		_exit(3);
	}

	if (gnutls_server_name_get(s, name, &nlen, &type, 0) != 0)
		strcpy(name, "-");
	server_cb(s, cb);
	if (o->want_client_cert &&
	    (gnutls_certificate_verify_peers2(s, &status) < 0 ||
		gnutls_certificate_get_peers(s, &type) == NULL))
		status = 1;
	group = gnutls_group_get_name(gnutls_group_get(s));
	snprintf(greet, sizeof(greet),
	    "hello sni=%s cb=%s group=%s client=%s\n", name, cb,
	    group != NULL ? group : "-", status == 0 ? "ok" : "none");
	srv_send(s, greet);

	switch (o->action) {
	case SRV_BYE:
		srv_send(s, "partial");
		gnutls_bye(s, GNUTLS_SHUT_WR);
		while (gnutls_record_recv(s, buf, sizeof(buf)) > 0)
			;
		break;
	case SRV_ABRUPT:
		srv_send(s, "data");
		shutdown(fd, SHUT_RDWR);
		break;
	case SRV_ALERT:
		gnutls_alert_send(s, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		break;
	case SRV_SINK:
		while (total < SINK_BYTES) {
			r = gnutls_record_recv(s, buf, sizeof(buf));
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				continue;
			if (r <= 0)
				break;
			total += (size_t)r;
		}
		snprintf(greet, sizeof(greet), "got %zu\n", total);
		srv_send(s, greet);
		while (gnutls_record_recv(s, buf, sizeof(buf)) > 0)
			;
		break;
	case SRV_REHANDSHAKE:
		gnutls_rehandshake(s);
		srv_send(s, "after\n");
		/* The client's refusal arrives as a warning alert. */
		echo(s);
		break;
	case SRV_ECHO:
		echo(s);
		break;
	default:
		break;
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	_exit(0);
}

static pid_t
start_server(const struct server *o, int *client_fd)
{
	pid_t pid;
	int sv[2];

	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		run_server(sv[1], o);
	}
	close(sv[1]);
	*client_fd = sv[0];
	return pid;
}

/* Stop the server by its pid: wait a little, then kill it. */
static void
stop_server(pid_t pid)
{
	int status, i;

	if (pid <= 0)
		return;
	for (i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* --- the client side --------------------------------------------------- */

struct client {
	struct peer peer;
	struct transport t;
	pid_t pid;
	char trust[PATH_MAX];
	char ccert[PATH_MAX], ckey[PATH_MAX];
};

static void
client_init(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->peer.account = "test";
	c->peer.host = "localhost";
	c->peer.port = 465;
	c->peer.timeout = 5;
	pki_path(c->trust, sizeof(c->trust), "ca.crt");
	c->peer.tls_trust_file = c->trust;
}

/* Start the server and try the handshake through the module's struct, as
 * the core does; returns tls_upgrade's result. */
static int
connect_to(struct client *c, const struct server *o, struct error *err)
{
	struct transport before;
	int fd, flags, rc;

	c->pid = start_server(o, &fd);
	assert_int_equal(net_transport_fd(fd, fd, &c->t, err), 0);
	flags = fcntl(fd, F_GETFL);
	before = c->t;
	error_clear(err);
	rc = mailsub_tls_module.upgrade(&c->t, &c->peer, err);
	if (rc == -1) {
		/* On failure nothing changed: same transport, same mode,
		 * descriptor still open; the caller closes it. */
		assert_memory_equal(&before, &c->t, sizeof(before));
		assert_int_equal(fcntl(fd, F_GETFL), flags);
		assert_int_equal(net_transport_get_fd(&c->t), fd);
		assert_true(error_is_set(err));
	} else {
		assert_null(c->t.starttls);
		assert_int_equal(net_transport_get_fd(&c->t), -1);
	}
	return rc;
}

static void
client_close(struct client *c)
{
	if (c->t.close != NULL)
		c->t.close(c->t.ctx);
	memset(&c->t, 0, sizeof(c->t));
	stop_server(c->pid);
}

/* Read one line (up to LF) over the TLS transport. */
static void
read_line(struct client *c, char *out, size_t size)
{
	struct error err;
	size_t n = 0;
	ssize_t r;
	char ch;

	while (n + 1 < size) {
		error_clear(&err);
		r = c->t.read(c->t.ctx, &ch, 1, 5000, &err);
		if (r != 1)
			fail_msg("read: %zd (%s)", r, err.message);
		out[n++] = ch;
		if (ch == '\n')
			break;
	}
	out[n] = '\0';
}

/* The key exchange group the server saw in the last greeting. */
static char last_group[64];

static void
greeting(struct client *c, char *sni, char *cb, char *client)
{
	char line[600], *p;

	read_line(c, line, sizeof(line));
	assert_true(strncmp(line, "hello sni=", 10) == 0);
	p = strtok(line + 10, " ");
	strcpy(sni, p);
	p = strtok(NULL, " ");
	assert_true(strncmp(p, "cb=", 3) == 0);
	strcpy(cb, p + 3);
	p = strtok(NULL, " ");
	assert_true(strncmp(p, "group=", 6) == 0);
	snprintf(last_group, sizeof(last_group), "%s", p + 6);
	p = strtok(NULL, "\n");
	assert_true(strncmp(p, "client=", 7) == 0);
	strcpy(client, p + 7);
}

static void
expect_failure(struct client *c, const struct server *o, int code,
    const char *const *parts)
{
	struct error err;

	assert_int_equal(connect_to(c, o, &err), -1);
	print_message(
	    "  %s: %s\n", error_exit_name(err.exit_code), err.message);
	if (err.exit_code != code)
		fail_msg("exit %d, expected %d: %s", err.exit_code, code,
		    err.message);
	for (; *parts != NULL; parts++)
		if (strstr(err.message, *parts) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", err.message, *parts);
	client_close(c);
}

static void
fingerprint(const char *name, bool colons, char *out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	unsigned char fp[32];
	size_t n = sizeof(fp), i;
	char path[PATH_MAX];

	pki_path(path, sizeof(path), name);
	assert_int_equal(gnutls_load_file(path, &pem), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(
	    gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &n), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_free(pem.data);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		sprintf(
		    out + strlen(out), "%s%02X", colons && i ? ":" : "", fp[i]);
}

/* --- the tests --------------------------------------------------------- */

static void
test_success_tls13(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	const struct tls_info *info;
	char sni[256], cb[200], cl[16], hexcb[200], line[64];

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	info = c.t.tls_info(c.t.ctx);
	assert_non_null(info);
	assert_string_equal(info->version, "TLS1.3");
	assert_true(strlen(info->cipher) > 0);
	assert_string_equal(info->cb_type, "tls-exporter");
	assert_int_equal(info->cb_len, 32);
	assert_non_null(info->peer_summary);
	assert_non_null(strstr(info->peer_summary, "CN=localhost"));
	assert_non_null(strstr(info->peer_summary, "mailsub test CA"));
	assert_false(info->resumed);

	greeting(&c, sni, cb, cl);
	assert_string_equal(sni, "localhost");
	/* Both ends derived the same RFC 9266 binding. */
	hexify(info->cb_data, info->cb_len, hexcb);
	assert_string_equal(cb, hexcb);

	assert_int_equal(c.t.write(c.t.ctx, "ping\n", 5, 5000, &err), 0);
	read_line(&c, line, sizeof(line));
	assert_string_equal(line, "ping\n");
	client_close(&c);
}

static void
test_success_tls12(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	const struct tls_info *info;
	char sni[256], cb[200], cl[16], hexcb[200];

	(void)state;
	client_init(&c);
	c.peer.tls_priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	info = c.t.tls_info(c.t.ctx);
	assert_string_equal(info->version, "TLS1.2");
	assert_string_equal(info->cb_type, "tls-unique");
	assert_true(info->cb_len >= 12);
	greeting(&c, sni, cb, cl);
	hexify(info->cb_data, info->cb_len, hexcb);
	assert_string_equal(cb, hexcb);
	client_close(&c);
}

/* The default priorities put X25519 first (tls_transport.h); a server
 * without it still gets a group it has, through a HelloRetryRequest. */
static void
test_key_exchange_groups(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct server nist = {"server.crt",
	    "NORMAL:-GROUP-ALL:+GROUP-SECP384R1", SRV_ECHO, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16];

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(last_group, "X25519");
	client_close(&c);

	client_init(&c);
	if (connect_to(&c, &nist, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(last_group, "SECP384R1");
	client_close(&c);
}

/* tls_trust.h: names out of DER, and only the matching anchors loaded. */
static void
test_trust_selection(void **state)
{
	gnutls_datum_t pem, der, ca_der;
	struct trust_name issuer, subject, ca_issuer, ca_subject, other;
	gnutls_certificate_credentials_t cred;
	char path[PATH_MAX], bundle[PATH_MAX];
	size_t cut;

	(void)state;
	pki_path(path, sizeof(path), "server.crt");
	assert_int_equal(gnutls_load_file(path, &pem), 0);
	assert_int_equal(
	    gnutls_pem_base64_decode2("CERTIFICATE", &pem, &der), 0);
	gnutls_free(pem.data);
	pki_path(path, sizeof(path), "ca.crt");
	assert_int_equal(gnutls_load_file(path, &pem), 0);
	assert_int_equal(
	    gnutls_pem_base64_decode2("CERTIFICATE", &pem, &ca_der), 0);
	gnutls_free(pem.data);

	assert_true(tls_trust_der_names(der.data, der.size, &issuer, &subject));
	assert_true(tls_trust_der_names(
	    ca_der.data, ca_der.size, &ca_issuer, &ca_subject));
	/* The server's issuer is the CA's subject, byte for byte. */
	assert_int_equal(issuer.len, ca_subject.len);
	assert_memory_equal(issuer.der, ca_subject.der, issuer.len);
	assert_false(subject.len == issuer.len &&
		     memcmp(subject.der, issuer.der, issuer.len) == 0);
	/* Anything cut short, or not a certificate, is refused. */
	for (cut = 0; cut < der.size; cut += 7)
		assert_false(
		    tls_trust_der_names(der.data, cut, &other, &other));
	assert_false(tls_trust_der_names(
	    (const unsigned char *)"\x30\x84\xff\xff\xff\xff", 6, &other,
	    &other));
	/* The server sends these bytes: every one changed, in a copy
	 * sized exactly, must stay inside it (ASan watches). */
	for (cut = 0; cut < der.size; cut++) {
		static const unsigned char evil[] = {
		    0x00, 0x30, 0x80, 0x84, 0xff};
		unsigned char *copy = malloc(der.size);
		size_t k;

		assert_non_null(copy);
		for (k = 0; k < sizeof(evil); k++) {
			memcpy(copy, der.data, der.size);
			copy[cut] = evil[k];
			(void)tls_trust_der_names(
			    copy, der.size, &other, &other);
		}
		free(copy);
	}

	/* A bundle of the system's CAs (when there) and ours: one anchor
	 * for this chain, none for a name nobody has. */
	assert_true(
	    write_bundle("bundle.pem", true, bundle, sizeof(bundle)) >= 1);
	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	assert_int_equal(tls_trust_load_matching(cred, bundle, &issuer, 1), 1);
	assert_int_equal(tls_trust_load_matching(cred, bundle, &subject, 1), 0);
	assert_int_equal(tls_trust_load_matching(
			     cred, "/nonexistent/bundle.pem", &issuer, 1),
	    -1);
	gnutls_certificate_free_credentials(cred);
	gnutls_free(der.data);
	gnutls_free(ca_der.data);
}

/* A full handshake verifies against a big bundle that holds our CA (the
 * system's CAs and ours), and does not without ours: the anchor is found
 * among the others. */
static void
test_bundle_verification(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	char bundle[PATH_MAX], others[PATH_MAX];
	const char *parts[] = {
	    "certificate not trusted", "issuer unknown", NULL};

	(void)state;
	if (access(SYSTEM_BUNDLE, R_OK) != 0) {
		if (no_skip())
			fail_msg("no %s (ca-certificates): the bundle would "
				 "hold the test CA alone (MAILSUB_NO_SKIP=1)",
			    SYSTEM_BUNDLE);
		skip();
	}
	assert_true(
	    write_bundle("bundle.pem", true, bundle, sizeof(bundle)) > 1);
	assert_true(
	    write_bundle("others.pem", false, others, sizeof(others)) >= 1);
	client_init(&c);
	c.peer.tls_trust_file = bundle;
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	client_close(&c);

	client_init(&c);
	c.peer.tls_trust_file = others;
	expect_failure(&c, &o, EX_UNAVAILABLE, parts);
}

static void
test_ip_literal_no_sni(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16];

	(void)state;
	/* The certificate has IP SANs; RFC 6066 forbids SNI for IPs. */
	client_init(&c);
	c.peer.host = "127.0.0.1";
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(sni, "-");
	client_close(&c);

	client_init(&c);
	c.peer.host = "[::1]";
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(sni, "-");
	client_close(&c);
}

static void
test_chain_and_intermediate(void **state)
{
	struct server o = {"inter-server-chain.crt", NULL, SRV_ECHO, false};
	struct server bare = {"inter-server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	const char *issuer[] = {
	    "certificate not trusted", "issuer unknown", NULL};

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	client_close(&c);
	/* Without the intermediate the chain does not reach the CA. */
	client_init(&c);
	expect_failure(&c, &bare, EX_UNAVAILABLE, issuer);
}

static void
test_unknown_issuer(void **state)
{
	struct server other = {"other-server.crt", NULL, SRV_ECHO, false};
	struct server self = {"selfsigned.crt", NULL, SRV_ECHO, false};
	struct client c;
	const char *parts[] = {
	    "certificate not trusted", "issuer unknown", NULL};

	(void)state;
	client_init(&c);
	expect_failure(&c, &other, EX_UNAVAILABLE, parts);
	client_init(&c);
	expect_failure(&c, &self, EX_UNAVAILABLE, parts);
	/* The system store does not know the test CA either. */
	client_init(&c);
	c.peer.tls_trust_file = NULL;
	expect_failure(&c, &other, EX_UNAVAILABLE, parts);
}

static void
test_name_mismatch(void **state)
{
	struct server good = {"server.crt", NULL, SRV_ECHO, false};
	struct server wrong = {"wrongname.crt", NULL, SRV_ECHO, false};
	struct client c;
	const char *p1[] = {"certificate not trusted", "name mismatch",
	    "not wrong.example", NULL};
	const char *p2[] = {"name mismatch",
	    "certificate is for wrong.example, not localhost", NULL};

	(void)state;
	client_init(&c);
	c.peer.tls_server_name = "wrong.example";
	expect_failure(&c, &good, EX_UNAVAILABLE, p1);
	client_init(&c);
	expect_failure(&c, &wrong, EX_UNAVAILABLE, p2);
}

static void
test_server_name_override(void **state)
{
	struct server wrong = {"wrongname.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16];

	(void)state;
	/* Connecting to localhost, verifying (and SNI) as wrong.example. */
	client_init(&c);
	c.peer.tls_server_name = "wrong.example";
	if (connect_to(&c, &wrong, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(sni, "wrong.example");
	client_close(&c);
}

static void
test_expired_and_not_yet_valid(void **state)
{
	struct server expired = {"expired.crt", NULL, SRV_ECHO, false};
	struct server notyet = {"notyet.crt", NULL, SRV_ECHO, false};
	struct client c;
	const char *p1[] = {
	    "certificate not trusted", "expired", "2021-01-01", NULL};
	const char *p2[] = {
	    "certificate not trusted", "not yet valid", "2090-01-01", NULL};

	(void)state;
	client_init(&c);
	expect_failure(&c, &expired, EX_UNAVAILABLE, p1);
	client_init(&c);
	expect_failure(&c, &notyet, EX_UNAVAILABLE, p2);
}

/* A self-signed certificate whose names hold bytes GnuTLS passes on as
 * they are (Latin-1, ESC): --serverinfo --json stays valid JSON. */
static void
test_describe_cert_json(void **state)
{
	static const char cn[] = "M\xfcller \xc3\xb6 \x1b[2J";
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = {NULL, 0};
	struct error err;
	struct buf out;
	const char *s;

	(void)state;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt,
			     GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)),
	    0);
	assert_int_equal(gnutls_x509_crt_set_issuer_dn_by_oid(crt,
			     GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)),
	    0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, "\x01", 1), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, 0), 0);
	assert_int_equal(
	    gnutls_x509_crt_set_expiration_time(crt, 2000000000), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);

	buf_init(&out, 64 * 1024);
	error_clear(&err);
	assert_int_equal(tls_describe_cert(&out, &der, 0, true, &err), 0);
	s = buf_str(&out);
	assert_true(text_utf8_valid(s, out.len));
	assert_null(strchr(s, '\x1b'));
	assert_non_null(
	    strstr(s, "\"subject\":\"CN=M\\ufffdller \xc3\xb6 \\u001b[2J\""));
	assert_non_null(
	    strstr(s, "\"issuer\":\"CN=M\\ufffdller \xc3\xb6 \\u001b[2J\""));
	/* As text, for a terminal: every such byte as \xHH. */
	buf_reset(&out);
	assert_int_equal(tls_describe_cert(&out, &der, 0, false, &err), 0);
	assert_non_null(strstr(
	    buf_str(&out), "subject: CN=M\\xfcller \\xc3\\xb6 \\x1b[2J\n"));
	buf_free(&out);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void
test_pinning(void **state)
{
	struct server self = {"selfsigned.crt", NULL, SRV_ECHO, false};
	struct server good = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	char pin[200], fp[120], want[200];
	const char *parts[3] = {"certificate fingerprint mismatch: got "
				"sha256:",
	    want, NULL};
	const char *bad[] = {"tls_fingerprint", NULL};

	(void)state;
	/* A self-signed certificate is fine when pinned, even without a
	 * trust store and with a name that does not match. */
	fingerprint("selfsigned.crt", false, fp);
	snprintf(pin, sizeof(pin), "sha256:%s", fp);
	for (char *p = pin + 7; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	client_init(&c);
	c.peer.tls_trust_file = NULL;
	c.peer.tls_fingerprint = pin;
	c.peer.host = "other.example";
	if (connect_to(&c, &self, &err) == -1)
		fail_msg("%s", err.message);
	client_close(&c);

	/* Colons and upper case work too. */
	fingerprint("selfsigned.crt", true, fp);
	snprintf(pin, sizeof(pin), "SHA256:%s", fp);
	client_init(&c);
	c.peer.tls_fingerprint = pin;
	if (connect_to(&c, &self, &err) == -1)
		fail_msg("%s", err.message);
	client_close(&c);

	/* A pin replaces the chain: a CA-signed certificate that does not
	 * match the pin is refused, naming what it got. */
	fingerprint("server.crt", true, fp);
	snprintf(want, sizeof(want), "sha256:%s", fp);
	client_init(&c);
	c.peer.tls_fingerprint = pin;
	expect_failure(&c, &good, EX_UNAVAILABLE, parts);

	client_init(&c);
	c.peer.tls_fingerprint = "sha256:1234";
	expect_failure(&c, &good, EX_CONFIG, bad);
	client_init(&c);
	c.peer.tls_fingerprint = "md5:00";
	expect_failure(&c, &good, EX_CONFIG, bad);
}

static void
test_alert(void **state)
{
	struct server o = {
	    "server.crt", "NORMAL:-VERS-ALL:+VERS-TLS1.2", SRV_ECHO, false};
	struct client c;
	const char *parts[] = {"TLS handshake failed", NULL};

	(void)state;
	client_init(&c);
	c.peer.tls_priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
	expect_failure(&c, &o, EX_UNAVAILABLE, parts);
}

static void
test_not_tls(void **state)
{
	struct server o = {"server.crt", NULL, SRV_PLAINTEXT, false};
	struct client c;
	const char *parts[] = {"TLS handshake failed",
	    "the server probably speaks plain SMTP first: then set tls = "
	    "starttls",
	    NULL};
	const char *on_587[] = {"TLS handshake failed",
	    "the server speaks plain SMTP first: set tls = starttls", NULL};
	const char *after_starttls[] = {"TLS handshake failed", NULL};

	(void)state;
	/* tls = on against a plain SMTP port: the message says so. */
	client_init(&c);
	c.peer.tls = ACCOUNT_TLS_ON;
	expect_failure(&c, &o, EX_UNAVAILABLE, parts);
	/* on a port that speaks plain text first, it is the account */
	client_init(&c);
	c.peer.tls = ACCOUNT_TLS_ON;
	c.peer.port = 587;
	expect_failure(&c, &o, EX_CONFIG, on_587);
	client_init(&c);
	c.peer.tls = ACCOUNT_TLS_STARTTLS;
	expect_failure(&c, &o, EX_UNAVAILABLE, after_starttls);
}

static void
test_timeout_and_reset(void **state)
{
	struct server silent = {"server.crt", NULL, SRV_SILENT, false};
	struct server closing = {"server.crt", NULL, SRV_CLOSE, false};
	struct client c;
	struct timespec t0, t1;
	const char *p1[] = {"timed out after 1 s", NULL};
	const char *p2[] = {"closed", NULL};

	(void)state;
	client_init(&c);
	c.peer.timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_failure(&c, &silent, EX_TEMPFAIL, p1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4);

	client_init(&c);
	expect_failure(&c, &closing, EX_TEMPFAIL, p2);
}

static void
test_config_errors(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, false};
	struct client c;
	const char *p1[] = {"tls_priorities", NULL};
	const char *p2[] = {"tls_trust_file", "/nonexistent", NULL};
	const char *p3[] = {"tls_cert_file and tls_key_file", NULL};

	(void)state;
	client_init(&c);
	c.peer.tls_priorities = "NORMAL:+NO-SUCH-THING";
	expect_failure(&c, &o, EX_CONFIG, p1);
	client_init(&c);
	c.peer.tls_trust_file = "/nonexistent/ca.crt";
	expect_failure(&c, &o, EX_CONFIG, p2);
	client_init(&c);
	c.peer.tls_cert_file = c.trust;
	expect_failure(&c, &o, EX_CONFIG, p3);
}

static void
test_not_a_socket(void **state)
{
	struct peer p;
	struct transport t;
	struct error err;
	struct buf out;

	(void)state;
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	error_clear(&err);
	assert_int_equal(tls_upgrade(&t, &p, &err), -1);
	assert_int_equal(err.exit_code, EX_SOFTWARE);
	buf_init(&out, 1024);
	assert_int_equal(tls_describe_chain(&t, false, &out, &err), -1);
	buf_free(&out);
}

static void
test_client_certificate(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ECHO, true};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16];

	(void)state;
	client_init(&c);
	pki_path(c.ccert, sizeof(c.ccert), "client.crt");
	pki_path(c.ckey, sizeof(c.ckey), "client.key");
	c.peer.tls_cert_file = c.ccert;
	c.peer.tls_key_file = c.ckey;
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(cl, "ok");
	client_close(&c);

	/* Without one the server sees none. */
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_string_equal(cl, "none");
	client_close(&c);
}

static void
test_large_write(void **state)
{
	struct server o = {"server.crt", NULL, SRV_SINK, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16], line[64], want[64];
	char *big;

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	big = malloc(SINK_BYTES);
	assert_non_null(big);
	memset(big, 'x', SINK_BYTES);
	assert_int_equal(c.t.write(c.t.ctx, big, SINK_BYTES, 5000, &err), 0);
	free(big);
	read_line(&c, line, sizeof(line));
	snprintf(want, sizeof(want), "got %d\n", SINK_BYTES);
	assert_string_equal(line, want);
	client_close(&c);
}

static void
test_close_notify_mid_stream(void **state)
{
	struct server o = {"server.crt", NULL, SRV_BYE, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16], buf[64];
	ssize_t n;
	int i;

	(void)state;
	/* The Exim CVE-2026-45185 shape: close_notify while the client is
	 * still sending.  Reads say EOF for ever; nothing is freed twice. */
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	n = c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "partial", 7);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), 0);
	/* Writing after it may work (half-close) or fail; never crash. */
	for (i = 0; i < 3; i++)
		(void)c.t.write(c.t.ctx, "DATA\r\n", 6, 1000, &err);
	assert_non_null(c.t.tls_info(c.t.ctx));
	client_close(&c);
}

static void
test_abrupt_close(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ABRUPT, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16], buf[64];

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	assert_int_equal(c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), 4);
	/* No close_notify: still the end of the stream, twice. */
	assert_int_equal(c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), 0);
	assert_int_equal(c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), 0);
	/* Writing to a server that is gone is an error, not SIGPIPE. */
	stop_server(c.pid);
	c.pid = 0;
	error_clear(&err);
	assert_int_equal(c.t.write(c.t.ctx, "QUIT\r\n", 6, 1000, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	client_close(&c);
}

static void
test_fatal_alert_mid_session(void **state)
{
	struct server o = {"server.crt", NULL, SRV_ALERT, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16], buf[64];

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	error_clear(&err);
	assert_int_equal(c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_non_null(strstr(err.message, "alert"));
	error_clear(&err);
	assert_int_equal(c.t.read(c.t.ctx, buf, sizeof(buf), 5000, &err), -1);
	assert_int_equal(err.exit_code, EX_TEMPFAIL);
	assert_int_equal(c.t.write(c.t.ctx, "x", 1, 1000, &err), -1);
	client_close(&c);
}

static void
test_renegotiation_refused(void **state)
{
	struct server o = {"server.crt", "NORMAL:-VERS-ALL:+VERS-TLS1.2",
	    SRV_REHANDSHAKE, false};
	struct client c;
	struct error err;
	char sni[256], cb[200], cl[16], line[64];

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	greeting(&c, sni, cb, cl);
	/* The HelloRequest is declined and the data behind it arrives. */
	read_line(&c, line, sizeof(line));
	assert_string_equal(line, "after\n");
	assert_int_equal(c.t.write(c.t.ctx, "still\n", 6, 5000, &err), 0);
	read_line(&c, line, sizeof(line));
	assert_string_equal(line, "still\n");
	client_close(&c);
}

static void
test_describe_chain(void **state)
{
	struct server o = {"server-chain.crt", NULL, SRV_ECHO, false};
	struct client c;
	struct error err;
	struct buf out;
	char fp[120], want[200];
	const char *s;

	(void)state;
	client_init(&c);
	if (connect_to(&c, &o, &err) == -1)
		fail_msg("%s", err.message);
	buf_init(&out, 65536);
	assert_int_equal(tls_describe_chain(&c.t, false, &out, &err), 0);
	s = buf_str(&out);
	assert_non_null(strstr(s, "certificate 0:\n  subject: CN=localhost\n"
				  "  issuer: "));
	assert_non_null(strstr(s, "CN=mailsub test CA"));
	assert_non_null(strstr(s, "certificate 1:\n"));
	assert_non_null(strstr(s, "  not after: 2099-12-31T23:59:59Z\n"));
	fingerprint("server.crt", true, fp);
	snprintf(want, sizeof(want), "  tls_fingerprint = sha256:%s\n", fp);
	assert_non_null(strstr(s, want));

	buf_reset(&out);
	assert_int_equal(
	    mailsub_tls_module.describe_chain(&c.t, true, &out, &err), 0);
	s = buf_str(&out);
	assert_true(s[0] == '[' && s[strlen(s) - 1] == ']');
	assert_non_null(
	    strstr(s, "[{\"subject\":\"CN=localhost\",\"issuer\":"));
	assert_non_null(strstr(s, "},{\"subject\":"));
	snprintf(want, sizeof(want), "\"sha256\":\"%s\"", fp);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "\"not_after\":\"2099-12-31T23:59:59Z\""));
	buf_free(&out);
	client_close(&c);
}

/* --- setup ------------------------------------------------------------- */

static int
make_pki(void **state)
{
	char script[PATH_MAX], cmd[PATH_MAX * 2], self[PATH_MAX];
	const char *srcdir = getenv("SRCDIR");
	int rc;

	(void)state;
	if (srcdir != NULL) {
		snprintf(script, sizeof(script), "%s/tests/pki.sh", srcdir);
	} else {
		/* Run by hand from the build tree next to the sources. */
		snprintf(self, sizeof(self), "%s", argv0);
		snprintf(script, sizeof(script), "%s/../../tests/pki.sh",
		    dirname(self));
	}
	snprintf(pki, sizeof(pki), "/tmp/test_tls.XXXXXX");
	if (mkdtemp(pki) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s/pki' >&2", script, pki);
	rc = system(cmd);
	strcat(pki, "/pki");
	return rc == 0 ? 0 : -1;
}

static int
remove_pki(void **state)
{
	char cmd[PATH_MAX];

	(void)state;
	*strrchr(pki, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
	return system(cmd) == 0 ? 0 : -1;
}

/* The module's one export: this build's ABI and version, the entry
 * points of tls.c, and what the loader hands out in the unit tests. */
static void
test_module_struct(void **state)
{
	struct error err;

	(void)state;
	assert_int_equal(mailsub_tls_module.head.abi, TLS_MODULE_ABI);
	assert_string_equal(mailsub_tls_module.head.version, PACKAGE_VERSION);
	assert_true(mailsub_tls_module.upgrade == tls_upgrade);
	assert_true(mailsub_tls_module.describe_chain == tls_describe_chain);
	error_clear(&err);
	assert_ptr_equal(tlsmod_tls(&err), &mailsub_tls_module);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_success_tls13),
	    cmocka_unit_test(test_success_tls12),
	    cmocka_unit_test(test_key_exchange_groups),
	    cmocka_unit_test(test_trust_selection),
	    cmocka_unit_test(test_bundle_verification),
	    cmocka_unit_test(test_ip_literal_no_sni),
	    cmocka_unit_test(test_chain_and_intermediate),
	    cmocka_unit_test(test_unknown_issuer),
	    cmocka_unit_test(test_name_mismatch),
	    cmocka_unit_test(test_server_name_override),
	    cmocka_unit_test(test_expired_and_not_yet_valid),
	    cmocka_unit_test(test_pinning),
	    cmocka_unit_test(test_describe_cert_json),
	    cmocka_unit_test(test_alert),
	    cmocka_unit_test(test_not_tls),
	    cmocka_unit_test(test_timeout_and_reset),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_not_a_socket),
	    cmocka_unit_test(test_client_certificate),
	    cmocka_unit_test(test_large_write),
	    cmocka_unit_test(test_close_notify_mid_stream),
	    cmocka_unit_test(test_abrupt_close),
	    cmocka_unit_test(test_fatal_alert_mid_session),
	    cmocka_unit_test(test_renegotiation_refused),
	    cmocka_unit_test(test_describe_chain),
	    cmocka_unit_test(test_module_struct),
	};

	(void)argc;
	argv0 = argv[0];
	/* certtool makes the PKI; without it there is nothing to test. */
	if (system("command -v certtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "certtool not found: %s\n",
		    no_skip() ? "failed (MAILSUB_NO_SKIP=1)" : "skipped");
		return no_skip() ? 1 : 77;
	}
	/* SIGPIPE keeps its default action: writing to a server that has
	 * gone must be an error, not death (GNUTLS_NO_SIGNAL). */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
