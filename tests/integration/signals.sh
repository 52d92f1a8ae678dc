#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGTERM, SIGHUP and SIGINT (mailsub(1), EXIT STATUS).  After the end of
# the input the message must end in the queue whatever the dialogue was
# doing: connecting, waiting for the greeting, in the middle of the data,
# after the final dot with no reply yet: exit 75, one stderr line, the
# message in new/ in wire form, nothing in tmp/.  Before the end of the
# input nothing was accepted: exit 74, one line, nothing anywhere.  -q
# leaves the message in flight queued and unlocked (the next -q sends it
# once); -bs queues a message received in full and drops a partial DATA.
# A signal the caller ignores (nohup, an asynchronous command of sh) stays
# ignored.
. "$SRCDIR/tests/lib.sh"
t_init signals
need_mailsub

Q=$T/queue
reset_queue() { rm -rf "$Q"; }
msg=$T/msg.txt
printf 'From: a@example.org\nTo: b@example.org\nSubject: sig\n\nbody\n.\n' \
    >"$msg"
printf '..x\nlast line without a newline' >>"$msg"

# bg_start INPUT ARGS...: mailsub in the background with SIGINT, SIGHUP and
# SIGTERM at their defaults (sh makes an asynchronous command ignore
# SIGINT); BG_PID is mailsub's own process (exec).
bg_start()
{
	input=$1
	shift
	"$PYTHON3" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$MAILSUB" "$@" <"$input" \
	    >"$T/stdout" 2>"$T/stderr" &
	BG_PID=$!
}

# bg_finish: wait (bounded) for BG_PID to end; RC is its exit status.
bg_finish()
{
	if ! wait_pid "$BG_PID" 20; then
		t_err "mailsub still runs 20 s after the signal"
		kill -KILL "$BG_PID" 2>/dev/null
	fi
	wait "$BG_PID"
	RC=$?
	BG_PID=
}

# wait_note NAME TEXT SECONDS: until server NAME's trace (-v) shows TEXT.
wait_note()
{
	i=0
	n=$(($3 * 20))
	until grep -q "$2" "$T/$1.err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.05
	done
	return 0
}

