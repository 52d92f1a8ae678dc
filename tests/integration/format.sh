#!/bin/sh
# SPDX-License-Identifier: ISC
# .clang-format is applied (HACKING.md, how we write code): every C file of
# src/, tests/ and bench/ is as clang-format writes it.
. "$SRCDIR/tests/lib.sh"
t_init format
CF=${CLANG_FORMAT:-clang-format}
command -v "$CF" >/dev/null 2>&1 || t_skip_all "no clang-format"
bad=
n=0
for f in "$SRCDIR"/src/*.c "$SRCDIR"/src/*/*.[ch] "$SRCDIR"/tests/unit/*.[ch] \
    "$SRCDIR"/tests/fuzz/*.[ch] "$SRCDIR"/bench/lib/*.c; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$CF" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 ||
	    bad="$bad ${f#"$SRCDIR"/}"
done
[ "$n" -gt 50 ] || t_err "only $n C files found below $SRCDIR"
[ -z "$bad" ] || t_err "not as clang-format writes them (clang-format -i):$bad"
t_result ".clang-format applied to all $n C files"
t_summary
