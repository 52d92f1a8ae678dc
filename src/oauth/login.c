/* SPDX-License-Identifier: ISC */
/*
 * --oauth2-login (login.h): the account, then oauth_login().
 */
#include "autoconfig.h"

#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "delivery.h"
#include "error.h"
#include "login.h"
#include "oauth.h"

int
login_run(const struct options *opts, FILE *out, struct error *err)
{
	const struct account *acct;
	struct config *cfg = NULL;
	enum oauth_login_mode mode = OAUTH_LOGIN_LOOPBACK;
	int rc = -1;

	if (opts->oauth2_paste)
		mode = OAUTH_LOGIN_PASTE;
	else if (opts->oauth2_device)
		mode = OAUTH_LOGIN_DEVICE;
	if (delivery_load_config(opts, &cfg, err) == -1)
		return -1;
	if (config_select(cfg, opts->mode_argument, NULL, &acct, err) == 0 &&
	    config_check_account_files(acct, err) == 0)
		rc = oauth_login(acct, mode, out, STDIN_FILENO, err);
	if (fflush(out) == EOF && rc == 0)
		rc = error_set(err, EX_IOERR, "cannot write to the output");
	config_free(cfg);
	return rc;
}
