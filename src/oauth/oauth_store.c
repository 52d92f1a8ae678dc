/* SPDX-License-Identifier: ISC */
/*
 * OAuth2 token files (oauth_store.h): their format, and the file of an
 * account with its lock.  The token file is written as the queue writes a
 * message: a temporary file, fsync, rename, fsync of the directory, so a
 * crash leaves the old file or the new one, never half of either.
 *
 * The system accounts' tokens (mailsub(1), SECURITY CONSIDERATIONS) live
 * in the system state directory, root's with the group mailsub, and are
 * rewritten by every caller of the setgid program.  A file that caller
 * created would be the caller's own, to read outside mailsub, so those
 * files are made by root alone (at --oauth2-login) and rewritten in place:
 * two slots, STEM.token and STEM.token.2, the older one overwritten, each
 * ending in an "end" line so that a torn write is seen, the newest whole
 * one read.
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "cache.h"
#include "error.h"
#include "fdio.h"
#include "oauth.h"
#include "oauth_store.h"
#include "sysmode.h"

/* The first line of a token file; the number changes with the format. */
#define OAUTH_FILE_MAGIC "mailsub-oauth2 1"
/* The system accounts' tokens (the system state directory). */
#define OAUTH_SYSTEM_DIR SYSMODE_STATE_DIR "/oauth2"
/* The last line of every token file: a system slot without it is torn. */
#define OAUTH_FILE_END	   "end 1\n"
#define OAUTH_LOCK_POLL_MS 50

/* --- the token file's format -------------------------------------------- */

void
oauth_tokens_init(struct oauth_tokens *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->access_token, OAUTH_TOKEN_MAX);
	buf_init(&t->refresh_token, OAUTH_TOKEN_MAX);
}

void
oauth_tokens_free(struct oauth_tokens *t)
{
	buf_wipe(&t->access_token);
	buf_wipe(&t->refresh_token);
}

/* RFC 6749 A.12, A.17: tokens are VSCHAR (%x20-7E); the file keeps one
 * value per line, so nothing else may appear in any value. */
