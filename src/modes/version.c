/* SPDX-License-Identifier: ISC */
/*
 * --version (mailsub(1)): the package version on the first line, then the
 * libraries mailsub was built with and the ones this run loads, where the
 * modules are, and the configuration file a run would read.  GnuTLS and
 * libgsasl live in the modules (HACKING.md, the module boundary), so both
 * are loaded here, as a run that needs them would load them: a module
 * that cannot be loaded is reported, and the exit status is then 70.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "config.h"
#include "error.h"
#include "magic_lazy.h"
#include "override.h"
#include "sysmode.h"
#include "tls.h"
#include "tlsmod.h"
#include "version.h"

/* A module's line: "NAME: built with X, loaded Y (PATH)". */
static int
module_line(FILE *out, const char *name, const char *file,
    void (*versions)(const char **, const char **), const struct error *err)
{
	char path[PATH_MAX + 64];
	const char *built = "?", *loaded = "?";

	tlsmod_path(file, path, sizeof(path));
	if (versions == NULL) {
		fprintf(out, "%s: %s\n", name, err->message);
		return -1;
	}
	versions(&built, &loaded);
	fprintf(out, "%s: built with %s, loaded %s (%s)\n", name,
	    built != NULL ? built : "?", loaded != NULL ? loaded : "?", path);
	return 0;
}

static void
magic_line(FILE *out)
{
	int built, loaded;
	const char *path;

	if (magic_lazy_version(&built, &loaded, &path) == -1) {
		if (built == -1)
			fputs(
			    "libmagic: not built in (attachment types by file "
			    "name extension)\n",
			    out);
		else
			fprintf(out,
			    "libmagic: built with %d.%02d, cannot load %s "
			    "(attachment types by file name extension)\n",
			    built / 100, built % 100, path);
		return;
	}
	if (loaded == -1)
		fprintf(out, "libmagic: built with %d.%02d, loaded (%s)\n",
		    built / 100, built % 100, path);
	else
		fprintf(out,
		    "libmagic: built with %d.%02d, loaded %d.%02d (%s)\n",
		    built / 100, built % 100, loaded / 100, loaded % 100, path);
}

/* iniparser publishes no version number, neither in its header nor in
 * the library: the file it was linked from is what can be told. */
static void
iniparser_line(FILE *out)
{
	void *sym = dlsym(RTLD_DEFAULT, "iniparser_load");
	Dl_info info;

	if (sym != NULL && dladdr(sym, &info) != 0 && info.dli_fname != NULL)
		fprintf(out, "iniparser: no version number, loaded (%s)\n",
		    info.dli_fname);
	else
		fputs("iniparser: no version number\n", out);
}

/* The directory of each module, once when they share it. */
static void
module_dir_line(FILE *out)
{
	char tls[PATH_MAX + 64], sasl[PATH_MAX + 64];
	char *a, *b;

	tlsmod_path(TLSMOD_TLS_NAME, tls, sizeof(tls));
	tlsmod_path(TLSMOD_SASL_NAME, sasl, sizeof(sasl));
	a = strrchr(tls, '/');
	b = strrchr(sasl, '/');
	if (a != NULL)
		*a = '\0';
	if (b != NULL)
		*b = '\0';
	if (strcmp(tls, sasl) == 0)
		fprintf(out, "module directory: %s\n", tls);
	else
		fprintf(out, "module directory: %s (%s), %s (%s)\n", tls,
		    TLSMOD_TLS_NAME, sasl, TLSMOD_SASL_NAME);
}

/* The file a run with these options would read (delivery.c's choice). */
static void
config_line(const struct options *opts, FILE *out)
{
	struct error err;
	char *path = NULL;
	bool system = false;

	error_clear(&err);
	if (override_replaces_config(opts)) {
		fputs("configuration: none (--host: the command line has every "
		      "setting)\n",
		    out);
		return;
	}
	if (config_locate(opts->config_file, &path, &system, &err) == -1 ||
	    sysmode_config_chosen(system, &err) == -1)
		fprintf(out, "configuration: none: %s\n", err.message);
	else
		fprintf(out, "configuration: %s%s\n", path,
		    system ? " (the system file)" : "");
	free(path);
}

int
version_run(const struct options *opts, FILE *out)
{
	const struct tls_module *tls;
	const struct sasl_module *sasl;
	struct error terr, serr;
	int code = EX_OK;

	error_clear(&terr);
	error_clear(&serr);
	fprintf(out, "mailsub %s\n", PACKAGE_VERSION);
	tls = tlsmod_tls(&terr);
	sasl = tlsmod_sasl(&serr);
	if (module_line(out, "GnuTLS", TLSMOD_TLS_NAME,
		tls != NULL ? tls->versions : NULL, &terr) == -1)
		code = EX_SOFTWARE;
	if (module_line(out, "libgsasl", TLSMOD_SASL_NAME,
		sasl != NULL ? sasl->versions : NULL, &serr) == -1)
		code = EX_SOFTWARE;
	iniparser_line(out);
	magic_line(out);
	module_dir_line(out);
	config_line(opts, out);
	fflush(out);
	return code;
}
