/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: the configuration loader.  inilint_scan on the text, then
 * config_load on a private file holding it (mode 0600, so the permission
 * checks pass and the parser proper is reached), and account choice.
 * config_load runs no command and reads no other file.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "fuzz.h"
#include "inilint.h"

static char dir[] = "/tmp/mailsub-fuzz-config.XXXXXX";

static void
remove_dir(void)
{
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool have_dir;
	struct inilint lint;
	struct config *cfg = NULL;
	const struct account *acct;
	struct error err;
	char path[64];
	FILE *f;
	int fd;

	memset(&lint, 0, sizeof(lint));
	error_clear(&err);
	(void)inilint_scan((const char *)data, size, &lint, &err);
	inilint_free(&lint);

	/* A harness that cannot write its file tests nothing: stop, do not
	 * pass. */
	if (!have_dir) {
		if (mkdtemp(dir) == NULL) {
			perror("fuzz_config: mkdtemp");
			abort();
		}
		have_dir = true;
		atexit(remove_dir);
	}
	snprintf(path, sizeof(path), "%s/config.ini", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f = fd != -1 ? fdopen(fd, "wb") : NULL;
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}
	error_clear(&err);
	if (config_load(path, false, &cfg, &err) == 0) {
		error_clear(&err);
		(void)config_select(
		    cfg, NULL, "someone@example.org", &acct, &err);
		config_free(cfg);
	}
	unlink(path);
	return 0;
}
