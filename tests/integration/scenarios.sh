#!/bin/sh
# SPDX-License-Identifier: ISC
# Socket level of the scenario files (tests/scenarios/README): for every
# *.scn whose level is not "unit", tests/smtpserver.py plays the dialogue on
# 127.0.0.1 and the real mailsub binary talks to it.  Checked: the exit
# code, the stderr regex, where the message is (queue_dir/new, failed/ or
# nowhere), that a kept message is the input in wire form after the headers
# mailsub adds, that the server played the whole script, and that every
# message it received has the input's body (wire form for DATA, CRLF lines
# for BDAT).
#
# Scenario config values may say @PKI@ for the directory of the test
# certificates (tests/pki.sh), e.g. `config tls_trust_file = @PKI@/other-ca.crt`.
# The server presents @PKI@/server.crt unless the scenario says
# `cert NAME`; accounts with TLS trust @PKI@/ca.crt unless the scenario sets
# tls_trust_file itself.  `tls = on` makes the server use implicit TLS.
#
# SCENARIOS="name1 name2" limits the run to those files.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init scenarios
need_mailsub
need_cmd certtool
"$PYTHON3" -c 'import ssl' 2>/dev/null || t_skip_all "$PYTHON3 without ssl"

PKI=$T/pki
if ! sh "$SRCDIR/tests/pki.sh" "$PKI" >"$T/pki.log" 2>&1; then
	cat "$T/pki.log"
	echo "FAIL pki.sh"
	exit 1
fi
"$PYTHON3" "$SCN" default-message >"$T/default.eml"

# One scenario, run in a subshell with its own directory as $T (so the
# stdout/stderr files of run_mailsub are its own); prints its result line.
run_one()
{
	f=$1
	d=$2
	if ! vars=$("$PYTHON3" "$SCN" shell "$f" 2>"$d/parse.err"); then
		t_err "does not parse: $(cat "$d/parse.err")"
		t_result "$(basename "$f" .scn)"
		return
	fi
	eval "$vars"
	if [ "$SCN_LEVEL" = unit ]; then
		: >"$d/unit-only"
		return
	fi
	T=$d
	mkdir -p "$d/rec"
	cert=${SCN_CERT:-server}
	if [ ! -f "$PKI/$cert.crt" ]; then
		t_err "cert $cert: no such certificate in tests/pki.sh"
		t_result "$SCN_NAME"
		return
	fi
	implicit=
	case $SCN_TLS in
	on) implicit=--implicit-tls ;;
	esac
	if ! server_start "srv-$SCN_NAME" --scenario "$f" --record "$d/rec" \
	    --once --tls-cert "$PKI/$cert.crt" --tls-key "$PKI/$cert.key" \
	    $implicit; then
		t_err "smtpserver.py did not start: $(tail -n 3 "$T/srv-$SCN_NAME.err")"
		t_result "$SCN_NAME"
		return
	fi
	pid=$SRV_PID

	# The account: the defaults of lib.sh, a trust file for TLS, then the
	# scenario's own keys (which win).
	trust=
	if [ "$SCN_TLS" != off ]; then
		case $(printf '%s' "$SCN_CONFIG" | tr 'A-Z' 'a-z') in
		*tls_trust_file*) ;;
		*) trust="tls_trust_file = $PKI/ca.crt" ;;
		esac
	fi
	printf '%s' "$SCN_CONFIG" | sed "s|@PKI@|$PKI|g" >"$d/config.keys"
	mk_config "$d/config" "queue_dir = $d/queue" "$trust" - \
	    <"$d/config.keys"

	input=$DEFAULT_MSG
	[ -z "$SCN_MESSAGE" ] || input=$SCN_MESSAGE
	if [ "$SCN_ARGS_HAVE_F" = 1 ]; then
		eval "run_mailsub \"\$input\" -C \"\$d/config\" $SCN_ARGS $SCN_RCPTS"
	else
		eval "run_mailsub \"\$input\" -C \"\$d/config\" -f \"\$SCN_FROM\" $SCN_ARGS $SCN_RCPTS"
	fi

	expect_exit "$SCN_EXIT"
	if [ "$SCN_HAS_STDERR" = 1 ]; then
		expect_stderr "$SCN_STDERR"
	fi
	if expect_where "$SCN_WHERE" "$d/queue" && [ -n "$QFILE" ]; then
		expect_queued_message "$QFILE" "$input"
	fi

	# The server side: it exits by itself after the one connection
	# (--once); with no dialogue there must have been no connection.
	if [ "$SCN_STEPS" = 0 ]; then
		server_stop "$pid"
		if [ -f "$d/rec/result-1.json" ]; then
			t_err "mailsub connected, but the scenario has no dialogue"
		fi
	else
		if ! wait_pid "$pid" 40; then
			t_err "server still playing 40 s after mailsub exited"
		fi
		server_stop "$pid"
		if [ ! -f "$d/rec/result-1.json" ]; then
			t_err "mailsub never connected to the server"
		elif ! why=$("$PYTHON3" "$SCN" result-check \
		    "$d/rec/result-1.json" "$input"); then
			t_err "server: $why"
		fi
	fi
	t_result "$SCN_NAME"
}

# Scenarios spend most of their time waiting (timeouts, delays, a Python
# server starting), so a few run at once.
DEFAULT_MSG=$T/default.eml
jobs=${SCENARIO_JOBS:-4}
found=0
running=0
names=
for f in "$SCENARIO_DIR"/*.scn; do
	[ -f "$f" ] || continue
	base=$(basename "$f" .scn)
	if [ -n "${SCENARIOS:-}" ]; then
		case " $SCENARIOS " in
		*" $base "*) ;;
		*) continue ;;
		esac
	fi
	found=$((found + 1))
	names="$names $base"
	mkdir -p "$T/s-$base"
	(run_one "$f" "$T/s-$base" >"$T/s-$base/result" 2>&1) &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
# Every socket-level scenario prints one result line; one that printed
# none (its subshell died) or an "ok" beside a FAIL has failed.
for base in $names; do
	r=$T/s-$base/result
	[ -f "$T/s-$base/unit-only" ] && continue
	if [ ! -s "$r" ]; then
		echo "FAIL $base: no result (the case ended early)"
		T_FAIL=$((T_FAIL + 1))
		continue
	fi
	cat "$r"
	if grep -q '^ok ' "$r" && ! grep -q '^FAIL' "$r"; then
		T_PASS=$((T_PASS + 1))
	else
		T_FAIL=$((T_FAIL + 1))
	fi
done

if [ "$found" = 0 ]; then
	t_skip_all "no scenario files in $SCENARIO_DIR"
fi
t_summary
