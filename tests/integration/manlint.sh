#!/bin/sh
# SPDX-License-Identifier: ISC
# The man pages must lint clean (warnings and worse; style notes are
# informational).
status=0
for page in "$SRCDIR"/man/mailsub.1 "$SRCDIR"/man/mailsub.conf.5; do
	if mandoc -Tlint -W warning "$page"; then
		echo "ok $(basename "$page")"
	else
		echo "FAIL $(basename "$page")"
		status=1
	fi
done
exit $status