static bool
printable(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

static int
parse_number(const char *p, size_t n, long long *out)
{
	long long v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static int
set_field(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

int
oauth_tokens_parse(
    const char *data, size_t len, struct oauth_tokens *t, struct error *err)
{
	const char *p = data, *end = data + len;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;
		const char *sp, *v;
		size_t kn, vn;
		int rc = 0;

		line++;
		if (line == 1) {
			if ((size_t)(e - p) != strlen(OAUTH_FILE_MAGIC) ||
			    memcmp(p, OAUTH_FILE_MAGIC, (size_t)(e - p)) != 0)
				return error_set(err, EX_CONFIG,
				    "not a mailsub token file (or one from a "
				    "newer mailsub)");
			p = e + (nl != NULL);
			continue;
		}
		sp = memchr(p, ' ', (size_t)(e - p));
		if (sp == NULL || !printable(p, (size_t)(e - p)))
			return error_set(err, EX_CONFIG,
			    "line %u is not \"key value\"", line);
		kn = (size_t)(sp - p);
		v = sp + 1;
		vn = (size_t)(e - v);
#define KEY(k) (kn == sizeof(k) - 1 && memcmp(p, k, kn) == 0)
		if (KEY("client_id"))
			rc = set_field(
			    t->client_id, sizeof(t->client_id), v, vn);
		else if (KEY("token_url"))
			rc = set_field(
			    t->token_url, sizeof(t->token_url), v, vn);
		else if (KEY("user"))
			rc = set_field(t->user, sizeof(t->user), v, vn);
		else if (KEY("scope"))
			rc = set_field(t->scope, sizeof(t->scope), v, vn);
		else if (KEY("access_token")) {
			buf_reset(&t->access_token);
			rc = buf_append(&t->access_token, v, vn, NULL);
		} else if (KEY("refresh_token")) {
			buf_reset(&t->refresh_token);
			rc = buf_append(&t->refresh_token, v, vn, NULL);
		} else if (KEY("expires"))
			rc = parse_number(v, vn, &t->expires);
		else if (KEY("updated"))
			rc = parse_number(v, vn, &t->updated);
			/* Other keys: from a later mailsub, ignored. */
#undef KEY
		if (rc == -1)
			return error_set(err, EX_CONFIG,
			    "line %u: bad or too long value", line);
		p = e + (nl != NULL);
	}
	if (line == 0)
		return error_set(err, EX_CONFIG, "empty token file");
	return 0;
}

int
oauth_tokens_format(
    const struct oauth_tokens *t, struct buf *out, struct error *err)
{
	if (!printable(buf_str(&t->access_token), t->access_token.len) ||
	    !printable(buf_str(&t->refresh_token), t->refresh_token.len))
		return error_set(err, EX_PROTOCOL,
		    "a token holds characters no token may have");
	if (buf_printf(out, err, "%s\nclient_id %s\ntoken_url %s\n",
		OAUTH_FILE_MAGIC, t->client_id, t->token_url) == -1 ||
	    (t->user[0] != '\0' &&
		buf_printf(out, err, "user %s\n", t->user) == -1) ||
	    (t->scope[0] != '\0' &&
		buf_printf(out, err, "scope %s\n", t->scope) == -1) ||
	    buf_printf(out, err, "expires %lld\nupdated %lld\n", t->expires,
		t->updated) == -1 ||
	    (t->refresh_token.len > 0 &&
		buf_printf(out, err, "refresh_token %s\n",
		    buf_str(&t->refresh_token)) == -1) ||
	    (t->access_token.len > 0 &&
		buf_printf(out, err, "access_token %s\n",
		    buf_str(&t->access_token)) == -1) ||
	    buf_appends(out, OAUTH_FILE_END, err) == -1)
		return -1;
	return 0;
}

bool
oauth_tokens_fresh(const struct oauth_tokens *t, long long now)
{
	return t->access_token.len > 0 &&
	       t->expires - now > OAUTH_EXPIRY_MARGIN;
}

/* --- the token file ----------------------------------------------------- */

/* The account's name as a file name: [A-Za-z0-9_-] and inner dots kept,
 * the rest %XX, so that two accounts never share a file. */
static void
file_stem(const char *name, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *name != '\0' && o + 4 < size; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (c == '.' && o > 0)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Whether st is a file root made for the system store (mode 0660 at
 * most, the directory's group). */
static bool
system_file_ok(const struct oauth_store *s, const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == 0 &&
	       st->st_gid == s->gid && (st->st_mode & 07117) == 0;
}

/* The system state's token directory: root's, the group's to read, no one
 * else's; root makes it (0750, the group of the state directory). */
static int
system_dir(struct oauth_store *s, bool make, struct error *err)
{
	struct stat st;

	snprintf(s->dir, sizeof(s->dir), "%s", OAUTH_SYSTEM_DIR);
	if (make && geteuid() == 0 && stat(SYSMODE_STATE_DIR, &st) == 0 &&
	    mkdir(s->dir, 0750) == 0 &&
	    (chown(s->dir, 0, st.st_gid) == -1 || chmod(s->dir, 0750) == -1))
		return error_set(
		    err, EX_CONFIG, "%s: %s", s->dir, strerror(errno));
	s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dfd == -1)
		return error_set(err, errno == ENOENT ? EX_NOPERM : EX_CONFIG,
		    "%s: %s%s", s->dir, strerror(errno),
		    errno == ENOENT
			? " (sign in as root: mailsub --oauth2-login "
			  "ACCOUNT)"
			: "");
	if (fstat(s->dfd, &st) == -1 || st.st_uid != 0 ||
	    (st.st_mode & 0027) != 0) {
		close(s->dfd);
		s->dfd = -1;
		return error_set(err, EX_CONFIG,
		    "%s must be root's directory, writable by no one else",
		    s->dir);
	}
	s->system = true;
	s->gid = st.st_gid;
	return 0;
}

int
oauth_store_locate(const struct account *acct, struct oauth_store *s, bool make,
    struct error *err)
{
	char stem[OAUTH_NAME_MAX - 8];
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->dfd = s->lock_fd = -1;
	file_stem(acct->name != NULL ? acct->name : "", stem, sizeof(stem));
	snprintf(s->token, sizeof(s->token), "%s.token", stem);
	snprintf(s->token2, sizeof(s->token2), "%s.token.2", stem);
	snprintf(s->lock, sizeof(s->lock), "%s.lock", stem);
	if (acct->system)
		return system_dir(s, make, err);
	if (!cache_state_dir("oauth2", s->dir, sizeof(s->dir))) {
		return error_set(err, EX_CONFIG,
		    "no private state directory for the OAuth2 token "
		    "(HOME unset or /, or $XDG_STATE_HOME/mailsub not the "
		    "user's alone); set XDG_STATE_HOME");
	}
	s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dfd == -1)
		return error_set(err, errno == ENOENT ? EX_NOPERM : EX_CONFIG,
		    "%s: %s", s->dir, strerror(errno));
	if (fstat(s->dfd, &st) == -1 || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		close(s->dfd);
		s->dfd = -1;
		return error_set(err, EX_CONFIG,
		    "%s must be a directory of yours with mode 0700", s->dir);
	}
	return 0;
}

void
oauth_store_close(struct oauth_store *s)
{
	if (s->lock_fd != -1)
		close(s->lock_fd); /* and the lock with it */
	if (s->dfd != -1)
		close(s->dfd);
	s->lock_fd = s->dfd = -1;
}

int
oauth_token_path(
    const struct account *acct, char *out, size_t size, struct error *err)
{
	char stem[OAUTH_NAME_MAX - 8];
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	file_stem(acct->name != NULL ? acct->name : "", stem, sizeof(stem));
	if (acct->system)
		n = snprintf(out, size, "%s/%s.token", OAUTH_SYSTEM_DIR, stem);
	else if (state != NULL && state[0] == '/')
		n = snprintf(
		    out, size, "%s/mailsub/oauth2/%s.token", state, stem);
	else if (home != NULL && home[0] == '/' && strcmp(home, "/") != 0)
		n = snprintf(out, size,
		    "%s/.local/state/mailsub/oauth2/%s.token", home, stem);
	else
		return error_set(err, EX_CONFIG,
		    "no state directory (HOME unset or /); set "
		    "XDG_STATE_HOME");
	if (n < 0 || (size_t)n >= size)
		return error_set(err, EX_CONFIG, "token file name too long");
	return 0;
}

/* Read one token file: 1 when there is none, 0 with t filled, -1 with err
 * set (a file that is not the user's alone, or for the system store not
 * one root made, is never read). */
static int
read_one(struct oauth_store *s, const char *name, struct oauth_tokens *t,
    struct error *err)
{
	const size_t end = sizeof(OAUTH_FILE_END) - 1;
	char *data;
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd, rc = -1;

	fd = openat(
	    s->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1)
		return error_set(
		    err, EX_CONFIG, "%s/%s: %s", s->dir, name, strerror(errno));
	if (fstat(fd, &st) == -1 ||
	    (s->system ? !system_file_ok(s, &st)
		       : (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
			     (st.st_mode & 077) != 0))) {
		close(fd);
		return error_set(err, EX_CONFIG,
		    s->system ? "%s/%s must be a regular file of root's with "
				"mode 0660 or less and the directory's group"
			      : "%s/%s must be a regular file of yours with "
				"mode 0600",
		    s->dir, name);
	}
	if (st.st_size <= 0 || st.st_size > OAUTH_FILE_MAX) {
		close(fd);
		return error_set(err, EX_CONFIG, "%s/%s: %s", s->dir, name,
		    st.st_size <= 0 ? "empty" : "too large");
	}
	if ((data = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return error_set(err, EX_OSERR, "out of memory");
	}
	r = fdio_read_full(fd, data, (size_t)st.st_size);
	got = r > 0 ? (size_t)r : 0;
	close(fd);
	if (got != (size_t)st.st_size)
		error_set(err, EX_CONFIG, "%s/%s: short read", s->dir, name);
	else if (s->system &&
		 (got <= end || data[got - end - 1] != '\n' ||
		     memcmp(data + got - end, OAUTH_FILE_END, end) != 0))
		error_set(err, EX_CONFIG, "%s/%s: incomplete (a write was cut)",
		    s->dir, name);
	else if (oauth_tokens_parse(data, got, t, err) == -1)
		error_prefix(err, "%s/%s", s->dir, name);
	else
		rc = 0;
	secure_wipe(data, (size_t)st.st_size);
	free(data);
	return rc;
}

/* The account's tokens: 1 when there are none, 0 with t filled, -1 with
 * err set.  For the system store the newest whole slot of the two. */
int
oauth_store_read(
    struct oauth_store *s, struct oauth_tokens *t, struct error *err)
{
	struct oauth_tokens other;
	struct error err2;
	int r1, r2;

	s->current = NULL;
	s->cur_updated = 0;
	r1 = read_one(s, s->token, t, err);
	if (r1 == -1) {
		oauth_tokens_free(t);
		oauth_tokens_init(t);
	}
	if (s->system) {
		oauth_tokens_init(&other);
		error_clear(&err2);
		r2 = read_one(s, s->token2, &other, &err2);
		if (r2 == 0 && (r1 != 0 || other.updated > t->updated)) {
			struct oauth_tokens swap = *t;

			*t = other;
			other = swap;
			error_clear(err);
			s->current = s->token2;
			s->cur_updated = t->updated;
			oauth_tokens_free(&other);
			return 0;
		}
		oauth_tokens_free(&other);
		if (r1 == 1 && r2 == -1) {
			*err = err2;
			return -1;
		}
	}
	if (r1 == 0) {
		s->current = s->token;
		s->cur_updated = t->updated;
	}
	return r1;
}

/* What the next write is stamped with: later than what it replaces, so
 * that of two system slots the newer is known. */
void
oauth_store_stamp(const struct oauth_store *s, struct oauth_tokens *t)
{
	if (t->updated <= s->cur_updated)
		t->updated = s->cur_updated + 1;
}

/* A system slot rewritten in place (root makes it, 0660, the directory's
 * group): truncated, written, fsync'd; a cut write fails its "end" line. */
static int
write_slot(struct oauth_store *s, const char *name, const struct buf *data,
    struct error *err)
{
	struct stat st;
	int fd;

	fd = openat(s->dfd, name,
	    O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (geteuid() == 0 ? O_CREAT : 0),
	    0600);
	if (fd == -1)
		return error_set(err, EX_CANTCREAT, "%s/%s: %s%s", s->dir, name,
		    strerror(errno),
		    errno == ENOENT
			? " (sign in as root: mailsub --oauth2-login "
			  "ACCOUNT)"
			: "");
	if (geteuid() == 0 &&
	    (fchown(fd, 0, s->gid) == -1 || fchmod(fd, 0660) == -1)) {
		error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !system_file_ok(s, &st)) {
		close(fd);
		return error_set(err, EX_CONFIG,
		    "%s/%s must be a regular file of root's with mode 0660 or "
		    "less and the directory's group",
		    s->dir, name);
	}
	if (ftruncate(fd, 0) == -1 ||
	    fdio_write_all(fd, data->data, data->len, false) == -1 ||
	    fsync(fd) == -1) {
		error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, name,
		    strerror(errno));
	return 0;
}

/* The system store: the slot other than the current one; root writes
 * both, so that a caller always has an older one to overwrite. */
static int
store_write_system(
    struct oauth_store *s, const struct buf *data, struct error *err)
{
	const char *first = s->current == s->token ? s->token2 : s->token;
	const char *second = first == s->token ? s->token2 : s->token;

	if (write_slot(s, first, data, err) == -1)
		return -1;
	if (geteuid() == 0 && write_slot(s, second, data, err) == -1)
		return -1;
	s->current = first;
	if (fsync(s->dfd) == -1)
		return error_set(err, EX_CANTCREAT, "%s: fsync: %s", s->dir,
		    strerror(errno));
	return 0;
}

/* tmp + fsync + rename + fsync of the directory (the queue's rule). */
int
oauth_store_write(
    struct oauth_store *s, const struct oauth_tokens *t, struct error *err)
{
	char tmp[OAUTH_NAME_MAX + 32];
	struct buf data;
	int fd, rc = -1;

	buf_init(&data, OAUTH_FILE_MAX);
	if (oauth_tokens_format(t, &data, err) == -1) {
		buf_wipe(&data);
		return -1;
	}
	if (s->system) {
		rc = store_write_system(s, &data, err);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".%s.%ld", s->token, (long)getpid());
	(void)unlinkat(s->dfd, tmp, 0);
	fd = openat(s->dfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, tmp,
		    strerror(errno));
		goto out;
	}
	if (fdio_write_all(fd, data.data, data.len, false) == -1 ||
	    fsync(fd) == -1) {
		error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, tmp,
		    strerror(errno));
		close(fd);
		(void)unlinkat(s->dfd, tmp, 0);
		goto out;
	}
	if (close(fd) == -1 || renameat(s->dfd, tmp, s->dfd, s->token) == -1) {
		error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir, s->token,
		    strerror(errno));
		(void)unlinkat(s->dfd, tmp, 0);
		goto out;
	}
	if (fsync(s->dfd) == -1) {
		error_set(err, EX_CANTCREAT, "%s: fsync: %s", s->dir,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_wipe(&data);
	return rc;
}

/* The account's lock (flock on STEM.lock), waiting at most wait_s. */
int
oauth_store_lock(struct oauth_store *s, unsigned wait_s, struct error *err)
{
	long long deadline = fdio_now_ms() + (long long)wait_s * 1000;
	struct stat st;

	/* The system store's lock, like its slots, is root's to make. */
	s->lock_fd = openat(s->dfd, s->lock,
	    O_RDWR | O_NOFOLLOW | O_CLOEXEC |
		(!s->system || geteuid() == 0 ? O_CREAT : 0),
	    0600);
	if (s->lock_fd == -1)
		return error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir,
		    s->lock, strerror(errno));
	if (s->system && geteuid() == 0 &&
	    (fchown(s->lock_fd, 0, s->gid) == -1 ||
		fchmod(s->lock_fd, 0660) == -1))
		return error_set(err, EX_CANTCREAT, "%s/%s: %s", s->dir,
		    s->lock, strerror(errno));
	if (fstat(s->lock_fd, &st) == -1 ||
	    (s->system ? !system_file_ok(s, &st)
		       : (!S_ISREG(st.st_mode) || st.st_uid != geteuid())))
		return error_set(err, EX_CONFIG, "%s/%s is not a file of %s",
		    s->dir, s->lock, s->system ? "root's" : "yours");
	while (flock(s->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return error_set(err, EX_OSERR, "%s/%s: flock: %s",
			    s->dir, s->lock, strerror(errno));
		if (fdio_now_ms() >= deadline)
			return error_set(err, EX_TEMPFAIL,
			    "another mailsub has been renewing the OAuth2 "
			    "token for more than %u s",
			    wait_s);
		poll(NULL, 0, OAUTH_LOCK_POLL_MS);
	}
	return 0;
}
