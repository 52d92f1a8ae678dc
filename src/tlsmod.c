/*
 * The mailsub binary's side of the TLS and SASL modules (tlsmod.h): the
 * entry points of tls.h and auth.h, each loading its module
 * (mailsub-tls.so, mailsub-sasl.so) on first use and forwarding to it.  Linked into the binary only; the unit tests link
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
#include "cache.h"
#include "conn.h"
#include "error.h"
#include "log.h"
#include "module.h"
#include "net.h"
#include "oauth.h"
#include "secret.h"
#include "smtp.h"
#include "tls.h"
#include "tlsmod.h"

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
    (void (*)(void))buf_free,
    (void (*)(void))buf_init,
    (void (*)(void))buf_printf,
    (void (*)(void))buf_str,
    (void (*)(void))buf_wipe,
    (void (*)(void))cache_forget,
    (void (*)(void))cache_load,
    (void (*)(void))cache_store,
    (void (*)(void))conn_command,
    (void (*)(void))conn_flush,
    (void (*)(void))conn_tls_info,
    (void (*)(void))error_clear,
    (void (*)(void))error_escape,
    (void (*)(void))error_from_reply,
    (void (*)(void))error_is_set,
    (void (*)(void))error_set,
    (void (*)(void))log_verbose,
    (void (*)(void))net_transport_get_fd,
    (void (*)(void))oauth_enabled,
    (void (*)(void))oauth_get_token,
    (void (*)(void))secret_get_password,
    (void (*)(void))secure_wipe,
    (void (*)(void))smtp_read_reply,
    (void (*)(void))smtp_reply_free,
    (void (*)(void))smtp_reply_init,
    (void (*)(void))smtp_reply_summary,
};

/* One module: its file name, what it brings (for the error message), and
 * its handle once loaded. */
struct module {
	const char *file;
	const char *what;
	void       *handle;
};

static struct module tls_module = {TLSMOD_TLS_NAME, "TLS", NULL};
static struct module sasl_module = {TLSMOD_SASL_NAME, "SASL", NULL};

static struct {
	int (*tls_upgrade)(
	    struct transport *, const struct account *, struct error *);
	int (*tls_describe_chain)(
	    const struct transport *, bool, struct buf *, struct error *);
} tls_entry;

static struct {
	int (*auth_choose)(const struct account *, const char *, bool, bool,
	    char *, size_t, struct error *);
	int (*auth_login)(struct conn *, const struct account *,
	    const struct smtp_caps *, bool, struct error *);
} sasl_entry;

bool
tlsmod_loaded(void)
{
	return tls_module.handle != NULL || sasl_module.handle != NULL;
}

/* dlopen the module and check that it comes from this build; its handle
 * in m->handle.  The caller looks up the entry points. */
static int
load(struct module *m, struct error *err)
{
	char path[PATH_MAX + 64];
	unsigned long (*abi)(void);
	const char *(*version)(void);
	void *h;

	h = module_open(m->file, m->what, path, sizeof(path), err);
	if (h == NULL)
		return -1;
	abi = (unsigned long (*)(void))dlsym(h, "tlsmod_abi");
	version = (const char *(*)(void))dlsym(h, "tlsmod_version");
	if (abi == NULL || version == NULL || abi() != TLSMOD_ABI ||
	    strcmp(version(), PACKAGE_VERSION) != 0) {
		dlclose(h);
		return error_set(err, EX_SOFTWARE,
		    "%s is from another build of mailsub", path);
	}
	m->handle = h;
	return 0;
}

static int
missing_entry(struct module *m, struct error *err)
{
	dlclose(m->handle);
	m->handle = NULL;
	return error_set(err, EX_SOFTWARE, "%s lacks an entry point", m->file);
}

static int
load_tls(struct error *err)
{
	if (tls_module.handle != NULL)
		return 0;
	if (load(&tls_module, err) == -1)
		return -1;
	tls_entry.tls_upgrade = (int (*)(struct transport *,
	    const struct account *, struct error *))dlsym(tls_module.handle,
	    "tls_upgrade");
	tls_entry.tls_describe_chain = (int (*)(const struct transport *, bool,
	    struct buf *, struct error *))dlsym(tls_module.handle,
	    "tls_describe_chain");
	if (tls_entry.tls_upgrade == NULL ||
	    tls_entry.tls_describe_chain == NULL)
		return missing_entry(&tls_module, err);
	return 0;
}

static int
load_sasl(struct error *err)
{
	if (sasl_module.handle != NULL)
		return 0;
	if (load(&sasl_module, err) == -1)
		return -1;
	sasl_entry.auth_choose = (int (*)(const struct account *, const char *,
	    bool, bool, char *, size_t, struct error *))dlsym(
	    sasl_module.handle, "auth_choose");
	sasl_entry.auth_login = (int (*)(struct conn *, const struct account *,
	    const struct smtp_caps *, bool, struct error *))dlsym(
	    sasl_module.handle, "auth_login");
	if (sasl_entry.auth_choose == NULL || sasl_entry.auth_login == NULL)
		return missing_entry(&sasl_module, err);
	return 0;
}

int
tls_upgrade(struct transport *t, const struct account *acct, struct error *err)
{
	if (load_tls(err) == -1)
		return -1;
	return tls_entry.tls_upgrade(t, acct, err);
}

int
tls_describe_chain(
    const struct transport *t, bool json, struct buf *out, struct error *err)
{
	if (load_tls(err) == -1)
		return -1;
	return tls_entry.tls_describe_chain(t, json, out, err);
}

int
auth_choose(const struct account *acct, const char *server_mechs,
    bool tls_active, bool have_channel_binding, char *mech, size_t mech_size,
    struct error *err)
{
	if (load_sasl(err) == -1)
		return -1;
	return sasl_entry.auth_choose(acct, server_mechs, tls_active,
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
	if (load_sasl(err) == -1)
		return -1;
	return sasl_entry.auth_login(c, acct, caps, tls_active, err);
}
