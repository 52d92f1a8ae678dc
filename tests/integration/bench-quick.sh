#!/bin/sh
# SPDX-License-Identifier: ISC
# bench/run --quick: the benchmark runs end to end against its own
# servers and writes its report, with no failed run.  Nothing about speed
# is checked here: timings belong in bench/RESULTS.md, never in a test.
. "$SRCDIR/tests/lib.sh"
t_init bench-quick
need_mailsub
need_cmd msmtp cc "$PYTHON3"
if [ ! -x /usr/sbin/smtp-sink ] && ! command -v smtp-sink >/dev/null 2>&1
then
	t_skip_all "smtp-sink (Debian package postfix) not installed"
fi

tls=
if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null 2>&1; then
	tls=--no-tls
fi
out=$T/RESULTS.md
# shellcheck disable=SC2086
sh "$SRCDIR/bench/run" --quick --no-install --mailsub "$MAILSUB" \
    --out "$out" $tls >"$T/bench.log" 2>&1
rc=$?
[ $rc = 0 ] || t_err "bench/run exited $rc"
[ -s "$out" ] || t_err "no report written"
t_result "bench/run --quick writes a report"

for s in S1 S4-100M-argv S4-100M-t S4-1G-argv S4-1G-t S5 S6; do
	grep -q "^### $s:" "$out" 2>/dev/null || t_err "no section $s"
done
if [ -z "$tls" ]; then
	for s in S2 S3 S7-PLAIN S7-SCRAM S4-100M-tls-argv S4-100M-tls-t \
	    S4-1G-tls-argv S4-1G-tls-t; do
		grep -q "^### $s:" "$out" 2>/dev/null || t_err "no section $s"
		grep -A3 "^### $s:" "$out" 2>/dev/null | grep -q '_skipped' &&
		    t_err "$s skipped"
	done
fi
grep -q '^## Targets' "$out" 2>/dev/null || t_err "no targets table"
grep -q '^## Throughput of large messages' "$out" 2>/dev/null ||
    t_err "no throughput table"
# esmtp, the second reference client, has its rows where it is installed.
if command -v esmtp >/dev/null 2>&1; then
	for s in S1 S4-100M-argv S5; do
		grep -A6 "^### $s:" "$out" 2>/dev/null | grep -q '^| esmtp |' ||
		    t_err "no esmtp row in $s"
	done
fi
grep -q '^## Floors' "$out" 2>/dev/null || t_err "no floors"
t_result "every scenario is reported"

# A run that failed is counted in the last column as "N (failed)".
if grep -Eq '\| [0-9]+ \([1-9][0-9]*\) \|$' "$out" 2>/dev/null; then
	t_err "failed runs: $(grep -E '\| [0-9]+ \([1-9][0-9]*\) \|$' "$out")"
fi
t_result "no client run failed"

if [ -n "$T_ERR" ] || [ $T_FAIL -gt 0 ]; then
	sed 's/^/#   /' "$T/bench.log" | tail -n 30
fi
t_summary
