#!/bin/sh
# SPDX-License-Identifier: ISC
# Relay failover: `host = a, b` is tried in order on a refused
# connection, a 421 or other 4xx greeting, and a TLS handshake failure,
# each attempt named in -v and the error; a permanent refusal (5xx
# greeting, 5xx to MAIL) is not retried on the next relay; every address a
# name resolves to (IPv6 and IPv4) is tried in turn.  Two servers share one
# port on two loopback addresses: 127.0.0.2 (the first relay, misbehaving)
# and 127.0.0.1 (the second, a sink).
. "$SRCDIR/tests/lib.sh"
t_init failover
need_mailsub

Q=$T/queue
reset_queue() { rm -rf "$Q" "$T/log"; }
msg=$T/msg.txt
printf 'From: a@example.org\nTo: b@example.org\nSubject: f\n\nfailover\n' >"$msg"

sink_count()
{
	n=0
	for f in "$1"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# first_server NAME SCENARIO-LINES: a scenario server on 127.0.0.2 and the
# sink's port, playing the lines for one connection.
first_server()
{
	printf 'exit 0\nwhere none\n%s\n' "$2" >"$T/$1.scn"
	server_start "$1" --scenario "$T/$1.scn" --record "$T/$1.rec" --once \
	    --bind 127.0.0.2 --port "$PORT"
}

mkdir -p "$T/sink.rec"
server_start sink --sink --record "$T/sink.rec"
SINK_PID=$SRV_PID
PORT=$SRV_PORT
mk_config "$T/two.ini" "host = 127.0.0.2, 127.0.0.1" "logfile = $T/log" \
    connect_timeout=5 timeout=5

# A refused connection: the next host takes it; -v names both attempts.
reset_queue
before=$(sink_count "$T/sink.rec")
run_mailsub "$msg" -C "$T/two.ini" -v b@example.org
expect_exit 0 && expect_where none "$Q"
expect_stderr "connecting to 127\.0\.0\.2:$PORT" &&
    expect_stderr "127\.0\.0\.2:$PORT: connect: .*trying the next host" &&
    expect_stderr "connecting to 127\.0\.0\.1:$PORT"
[ "$(sink_count "$T/sink.rec")" = $((before + 1)) ] || t_err "not delivered"
t_result "refused connection fails over"

# 421 greeting.
reset_queue
mkdir -p "$T/g421.rec"
first_server g421 'S: 421 4.3.2 too busy
end'
g=$SRV_PID
run_mailsub "$msg" -C "$T/two.ini" -v b@example.org
expect_exit 0 && expect_where none "$Q" &&
    expect_stderr "127\.0\.0\.2:$PORT: greeting: 421 4\.3\.2 too busy.*trying the next host"
wait_pid "$g" 10 || t_err "first server still running"
server_stop "$g"
[ -f "$T/g421.rec/result-1.json" ] || t_err "first host not tried"
t_result "421 greeting fails over"

# Another 4xx greeting: QUIT, then the next host.
reset_queue
mkdir -p "$T/g450.rec"
first_server g450 'S: 450 4.3.2 try later
C: QUIT
S: 221 bye
end'
g=$SRV_PID
run_mailsub "$msg" -C "$T/two.ini" b@example.org
expect_exit 0 && expect_where none "$Q"
wait_pid "$g" 10 || t_err "first server still running"
server_stop "$g"
"$PYTHON3" "$SCN" result-check "$T/g450.rec/result-1.json" "$msg" \
    >"$T/why" 2>&1 || t_err "first server: $(cat "$T/why")"
t_result "4xx greeting fails over"

# A permanent refusal at the greeting: no second relay, failed/.
reset_queue
mkdir -p "$T/g554.rec"
first_server g554 'S: 554 5.7.1 no service for you
C: QUIT
S: 221 bye
end'
g=$SRV_PID
before=$(sink_count "$T/sink.rec")
run_mailsub "$msg" -C "$T/two.ini" b@example.org
expect_exit 69 &&
    expect_stderr "^mailsub: test: 127\.0\.0\.2:$PORT: greeting: 554 5\.7\.1 no service" &&
    expect_where failed "$Q" && expect_queued_message "$QFILE" "$msg"
[ "$(sink_count "$T/sink.rec")" = "$before" ] || t_err "second relay was used"
wait_pid "$g" 10 || t_err "first server still running"
server_stop "$g"
"$PYTHON3" "$SCN" result-check "$T/g554.rec/result-1.json" "$msg" \
    >"$T/why" 2>&1 || t_err "first server: $(cat "$T/why")"
t_result "5xx greeting is not retried elsewhere"

# A permanent refusal to MAIL on the first relay: not retried either.
reset_queue
mkdir -p "$T/m553.rec"
first_server m553 'S: 220 first ESMTP
C: EHLO *
S: 250 first
C: MAIL FROM:<sender@example.org>
S: 553 5.7.1 sender rejected
C: QUIT
S: 221 bye
end'
g=$SRV_PID
before=$(sink_count "$T/sink.rec")
run_mailsub "$msg" -C "$T/two.ini" b@example.org
expect_exit 69 && expect_stderr "127\.0\.0\.2:$PORT: MAIL FROM:<sender@example\.org>: 553" &&
    expect_where failed "$Q"
[ "$(sink_count "$T/sink.rec")" = "$before" ] || t_err "second relay was used"
wait_pid "$g" 10 || t_err "first server still running"
server_stop "$g"
"$PYTHON3" "$SCN" result-check "$T/m553.rec/result-1.json" "$msg" \
    >"$T/why" 2>&1 || t_err "first server: $(cat "$T/why")"
t_result "5xx to MAIL is not retried elsewhere"

# Every host down: 75, queued; the line names the last host first, then
# the earlier ones; the log record too.
reset_queue
dead=$(free_port)
mk_config "$T/dead.ini" "host = 127.0.0.2, 127.0.0.3" port="$dead" \
    "logfile = $T/log" connect_timeout=5
run_mailsub "$msg" -C "$T/dead.ini" b@example.org
expect_exit 75 &&
    expect_stderr "^mailsub: test: 127\.0\.0\.3:$dead: connect: .*\(after 127\.0\.0\.2:$dead: connect: " &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
grep -q "after 127\.0\.0\.2:$dead" "$T/log" || t_err "log: $(cat "$T/log")"
t_result "all hosts down: queued, every attempt named"

# A flush fails over too, and its log record names the failed host.
reset_queue
"$MAILSUB" -C "$T/two.ini" -odq b@example.org <"$msg" || t_err "-odq"
run_mailsub /dev/null -C "$T/two.ini" -q
expect_exit 0 && expect_where none "$Q"
grep -q "status=sent.*after 127\.0\.0\.2:$PORT: connect" "$T/log" ||
    t_err "log: $(cat "$T/log")"
t_result "flush fails over and logs the attempt"

# A TLS handshake failure (the certificate does not name 127.0.0.2).
if command -v certtool >/dev/null 2>&1 &&
    "$PYTHON3" -c 'import ssl' 2>/dev/null; then
	sh "$SRCDIR/tests/pki.sh" "$T/pki" >"$T/pki.log" 2>&1 ||
	    t_err "pki.sh: $(tail -n 3 "$T/pki.log")"
	mkdir -p "$T/tls1.rec" "$T/tls2.rec"
	server_start tls2 --sink --record "$T/tls2.rec" --implicit-tls \
	    --tls-cert "$T/pki/server.crt" --tls-key "$T/pki/server.key"
	tls2=$SRV_PID
	TPORT=$SRV_PORT
	server_start tls1 --sink --record "$T/tls1.rec" --implicit-tls \
	    --tls-cert "$T/pki/server.crt" --tls-key "$T/pki/server.key" \
	    --bind 127.0.0.2 --port "$TPORT"
	tls1=$SRV_PID
	SRV_PORT=$TPORT mk_config "$T/tls.ini" "host = 127.0.0.2, 127.0.0.1" \
	    tls=on "tls_trust_file = $T/pki/ca.crt" connect_timeout=5 timeout=5
	reset_queue
	run_mailsub "$msg" -C "$T/tls.ini" -v b@example.org
	expect_exit 0 && expect_where none "$Q" &&
	    expect_stderr "127\.0\.0\.2:$TPORT: TLS: .*trying the next host"
	[ "$(sink_count "$T/tls2.rec")" = 1 ] || t_err "second relay got nothing"
	[ "$(sink_count "$T/tls1.rec")" = 0 ] || t_err "first relay got it"
	t_result "TLS handshake failure fails over"
	server_stop "$tls1"
	server_stop "$tls2"
else
	t_skip "TLS handshake failure fails over" "certtool or Python ssl missing"
fi

# Every address of a name: dual.test is ::1 and 127.0.0.1 (a private
# /etc/hosts in a mount namespace); one of them refuses, the other takes
# it, whichever order the resolver returns them in.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null &&
    "$PYTHON3" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	printf '::1 dual.test\n127.0.0.1 dual.test\n' >"$T/hosts"
	printf 'hosts: files\n' >"$T/nsswitch.conf"
	mkdir -p "$T/v6.rec"
	server_start v6 --sink --record "$T/v6.rec" --bind ::1
	v6=$SRV_PID
	for target in v4 v6; do
		if [ $target = v4 ]; then
			p=$PORT
		else
			p=$(cat "$T/v6.port")
		fi
		SRV_PORT=$p mk_config "$T/dual.ini" host=dual.test \
		    connect_timeout=5 timeout=5
		reset_queue
		unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
		    mount --bind "$2" /etc/nsswitch.conf && shift 2 &&
		    exec "$@"' sh "$T/hosts" "$T/nsswitch.conf" \
		    "$MAILSUB" -C "$T/dual.ini" b@example.org <"$msg" \
		    >"$T/stdout" 2>"$T/stderr"
		RC=$?
		expect_exit 0 && expect_where none "$Q"
		t_result "a name's $target address is reached"
	done
	[ "$(sink_count "$T/v6.rec")" = 1 ] || t_err "the ::1 sink got nothing"
	t_result "IPv6 and IPv4 addresses tried in turn"
	server_stop "$v6"
else
	t_skip "IPv6 and IPv4 addresses tried in turn" \
	    "needs root, unshare -m and ::1"
fi

server_stop "$SINK_PID"
t_summary
