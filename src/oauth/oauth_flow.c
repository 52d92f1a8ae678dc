/* SPDX-License-Identifier: ISC */
/*
 * Signing in (mailsub --oauth2-login): the authorization code grant with
 * PKCE (RFC 6749 4.1, RFC 7636 S256) and a random state (RFC 6749 10.12),
 * its redirect caught by a listener on 127.0.0.1 at a random port (RFC
 * 8252 7.3) or pasted back by the user; or the device authorization grant
 * (RFC 8628).  Randomness from getrandom(2).  Part of mailsub-oauth.so.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fdio.h"
#include "oauth_flow.h"
#include "oauth_module.h"
#include "text.h"
#include "tls.h"
#include "tlsmod.h"

/* RFC 8628 3.5: the polling interval when the server names none, and what
 * slow_down adds to it. */
#define DEVICE_INTERVAL_DEFAULT 5
#define DEVICE_SLOW_DOWN	5
/* How long one browser request may take to arrive whole. */
#define REQUEST_TIMEOUT_MS 10000

extern char **environ;

static int
random_bytes(unsigned char *p, size_t n, struct error *err)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return error_set(
			    err, EX_OSERR, "getrandom: %s", strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* --- pure helpers (oauth_flow.h) --------------------------------------- */

void
oauth_base64url(const unsigned char *p, size_t n, char *out, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < size; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alphabet[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = alphabet[v & 63];
	}
	if (size > 0)
		out[o < size ? o : size - 1] = '\0';
}

int
oauth_pkce_challenge(
    const char *verifier, char *out, size_t size, struct error *err)
{
	const struct tls_module *tls;
	unsigned char digest[32];

	if (size < 44)
		return error_set(err, EX_SOFTWARE, "PKCE: buffer too small");
	/* GnuTLS is the TLS module's (HACKING.md, library ownership). */
	if ((tls = tlsmod_tls(err)) == NULL)
		return -1;
	if (tls->sha256(verifier, strlen(verifier), digest) == -1)
		return error_set(err, EX_SOFTWARE, "PKCE: SHA-256 failed");
	oauth_base64url(digest, sizeof(digest), out, size);
	return 0;
}

/* RFC 3986 2.3: a query value, unreserved characters kept. */
static int
add_query(struct buf *url, const char *key, const char *value, bool first,
    struct error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)value;
	int r;

	r = buf_printf(url, err, "%s%s=", first ? "" : "&", key);
	for (; *p != '\0' && r == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			r = buf_addch(url, (char)*p, err);
		else
			r = buf_printf(
			    url, err, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return r;
}

int
oauth_authorization_url(const struct oauth_request *req,
    const char *redirect_uri, const char *state, const char *challenge,
    struct buf *url, struct error *err)
{
	bool google = strcmp(req->provider, "google") == 0;

	if (buf_printf(url, err, "%s%c", req->auth_url,
		strchr(req->auth_url, '?') != NULL ? '&' : '?') == -1 ||
	    add_query(url, "response_type", "code", true, err) == -1 ||
	    add_query(url, "client_id", req->client_id, false, err) == -1 ||
	    add_query(url, "redirect_uri", redirect_uri, false, err) == -1 ||
	    (req->scope != NULL &&
		add_query(url, "scope", req->scope, false, err) == -1) ||
	    add_query(url, "state", state, false, err) == -1 ||
	    add_query(url, "code_challenge", challenge, false, err) == -1 ||
	    add_query(url, "code_challenge_method", "S256", false, err) == -1)
		return -1;
	/* Google hands out a refresh token for offline access only. */
	if (google &&
	    add_query(url, "access_type", "offline", false, err) == -1)
		return -1;
	if (req->login_hint != NULL && req->login_hint[0] != '\0' &&
	    add_query(url, "login_hint", req->login_hint, false, err) == -1)
		return -1;
	return 0;
}

void
oauth_redirect_init(struct oauth_redirect *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->code, OAUTH_TOKEN_MAX);
}

void
oauth_redirect_free(struct oauth_redirect *r)
{
	buf_wipe(&r->code);
}

/* Percent-decode (and "+" as a space) p[0..n) into out. */
static int
decode(const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = text_hexval((unsigned char)p[i + 1]);
			l = text_hexval((unsigned char)p[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h << 4 | l);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (buf_addch(out, c, NULL) == -1)
			return -1;
	}
	return 0;
}

int
oauth_parse_redirect(
    const char *s, size_t len, struct oauth_redirect *r, struct error *err)
{
	const char *q, *end;
	struct buf v;
	bool any = false;

	/* Blanks and the line end around a pasted address. */
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			      s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	q = memchr(s, '?', len);
	if (q == NULL)
		return error_set(err, EX_DATAERR,
		    "that address has no ?code=... part: paste the whole "
		    "address the browser was sent to");
	end = s + len;
	/* RFC 3986 3.5: a fragment is not part of the query. */
	{
		const char *hash = memchr(q, '#', (size_t)(end - q));

		if (hash != NULL)
			end = hash;
	}
	buf_init(&v, OAUTH_TOKEN_MAX);
	for (q++; q < end;) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(pe - q));
		size_t kn = eq != NULL ? (size_t)(eq - q) : (size_t)(pe - q);

		buf_reset(&v);
		if (eq != NULL &&
		    decode(eq + 1, (size_t)(pe - eq - 1), &v) == -1) {
			buf_wipe(&v);
			return error_set(
			    err, EX_DATAERR, "bad %%-escape in the address");
		}
#define KEY(k) (kn == sizeof(k) - 1 && memcmp(q, k, kn) == 0)
		if (KEY("code")) {
			buf_reset(&r->code);
			if (buf_append(&r->code, buf_str(&v), v.len, NULL) ==
			    -1) {
				buf_wipe(&v);
				return error_set(
				    err, EX_DATAERR, "the code is too long");
			}
			any = true;
		} else if (KEY("state")) {
			if (v.len >= sizeof(r->state)) {
				buf_wipe(&v);
				return error_set(
				    err, EX_DATAERR, "the state is too long");
			}
			memcpy(r->state, buf_str(&v), v.len + 1);
		} else if (KEY("error")) {
			error_escape(r->error, sizeof(r->error), buf_str(&v),
			    v.len < sizeof(r->error) - 1
				? v.len
				: sizeof(r->error) - 1);
			any = true;
		} else if (KEY("error_description")) {
			size_t n = strcspn(buf_str(&v), "\r\n");

			error_escape(r->description, sizeof(r->description),
			    buf_str(&v), n < 120 ? n : 120);
		}
#undef KEY
		q = pe + (amp != NULL);
	}
	buf_wipe(&v);
	if (!any)
		return error_set(err, EX_DATAERR,
		    "that address carries neither a code nor an error");
	return 0;
}

