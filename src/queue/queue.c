/* SPDX-License-Identifier: ISC */
/*
 * The durable queue's directories and operations: the areas, the tmp ->
 * fsync -> rename -> fsync(dir) store, listing, locking, moving and
 * recovering.  What a queue file holds, and its strict parser, are
 * queue_file.c's.
 */
/*
 * The durable queue: unique names, the tmp -> fsync -> rename -> fsync(dir)
 * store, and the strict parser of the queue file header.
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fdio.h"
#include "fsperm.h"
#include "id.h"
#include "queue.h"
#include "queue_file.h"
#include "sysmode.h"

/* Queue IDs are id_unique() names. */
_Static_assert(ID_UNIQUE_MAX <= QUEUE_ID_MAX, "a queue ID holds a name");

#define COPY_BLOCK (64 * 1024)
/* Creating a file with a fresh name only collides by accident. */
#define STORE_TRIES 8

static const char *const area_dirs[] = {
    [QUEUE_AREA_NEW] = "new",
    [QUEUE_AREA_FAILED] = "failed",
};

/* ---- directories ----------------------------------------------------------
 */

/*
 * mkdir path, or find it there.  The system spool (sysmode.h) is shared
 * through the group: what root makes of it is the group's (0770, shared
 * set, parents 0755); a caller's directory would be refused by every other
 * caller (fsperm.h), so callers other than root make none.
 */
