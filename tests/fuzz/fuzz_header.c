/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: the header block (header_process) as -t, From fixing,
 * Bcc removal and the missing headers see it.  The input is the block
 * ('\n'-separated lines, no CR, as message.c hands it over).
 */
#include "autoconfig.h"

#include <string.h>

#include "account.h"
#include "address.h"
#include "error.h"
#include "fuzz.h"
#include "header.h"
#include "message.h"

static int
put_line(void *arg, const char *line, size_t len)
{
	size_t *total = arg;

	/* What message.c does with each line: it must stay one line. */
	if (memchr(line, '\n', len) != NULL)
		__builtin_trap();
	*total += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char domain[] = "example.org";
	struct message_options mo;
	struct header_status st;
	struct account acct;
	struct message m;
	struct error err;
	size_t total = 0;

	if (size > MESSAGE_HEADER_MAX)
		return 0;
	memset(&acct, 0, sizeof(acct));
	acct.add_headers = true;
	acct.default_domain = domain;
	/* Both rewriting modes, chosen by the input. */
	acct.from_header =
	    size > 0 && (data[0] & 1) ? ACCOUNT_FROM_FORCE : ACCOUNT_FROM_FIX;
	memset(&mo, 0, sizeof(mo));
	mo.read_recipients = true;
	mo.envelope_from = "sender@example.org";
	mo.full_name = "Fuzz Tester";
	mo.hostname = "host.example.org";
	mo.acct = &acct;
	message_init(&m);
	memset(&st, 0, sizeof(st));
	error_clear(&err);
	(void)header_process(
	    (const char *)data, size, &mo, put_line, &total, &m, &st, &err);
	message_free(&m);
	return 0;
}
