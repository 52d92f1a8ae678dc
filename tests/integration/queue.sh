#!/bin/sh
# SPDX-License-Identifier: ISC
# The queue runner with the real binary (mailsub(1), EXIT STATUS): -bp and
# --json, -q over one connection, temporary and permanent failures during a
# flush (attempts recorded, failed/), expiry, --queue-delete, --requeue,
# the flush after a successful submission, -odb, locks held by another
# run, stale tmp/ files, damaged queue files, several queue directories.
. "$SRCDIR/tests/lib.sh"
t_init queue
need_mailsub

Q=$T/queue
reset_queue() { rm -rf "$Q" "$T/log"; }

# msg N: a message with its own Subject and Message-ID.
msg()
{
	printf 'From: a@example.org\nTo: b@example.org\nSubject: q%s\n' "$1" \
	    >"$T/m$1.txt"
	printf 'Message-ID: <q%s@queue.test>\n\nbody %s\n.\n..x\n' "$1" "$1" \
	    >>"$T/m$1.txt"
}

# queue_one CONFIG N [RCPT]: -odq the message N; QID is its queue ID.
queue_one()
{
	msg "$2"
	"$MAILSUB" -C "$1" -odq "${3:-b@example.org}" <"$T/m$2.txt" \
	    >"$T/stdout" 2>"$T/stderr" || t_err "-odq failed: $(cat "$T/stderr")"
	QID=$(ls -t "$Q/new" | head -n 1)
}

