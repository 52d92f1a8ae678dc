/*
 * The mailsub binary's side of the TLS module (tlsmod.h): the entry points
 * of tls.h and auth.h, each loading mailsub-tls.so on first use and
 * forwarding to it.  Linked into the binary only; the unit tests link
 * tls.c and auth.c themselves.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "auth.h"
#include "buf.h"
#include "conn.h"
#include "error.h"
#include "net.h"
#include "secret.h"
#include "smtp.h"
#include "tls.h"
#include "tlsmod.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/mailsub"
#endif

/*
 * The module calls these functions of the binary (it is linked against
 * nothing of ours: the binary exports its symbols).  Naming them here makes
 * the linker keep their object files in the binary even where nothing
 * else in it calls them.  A module that needs another one fails to load
 * with "undefined symbol", which the TLS tests show at once.
 */
__attribute__((used)) static void (*const module_imports[])(void) = {
    (void (*)(void))buf_addch,
    (void (*)(void))buf_append,
    (void (*)(void))buf_appends,
    (void (*)(void))buf_detach,
    (void (*)(void))buf_init,
    (void (*)(void))buf_printf,
    (void (*)(void))buf_str,
    (void (*)(void))buf_wipe,
    (void (*)(void))conn_command,
    (void (*)(void))conn_flush,
    (void (*)(void))conn_tls_info,
    (void (*)(void))error_clear,
    (void (*)(void))error_escape,
    (void (*)(void))error_from_reply,
    (void (*)(void))error_set,
    (void (*)(void))net_transport_get_fd,
    (void (*)(void))secret_get_password,
    (void (*)(void))secure_wipe,
    (void (*)(void))smtp_read_reply,
    (void (*)(void))smtp_reply_free,
    (void (*)(void))smtp_reply_init,
    (void (*)(void))smtp_reply_summary,
};

static struct {
	void *handle;
	int (*tls_upgrade)(
	    struct transport *, const struct account *, struct error *);
	int (*tls_describe_chain)(
	    const struct transport *, bool, struct buf *, struct error *);
	int (*auth_choose)(const struct account *, const char *, bool, bool,
	    char *, size_t, struct error *);
	int (*auth_login)(struct conn *, const struct account *,
	    const struct smtp_caps *, bool, struct error *);
} mod;

bool
tlsmod_loaded(void)
{
	return mod.handle != NULL;
}

/* The module beside the executable (/proc/self/exe, so a symlink such as
 * /usr/sbin/sendmail finds the real directory), into path. */
static bool
beside_exe(char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	if ((size_t)snprintf(path, size, "%s/%s", exe, TLSMOD_NAME) >= size)
		return false;
	return access(path, F_OK) == 0;
}

static int
load(struct error *err)
{
	char path[PATH_MAX + sizeof(TLSMOD_NAME) + 1];
	unsigned long (*abi)(void);
	const char *(*version)(void);
	const char *why;
	void *h;

	if (mod.handle != NULL)
		return 0;
	if (!beside_exe(path, sizeof(path)))
		snprintf(path, sizeof(path), "%s/%s", PKGLIBDIR, TLSMOD_NAME);
	/* RTLD_NOW: a missing symbol shows here, not in the middle of a
	 * handshake. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		return error_set(err, EX_SOFTWARE,
		    "cannot load the TLS and SASL module: %s",
		    why != NULL ? why : path);
	}
	abi = (unsigned long (*)(void))dlsym(h, "tlsmod_abi");
	version = (const char *(*)(void))dlsym(h, "tlsmod_version");
	if (abi == NULL || version == NULL || abi() != TLSMOD_ABI ||
	    strcmp(version(), PACKAGE_VERSION) != 0) {
		dlclose(h);
		return error_set(err, EX_SOFTWARE,
		    "%s is from another build of mailsub", path);
	}
	mod.tls_upgrade = (int (*)(struct transport *, const struct account *,
	    struct error *))dlsym(h, "tls_upgrade");
	mod.tls_describe_chain = (int (*)(const struct transport *, bool,
	    struct buf *, struct error *))dlsym(h, "tls_describe_chain");
	mod.auth_choose = (int (*)(const struct account *, const char *, bool,
	    bool, char *, size_t, struct error *))dlsym(h, "auth_choose");
	mod.auth_login = (int (*)(struct conn *, const struct account *,
	    const struct smtp_caps *, bool, struct error *))dlsym(h,
	    "auth_login");
	if (mod.tls_upgrade == NULL || mod.tls_describe_chain == NULL ||
	    mod.auth_choose == NULL || mod.auth_login == NULL) {
		dlclose(h);
		memset(&mod, 0, sizeof(mod));
		return error_set(
		    err, EX_SOFTWARE, "%s lacks an entry point", path);
	}
	mod.handle = h;
	return 0;
}

int
tls_upgrade(struct transport *t, const struct account *acct, struct error *err)
{
	if (load(err) == -1)
		return -1;
	return mod.tls_upgrade(t, acct, err);
}

int
tls_describe_chain(
    const struct transport *t, bool json, struct buf *out, struct error *err)
{
	if (load(err) == -1)
		return -1;
	return mod.tls_describe_chain(t, json, out, err);
}

int
auth_choose(const struct account *acct, const char *server_mechs,
    bool tls_active, bool have_channel_binding, char *mech, size_t mech_size,
    struct error *err)
{
	if (load(err) == -1)
		return -1;
	return mod.auth_choose(acct, server_mechs, tls_active,
	    have_channel_binding, mech, mech_size, err);
}

int
auth_login(struct conn *c, const struct account *acct,
    const struct smtp_caps *caps, bool tls_active, struct error *err)
{
	/* auth.h: nothing to do without AUTH (auth = off, or the default
	 * with no user), and then nothing to load either. */
	if (acct->auth == ACCOUNT_AUTH_OFF ||
	    (acct->auth == ACCOUNT_AUTH_DEFAULT &&
		(acct->user == NULL || acct->user[0] == '\0')))
		return 0;
	if (load(err) == -1)
		return -1;
	return mod.auth_login(c, acct, caps, tls_active, err);
}
