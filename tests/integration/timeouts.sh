#!/bin/sh
# SPDX-License-Identifier: ISC
# Time bounds (mailsub(1), DESCRIPTION; tests/FAULTS.md 31): connect timeout, per-reply timeout,
# DATA progress, and the total deadline of a session (RELAY_DEADLINE_TIMEOUTS
# times the account's timeout), so a stalled or dripping server can never
# hang a cron job.  Each case asserts 75, the message queued byte for byte,
# the stderr line, and the wall time (with room for a loaded machine: make
# check runs the tests in parallel).
. "$SRCDIR/tests/lib.sh"
t_init timeouts
need_mailsub

Q=$T/queue
reset_queue() { rm -rf "$Q"; }
msg=$T/msg.txt
printf 'From: a@example.org\nTo: b@example.org\nSubject: t\n\nslow\n' >"$msg"

# timed_run INPUT ARGS...: run_mailsub, ELAPSED in whole seconds.
timed_run()
{
	t0=$(date +%s)
	run_mailsub "$@"
	ELAPSED=$(($(date +%s) - t0))
}

expect_elapsed()
{
	if [ "$ELAPSED" -lt "$1" ] || [ "$ELAPSED" -gt "$2" ]; then
		t_err "took ${ELAPSED}s, want $1..$2 s"
	fi
}

# Connect timeout: a listener whose backlog is full never completes the
# handshake.
"$PYTHON3" -c 'import socket, sys, time
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(0)
c = socket.socket()
c.connect(ls.getsockname())
open(sys.argv[1], "w").write("%d\n" % ls.getsockname()[1])
time.sleep(60)' "$T/full.port" &
full=$!
T_PIDS="$T_PIDS $full"
if wait_file "$T/full.port" 10 "$full"; then
	SRV_PORT=$(cat "$T/full.port") mk_config "$T/ct.ini" connect_timeout=2
	reset_queue
	timed_run "$msg" -C "$T/ct.ini" b@example.org
	expect_exit 75 && expect_stderr 'connect: .*timed out after 2 s' &&
	    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
	expect_elapsed 1 15
else
	t_err "the listener with a full backlog did not start"
fi
t_result "connect timeout"
server_stop "$full"

# Per-reply timeout: every reply comes 3 s late, the timeout is 1 s.
mkdir -p "$T/slow.rec"
server_start slow --sink --record "$T/slow.rec" --delay-ms 3000
slow=$SRV_PID
mk_config "$T/slow.ini" timeout=1
reset_queue
timed_run "$msg" -C "$T/slow.ini" b@example.org
expect_exit 75 && expect_stderr 'greeting: timed out after 1 s' &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
expect_elapsed 0 12
t_result "per-reply timeout"
server_stop "$slow"

# The same slow server within the timeout: delivered (the bound is per
# step, not a guess at the whole).
mkdir -p "$T/ok.rec"
server_start ok --sink --record "$T/ok.rec" --delay-ms 300
ok=$SRV_PID
mk_config "$T/ok.ini" timeout=2
reset_queue
timed_run "$msg" -C "$T/ok.ini" b@example.org
expect_exit 0 && expect_where none "$Q"
t_result "slow but in time"
server_stop "$ok"

# Total deadline: a reply that drips one continuation line every 0.4 s
# never trips the 1 s per-step timeout; the session's 10 x 1 s does.
{
	echo 'exit 75'
	echo 'where new'
	echo 'S: 220 drip ESMTP'
	echo 'C: EHLO *'
	i=0
	while [ $i -lt 100 ]; do
		echo "S: 250-drip line $i"
		echo '!delay 400'
		i=$((i + 1))
	done
	echo 'S: 250 done'
} >"$T/drip.scn"
mkdir -p "$T/drip.rec"
server_start drip --scenario "$T/drip.scn" --record "$T/drip.rec" --once
drip=$SRV_PID
mk_config "$T/drip.ini" timeout=1
reset_queue
timed_run "$msg" -C "$T/drip.ini" b@example.org
expect_exit 75 && expect_stderr 'EHLO: time limit of 10 s for the session exceeded' &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
expect_elapsed 9 25
t_result "total deadline cuts a dripping reply"
server_stop "$drip"

# DATA progress: the server stops reading after 354; the client's writes
# stall once the socket buffers are full.
"$PYTHON3" -c 'import sys
sys.stdout.write("Subject: big\n\n")
line = "x" * 76 + "\n"
for i in range(200000):
    sys.stdout.write(line)' >"$T/big.txt"
"$PYTHON3" -c 'import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(sys.argv[1], "w").write("%d\n" % ls.getsockname()[1])
ls.settimeout(30)
c, _ = ls.accept()
c.settimeout(30)
f = c.makefile("rb")
c.sendall(b"220 stall ESMTP\r\n")
for line in f:
    verb = line[:4].upper()
    if verb == b"DATA":
        c.sendall(b"354 go ahead\r\n")
        break
    c.sendall(b"250 ok\r\n")
time.sleep(30)' "$T/stall.port" &
stall=$!
T_PIDS="$T_PIDS $stall"
if wait_file "$T/stall.port" 10 "$stall"; then
	SRV_PORT=$(cat "$T/stall.port") mk_config "$T/stall.ini" timeout=2
	reset_queue
	timed_run "$T/big.txt" -C "$T/stall.ini" b@example.org
	expect_exit 75 && expect_stderr 'DATA: timed out after 2 s sending' &&
	    expect_where new "$Q" && expect_queued_message "$QFILE" "$T/big.txt"
	expect_elapsed 1 15
else
	t_err "the stalling listener did not start"
fi
t_result "DATA progress timeout"
server_stop "$stall"

# A flush of several messages against a stalling server ends too: the
# first message times out, the rest stay queued untried.
mkdir -p "$T/st2.rec"
cat >"$T/st2.scn" <<'EOF'
exit 75
where new
S: 220 stall ESMTP
C: EHLO *
S: 250 stall
!stall
EOF
server_start st2 --scenario "$T/st2.scn" --record "$T/st2.rec" --once \
    --stall-max 20
st2=$SRV_PID
mk_config "$T/st2.ini" timeout=1
reset_queue
for i in 1 2 3; do
	"$MAILSUB" -C "$T/st2.ini" -odq b@example.org <"$msg" || t_err "-odq"
done
timed_run /dev/null -C "$T/st2.ini" -q
expect_exit 75 && expect_stderr 'timed out after 1 s' &&
    expect_stderr '2 more messages stay queued'
expect_elapsed 0 12
[ "$(count_files "$Q/new")" = 3 ] || t_err "not all queued"
t_result "flush against a stalled server ends"
server_stop "$st2"

t_summary