# sink_count DIR: messages a sink has kept.
sink_count()
{
	n=0
	for f in "$1"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

server_start sink --sink --record "$T/rec" --reject-rcpt refused@example.org \
    --defer-rcpt later@example.org
SINK_PORT=$SRV_PORT
SINK_PID=$SRV_PID
mk_config "$T/q.ini" "logfile = $T/log"
dead=$(free_port)
SRV_PORT=$dead mk_config "$T/dead.ini" "logfile = $T/log"

# -bp, --json, then -q: three messages over one connection.
reset_queue
queue_one "$T/q.ini" 1
queue_one "$T/q.ini" 2
queue_one "$T/q.ini" 3
run_mailsub /dev/null -C "$T/q.ini" -bp
expect_exit 0
[ "$(grep -c '  queued  ' "$T/stdout")" = 3 ] || t_err "-bp: $(cat "$T/stdout")"
grep -q "^$Q: 3 queued, 0 failed" "$T/stdout" || t_err "-bp: no summary line"
grep -q '<b@example.org>' "$T/stdout" || t_err "-bp: no recipient"
t_result "-bp lists the queue"
run_mailsub /dev/null -C "$T/q.ini" -bp --json
expect_exit 0
"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = d["messages"]
assert len(m) == 3, m
for e in m:
    assert e["state"] == "queued" and e["account"] == "test", e
    assert e["recipients"] == ["b@example.org"], e
    assert e["sender"] == "sender@example.org", e
    assert e["attempts"] == 0 and e["size"] > 0, e
    assert e["queue_dir"] == sys.argv[2], e
' "$T/stdout" "$Q" 2>"$T/py.err" || t_err "--json: $(cat "$T/py.err")"
t_result "-bp --json"
before=$(sink_count "$T/rec")
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 0 && expect_where none "$Q"
[ "$(grep -c ': sent via 127\.0\.0\.1:' "$T/stdout")" = 3 ] ||
    t_err "stdout: $(cat "$T/stdout")"
[ "$(sink_count "$T/rec")" = $((before + 3)) ] || t_err "sink did not get 3"
"$PYTHON3" -c 'import json, glob, sys
conns = set()
subj = []
for j in sorted(glob.glob(sys.argv[1] + "/msg-*.json"))[-3:]:
    conns.add(json.load(open(j))["connection"])
    subj += [l for l in open(j[:-5] + ".eml", "rb").read().split(b"\r\n")
             if l.startswith(b"Subject:")]
assert len(conns) == 1, conns
assert sorted(subj) == [b"Subject: q1", b"Subject: q2", b"Subject: q3"], subj
' "$T/rec" 2>"$T/py.err" || t_err "not one connection: $(cat "$T/py.err")"
[ "$(grep -c 'status=sent' "$T/log")" = 3 ] || t_err "log: $(cat "$T/log")"
grep -q 'msgid=<q1@queue.test>' "$T/log" || t_err "log lacks the Message-ID"
run_mailsub /dev/null -C "$T/q.ini" -bp
grep -q "$Q: queue is empty" "$T/stdout" || t_err "-bp after: $(cat "$T/stdout")"
t_result "-q sends all over one connection"

# A temporary failure during a flush: attempts, last error, same bytes.
reset_queue
queue_one "$T/q.ini" 4 later@example.org
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 75 &&
    expect_stderr "^mailsub: test: 127\.0\.0\.1:$SINK_PORT: RCPT TO:<later@example\.org>: 451 .*stays queued \(attempt 1\)" &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$T/m4.txt"
[ "$(queue_header "$QFILE" attempts)" = 1 ] || t_err "attempts not 1"
queue_header "$QFILE" last-error | grep -q '451 4.3.0' || t_err "no last error"
[ "$(basename "$QFILE")" = "$QID" ] || t_err "the queue ID changed"
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 75 && expect_where new "$Q"
[ "$(queue_header "$QFILE" attempts)" = 2 ] || t_err "attempts not 2"
grep -q 'status=queued exit=75' "$T/log" || t_err "log: no queued record"
t_result "-q temporary failure keeps it queued"

# A permanent failure during a flush: failed/, the line says where.
reset_queue
queue_one "$T/q.ini" 5 refused@example.org
id5=$QID
queue_one "$T/q.ini" 6
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 67 &&
    expect_stderr "RCPT TO:<refused@example\.org>: 550 .*saved as $Q/failed/$id5" &&
    [ "$(count_files "$Q/new")" = 0 ] && expect_where failed "$Q"
expect_queued_message "$QFILE" "$T/m5.txt"
grep -q 'status=failed exit=67' "$T/log" || t_err "log: no failed record"
grep -q 'status=sent' "$T/log" || t_err "the good one was not sent"
FAILED_ID=$(basename "$QFILE")
t_result "-q permanent failure goes to failed/"

# --requeue brings it back; a second --requeue finds it already queued.
run_mailsub /dev/null -C "$T/q.ini" --requeue "$FAILED_ID"
expect_exit 0 && expect_where new "$Q" && expect_queued_message "$QFILE" "$T/m5.txt"
grep -q "$FAILED_ID: moved back" "$T/stdout" || t_err "stdout: $(cat "$T/stdout")"
run_mailsub /dev/null -C "$T/q.ini" --requeue "$FAILED_ID"
expect_exit 64 && expect_stderr 'already queued'
t_result "--requeue"

# --queue-delete: invalid, unknown, then the real one.
run_mailsub /dev/null -C "$T/q.ini" --queue-delete '../new/x'
expect_exit 64 && expect_stderr 'invalid queue ID'
run_mailsub /dev/null -C "$T/q.ini" --queue-delete 1.2.3.nosuch
expect_exit 66 && expect_stderr '1\.2\.3\.nosuch'
run_mailsub /dev/null -C "$T/q.ini" --queue-delete "$FAILED_ID"
expect_exit 0 && expect_where none "$Q"
grep -q "$FAILED_ID: deleted" "$T/stdout" || t_err "stdout: $(cat "$T/stdout")"
grep -q "status=deleted" "$T/log" || t_err "log: no deleted record"
t_result "--queue-delete"

# Expiry: queue_lifetime counts from the first attempt, and a message
# expires only when an attempt fails.  Queued with -odq three days ago
# (before its first attempt the file holds the time it was queued, as
# older versions wrote it) and never tried, it is tried, and delivered.
reset_queue
queue_one "$T/q.ini" 7
old=$(($(date +%s) - 3 * 86400))
sed -i "s/^first-attempt: .*/first-attempt: $old/" "$Q/new/$QID"
mk_config "$T/life.ini" "logfile = $T/log" queue_lifetime=2d
before=$(sink_count "$T/rec")
run_mailsub /dev/null -C "$T/life.ini" -q
expect_exit 0 && expect_where none "$Q"
[ "$(sink_count "$T/rec")" = $((before + 1)) ] || t_err "not delivered"
grep -q 'status=expired' "$T/log" && t_err "expired untried: $(cat "$T/log")"
t_result "-odq older than queue_lifetime is tried, not expired"

# The same, to a recipient the server defers: the first attempt fails,
# starts the lifetime, and the message stays queued.
reset_queue
queue_one "$T/q.ini" 7 later@example.org
sed -i "s/^first-attempt: .*/first-attempt: $old/" "$Q/new/$QID"
t0=$(date +%s)
run_mailsub /dev/null -C "$T/life.ini" -q
expect_exit 75 && expect_stderr "stays queued \(attempt 1\)" &&
    expect_where new "$Q"
[ "$(queue_header "$QFILE" attempts)" = 1 ] || t_err "attempts not 1"
[ "$(queue_header "$QFILE" first-attempt)" -ge "$t0" ] ||
    t_err "first attempt not now: $(queue_header "$QFILE" first-attempt)"
t_result "the first attempt starts queue_lifetime"

# Tried before, queue_lifetime ago: the next failed attempt expires it.
sed -i "s/^first-attempt: .*/first-attempt: $old/" "$Q/new/$QID"
run_mailsub /dev/null -C "$T/life.ini" -q
expect_exit 69 &&
    expect_stderr "message $QID expired: first tried 3d(00h)? ago, queue_lifetime is 2d, 2 attempts; last error: .*RCPT TO:<later@example\.org>: 451" &&
    expect_stderr "saved as $Q/failed/$QID" && expect_where failed "$Q" &&
    expect_queued_message "$QFILE" "$T/m7.txt"
[ "$(queue_header "$QFILE" attempts)" = 2 ] || t_err "attempts not 2"
grep -q 'status=expired' "$T/log" || t_err "log: no expired record"
t_result "expiry moves to failed/ after a failed attempt"

# Tried before, queue_lifetime ago, and the server takes it now.
reset_queue
queue_one "$T/q.ini" 7
sed -i -e "s/^first-attempt: .*/first-attempt: $old/" \
    -e "s/^attempts: .*/attempts: 4/" "$Q/new/$QID"
run_mailsub /dev/null -C "$T/life.ini" -q
expect_exit 0 && expect_where none "$Q"
t_result "past queue_lifetime, delivered when the server takes it"

# The flush after a successful submission; -odq does not trigger it.
reset_queue
queue_one "$T/q.ini" 8
queue_one "$T/q.ini" 9
[ "$(count_files "$Q/new")" = 2 ] || t_err "-odq flushed the queue"
msg 10
run_mailsub "$T/m10.txt" -C "$T/q.ini" b@example.org
expect_exit 0 && expect_where none "$Q"
[ -s "$T/stderr" ] && t_err "stderr: $(cat "$T/stderr")"
[ "$(grep -c 'status=sent' "$T/log")" = 3 ] || t_err "log: $(cat "$T/log")"
t_result "a successful submission flushes the account's queue"

# What that flush says about an older message names it: the line is not
# this run's outcome.
reset_queue
queue_one "$T/q.ini" 18 refused@example.org
old18=$QID
msg 19
run_mailsub "$T/m19.txt" -C "$T/q.ini" b@example.org
expect_exit 0 &&
    expect_stderr "^mailsub: queued message $old18: test: 127\.0\.0\.1:$SINK_PORT: RCPT TO:<refused@example\.org>: 550 .*; message saved as $Q/failed/$old18\$"
[ "$(wc -l <"$T/stderr")" = 1 ] || t_err "stderr: $(cat "$T/stderr")"
[ -f "$Q/failed/$old18" ] || t_err "not in failed/"
t_result "the flush after a submission names the messages it reports"

# -odb: exit 0 at once, delivered by a detached child.
reset_queue
before=$(sink_count "$T/rec")
msg 11
run_mailsub "$T/m11.txt" -C "$T/q.ini" -odb b@example.org
expect_exit 0
i=0
while [ "$(sink_count "$T/rec")" = "$before" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(sink_count "$T/rec")" = $((before + 1)) ] || t_err "not delivered"
i=0
while [ "$(count_files "$Q/new")" != 0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_where none "$Q"
t_result "-odb delivers in the background"

# -odb with a slow relay: the caller is not kept waiting, not even one
# that reads a pipe until EOF (PHP, subprocess): the child holds none of
# its descriptors.
reset_queue
mkdir -p "$T/slow.rec"
server_start slow --sink --record "$T/slow.rec" --delay-ms 1500
slow=$SRV_PID
mk_config "$T/slow.ini" "logfile = $T/log"
msg 15
t0=$(date +%s)
( "$MAILSUB" -C "$T/slow.ini" -odb b@example.org <"$T/m15.txt" \
    3>&1 >/dev/null 2>&1; echo "rc=$?" >"$T/odb.rc" ) | cat >/dev/null
el=$(($(date +%s) - t0))
[ "$(cat "$T/odb.rc")" = rc=0 ] || t_err "-odb: $(cat "$T/odb.rc")"
[ $el -le 4 ] || t_err "the caller waited ${el}s"
i=0
while [ "$(sink_count "$T/slow.rec")" = 0 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(sink_count "$T/slow.rec")" = 1 ] || t_err "not delivered by the child"
server_stop "$slow"
t_result "-odb detaches from the caller"

# A file locked by another run is left to it.
reset_queue
queue_one "$T/q.ini" 12
"$PYTHON3" -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("locked\n")
time.sleep(30)' "$Q/new/$QID" "$T/locked" &
holder=$!
wait_file "$T/locked" 10 "$holder" || t_err "lock holder did not start"
before=$(sink_count "$T/rec")
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 0 && expect_where new "$Q"
[ "$(sink_count "$T/rec")" = "$before" ] || t_err "a locked message was sent"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 0 && expect_where none "$Q"
t_result "a locked message is skipped"

# Stale tmp/ files: old and writer gone -> removed; young -> kept.
reset_queue
mkdir -p "$Q/tmp" "$Q/new" "$Q/failed"
sh -c 'exit 0' &
deadpid=$!
wait $deadpid
touch -d '2 hours ago' "$Q/tmp/spool-65000000.$deadpid.1.aabbccddeeff" \
    "$Q/tmp/65000000.$deadpid.2.aabbccddeeff"
touch "$Q/tmp/spool-65000000.$deadpid.3.aabbccddeeff"
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 0
[ -e "$Q/tmp/spool-65000000.$deadpid.1.aabbccddeeff" ] && t_err "stale spool kept"
[ -e "$Q/tmp/65000000.$deadpid.2.aabbccddeeff" ] && t_err "stale queue file kept"
[ -e "$Q/tmp/spool-65000000.$deadpid.3.aabbccddeeff" ] || t_err "young spool removed"
t_result "stale tmp/ files are recovered"

# A damaged queue file is moved aside, not sent, not lost.
reset_queue
mkdir -p "$Q/tmp" "$Q/new" "$Q/failed"
printf 'mailsub-queue 1\naccount: test\nbogus\n\nx\r\n' >"$Q/new/65000000.1.1.000000000000"
run_mailsub /dev/null -C "$T/q.ini" -q
expect_exit 65 && expect_stderr 'moved to .*/failed/65000000\.1\.1\.000000000000' &&
    expect_where failed "$Q"
t_result "a damaged queue file goes to failed/"

# Relay down during a flush: the first message records the attempt, all
# stay queued, exit 75.
reset_queue
queue_one "$T/dead.ini" 13
first=$QID
sleep 1
queue_one "$T/dead.ini" 14
run_mailsub /dev/null -C "$T/dead.ini" -q
expect_exit 75 && expect_stderr "127\.0\.0\.1:$dead: connect: .*stays queued" &&
    expect_stderr '1 more message stays queued'
[ "$(count_files "$Q/new")" = 2 ] || t_err "not both queued"
[ "$(queue_header "$Q/new/$first" attempts)" = 1 ] || t_err "attempt not recorded"
# The second was never tried: this run is its first attempt (its
# queue_lifetime starts), recorded once, not on every run.
[ "$(queue_header "$Q/new/$QID" attempts)" = 1 ] || t_err "no first attempt"
queue_header "$Q/new/$QID" last-error | grep -q 'connect:' ||
    t_err "second: no last error"
run_mailsub /dev/null -C "$T/dead.ini" -q
expect_exit 75
[ "$(queue_header "$Q/new/$first" attempts)" = 2 ] || t_err "first: not 2"
[ "$(queue_header "$Q/new/$QID" attempts)" = 1 ] || t_err "second rewritten"
t_result "-q with the relay down"

# Expiry while the relay is down: the messages after the one whose
# connection failed are still checked.
reset_queue
mk_config "$T/deadlife.ini" port="$dead" "logfile = $T/log" queue_lifetime=2d
queue_one "$T/deadlife.ini" 16
fresh=$QID
sleep 1
queue_one "$T/deadlife.ini" 17
tried=$QID
old=$(($(date +%s) - 3 * 86400))
sed -i -e "s/^first-attempt: .*/first-attempt: $old/" \
    -e "s/^attempts: .*/attempts: 1/" "$Q/new/$tried"
sleep 1
# Queued three days ago and never tried: it must not expire untried.
queue_one "$T/deadlife.ini" 18
untried=$QID
sed -i "s/^first-attempt: .*/first-attempt: $old/" "$Q/new/$untried"
run_mailsub /dev/null -C "$T/deadlife.ini" -q
expect_exit 69 && expect_stderr "connect: .*message $fresh stays queued" &&
    expect_stderr "message $tried expired: first tried 3d" &&
    expect_stderr '1 more message stays queued'
[ -f "$Q/new/$fresh" ] && [ -f "$Q/failed/$tried" ] &&
    [ -f "$Q/new/$untried" ] ||
    t_err "new/: $(ls "$Q/new"); failed/: $(ls "$Q/failed")"
[ "$(queue_header "$Q/new/$untried" attempts)" = 1 ] ||
    t_err "the untried one: no first attempt"
t_result "expiry while the relay is down"

# A server that answers one command twice (RFC 5321 4.2: one reply per
# command) shifts every later reply by one.  mailsub -q sees the reply to
# no command, ends the session, and blames no message: the first was
# accepted, the others stay queued as they were.  The server carries on
# after its mistake as a real one would, so that without the check the
# next message would be refused on a reply meant for another command.
reset_queue
cat >"$T/twice.scn" <<'EOF'
exit 75
where new
S: 220 twice ESMTP
C: EHLO *
S: 250 twice
C: MAIL FROM:<sender@example.org>*
S: 250 ok
C: RCPT TO:<b@example.org>*
S: 250 ok
C: DATA
S: 354 go
D:
S+ 250 2.0.0 one
S: 250 2.0.0 one
C: RSET
S: 250 reset
C: MAIL FROM:<sender@example.org>*
S: 250 ok
C: RCPT TO:<b@example.org>*
S: 250 ok
C: DATA
S: 354 go
D:
S: 250 2.0.0 two
C: QUIT
S: 221 bye
EOF
mkdir -p "$T/twice.rec"
server_start twice --scenario "$T/twice.scn" --record "$T/twice.rec" --once
twice=$SRV_PID
mk_config "$T/twice.ini" "logfile = $T/log"
queue_one "$T/twice.ini" 20
sleep 1
queue_one "$T/twice.ini" 21
sleep 1
queue_one "$T/twice.ini" 22
run_mailsub /dev/null -C "$T/twice.ini" -q
expect_exit 75 &&
    expect_stderr 'RSET: the server sent a reply to no command \("250 2\.0\.0 one"\); the session is out of step; session ended' &&
    expect_stderr '2 more messages stay queued'
[ "$(count_files "$Q/new")" = 2 ] && [ "$(count_files "$Q/failed")" = 0 ] ||
    t_err "new/: $(ls "$Q/new"); failed/: $(ls "$Q/failed")"
for f in "$Q"/new/*; do
	[ "$(queue_header "$f" attempts)" = 0 ] || t_err "$f: attempt recorded"
done
grep -q 'Subject: q20' "$T/twice.rec/data-1-1.wire" 2>/dev/null ||
    t_err "the first message was not sent"
[ -f "$T/twice.rec/data-1-2.wire" ] && t_err "a second message was sent"
wait_pid "$twice" 10 || t_err "scenario server still running"
server_stop "$twice"
t_result "two replies to one command: the session ends, nothing blamed"

# The extra reply comes late, after RSET went out: it is taken for
# RSET's, and the shift shows as RSET's own reply waiting before MAIL or,
# when that comes later still, as a 250 to DATA.  The message in flight
# records its attempt but stays queued; the one after it is not touched.
reset_queue
cat >"$T/late.scn" <<'EOF'
exit 75
where new
S: 220 late ESMTP
C: EHLO *
S: 250-late
S: 250 PIPELINING
C: MAIL FROM:<sender@example.org>*
C: RCPT TO:<b@example.org>*
C: DATA
S+ 250 ok
S+ 250 ok
S: 354 go
D:
S: 250 2.0.0 one
!delay 1000
S: 250 2.0.0 one
C: RSET
S: 250 reset
C: MAIL FROM:<sender@example.org>*
C: RCPT TO:<b@example.org>*
C: DATA
S+ 250 ok
S+ 250 ok
S: 354 go
D:
S: 250 2.0.0 two
C: QUIT
S: 221 bye
EOF
mkdir -p "$T/late.rec"
server_start late --scenario "$T/late.scn" --record "$T/late.rec" --once
late=$SRV_PID
mk_config "$T/late.ini" "logfile = $T/log"
queue_one "$T/late.ini" 23
sleep 1
queue_one "$T/late.ini" 24
second=$QID
sleep 1
queue_one "$T/late.ini" 25
run_mailsub /dev/null -C "$T/late.ini" -q
expect_exit 75 &&
    expect_stderr "(DATA: unexpected reply 250 ok|MAIL FROM:<sender@example\.org>: the server sent a reply to no command \(\"250 reset\"\); the session is out of step); message $second stays queued \(attempt 1\)" &&
    expect_stderr '1 more message stays queued'
[ "$(count_files "$Q/new")" = 2 ] && [ "$(count_files "$Q/failed")" = 0 ] ||
    t_err "new/: $(ls "$Q/new"); failed/: $(ls "$Q/failed")"
[ "$(queue_header "$Q/new/$QID" attempts)" = 0 ] || t_err "the third was touched"
wait_pid "$late" 10 || t_err "scenario server still running"
server_stop "$late"
t_result "a late extra reply: the message in flight stays queued"

# Out of step before the first message: EHLO answered twice (seen before
# MAIL), or answered 354 (while the session opens).  75, not the 76 of a
# refusal, and nothing moves to failed/.
cat >"$T/ehlo354.scn" <<'EOF'
exit 75
where new
S: 220 ehlo354 ESMTP
C: EHLO *
S: 354 go ahead
end
EOF
for scn in "$SRCDIR/tests/scenarios/reply-twice-ehlo.scn" "$T/ehlo354.scn"; do
	reset_queue
	rm -rf "$T/ehlo.rec"
	mkdir -p "$T/ehlo.rec"
	server_start ehlo --scenario "$scn" --record "$T/ehlo.rec" --once
	ehlo=$SRV_PID
	mk_config "$T/ehlo.ini" "logfile = $T/log"
	queue_one "$T/ehlo.ini" 26
	sleep 1
	queue_one "$T/ehlo.ini" 27
	run_mailsub /dev/null -C "$T/ehlo.ini" -q
	expect_exit 75 &&
	    expect_stderr '(the session is out of step|EHLO: unexpected reply 354)' &&
	    expect_stderr '1 more message stays queued'
	[ "$(count_files "$Q/new")" = 2 ] && [ "$(count_files "$Q/failed")" = 0 ] ||
	    t_err "new/: $(ls "$Q/new"); failed/: $(ls "$Q/failed")"
	[ "$(queue_header "$Q/new/$QID" attempts)" = 0 ] ||
	    t_err "the second was touched"
	wait_pid "$ehlo" 10 || t_err "scenario server still running"
	server_stop "$ehlo"
done
t_result "out of step at EHLO: the messages stay queued, exit 75"

# Several accounts: each queue_dir once; -a limits to one account.
reset_queue
cat >"$T/multi.ini" <<EOF
[defaults]
host = 127.0.0.1
port = $SINK_PORT
tls = off
from = sender@example.org
[one]
queue_dir = $T/qa
[two]
queue_dir = $T/qb
[three]
queue_dir = $T/qa/
EOF
chmod 600 "$T/multi.ini"
rm -rf "$T/qa" "$T/qb"
for a in one two three; do
	msg "$a"
	"$MAILSUB" -C "$T/multi.ini" -a $a -odq b@example.org <"$T/m$a.txt" ||
	    t_err "-odq -a $a"
done
run_mailsub /dev/null -C "$T/multi.ini" -bp
expect_exit 0
[ "$(grep -c '^/.*: [0-9]* queued' "$T/stdout")" = 2 ] ||
    t_err "not two queue dirs: $(cat "$T/stdout")"
grep -q "^$T/qa: 2 queued" "$T/stdout" || t_err "qa: $(cat "$T/stdout")"
run_mailsub /dev/null -C "$T/multi.ini" -a two -bp
grep -q "^$T/qb: 1 queued" "$T/stdout" && ! grep -q "$T/qa" "$T/stdout" ||
    t_err "-a two: $(cat "$T/stdout")"
run_mailsub /dev/null -C "$T/multi.ini" -a one -q
expect_exit 0
[ "$(count_files "$T/qa/new")" = 1 ] && [ "$(count_files "$T/qb/new")" = 1 ] ||
    t_err "-a one flushed other accounts"
run_mailsub /dev/null -C "$T/multi.ini" -q
expect_exit 0
[ "$(count_files "$T/qa/new")" = 0 ] && [ "$(count_files "$T/qb/new")" = 0 ] ||
    t_err "-q left messages"
t_result "several accounts and queue directories"

server_stop "$SINK_PID"
t_summary