/* --- the authorization code grant -------------------------------------- */

/* Constant time: the state must not leak through timing (RFC 6749
 * 10.12). */
static bool
same_state(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned char d = na != nb;

	for (i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* xdg-open URL, its output discarded; the URL holds nothing secret (the
 * code challenge, not the verifier). */
static void
open_browser(const char *url)
{
	posix_spawn_file_actions_t fa;
	char *argv[3];
	pid_t pid;

	argv[0] = "xdg-open";
	argv[1] = (char *)url;
	argv[2] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) == 0) {
		int status;

		/* xdg-open hands the URL over and exits. */
		(void)waitpid(pid, &status, 0);
	}
	posix_spawn_file_actions_destroy(&fa);
}

static int
listen_loopback(unsigned *port, struct error *err)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return error_set(err, EX_OSERR, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0; /* RFC 8252 7.3: any free port */
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		error_set(err, EX_OSERR, "127.0.0.1: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
respond(int fd, const char *status, const char *text)
{
	char page[1024];
	int n;

	n = snprintf(page, sizeof(page),
	    "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
	    "<!DOCTYPE html><html><head><title>mailsub</title></head>"
	    "<body><p>%s</p></body></html>\r\n",
	    status, text);
	if (n > 0 && write(fd, page, (size_t)n) == -1) {
		/* The browser went away; the answer was read. */
	}
}

/* Read one line (a request line, a pasted address) from fd into line,
 * waiting at most until deadline.  1 at EOF with nothing read. */
static int
read_line(int fd, long long deadline, struct buf *line, struct error *err)
{
	char c;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - fdio_now_ms();
		ssize_t n;

		if (left <= 0)
			return error_set(err, EX_TEMPFAIL, "timed out");
		if (poll(&p, 1, (int)(left > 60000 ? 60000 : left)) <= 0)
			continue;
		n = read(fd, &c, 1);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return line->len == 0 ? 1 : 0;
		if (c == '\n')
			return 0;
		if (buf_addch(line, c, NULL) == -1)
			return error_set(err, EX_DATAERR, "line too long");
	}
}

static void
drain_headers(int fd, long long deadline)
{
	struct buf h;
	struct error ignored;
	int i;

	buf_init(&h, OAUTH_REDIRECT_MAX);
	for (i = 0; i < 100; i++) {
		buf_reset(&h);
		error_clear(&ignored);
		if (read_line(fd, deadline, &h, &ignored) != 0 || h.len == 0 ||
		    strcmp(buf_str(&h), "\r") == 0)
			break;
	}
	buf_free(&h);
}

/* One browser request on the listener: the redirect's query in r, or 1
 * for a request that is not it (a favicon), answered and ignored. */
static int
take_request(
    int lfd, const char *state, struct oauth_redirect *r, struct error *err)
{
	struct buf line;
	struct error ignored;
	const char *target, *sp;
	int fd, rc = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return 1;
	buf_init(&line, OAUTH_REDIRECT_MAX);
	error_clear(&ignored);
	if (read_line(
		fd, fdio_now_ms() + REQUEST_TIMEOUT_MS, &line, &ignored) != 0 ||
	    strncmp(buf_str(&line), "GET ", 4) != 0) {
		respond(fd, "400 Bad Request", "mailsub: not a GET request.");
		goto out;
	}
	/* The headers, unread, would make close() reset the connection
	 * before the browser has the page. */
	drain_headers(fd, fdio_now_ms() + REQUEST_TIMEOUT_MS);
	target = buf_str(&line) + 4;
	sp = strchr(target, ' ');
	if (sp == NULL || target[0] != '/' || target[1] != '?') {
		respond(fd, "404 Not Found", "mailsub: nothing here.");
		goto out;
	}
	oauth_redirect_free(r);
	oauth_redirect_init(r);
	if (oauth_parse_redirect(target, (size_t)(sp - target), r, &ignored) ==
	    -1) {
		respond(fd, "400 Bad Request",
		    "mailsub: no code in this "
		    "request.");
		goto out;
	}
	/* Another page's request (RFC 6749 10.12): not ours, keep waiting. */
	if (!same_state(r->state, state)) {
		respond(fd, "400 Bad Request",
		    "mailsub: this answer belongs to another sign-in.");
		goto out;
	}
	respond(fd, "200 OK",
	    r->error[0] != '\0'
		? "mailsub: the sign-in was refused; see the terminal."
		: "mailsub: signed in. You may close this window and go back "
		  "to the terminal.");
	rc = 0;
out:
	(void)err;
	buf_wipe(&line);
	shutdown(fd, SHUT_WR);
	close(fd);
	return rc;
}

/* Wait for the redirect on the listener (when lfd >= 0) or a pasted
 * address on in_fd (when >= 0). */
static int
wait_redirect(int lfd, const struct oauth_login_io *io, const char *state,
    struct oauth_redirect *r, struct error *err)
{
	long long deadline = fdio_now_ms() + (long long)io->wait_seconds * 1000;
	int in_fd = io->in_fd;
	struct buf line;
	int rc = -1;

	buf_init(&line, OAUTH_REDIRECT_MAX);
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		long long left = deadline - fdio_now_ms();
		int got;

		if (left <= 0) {
			error_set(err, EX_TEMPFAIL,
			    "no answer from the browser within %u s",
			    io->wait_seconds);
			break;
		}
		if (lfd >= 0) {
			p[n].fd = lfd;
			p[n].events = POLLIN;
			p[n++].revents = 0;
		}
		if (in_fd >= 0) {
			p[n].fd = in_fd;
			p[n].events = POLLIN;
			p[n++].revents = 0;
		}
		if (n == 0) {
			error_set(err, EX_NOPERM,
			    "no address was pasted (end of input)");
			break;
		}
		got = poll(p, n, (int)(left > 60000 ? 60000 : left));
		if (got <= 0)
			continue;
		if (lfd >= 0 && p[0].revents != 0) {
			if (take_request(lfd, state, r, err) == 0) {
				rc = 0;
				break;
			}
			continue;
		}
		buf_reset(&line);
		got = read_line(in_fd, deadline, &line, err);
		if (got == -1)
			break;
		if (got == 1) {
			in_fd = -1; /* stdin closed: the listener may still
				       get it */
			continue;
		}
		if (line.len == 0)
			continue;
		oauth_redirect_free(r);
		oauth_redirect_init(r);
		if (oauth_parse_redirect(buf_str(&line), line.len, r, err) ==
		    -1)
			break;
		if (!same_state(r->state, state)) {
			error_set(err, EX_NOPERM,
			    "the pasted address answers another sign-in (its "
			    "state differs, RFC 6749 10.12)");
			break;
		}
		rc = 0;
		break;
	}
	buf_wipe(&line);
	return rc;
}