# wait_read PID FILE SECONDS: until PID has read its stdin (FILE) to the
# end and holds a socket: it is connecting, the message was read.
wait_read()
{
	size=$(wc -c <"$2" | tr -d ' ')
	i=0
	n=$(($3 * 20))
	while :; do
		kill -0 "$1" 2>/dev/null || return 1
		pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$1/fdinfo/0" \
		    2>/dev/null)
		if [ "$pos" = "$size" ]; then
			for f in /proc/"$1"/fd/*; do
				case $(readlink "$f" 2>/dev/null) in
				socket:*) return 0 ;;
				esac
			done
		fi
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.05
	done
}

# expect_one_line: stderr is exactly one line.
expect_one_line()
{
	n=$(wc -l <"$T/stderr" | tr -d ' ')
	[ "$n" = 1 ] || t_err "stderr has $n lines, want 1"
}

# expect_nothing_kept: no file in new/, failed/ or tmp/.
expect_nothing_kept()
{
	for a in new failed tmp; do
		n=$(count_files "$Q/$a")
		[ "$n" = 0 ] || t_err "$n file(s) in $a/"
	done
}

# stall_scn FILE WHERE: a scenario that stalls at WHERE (greeting, data:
# after the 354, without reading; dot: after the final dot).
stall_scn()
{
	{
		echo 'exit 75'
		echo 'where new'
		if [ "$2" != greeting ]; then
			echo 'S: 220 stall.test ESMTP'
			echo 'C: EHLO *'
			echo 'S: 250 stall.test'
			echo 'C: MAIL FROM:<*>'
			echo 'S: 250 2.1.0 Ok'
			echo 'C: RCPT TO:<*>'
			echo 'S: 250 2.1.5 Ok'
			echo 'C: DATA'
			echo 'S: 354 go ahead'
		fi
		case $2 in
		greeting) echo '!stall' ;;
		# Not the last step: the server neither reads nor answers.
		data) printf '!stall\n!delay 60000\nD:\n' ;;
		dot) printf 'D:\n!stall\n' ;;
		esac
	} >"$1"
}

# after_eof NAME SIGNAL WHERE PHASE [INPUT]: the message read, the server
# stalled at WHERE, SIGNAL: 75 naming PHASE, queued byte for byte.  AE_SRV
# and AE_CFG add server options and account keys (no spaces in them).
after_eof()
{
	name=$1
	sig=$2
	input=${5:-$msg}
	stall_scn "$T/$name.scn" "$3"
	mkdir -p "$T/$name.rec"
	server_start "$name" --scenario "$T/$name.scn" --record "$T/$name.rec" \
	    --once --stall-max 20 -v ${AE_SRV:-} || {
		t_err "the server did not start"
		t_result "$name"
		return
	}
	srv=$SRV_PID
	mk_config "$T/$name.ini" ${AE_CFG:-}
	reset_queue
	bg_start "$input" -C "$T/$name.ini" b@example.org
	if wait_note "$name" 'note stall' 20; then
		# In the data case the writes must be blocked: the message
		# is larger than every socket buffer on the way.
		sleep 0.3
		kill -"$sig" "$BG_PID"
	else
		t_err "the server never stalled"
		kill -KILL "$BG_PID"
	fi
	bg_finish
	expect_exit 75 &&
	    expect_stderr "^mailsub: test: 127\\.0\\.0\\.1:[0-9]+: $4: interrupted by SIG$sig; message queued as $Q/new/[^/ ]+\$" &&
	    expect_where new "$Q" && expect_queued_message "$QFILE" "$input"
	expect_one_line
	t_result "$name: SIG$sig $3: 75, queued in wire form"
	server_stop "$srv"
}

after_eof greeting TERM greeting greeting
after_eof after-dot-term TERM dot 'end of data'
after_eof after-dot-hup HUP dot 'end of data'
after_eof after-dot-int INT dot 'end of data'
# 16 MB: more than the send and receive buffers of a loopback connection
# hold, so mailsub is still writing when the signal comes.
"$PYTHON3" -c 'import sys
sys.stdout.write("From: a@example.org\nSubject: big\n\n")
line = "x" * 78 + "\n"
for i in range(200000):
    sys.stdout.write(line)' >"$T/big.txt"
after_eof mid-data INT data DATA "$T/big.txt"
# The same over implicit TLS: the waits of the TLS module.
if sh "$SRCDIR/tests/pki.sh" "$T/pki" >"$T/pki.log" 2>&1; then
	AE_SRV="--tls-cert $T/pki/server.crt --tls-key $T/pki/server.key
	    --implicit-tls"
	AE_CFG="tls=on tls_trust_file=$T/pki/ca.crt"
	after_eof tls-after-dot TERM dot 'end of data'
	after_eof tls-mid-data HUP data DATA "$T/big.txt"
	AE_SRV=
	AE_CFG=
else
	t_skip "TLS cases" "tests/pki.sh failed: $(tail -n 1 "$T/pki.log")"
fi
rm -f "$T/big.txt"

# Before connecting: a listener whose backlog is full never completes the
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
	SRV_PORT=$(cat "$T/full.port") mk_config "$T/ct.ini" connect_timeout=30
	reset_queue
	bg_start "$msg" -C "$T/ct.ini" b@example.org
	if wait_read "$BG_PID" "$msg" 20; then
		sleep 0.2
		kill -HUP "$BG_PID"
	else
		t_err "mailsub never connected"
		kill -KILL "$BG_PID"
	fi
	bg_finish
	expect_exit 75 &&
	    expect_stderr '^mailsub: test: 127\.0\.0\.1:[0-9]+: connect: interrupted by SIGHUP; message queued as ' &&
	    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
	expect_one_line
	t_result "connecting: SIGHUP: 75, queued in wire form"
else
	t_skip "connecting: SIGHUP" "no listener"
fi
server_stop "$full"

# password_command still running when the signal comes: it is killed
# (its whole process group), the message queued.
cat >"$T/pw.scn" <<'EOF2'
exit 75
where new
S: 220 auth.test ESMTP
C: EHLO *
S: 250-auth.test
S: 250 AUTH PLAIN
!stall
EOF2
printf '#!/bin/sh
echo $$ >"%s/pw.pid"
exec sleep 30
' "$T" >"$T/pw.sh"
chmod 700 "$T/pw.sh"
mkdir -p "$T/pw.rec"
server_start pw --scenario "$T/pw.scn" --record "$T/pw.rec" --once \
    --stall-max 20 -v
pwsrv=$SRV_PID
mk_config "$T/pw.ini" auth=on user=alice allow_plaintext_auth=on \
    "password_command = $T/pw.sh"
reset_queue
rm -f "$T/pw.pid"
bg_start "$msg" -C "$T/pw.ini" b@example.org
if wait_file "$T/pw.pid" 20 "$BG_PID"; then
	kill -TERM "$BG_PID"
else
	t_err "password_command never ran"
	kill -KILL "$BG_PID"
fi
bg_finish
expect_exit 75 &&
    expect_stderr '^mailsub: test: 127\.0\.0\.1:[0-9]+: AUTH: password_command: interrupted by SIGTERM; message queued as ' &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
expect_one_line
pw=$(cat "$T/pw.pid" 2>/dev/null)
if [ -n "$pw" ] && ! wait_pid "$pw" 5; then
	t_err "password_command ($pw) still runs"
	kill -KILL "$pw" 2>/dev/null
fi
t_result "password_command: SIGTERM: the command killed, 75, queued"
server_stop "$pwsrv"

# Before the end of the input: a producer that keeps stdin open.  Nothing
# was accepted, nothing is kept, and the line says so.
before_eof()
{
	sig=$1
	reset_queue
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	mk_config "$T/early.ini" "port=$(free_port)"
	bg_start "$T/fifo" -C "$T/early.ini" b@example.org
	exec 3>"$T/fifo"
	printf 'Subject: half\n\nthe first half of the body\n' >&3
	i=0
	until [ -n "$(ls "$Q/tmp" 2>/dev/null)" ] || [ $i -ge 200 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	[ $i -lt 200 ] || t_err "no spool file appeared"
	sleep 0.3
	kill -"$sig" "$BG_PID"
	bg_finish
	exec 3>&-
	expect_exit 74 &&
	    expect_stderr "^mailsub: test: interrupted by SIG$sig before the end of the message; nothing was queued or saved\$"
	expect_one_line
	expect_nothing_kept
	t_result "before the end of the input: SIG$sig: 74, nothing kept"
}
before_eof TERM
before_eof INT
before_eof HUP

# Compose mode: the body from stdin (more than the read-ahead, so the
# writer thread is the one waiting), and an attachment that never ends.
reset_queue
rm -f "$T/fifo"
mkfifo "$T/fifo"
bg_start "$T/fifo" -C "$T/early.ini" -s half b@example.org
exec 3>"$T/fifo"
"$PYTHON3" -c 'import sys
sys.stdout.write(("y" * 70 + "\n") * 6000)' >&3
i=0
until [ -n "$(ls "$Q/tmp" 2>/dev/null)" ] || [ $i -ge 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
sleep 0.3
kill -TERM "$BG_PID"
bg_finish
exec 3>&-
expect_exit 74 &&
    expect_stderr '^mailsub: test: interrupted by SIGTERM before the end of the message; nothing was queued or saved$'
expect_one_line
expect_nothing_kept
t_result "compose, body on stdin not ended: SIGTERM: 74, nothing kept"

reset_queue
bg_start /dev/null -C "$T/early.ini" -s zero --attach /dev/zero b@example.org
i=0
until [ -n "$(ls "$Q/tmp" 2>/dev/null)" ] || [ $i -ge 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
kill -INT "$BG_PID"
bg_finish
expect_exit 74 &&
    expect_stderr '^mailsub: test: interrupted by SIGINT before the end of the message; nothing was queued or saved$'
expect_one_line
expect_nothing_kept
t_result "compose, --attach /dev/zero: SIGINT: 74, nothing kept"

# An ignored signal stays ignored: sh starts an asynchronous command with
# SIGINT ignored, and nohup does the same with SIGHUP.  The stall then
# ends in the ordinary timeout.
stall_scn "$T/ign.scn" dot
mkdir -p "$T/ign.rec"
server_start ign --scenario "$T/ign.scn" --record "$T/ign.rec" --once \
    --stall-max 20 -v
ign=$SRV_PID
mk_config "$T/ign.ini" timeout=2
reset_queue
"$MAILSUB" -C "$T/ign.ini" b@example.org <"$msg" >"$T/stdout" \
    2>"$T/stderr" &
BG_PID=$!
if wait_note ign 'note stall' 20; then
	kill -INT "$BG_PID"
fi
bg_finish
expect_exit 75 && expect_stderr 'end of data: timed out after 2 s' &&
    expect_where new "$Q"
t_result "an ignored SIGINT stays ignored"
server_stop "$ign"

# -q: the message in flight stays queued, untouched and unlocked; the
# next run against a good server sends each message once.
stall_scn "$T/q.scn" dot
mkdir -p "$T/q.rec"
server_start q --scenario "$T/q.scn" --record "$T/q.rec" --once \
    --stall-max 20 -v
qsrv=$SRV_PID
mk_config "$T/q.ini"
reset_queue
for i in 1 2; do
	"$MAILSUB" -C "$T/q.ini" -odq b@example.org <"$msg" >/dev/null \
	    2>"$T/stderr" || t_err "-odq: $(cat "$T/stderr")"
done
mkdir -p "$T/before"
cp "$Q"/new/* "$T/before/"
bg_start /dev/null -C "$T/q.ini" -q
if wait_note q 'note stall' 20; then
	kill -TERM "$BG_PID"
else
	t_err "the server never stalled"
	kill -KILL "$BG_PID"
fi
bg_finish
expect_exit 75 &&
    expect_stderr '^mailsub: test: 127\.0\.0\.1:[0-9]+: end of data: interrupted by SIGTERM; message [^ ]+ stays queued$'
expect_one_line
[ "$(count_files "$Q/new")" = 2 ] || t_err "new/ has $(count_files "$Q/new")"
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "files left in tmp/"
for f in "$T"/before/*; do
	cmp -s "$f" "$Q/new/$(basename "$f")" ||
	    t_err "$(basename "$f") changed"
done
t_result "-q: SIGTERM after the final dot: 75, both messages stay queued"
server_stop "$qsrv"

server_start sink --sink --record "$T/sink.rec"
sink=$SRV_PID
mk_config "$T/good.ini"
run_mailsub /dev/null -C "$T/good.ini" -q
expect_exit 0 && expect_where none "$Q"
n=0
for f in "$T"/sink.rec/msg-*.json; do
	[ -f "$f" ] && n=$((n + 1))
done
[ "$n" = 2 ] || t_err "the sink got $n messages, want 2"
t_result "-q after the interrupted run sends each message once"

# -odb: the detached child that delivers is told to stop: the message
# stays queued as it was, and the next -q sends it once.
stall_scn "$T/odb.scn" greeting
mkdir -p "$T/odb.rec"
server_start odb --scenario "$T/odb.scn" --record "$T/odb.rec" --once \
    --stall-max 20 -v
odbsrv=$SRV_PID
mk_config "$T/odb.ini"
reset_queue
MAILSUB_SIGTEST=$T run_mailsub "$msg" -C "$T/odb.ini" -odb b@example.org
expect_exit 0
mkdir -p "$T/odb.before"
cp "$Q"/new/* "$T/odb.before/" 2>/dev/null
child=
if wait_note odb 'note stall' 20; then
	# The child by the mark in its environment, not by its name.
	child=$("$PYTHON3" -c 'import os, sys
want = ("MAILSUB_SIGTEST=" + sys.argv[1]).encode()
exe = os.path.realpath(sys.argv[2])
for p in os.listdir("/proc"):
    try:
        env = open("/proc/%s/environ" % p, "rb").read().split(b"\0")
        if want in env and os.path.realpath("/proc/%s/exe" % p) == exe:
            print(p)
    except OSError:
        pass' "$T" "$MAILSUB")
fi
if [ -n "$child" ]; then
	kill -TERM $child
	for c in $child; do
		wait_pid "$c" 20 || t_err "the -odb child $c still runs"
	done
else
	t_err "no -odb child found"
fi
[ "$(count_files "$Q/new")" = 1 ] || t_err "new/ has $(count_files "$Q/new")"
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "files left in tmp/"
for f in "$T"/odb.before/*; do
	cmp -s "$f" "$Q/new/$(basename "$f")" ||
	    t_err "$(basename "$f") changed"
done
server_stop "$odbsrv"
run_mailsub /dev/null -C "$T/good.ini" -q
expect_exit 0 && expect_where none "$Q"
n=0
for f in "$T"/sink.rec/msg-*.json; do
	[ -f "$f" ] && n=$((n + 1))
done
[ "$n" = 3 ] || t_err "the sink got $((n - 2)) messages, want 1"
t_result "-odb: SIGTERM to the delivering child: it stays queued, sent once"

# -bs: DATA received in full, the relay stalls: the message is queued,
# the client told so, the session closed.
stall_scn "$T/bs.scn" greeting
mkdir -p "$T/bs.rec"
server_start bs --scenario "$T/bs.scn" --record "$T/bs.rec" --once \
    --stall-max 20 -v
bssrv=$SRV_PID
mk_config "$T/bs.ini"
export MAILSUB T Q
PYTHONPATH=$SRCDIR/tests
export PYTHONPATH
reset_queue
printf 'Subject: bs\r\n\r\nline\r\n.dot\r\nend\r\n' >"$T/bs.txt"
rm -f "$T/stderr" "$T/bs-mailsub.err"
if ! out=$("$PYTHON3" - "$T/bs.ini" "$T/bs.txt" "$T/bs-mailsub.err" <<'EOF' 2>&1
import os, re, signal, sys, time
from bsclient import Session
cfg, message, errfile = sys.argv[1:4]
s = Session([os.environ["MAILSUB"], "-C", cfg, "-bs"], timeout=20)
s.expect(220)
s.cmd("EHLO app.test", 250)
s.cmd("MAIL FROM:<a@example.org>", 250)
s.cmd("RCPT TO:<b@example.org>", 250)
s.cmd("DATA", 354)
body = open(message, "rb").read()
s.send(re.sub(rb"(?m)^\.", b"..", body) + b".\r\n")
srv = os.path.join(os.environ["T"], "bs.err")
for i in range(400):
    if "note stall" in open(srv).read():
        break
    time.sleep(0.05)
else:
    sys.exit("the relay never stalled")
time.sleep(0.2)
s.p.send_signal(signal.SIGTERM)
s.expect(451, r"interrupted by SIGTERM; message queued as ")
s.expect(421)
rc = s.close()
open(errfile, "wb").write(s.stderr)
if rc != 75:
    sys.exit("exit %d, want 75; stderr %r" % (rc, s.stderr))
EOF
); then
	t_err "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi
cp "$T/bs-mailsub.err" "$T/stderr" 2>/dev/null || : >"$T/stderr"
expect_stderr '^mailsub: test: 127\.0\.0\.1:[0-9]+: greeting: interrupted by SIGTERM; message queued as ' &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$T/bs.txt"
expect_one_line
t_result "-bs: SIGTERM after the final dot: 451, 421, 75, queued"
server_stop "$bssrv"

# -bs: a partial DATA is dropped; the client hears 421.
reset_queue
mk_config "$T/bs-down.ini" "port=$(free_port)"
rm -f "$T/stderr" "$T/bs-mailsub.err"
if ! out=$("$PYTHON3" - "$T/bs-down.ini" "$T/bs-mailsub.err" <<'EOF' 2>&1
import os, signal, sys, time
from bsclient import Session
cfg, errfile = sys.argv[1:3]
s = Session([os.environ["MAILSUB"], "-C", cfg, "-bs"], timeout=20)
s.expect(220)
s.cmd("EHLO app.test", 250)
s.cmd("MAIL FROM:<a@example.org>", 250)
s.cmd("RCPT TO:<b@example.org>", 250)
s.cmd("DATA", 354)
s.send(b"Subject: half\r\n\r\nthe first half\r\n")
time.sleep(0.3)
s.p.send_signal(signal.SIGHUP)
s.expect(421, "interrupted")
rc = s.close()
open(errfile, "wb").write(s.stderr)
if rc != 74:
    sys.exit("exit %d, want 74; stderr %r" % (rc, s.stderr))
EOF
); then
	t_err "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi
cp "$T/bs-mailsub.err" "$T/stderr" 2>/dev/null || : >"$T/stderr"
expect_stderr '^mailsub: -bs: interrupted by SIGHUP inside DATA; the message was not accepted$'
expect_one_line
expect_nothing_kept
t_result "-bs: SIGHUP inside DATA: 421, 74, nothing kept"

t_summary
