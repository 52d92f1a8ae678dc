#!/bin/sh
# SPDX-License-Identifier: ISC
# A bounded libFuzzer campaign over every harness in tests/fuzz/ (not part
# of make check, which only replays the corpora).
#
#   sh tests/fuzz/campaign.sh [SECONDS [HARNESS...]]
#
# SECONDS per harness (default 60); HARNESS names (config address header
# reply ehlo queue; default all).  Builds the sources with clang
# -fsanitize=fuzzer,address,undefined in $FUZZ_BUILD (default
# /tmp/mailsub-fuzz-build), fuzzes each harness starting from its corpus
# in tests/fuzz/corpus/NAME, and keeps what it finds in $FUZZ_WORK
# (default /tmp/mailsub-fuzz-work): NAME/crash-* (and leak-*, timeout-*)
# are the inputs to fix and then add to the corpus as regressions;
# NAME/corpus holds the new inputs.  MERGE=1 merges the new inputs that add
# coverage into tests/fuzz/corpus/NAME (libFuzzer -merge=1).  Exit 1 when
# anything crashed.
set -u
SECS=${1:-60}
[ $# -gt 0 ] && shift
HARNESSES=${*:-config address header reply ehlo queue}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${FUZZ_BUILD:-/tmp/mailsub-fuzz-build}
W=${FUZZ_WORK:-/tmp/mailsub-fuzz-work}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"

command -v "$CC" >/dev/null 2>&1 || { echo "campaign: $CC not found" >&2; exit 2; }
mkdir -p "$B" "$W" || exit 2
if [ ! -f "$B/Makefile" ]; then
	echo "campaign: configuring $B with $CC"
	(cd "$B" && CC=$CC CFLAGS="-g -O1 $SAN" "$SRC/configure" -q) || exit 2
fi
targets=
for h in $HARNESSES; do
	targets="$targets tests/fuzz/fuzz_$h"
done
# FUZZ_LIBFUZZER drops replay.c's main(): libFuzzer brings its own.
(cd "$B" && make -s -j2 libmailsub.a &&
    rm -f tests/fuzz/*-replay.o $targets &&
    make -s -j2 CPPFLAGS=-DFUZZ_LIBFUZZER \
	LDFLAGS="-fsanitize=fuzzer,address,undefined" $targets) || exit 2

# Leaks are reported but iniparser's and GnuTLS's own caches are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for h in $HARNESSES; do
	mkdir -p "$W/$h/corpus"
	echo "campaign: fuzz_$h for ${SECS}s"
	(cd "$W/$h" && "$B/tests/fuzz/fuzz_$h" -max_total_time="$SECS" \
	    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$W/$h/" "$W/$h/corpus" \
	    "$SRC/tests/fuzz/corpus/$h" >"$W/$h/fuzz.log" 2>&1)
	rc=$?
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
	    "$W/$h/fuzz.log" | sed "s/^/  /"
	found=$(ls "$W/$h" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
	if [ $rc -ne 0 ] || [ -n "$found" ]; then
		failed=1
		echo "  FOUND (exit $rc): $found; see $W/$h/fuzz.log"
	fi
	if [ "${MERGE:-0}" = 1 ]; then
		"$B/tests/fuzz/fuzz_$h" -merge=1 "$SRC/tests/fuzz/corpus/$h" \
		    "$W/$h/corpus" >"$W/$h/merge.log" 2>&1
	fi
done
exit $failed