static int
code_grant(const struct oauth_request *req, enum oauth_login_mode mode,
    const struct oauth_login_io *io, struct oauth_grant *out, struct error *err)
{
	unsigned char raw[32];
	char verifier[64], challenge[64], state[32], redirect[64];
	struct oauth_redirect r;
	struct oauth_answer a;
	struct buf url, form;
	unsigned port = 0;
	int lfd, rc = -1;

	oauth_redirect_init(&r);
	buf_init(&url, 16384);
	buf_init(&form, 4 * OAUTH_TOKEN_MAX);
	verifier[0] = '\0';
	/* Paste: nothing listens; the port is only a place for the browser
	 * to go. */
	lfd = listen_loopback(&port, err);
	if (lfd == -1)
		goto out;
	if (mode == OAUTH_LOGIN_PASTE) {
		close(lfd);
		lfd = -1;
	}
	if (random_bytes(raw, sizeof(raw), err) == -1)
		goto out;
	oauth_base64url(raw, sizeof(raw), verifier, sizeof(verifier));
	if (random_bytes(raw, 16, err) == -1)
		goto out;
	oauth_base64url(raw, 16, state, sizeof(state));
	secure_wipe(raw, sizeof(raw));
	if (oauth_pkce_challenge(verifier, challenge, sizeof(challenge), err) ==
	    -1)
		goto out;
	/* Microsoft registers http://localhost for desktop apps (any port
	 * matches); Google and RFC 8252 8.3 want the loopback address. */
	snprintf(redirect, sizeof(redirect), "http://%s:%u/",
	    strcmp(req->provider, "microsoft") == 0 ? "localhost" : "127.0.0.1",
	    port);
	if (oauth_authorization_url(
		req, redirect, state, challenge, &url, err) == -1)
		goto out;
	fprintf(io->out,
	    "Open this address in a browser and sign in%s%s:\n\n%s\n\n",
	    req->login_hint != NULL ? " as " : "",
	    req->login_hint != NULL ? req->login_hint : "", buf_str(&url));
	if (mode == OAUTH_LOGIN_PASTE)
		fprintf(io->out,
		    "The browser then goes to %s?code=... and shows an "
		    "error page: nothing listens there.\nCopy that whole "
		    "address from its address bar and paste it here:\n",
		    redirect);
	else
		fprintf(io->out,
		    "Waiting for the browser at %s (for %u minutes).  If it "
		    "runs on another machine, paste the address it ends up "
		    "at here instead:\n",
		    redirect, io->wait_seconds / 60);
	fflush(io->out);
	if (io->open_browser)
		open_browser(buf_str(&url));
	if (wait_redirect(lfd, io, state, &r, err) == -1)
		goto out;
	if (r.error[0] != '\0') {
		error_set(err, EX_NOPERM, "the sign-in was refused: %s%s%s",
		    r.error, r.description[0] != '\0' ? ": " : "",
		    r.description);
		goto out;
	}
	/* RFC 6749 4.1.3 with RFC 7636 4.5. */
	if (oauth_form_add(&form, "grant_type", "authorization_code", err) ==
		-1 ||
	    oauth_form_add(&form, "code", buf_str(&r.code), err) == -1 ||
	    oauth_form_add(&form, "redirect_uri", redirect, err) == -1 ||
	    oauth_form_add(&form, "client_id", req->client_id, err) == -1 ||
	    oauth_form_add(&form, "code_verifier", verifier, err) == -1 ||
	    (req->client_secret != NULL &&
		oauth_form_add(
		    &form, "client_secret", req->client_secret, err) == -1))
		goto out;
	if (oauth_http_token(req, &form, out, &a, err) == -1)
		goto out;
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	secure_wipe(verifier, sizeof(verifier));
	oauth_redirect_free(&r);
	buf_wipe(&form);
	buf_free(&url);
	return rc;
}

