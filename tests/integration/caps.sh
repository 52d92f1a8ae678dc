#!/bin/sh
# SPDX-License-Identifier: ISC
# One place lists every cap (HACKING.md, Every cap): each *_MAX that src/
# defines has its line there, so a new limit cannot hide in its file.
. "$SRCDIR/tests/lib.sh"
t_init caps
H=$SRCDIR/HACKING.md
[ -f "$H" ] || t_fatal "no HACKING.md in $SRCDIR"
names=$(cat "$SRCDIR"/src/*.[ch] "$SRCDIR"/src/*/*.[ch] 2>/dev/null |
    sed -n 's/^#define[[:space:]]*\([A-Z0-9_]*_MAX\)\b.*/\1/p' | sort -u)
n=0
missing=
for c in $names; do
	n=$((n + 1))
	grep -q "^| \`$c[\`(]" "$H" || missing="$missing $c"
done
[ "$n" -gt 50 ] || t_err "only $n caps found below $SRCDIR/src"
[ -z "$missing" ] || t_err "caps missing from HACKING.md, Every cap:$missing"
t_result "HACKING.md lists all $n caps of src/"
t_summary
