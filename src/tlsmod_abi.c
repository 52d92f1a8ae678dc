/*
 * Built into the TLS module only: what tlsmod.c checks before it trusts
 * the module (see tlsmod.h).
 */
#include "autoconfig.h"

#include "tlsmod.h"

unsigned long
tlsmod_abi(void)
{
	return TLSMOD_ABI;
}

const char *
tlsmod_version(void)
{
	return PACKAGE_VERSION;
}
