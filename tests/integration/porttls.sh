#!/bin/sh
# SPDX-License-Identifier: ISC
# A port and a TLS mode that do not match (mailsub.conf(5), tls): port 465
# with tls = starttls or off waits for a greeting an implicit-TLS server
# never sends, and port 587 with tls = on meets a plain "220" where a TLS
# record belongs.  On those ports it is a configuration error: 78 at once
# (timeout = 2), the message in failed/, the error naming the fix; on any
# other port the same failures keep their usual codes with a hint.
# --check-config warns about both without connecting.
#
# Ports 465 and 587 are bound in a network namespace of the test's own
# (unshare -n, root), never on the host.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init porttls
need_mailsub
need_cmd certtool
"$PYTHON3" -c 'import ssl' 2>/dev/null || t_skip_all "$PYTHON3 without ssl"

PKI=$T/pki
if ! sh "$SRCDIR/tests/pki.sh" "$PKI" >"$T/pki.log" 2>&1; then
	cat "$T/pki.log"
	echo "FAIL pki.sh"
	exit 1
fi
printf 'Subject: port and tls\n\nbody\n' >"$T/msg.eml"
TLSARGS="--tls-cert $PKI/server.crt --tls-key $PKI/server.key"

# account NAME PORT TLS: $T/NAME.ini, queue $T/q-NAME (sets Q)
account()
{
	Q=$T/q-$3-$1
	rm -rf "$Q"
	SRV_PORT=$2
	mk_config "$T/$1.ini" "tls = $3" "timeout = 2" "connect_timeout = 2" \
	    "tls_trust_file = $PKI/ca.crt" "queue_dir = $Q"
}

# in_netns PORT SERVER-ARGS...: in a network namespace of its own, a sink
# on 127.0.0.1:PORT, then mailsub -C $T/case.ini; RC, $T/stdout and
# $T/stderr as run_mailsub leaves them.
in_netns()
{
	port=$1
	shift
	rm -f "$T/ns.port" "$T/ns.rc"
	timeout -k 5 60 unshare -n sh -c '
		T=$1 PY=$2 SRV=$3 MS=$4 port=$5
		shift 5
		ip link set lo up || exit 99
		"$PY" "$SRV" --sink --record "$T/ns.rec" --port "$port" \
		    --portfile "$T/ns.port" "$@" >/dev/null 2>"$T/ns.err" &
		pid=$!
		i=0
		while [ ! -s "$T/ns.port" ] && [ $i -lt 200 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		"$MS" -C "$T/case.ini" rcpt@example.org <"$T/msg.eml" \
		    >"$T/stdout" 2>"$T/stderr"
		echo $? >"$T/ns.rc"
		kill "$pid"
		wait "$pid"
		exit 0' sh "$T" "$PYTHON3" "$SMTPSERVER" "$MAILSUB" "$port" "$@"
	RC=$(cat "$T/ns.rc" 2>/dev/null || echo none)
}

# ---- --check-config, no connection ---------------------------------------
account c465 465 starttls
run_mailsub /dev/null -C "$T/c465.ini" --check-config
expect_exit 78
grep -q "^warning: $T/c465.ini:[0-9]*: \\[test\\]: port 465 speaks TLS from the first byte: set tls = on" \
    "$T/stdout" || t_err "no warning: $(cat "$T/stdout")"
account c587 587 on
run_mailsub /dev/null -C "$T/c587.ini" --check-config
expect_exit 78
grep -q "^warning: .*\\[test\\]: port 587 speaks plain SMTP first: set tls = starttls" \
    "$T/stdout" || t_err "no warning: $(cat "$T/stdout")"
t_result "--check-config: 465 with starttls, 587 with on -> warnings, 78"

# ---- ports 465 and 587 in a namespace ------------------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    command -v ip >/dev/null 2>&1 &&
    unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
	for mode in starttls off; do
		account ns465 465 $mode
		cp "$T/ns465.ini" "$T/case.ini"
		start=$(date +%s)
		# shellcheck disable=SC2086
		in_netns 465 $TLSARGS --implicit-tls
		took=$(($(date +%s) - start))
		expect_exit 78 &&
		    expect_stderr "127\\.0\\.0\\.1:465: greeting: .*timed out.*; port 465 speaks TLS from the first byte: set tls = on" &&
		    expect_where failed "$Q" &&
		    expect_queued_message "$QFILE" "$T/msg.eml"
		[ "$took" -le 15 ] || t_err "took $took s with timeout = 2"
		t_result "port 465, tls = $mode: no greeting -> 78, failed/, set tls = on"
	done

	account ns587 587 on
	cp "$T/ns587.ini" "$T/case.ini"
	in_netns 587
	expect_exit 78 &&
	    expect_stderr "127\\.0\\.0\\.1:587: TLS: TLS handshake failed: .*: the server speaks plain SMTP first: set tls = starttls" &&
	    expect_where failed "$Q"
	t_result "port 587, tls = on: plain SMTP first -> 78, failed/, set tls = starttls"
else
	t_skip "ports 465 and 587" "needs root, unshare -n and ip"
fi

# ---- any other port: the usual codes, with the hint where it helps -------
server_start implicit --sink --record "$T/implicit.rec" $TLSARGS \
    --implicit-tls
account other-implicit "$SRV_PORT" starttls
run_mailsub "$T/msg.eml" -C "$T/other-implicit.ini" rcpt@example.org
expect_exit 75 && expect_stderr 'greeting: .*timed out' &&
    expect_where new "$Q"
grep -q 'set tls = on' "$T/stderr" && t_err "a port 465 hint on port $SRV_PORT"
server_stop "$SRV_PID"
t_result "another port, implicit TLS server, tls = starttls -> 75 (no port rule)"

server_start plain --sink --record "$T/plain.rec"
account other-plain "$SRV_PORT" on
run_mailsub "$T/msg.eml" -C "$T/other-plain.ini" rcpt@example.org
expect_exit 69 &&
    expect_stderr 'TLS: TLS handshake failed: .*: the server probably speaks plain SMTP first: then set tls = starttls' &&
    expect_where failed "$Q"
server_stop "$SRV_PID"
t_result "another port, plain server, tls = on -> 69 naming the likely cause"

t_summary
