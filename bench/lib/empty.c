/* SPDX-License-Identifier: ISC */
/* The start-up floor for bench/run: nothing but the dynamic loading of the
 * libraries it is linked with (GnuTLS and libgsasl). */
int
main(void)
{
	return 0;
}