static int
make_dir(const char *path, bool parent, struct error *err)
{
	bool shared = sysmode_shared();
	mode_t mode = !shared ? 0700 : parent ? 0755 : 0770;
	struct stat st;

	if (shared && geteuid() != 0) {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return error_set(err, EX_CANTCREAT,
		    "cannot create %s: the system spool is made by root "
		    "(make install-system)",
		    path);
	}
	if (mkdir(path, mode) == 0) {
		if (shared && !parent &&
		    (chown(path, 0, sysmode_group()) == -1 ||
			chmod(path, mode) == -1))
			return error_set(err, EX_CANTCREAT,
			    "cannot give %s to the group: %s", path,
			    strerror(errno));
		return 0;
	}
	if (errno == EEXIST || errno == EACCES || errno == EROFS) {
		int saved = errno;

		if (stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				return 0;
			return error_set(err, EX_CANTCREAT,
			    "cannot create %s: not a directory", path);
		}
		errno = saved;
	}
	return error_set(
	    err, EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
}

static const char *const subdirs[] = {"tmp", "new", "failed"};

/* fsperm.h's rule for queue_dir (which may be a link to a trusted
 * directory) and its subdirectories (which mailsub makes, so a link there
 * was planted: never followed). */
static int
check_dirs(const char *queue_dir, unsigned missing, struct error *err)
{
	char path[PATH_MAX];
	size_t i;
	int n;

	if (fsperm_check_path(queue_dir, FSPERM_DIR | missing, err) == -1)
		return -1;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		n = snprintf(
		    path, sizeof(path), "%s/%s", queue_dir, subdirs[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return error_set(
			    err, EX_CONFIG, "%s: path too long", queue_dir);
		if (fsperm_check_path(path,
			FSPERM_DIR | FSPERM_NOFOLLOW | missing, err) == -1)
			return -1;
	}
	return 0;
}

int
queue_check(const char *queue_dir, struct error *err)
{
	return check_dirs(queue_dir, FSPERM_MISSING_OK, err);
}

int
queue_prepare(const char *queue_dir, struct error *err)
{
	struct buf b;
	size_t i;
	int rc = -1;

	if (queue_dir == NULL || *queue_dir == '\0')
		return error_set(err, EX_CANTCREAT, "no queue directory");
	/* Nothing is made in, or through, a directory someone else can
	 * change; and what was made or found is checked again. */
	if (check_dirs(queue_dir, FSPERM_MISSING_OK, err) == -1)
		return -1;
	buf_init(&b, PATH_MAX);
	if (buf_appends(&b, queue_dir, err) == -1)
		goto out;
	/* mkdir -p: every missing parent too. */
	for (i = 1; i < b.len; i++) {
		if (b.data[i] != '/' || b.data[i - 1] == '/')
			continue;
		b.data[i] = '\0';
		if (make_dir(b.data, true, err) == -1)
			goto out;
		b.data[i] = '/';
	}
	if (make_dir(b.data, false, err) == -1)
		goto out;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		buf_reset(&b);
		if (buf_printf(&b, err, "%s/%s", queue_dir, subdirs[i]) == -1 ||
		    make_dir(b.data, false, err) == -1)
			goto out;
	}
	rc = check_dirs(queue_dir, 0, err);
out:
	buf_free(&b);
	return rc;
}

/* ---- store -----------------------------------------------------------------
 */

static int
write_all(int fd, const char *p, size_t n, const char *path, struct error *err)
{
	if (fdio_write_all(fd, p, n, false) == -1)
		return error_set(err, EX_IOERR, "cannot write %s: %s", path,
		    strerror(errno));
	return 0;
}

static int
copy_message(int in, off_t from, int out, unsigned long long size,
    const char *path, struct error *err)
{
	unsigned long long left = size;
	off_t off = from;
	char *block;

#ifdef HAVE_COPY_FILE_RANGE
	/* In-kernel copy (reflink where the file system can). */
	while (left > 0) {
		size_t chunk =
		    left > (1ULL << 30) ? (size_t)1 << 30 : (size_t)left;
		ssize_t n = copy_file_range(in, &off, out, NULL, chunk, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == ENOSYS ||
			    errno == EOPNOTSUPP || errno == EINVAL)
				break; /* fall back to read/write */
			return error_set(err, EX_IOERR, "cannot write %s: %s",
			    path, strerror(errno));
		}
		if (n == 0)
			break; /* the spool is short: read/write says so */
		/* The kernel has moved off along (copy_file_range(2)):
		 * adding n again would skip data after a partial copy. */
		left -= (unsigned long long)n;
	}
	if (left == 0)
		return 0;
#endif
	block = malloc(COPY_BLOCK);
	if (block == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	while (left > 0) {
		size_t want = left > COPY_BLOCK ? COPY_BLOCK : (size_t)left;
		ssize_t n = pread(in, block, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error_set(err, EX_IOERR,
			    "cannot read message spool: %s",
			    n < 0 ? strerror(errno) : "file is short");
			free(block);
			return -1;
		}
		if (write_all(out, block, (size_t)n, path, err) == -1) {
			free(block);
			return -1;
		}
		off += n;
		left -= (unsigned long long)n;
	}
	free(block);
	return 0;
}

static int
sync_dir(const char *dir, struct error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return error_set(
		    err, EX_IOERR, "cannot open %s: %s", dir, strerror(errno));
	if (fsync(fd) == -1) {
		error_set(
		    err, EX_IOERR, "cannot fsync %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Write env and size bytes of msg_fd from offset into a new file in tmp/
 * named after a fresh ID (in *tmp), locked so that queue_recover() leaves
 * it alone, and fsync'd.  On failure the file is gone.
 */
static int
write_tmp(const char *queue_dir, const struct envelope *env,
    const struct queue_meta *meta, int msg_fd, off_t offset,
    unsigned long long size, char *id, struct buf *tmp, int *out_fd,
    struct error *err)
{
	struct buf head;
	int fd = -1, tries;

	*out_fd = -1;
	buf_init(&head, QUEUE_HEADER_MAX);
	if (queue_file_format(&head, env, meta, err) == -1)
		goto fail;
	for (tries = 0; fd == -1; tries++) {
		id_unique(id, QUEUE_ID_MAX);
		buf_reset(tmp);
		if (buf_printf(tmp, err, "%s/tmp/%s", queue_dir, id) == -1)
			goto fail;
		/* Read-write: queue_rewrite() hands it on as the file. */
		fd = open(tmp->data,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 && (errno != EEXIST || tries + 1 == STORE_TRIES)) {
			error_set(err, EX_CANTCREAT, "cannot create %s: %s",
			    tmp->data, strerror(errno));
			goto fail;
		}
	}
	/* Nobody else knows the name yet: the lock cannot be refused. */
	(void)flock(fd, LOCK_EX | LOCK_NB);
	/* The system spool: every caller's mailsub reads the header to see
	 * whose it is (sysmode.h), whatever the umask; nobody else can
	 * reach the directory. */
	if (sysmode_shared() && (fchown(fd, (uid_t)-1, sysmode_group()) == -1 ||
				    fchmod(fd, 0640) == -1)) {
		error_set(err, EX_CANTCREAT, "cannot give %s to the group: %s",
		    tmp->data, strerror(errno));
		goto fail_unlink;
	}
	if (write_all(fd, head.data, head.len, tmp->data, err) == -1 ||
	    copy_message(msg_fd, offset, fd, size, tmp->data, err) == -1)
		goto fail_unlink;
	if (fsync(fd) == -1) {
		error_set(err, EX_IOERR, "cannot fsync %s: %s", tmp->data,
		    strerror(errno));
		goto fail_unlink;
	}
	buf_free(&head);
	*out_fd = fd;
	return 0;
fail_unlink:
	close(fd);
	unlink(tmp->data);
fail:
	buf_free(&head);
	return -1;
}

int
queue_store(const char *queue_dir, enum queue_area area,
    const struct envelope *env, const struct queue_meta *meta, int msg_fd,
    unsigned long long size, char *id, char **path, struct error *err)
{
	struct buf tmp, dst, dir;
	int fd = -1, rc = -1;
	bool placed = false;

	*path = NULL;
	buf_init(&tmp, PATH_MAX);
	buf_init(&dst, PATH_MAX);
	buf_init(&dir, PATH_MAX);
	if (write_tmp(queue_dir, env, meta, msg_fd, 0, size, id, &tmp, &fd,
		err) == -1)
		goto out;
	if (buf_printf(&dst, err, "%s/%s/%s", queue_dir, area_dirs[area], id) ==
		-1 ||
	    buf_printf(&dir, err, "%s/%s", queue_dir, area_dirs[area]) == -1)
		goto fail;
	/* The file stays open, and so locked, until it is in place for
	 * good: a queue run that finds it in new/ before then must not send
	 * a message the caller is about to be told was not kept. */
	if (rename(tmp.data, dst.data) == -1) {
		error_set(err, EX_CANTCREAT, "cannot rename %s to %s: %s",
		    tmp.data, dst.data, strerror(errno));
		goto fail;
	}
	placed = true;
	/* Until the directory is synced the name may not survive a crash:
	 * a file we cannot vouch for must not be reported as queued. */
	if (sync_dir(dir.data, err) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		error_set(err, EX_IOERR, "cannot write %s: %s", dst.data,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	*path = buf_detach(&dst);
	rc = 0;
	goto out;
fail:
	unlink(placed ? dst.data : tmp.data);
	if (fd != -1)
		close(fd);
out:
	buf_free(&tmp);
	buf_free(&dst);
	buf_free(&dir);
	return rc;
}

/* ---- the queue runner's primitives ------------------------------------
 */

const char *
queue_area_name(enum queue_area area)
{
	return area_dirs[area];
}

char *
queue_path(const char *queue_dir, enum queue_area area, const char *id)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s", queue_dir, area_dirs[area], id) == -1)
		return NULL;
	return p;
}

static char *
area_dir(const char *queue_dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", queue_dir, name) == -1)
		return NULL;
	return p;
}

bool
queue_id_valid(const char *id)
{
	size_t n;

	if (id == NULL ||
	    !((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'z') ||
		(*id >= 'A' && *id <= 'Z')))
		return false;
	for (n = 0; id[n] != '\0'; n++) {
		char c = id[n];

		if (n + 1 >= QUEUE_ID_MAX)
			return false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
}

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
queue_list(const char *queue_dir, enum queue_area area, char ***ids, size_t *n,
    struct error *err)
{
	char *dir = area_dir(queue_dir, area_dirs[area]);
	char **list = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *e;
	DIR *d;

	*ids = NULL;
	*n = 0;
	if (dir == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	d = opendir(dir);
	if (d == NULL) {
		int saved = errno;

		if (saved == ENOENT) {
			free(dir);
			return 0;
		}
		error_set(
		    err, EX_IOERR, "cannot read %s: %s", dir, strerror(saved));
		free(dir);
		return -1;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (e == NULL)
			break;
		if (!queue_id_valid(e->d_name))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nl = reallocarray(list, ncap, sizeof(*nl));

			if (nl == NULL)
				goto oom;
			list = nl;
			cap = ncap;
		}
		list[cnt] = strdup(e->d_name);
		if (list[cnt] == NULL)
			goto oom;
		cnt++;
	}
	if (errno != 0) {
		error_set(
		    err, EX_IOERR, "cannot read %s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	free(dir);
	if (cnt > 0)
		qsort(list, cnt, sizeof(*list), cmp_ids);
	*ids = list;
	*n = cnt;
	return 0;
oom:
	error_set(err, EX_OSERR, "out of memory");
fail:
	closedir(d);
	free(dir);
	queue_ids_free(list, cnt);
	return -1;
}

int
queue_lock(const char *queue_dir, enum queue_area area, const char *id, int *fd,
    struct error *err)
{
	struct stat fst, pst;
	char *path;
	int f;

	*fd = -1;
	if (!queue_id_valid(id))
		return error_set(err, EX_USAGE, "invalid queue ID");
	path = queue_path(queue_dir, area, id);
	if (path == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f == -1) {
		int saved = errno;

		if (saved == ENOENT) {
			free(path);
			return QUEUE_LOCK_GONE;
		}
		error_set(
		    err, EX_IOERR, "cannot open %s: %s", path, strerror(saved));
		free(path);
		return -1;
	}
	if (flock(f, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		close(f);
		if (saved == EWOULDBLOCK) {
			free(path);
			return QUEUE_LOCK_BUSY;
		}
		error_set(
		    err, EX_IOERR, "cannot lock %s: %s", path, strerror(saved));
		free(path);
		return -1;
	}
	/* The holder we waited for may have sent and removed it, or stored
	 * a new version under the name: only the file still at the name
	 * counts. */
	if (fstat(f, &fst) == -1 || !S_ISREG(fst.st_mode) ||
	    stat(path, &pst) == -1 || fst.st_ino != pst.st_ino ||
	    fst.st_dev != pst.st_dev) {
		close(f);
		free(path);
		return QUEUE_LOCK_GONE;
	}
	free(path);
	*fd = f;
	return 0;
}

int
queue_remove(const char *queue_dir, enum queue_area area, const char *id,
    struct error *err)
{
	char *path = queue_path(queue_dir, area, id);
	char *dir = area_dir(queue_dir, area_dirs[area]);
	int rc = -1;

	if (path == NULL || dir == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		error_set(err, EX_IOERR, "cannot remove %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = sync_dir(dir, err);
out:
	free(path);
	free(dir);
	return rc;
}

int
queue_rewrite(const char *queue_dir, const char *id, enum queue_area from,
    enum queue_area to, const struct queue_meta *meta,
    const struct queue_file *qf, int *fd, struct error *err)
{
	char tmp_id[QUEUE_ID_MAX];
	struct buf tmp;
	char *dst = NULL, *src = NULL, *dst_dir = NULL, *src_dir = NULL;
	int nfd = -1, rc = -1;

	buf_init(&tmp, PATH_MAX);
	dst = queue_path(queue_dir, to, id);
	src = queue_path(queue_dir, from, id);
	dst_dir = area_dir(queue_dir, area_dirs[to]);
	src_dir = area_dir(queue_dir, area_dirs[from]);
	if (dst == NULL || src == NULL || dst_dir == NULL || src_dir == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (write_tmp(queue_dir, &qf->env, meta, *fd, qf->msg_offset,
		qf->msg_size, tmp_id, &tmp, &nfd, err) == -1)
		goto out;
	if (rename(tmp.data, dst) == -1) {
		error_set(err, EX_CANTCREAT, "cannot rename %s to %s: %s",
		    tmp.data, dst, strerror(errno));
		close(nfd);
		unlink(tmp.data);
		goto out;
	}
	/* The new file (locked) is now the one at the name. */
	close(*fd);
	*fd = nfd;
	if (sync_dir(dst_dir, err) == -1)
		goto out; /* the old name stays too: never a loss */
	if (from != to) {
		if (unlink(src) == -1 && errno != ENOENT) {
			error_set(err, EX_IOERR, "cannot remove %s: %s", src,
			    strerror(errno));
			goto out;
		}
		if (sync_dir(src_dir, err) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&tmp);
	free(dst);
	free(src);
	free(dst_dir);
	free(src_dir);
	return rc;
}

int
queue_move(const char *queue_dir, const char *id, enum queue_area from,
    enum queue_area to, struct error *err)
{
	char *src = queue_path(queue_dir, from, id);
	char *dst = queue_path(queue_dir, to, id);
	char *src_dir = area_dir(queue_dir, area_dirs[from]);
	char *dst_dir = area_dir(queue_dir, area_dirs[to]);
	int rc = -1;

	if (src == NULL || dst == NULL || src_dir == NULL || dst_dir == NULL) {
		error_set(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (rename(src, dst) == -1) {
		error_set(err, EX_CANTCREAT, "cannot rename %s to %s: %s", src,
		    dst, strerror(errno));
		goto out;
	}
	if (sync_dir(dst_dir, err) == -1 || sync_dir(src_dir, err) == -1)
		goto out;
	rc = 0;
out:
	free(src);
	free(dst);
	free(src_dir);
	free(dst_dir);
	return rc;
}

/* The process that made an ID (id_unique(): "TIME.PID.N.RANDOM"), or 0
 * when the name does not say. */
static pid_t
id_pid(const char *name)
{
	const char *p = strchr(name, '.');
	long long v = 0;

	if (p == NULL)
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return 0;
	}
	return *p == '.' ? (pid_t)v : 0;
}

static bool
process_alive(pid_t pid)
{
	if (pid <= 0)
		return false;
	if (pid == getpid())
		return true;
	return kill(pid, 0) == 0 || errno == EPERM;
}

int
queue_recover(
    const char *queue_dir, time_t max_age, size_t *removed, struct error *err)
{
	char *dir = area_dir(queue_dir, "tmp");
	time_t now = time(NULL);
	struct dirent *e;
	DIR *d;

	*removed = 0;
	if (dir == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	d = opendir(dir);
	if (d == NULL) {
		int saved = errno;

		free(dir);
		if (saved == ENOENT)
			return 0;
		return error_set(err, EX_IOERR, "cannot read %s/tmp: %s",
		    queue_dir, strerror(saved));
	}
	while ((e = readdir(d)) != NULL) {
		const char *id = e->d_name;
		struct stat st;
		int f;

		if (strncmp(id, "spool-", 6) == 0)
			id += 6;
		if (!queue_id_valid(id))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > now - max_age)
			continue;
		/* A writer reading a slow stdin may leave its spool
		 * untouched for hours: while it lives, the file is its. */
		if (process_alive(id_pid(id)))
			continue;
		f = openat(dirfd(d), e->d_name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (f == -1)
			continue;
		if (flock(f, LOCK_EX | LOCK_NB) == 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
		close(f);
	}
	closedir(d);
	free(dir);
	return 0;
}