/* --- the device authorization grant (RFC 8628) ------------------------- */

static int
device_grant(const struct oauth_request *req, const struct oauth_login_io *io,
    struct oauth_grant *out, struct error *err)
{
	struct oauth_device d;
	struct oauth_answer a;
	struct buf form;
	long long interval, deadline;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	buf_init(&d.device_code, OAUTH_TOKEN_MAX);
	buf_init(&form, 4 * OAUTH_TOKEN_MAX);
	if (oauth_http_device(req, &d, err) == -1)
		goto out;
	interval = d.interval > 0 ? d.interval : DEVICE_INTERVAL_DEFAULT;
	deadline = fdio_now_ms() +
		   1000 * (d.expires_in > 0 ? d.expires_in
					    : (long long)io->wait_seconds);
	fprintf(io->out,
	    "To sign in, open %s in a browser (on any device) and enter the "
	    "code %s\n",
	    d.verification_uri, d.user_code);
	if (d.message[0] != '\0')
		fprintf(io->out, "(%s)\n", d.message);
	fflush(io->out);
	/* RFC 8628 3.4 */
	if (oauth_form_add(&form, "grant_type",
		"urn:ietf:params:oauth:grant-type:device_code", err) == -1 ||
	    oauth_form_add(
		&form, "device_code", buf_str(&d.device_code), err) == -1 ||
	    oauth_form_add(&form, "client_id", req->client_id, err) == -1 ||
	    (req->client_secret != NULL &&
		oauth_form_add(
		    &form, "client_secret", req->client_secret, err) == -1))
		goto out;
	for (;;) {
		if (fdio_now_ms() + interval * 1000 > deadline) {
			error_set(err, EX_NOPERM,
			    "the code expired before the sign-in was done; "
			    "run the login again");
			goto out;
		}
		poll(NULL, 0, (int)(interval * 1000));
		error_clear(err);
		if (oauth_http_token(req, &form, out, &a, err) == 0)
			break;
		/* RFC 8628 3.5 */
		if (strcmp(a.error, "authorization_pending") == 0)
			continue;
		if (strcmp(a.error, "slow_down") == 0) {
			interval += DEVICE_SLOW_DOWN;
			continue;
		}
		if (strcmp(a.error, "access_denied") == 0 ||
		    strcmp(a.error, "authorization_declined") == 0)
			error_set(err, EX_NOPERM, "the sign-in was declined");
		else if (strcmp(a.error, "expired_token") == 0)
			error_set(err, EX_NOPERM,
			    "the code expired before the sign-in was done; "
			    "run the login again");
		goto out;
	}
	rc = 0;
out:
	buf_wipe(&d.device_code);
	buf_wipe(&form);
	return rc;
}

int
oauth_flow_login(const struct oauth_request *req, enum oauth_login_mode mode,
    const struct oauth_login_io *io, struct oauth_grant *out, struct error *err)
{
	if (mode == OAUTH_LOGIN_DEVICE)
		return device_grant(req, io, out, err);
	return code_grant(req, mode, io, out, err);
}
