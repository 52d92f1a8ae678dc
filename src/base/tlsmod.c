/* SPDX-License-Identifier: ISC */
/*
 * The loader of the modules (tlsmod.h): a table of the modules, and
 * module_load(), which dlopens one on first use, checks its struct
 * module_head and hands out its struct of entry points.  Holds no entry
 * point of its own.  Linked into the binary only; the unit tests get the
 * structs from tlsmod_linked.c.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "cache.h"
#include "config.h"
#include "conn.h"
#include "error.h"
#include "interrupt.h"
#include "log.h"
#include "net.h"
#include "oauth.h"
#include "oauth_module.h"
#include "sasl_mechs.h"
#include "secret.h"
#include "smtp.h"
#include "sysmode.h"
#include "tls.h"
#include "tlsmod.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/mailsub"
#endif

/*
 * The modules call these functions of the binary (they are linked against
 * nothing of ours: the binary exports its symbols).  Naming them here
 * makes the linker keep their object files in the binary even where
 * nothing else in it calls them.  A module that needs another one fails
 * to load with "undefined symbol", which the TLS tests show at once.  A
 * change to one of them is a change of the modules' ABI (tlsmod.h).
 */
__attribute__((used)) static void (*const module_imports[])(void) = {
    (void (*)(void))buf_addch,
    (void (*)(void))buf_append,
    (void (*)(void))buf_appends,
    (void (*)(void))buf_detach,
    (void (*)(void))buf_free,
    (void (*)(void))buf_init,
    (void (*)(void))buf_printf,
    (void (*)(void))buf_reset,
    (void (*)(void))buf_str,
    (void (*)(void))buf_wipe,
    (void (*)(void))cache_forget,
    (void (*)(void))cache_load,
    (void (*)(void))cache_store,
    (void (*)(void))config_port_tls_mismatch,
    (void (*)(void))conn_command,
    (void (*)(void))conn_flush,
    (void (*)(void))conn_tls_info,
    (void (*)(void))error_clear,
    (void (*)(void))error_escape,
    (void (*)(void))error_is_set,
    (void (*)(void))error_prefix,
    (void (*)(void))error_set,
    (void (*)(void))error_set_class,
    (void (*)(void))error_set_reply,
    (void (*)(void))interrupt_caught,
    (void (*)(void))interrupt_check,
    (void (*)(void))interrupt_poll,
    (void (*)(void))log_verbose,
    (void (*)(void))net_transport_get_fd,
    (void (*)(void))oauth_enabled,
    (void (*)(void))oauth_get_token,
    (void (*)(void))sasl_auth_needed,
    (void (*)(void))sasl_mech_find, /* and the table sasl_mechs[] */
    (void (*)(void))secret_get_password,
    (void (*)(void))secure_wipe,
    (void (*)(void))smtp_read_reply,
    (void (*)(void))smtp_reply_free,
    (void (*)(void))smtp_reply_init,
    (void (*)(void))tlsmod_tls, /* the OAuth2 module's PKCE hash */
    (void (*)(void))smtp_reply_summary,
};

/* One module: where it is, what it must be, and what it gave once
 * loaded. */
struct module {
	const char *file;   /* TLSMOD_*_NAME */
	const char *symbol; /* its one export */
	unsigned abi;	    /* the NAME_MODULE_ABI this binary was built with */
	const char *what;   /* for the error message */
	void *handle;
	const void *entry; /* the exported struct, once checked */
};

enum { MODULE_TLS, MODULE_SASL, MODULE_OAUTH, MODULE_COUNT };

static struct module modules[MODULE_COUNT] = {
    [MODULE_TLS] = {TLSMOD_TLS_NAME, "mailsub_tls_module", TLS_MODULE_ABI,
	"TLS", NULL, NULL},
    [MODULE_SASL] = {TLSMOD_SASL_NAME, "mailsub_sasl_module", SASL_MODULE_ABI,
	"SASL", NULL, NULL},
    [MODULE_OAUTH] = {TLSMOD_OAUTH_NAME, "mailsub_oauth_module",
	OAUTH_MODULE_ABI, "OAuth2", NULL, NULL},
};

bool
tlsmod_loaded(void)
{
	size_t i;

	for (i = 0; i < MODULE_COUNT; i++)
		if (modules[i].handle != NULL)
			return true;
	return false;
}

/* The module beside the executable (/proc/self/exe, so a symlink such as
 * /usr/sbin/sendmail finds the real directory), into path. */
static bool
beside_exe(const char *file, char *path, size_t size)
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
	if ((size_t)snprintf(path, size, "%s/%s", exe, file) >= size)
		return false;
	return access(path, F_OK) == 0;
}

void
tlsmod_path(const char *file, char *path, size_t size)
{
	/* The setgid program loads only its installed modules: a copy or
	 * a link of it elsewhere must not find one planted beside it. */
	if (sysmode_group() != (gid_t)-1 || !beside_exe(file, path, size))
		snprintf(path, size, "%s/%s", PKGLIBDIR, file);
}

/*
 * The module's struct of entry points: dlopen it the first time, and trust
 * it only if it exports m->symbol with this build's ABI number and
 * package version.  NULL with err set.
 */
static const void *
module_load(struct module *m, struct error *err)
{
	const struct module_head *head;
	char path[PATH_MAX + 64];
	void *h;

	if (m->entry != NULL)
		return m->entry;
	tlsmod_path(m->file, path, sizeof(path));
	/* RTLD_NOW: a missing symbol shows here, not in the middle of a
	 * handshake. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();

		error_set(err, EX_SOFTWARE, "cannot load the %s module: %s",
		    m->what, why != NULL ? why : path);
		return NULL;
	}
	/* The head comes first in every module's struct (tlsmod.h). */
	head = dlsym(h, m->symbol);
	if (head == NULL || head->abi != m->abi || head->version == NULL ||
	    strcmp(head->version, PACKAGE_VERSION) != 0) {
		dlclose(h);
		error_set(err, EX_SOFTWARE,
		    "%s is from another build of mailsub", path);
		return NULL;
	}
	m->handle = h;
	m->entry = head;
	return m->entry;
}

const struct tls_module *
tlsmod_tls(struct error *err)
{
	return module_load(&modules[MODULE_TLS], err);
}

const struct sasl_module *
tlsmod_sasl(struct error *err)
{
	return module_load(&modules[MODULE_SASL], err);
}

const struct oauth_module *
tlsmod_oauth(struct error *err)
{
	return module_load(&modules[MODULE_OAUTH], err);
}
