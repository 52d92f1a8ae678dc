/* SPDX-License-Identifier: ISC */
/*
 * The table of SASL mechanisms and whether an account authenticates
 * (sasl_mechs.h).  Part of the binary; the SASL module reads the same
 * table through it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <strings.h>

#include "account.h"
#include "sasl_mechs.h"

/* RFC 7677, 5802, 4616, the LOGIN draft, RFC 2195, Google's XOAUTH2,
 * RFC 7628, 4752 and 4422 appendix A. */
const struct sasl_mech sasl_mechs[] = {
    {"SCRAM-SHA-256-PLUS",
	SASL_MECH_PASSWORD | SASL_MECH_PLUS | SASL_MECH_CLIENT_FIRST},
    {"SCRAM-SHA-256", SASL_MECH_PASSWORD | SASL_MECH_CLIENT_FIRST},
    {"SCRAM-SHA-1-PLUS",
	SASL_MECH_PASSWORD | SASL_MECH_PLUS | SASL_MECH_CLIENT_FIRST},
    {"SCRAM-SHA-1", SASL_MECH_PASSWORD | SASL_MECH_CLIENT_FIRST},
    {"PLAIN", SASL_MECH_PASSWORD | SASL_MECH_CLIENT_FIRST},
    {"LOGIN", SASL_MECH_PASSWORD},
    {"CRAM-MD5", SASL_MECH_PASSWORD},
    {"XOAUTH2", SASL_MECH_PASSWORD | SASL_MECH_TOKEN | SASL_MECH_CLIENT_FIRST |
		    SASL_MECH_EXPLICIT},
    {"OAUTHBEARER", SASL_MECH_PASSWORD | SASL_MECH_TOKEN |
			SASL_MECH_CLIENT_FIRST | SASL_MECH_EXPLICIT},
    {"GSSAPI", SASL_MECH_CLIENT_FIRST | SASL_MECH_EXPLICIT | SASL_MECH_NO_USER},
    {"EXTERNAL", SASL_MECH_CLIENT_FIRST | SASL_MECH_EXPLICIT | SASL_MECH_CERT |
		     SASL_MECH_NO_USER},
    {NULL, 0},
};

const struct sasl_mech *
sasl_mech_find(const char *name)
{
	const struct sasl_mech *m;

	for (m = sasl_mechs; m->name != NULL; m++)
		if (strcasecmp(m->name, name) == 0)
			return m;
	return NULL;
}

size_t
sasl_mech_count(void)
{
	size_t n = 0;

	while (sasl_mechs[n].name != NULL)
		n++;
	return n;
}

void
sasl_mech_names(char *out, size_t size)
{
	const struct sasl_mech *m;
	size_t used = 0;
	int n;

	if (size == 0)
		return;
	out[0] = '\0';
	for (m = sasl_mechs; m->name != NULL && used < size; m++) {
		n = snprintf(out + used, size - used, "%s%s",
		    m == sasl_mechs ? "" : ", ", m->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

bool
sasl_auth_needed(const struct account *acct)
{
	switch (acct->auth) {
	case ACCOUNT_AUTH_ON:
	case ACCOUNT_AUTH_LIST:
		return true;
	case ACCOUNT_AUTH_DEFAULT:
		return acct->user != NULL && acct->user[0] != '\0';
	case ACCOUNT_AUTH_OFF:
		break;
	}
	return false;
}
