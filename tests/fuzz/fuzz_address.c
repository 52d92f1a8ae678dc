/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: RFC 5322 address lists (address_parse_list) and the
 * envelope checks every parsed address then goes through.
 */
#include "autoconfig.h"

#include <string.h>

#include "address.h"
#include "error.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address_list l;
	struct error err;
	size_t i;

	address_list_init(&l);
	error_clear(&err);
	if (address_parse_list((const char *)data, size, &l, &err) == 0) {
		for (i = 0; i < l.n; i++) {
			struct error e;

			error_clear(&e);
			(void)address_check_envelope(l.addrs[i], &e);
			(void)address_is_bare(l.addrs[i]);
			(void)address_is_ascii(l.addrs[i]);
		}
	}
	address_list_free(&l);
	return 0;
}
