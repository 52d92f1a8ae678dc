/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness: the EHLO capability parser (smtp_parse_ehlo) on the text
 * of a reply, and the AUTH mechanism lookup on what it found.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_caps caps;
	char *text;

	/* The reply text is a C string (smtp_read_reply joins the lines). */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&caps, 0, sizeof(caps));
	smtp_parse_ehlo(text, &caps);
	(void)smtp_caps_has_auth(&caps, "PLAIN");
	(void)smtp_caps_has_auth(&caps, "SCRAM-SHA-256-PLUS");
	(void)smtp_caps_has_auth(&caps, "");
	free(text);
	return 0;
}
