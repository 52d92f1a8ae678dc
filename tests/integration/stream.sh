#!/bin/sh
# SPDX-License-Identifier: ISC
# Sending a large message while it is read (mailsub(1), STREAMING): the
# message arrives intact, without SIZE=; a slow producer gets no connection
# before its input ends; what stops a stream (the input slowing down,
# 8-bit data for a server without 8BITMIME, NUL bytes, the server's SIZE,
# max_message_size) ends as it would without streaming; and killing the
# server, or mailsub with SIGKILL or SIGTERM, at random points of a
# streamed 200 MiB message never loses it: each run ends delivered once,
# queued, or with the caller told it was not, and never with a message the
# server took before its input had ended.  A regular file as input goes
# to the server straight from the file, and is read again when it must be
# kept.
. "$SRCDIR/tests/lib.sh"
t_init stream
need_mailsub
need_cmd dd

Q=$T/queue
R=$T/rec
MIB=1048576

reset() { rm -rf "$Q" "$R"; mkdir -p "$R"; }

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# before A B: A < B (decimal seconds).
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# mkmsg FILE MIB [OFFSET_MIB BYTE]: a text message of MIB MiB (72-column
# lines, one in 64 starting with a dot), a line holding BYTE (octal, as
# printf takes it) OFFSET_MIB MiB in; WIRE_SHA: the SHA-256 of its wire
# form, what the sink records.
mkmsg()
{
	WIRE_SHA=$("$PYTHON3" - "$@" <<'EOF'
import hashlib, sys
path, mib = sys.argv[1], int(sys.argv[2])
at = int(sys.argv[3]) * 1048576 if len(sys.argv) > 3 else -1
byte = bytes([int(sys.argv[4], 8)]) if len(sys.argv) > 4 else b""
lines = []
for i in range(4096):
    s = ("%05d the quick brown fox jumps over the lazy dog 0123456789 "
         "abcdefghij" % i)[:71]
    if i % 64 == 63:
        s = "." + s[1:]
    lines.append(s.encode() + b"\n")
block = b"".join(lines)
head = (b"From: a@example.org\nTo: b@example.org\nSubject: stream\n"
        b"Message-ID: <stream@example.org>\nDate: Mon, 1 Jan 2024 00:00:00"
        b" +0000\n\n")
h = hashlib.sha256()
with open(path, "wb") as f:
    f.write(head)
    left = mib * 1048576 - len(head)
    done = len(head)
    while left > 0:
        chunk = block if left >= len(block) else block[:left]
        if 0 <= at < done + len(chunk) and byte:
            chunk = b"x" + byte + b" here\n" + chunk
            at = -1
        f.write(chunk)
        done += len(chunk)
        left -= len(chunk)
# The wire form: CRLF, a leading dot doubled; the last line ended.
with open(path, "rb") as f:
    data = f.read()
if not data.endswith(b"\n"):
    data += b"\n"
for line in data.split(b"\n")[:-1]:
    if line.startswith(b"."):
        line = b"." + line
    h.update(line + b"\r\n")
print(h.hexdigest())
EOF
)
}

# json FILE KEY: one value of a sink record.
json()
{
	"$PYTHON3" -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(v if not isinstance(v, list) else " ".join(v))' "$1" "$2"
}

# one_msg: the record of the one message the sink holds (the sink numbers
# its transactions across runs).
one_msg()
{
	for f in "$R"/msg-*.json; do
		echo "$f"
		return
	done
}

count_msgs()
{
	n=0
	for f in "$R"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# wait_msg SECONDS: until the sink has kept a message (while mailsub runs).
wait_msg()
{
	i=0
	while [ "$(count_msgs)" = 0 ]; do
		kill -0 "$MPID" 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -le $(($1 * 50)) ] || return 1
		sleep 0.02
	done
	return 0
}

# sink NAME ARGS...: a sink that keeps only sizes and hashes.
sink()
{
	name=$1
	shift
	server_start "$name" --sink --discard --record "$R" \
	    --size 300000000 "$@"
}

# run_fifo ARGS...: mailsub reading from $T/fifo in the background (PID
# in MPID: signals go to mailsub itself).
run_fifo()
{
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	"$MAILSUB" "$@" <"$T/fifo" >"$T/stdout" 2>"$T/stderr" &
	MPID=$!
}

# end_fifo: RC of the background mailsub, which gets 60 s.
end_fifo()
{
	if ! wait_pid "$MPID" 60; then
		kill -KILL "$MPID" 2>/dev/null
		t_err "mailsub did not finish within 60 s"
	fi
	wait "$MPID"
	RC=$?
}

# 200 MiB; 40 under a sanitizer, whose build reads it several times slower
# (the runs below stay within about a minute either way).
BIG=200
if grep -aq __asan_init "$MAILSUB" 2>/dev/null; then
	BIG=40
fi
HALF=$((BIG / 2))
PART=$((BIG / 8))
mkmsg "$T/big.txt" $BIG
BIG_SHA=$WIRE_SHA

# 1. A fast input streams: one connection, no SIZE=, BODY=8BITMIME
# where offered, the bytes as they were, nothing left behind; the
# connection is open before the input ends (the producer pauses 0.3 s,
# well within what a stream waits for its caller).
reset
sink plain
mk_config "$T/s.ini"
run_fifo -v -C "$T/s.ini" b@example.org
{
	dd if="$T/big.txt" bs=$MIB count=$HALF status=none
	sleep 0.3
	now >"$T/eof"
	dd if="$T/big.txt" bs=$MIB skip=$HALF status=none
} >"$T/fifo"
end_fifo
expect_exit 0
expect_stderr 'sending the message while it is read'
expect_where none "$Q"
if [ "$(count_msgs)" != 1 ]; then
	t_err "the sink has $(count_msgs) messages"
else
	f=$(one_msg)
	[ "$(json "$f" wire_sha256)" = "$BIG_SHA" ] ||
	    t_err "the message changed on the way"
	p=$(json "$f" mail_params)
	case $p in
	*SIZE=*) t_err "SIZE= declared while streaming: $p" ;;
	esac
	case $p in
	*BODY=8BITMIME*) ;;
	*) t_err "no BODY=8BITMIME: $p" ;;
	esac
	before "$(json "$f" connected_at)" "$(cat "$T/eof")" ||
	    t_err "the connection came after the end of the input"
fi
t_result "a fast input is sent while it is read, byte for byte"
server_stop "$SRV_PID"

# 2. A slow producer (2 MiB at about 1 MiB/s) keeps today's order: no
# connection until its input has ended, SIZE= declared.
reset
sink slow
mk_config "$T/s.ini"
run_fifo -C "$T/s.ini" b@example.org
{
	i=0
	while [ $i -lt 32 ]; do
		dd if="$T/big.txt" bs=65536 skip=$i count=1 status=none
		sleep 0.05
		i=$((i + 1))
	done
	now >"$T/eof"
} >"$T/fifo"
end_fifo
expect_exit 0
expect_where none "$Q"
if [ "$(count_msgs)" != 1 ]; then
	t_err "the sink has $(count_msgs) messages"
else
	f=$(one_msg)
	before "$(cat "$T/eof")" "$(json "$f" connected_at)" ||
	    t_err "connected before the input ended"
	case $(json "$f" mail_params) in
	*SIZE=*) ;;
	*) t_err "no SIZE= for a message read to its end first" ;;
	esac
fi
t_result "a slow producer gets no connection before its input ends"
server_stop "$SRV_PID"

# 3. A stream whose input stops for longer than a stream waits: given up
# (no final dot), and the message sent once read, on a new connection.
reset
sink stall
mk_config "$T/s.ini"
run_fifo -v -C "$T/s.ini" b@example.org
{
	dd if="$T/big.txt" bs=$MIB count=3 status=none
	sleep 1.6
	dd if="$T/big.txt" bs=$MIB skip=3 count=1 status=none
} >"$T/fifo"
end_fifo
expect_exit 0
expect_stderr 'the input slowed down: the stream is given up'
expect_where none "$Q"
if [ "$(count_msgs)" != 1 ]; then
	t_err "the sink has $(count_msgs) messages"
else
	f=$(one_msg)
	[ "$(json "$f" connection)" = 2 ] ||
	    t_err "delivered on connection $(json "$f" connection), want the second"
fi
t_result "a stream whose input stalls is given up, the message sent once read"
server_stop "$SRV_PID"

# 4. 8-bit data after the stream started, and a server without 8BITMIME:
# given up, then sent as without streaming (undeclared, as RFC 6152
# leaves to the client); delivered once.
reset
sink no8 --no-8bitmime
mk_config "$T/n.ini"
mkmsg "$T/8bit.txt" 4 2 351
run_mailsub "$T/8bit.txt" -v -C "$T/n.ini" b@example.org
expect_exit 0
expect_stderr '8-bit data, and the server does not offer 8BITMIME'
expect_where none "$Q"
if [ "$(count_msgs)" != 1 ]; then
	t_err "the sink has $(count_msgs) messages"
else
	f=$(one_msg)
	[ "$(json "$f" wire_sha256)" = "$WIRE_SHA" ] ||
	    t_err "the message changed on the way"
	[ "$(json "$f" connection)" = 2 ] ||
	    t_err "not sent on a second connection"
fi
t_result "8-bit data for a server without 8BITMIME: sent once read"
server_stop "$SRV_PID"

# 5. NUL bytes after the stream started: refused as always (65, saved),
# nothing delivered.
reset
sink nul
mk_config "$T/s.ini"
mkmsg "$T/nul.txt" 4 2 0
run_mailsub "$T/nul.txt" -C "$T/s.ini" b@example.org
expect_exit 65
expect_stderr 'NUL'
expect_where failed "$Q"
[ "$(count_msgs)" = 0 ] || t_err "the sink took it"
t_result "NUL bytes mid-stream: 65, saved, nothing delivered"
server_stop "$SRV_PID"

# 6. Larger than the server's SIZE: 65 and saved, as when the size is
# known up front, without a second connection.
reset
sink small --size 3000000 -v
mk_config "$T/s.ini"
mkmsg "$T/four.txt" 4
run_mailsub "$T/four.txt" -C "$T/s.ini" b@example.org
expect_exit 65
expect_stderr 'server limit is 3000000'
expect_where failed "$Q"
[ "$(count_msgs)" = 0 ] || t_err "the sink took it"
grep -q '^sink\[1\] ' "$T/small.err" || t_err "no connection logged"
! grep -q '^sink\[2\] ' "$T/small.err" || t_err "a second connection"
t_result "over the server's SIZE mid-stream: 65, saved, not delivered"

# 7. Over max_message_size: 65, nothing kept (the caller holds it).
reset
mk_config "$T/m.ini" "max_message_size = 3000000"
run_mailsub "$T/four.txt" -C "$T/m.ini" b@example.org
expect_exit 65
expect_stderr 'max_message_size'
expect_where none "$Q"
[ "$(count_msgs)" = 0 ] || t_err "the sink took it"
t_result "over max_message_size mid-stream: 65, nothing kept or delivered"
server_stop "$SRV_PID"

# 8. A regular file as input is its own copy: streamed straight from it,
# byte for byte, and the spool holds no more than what was read before
# the stream began (looked at while the sink waits before its 250).
reset
server_start file --sink --discard --record "$R" --size 300000000 \
    --end-delay-ms 700
mk_config "$T/s.ini"
"$MAILSUB" -C "$T/s.ini" b@example.org <"$T/big.txt" >"$T/stdout" \
    2>"$T/stderr" &
MPID=$!
if wait_msg 60; then
	spooled=0
	for f in "$Q"/tmp/spool-*; do
		[ -f "$f" ] && spooled=$(wc -c <"$f")
	done
	[ "$spooled" -le $((8 * MIB)) ] ||
	    t_err "the spool holds $spooled bytes of a file given as input"
else
	t_err "the sink got nothing"
fi
end_fifo
expect_exit 0
expect_where none "$Q"
[ "$(count_msgs)" = 1 ] &&
    [ "$(json "$(one_msg)" wire_sha256)" = "$BIG_SHA" ] ||
    t_err "not delivered once, byte for byte"
t_result "a file as input goes straight from the file, not through the spool"
server_stop "$SRV_PID"

# 9. The server refuses that message after its final dot (451): the file
# is read again into the queue, byte for byte, and the line says so.
reset
server_start defer --sink --discard --record "$R" --size 300000000 \
    --defer-data
mk_config "$T/s.ini"
run_mailsub "$T/big.txt" -v -C "$T/s.ini" b@example.org
expect_exit 75
expect_stderr 'reading the input file again'
expect_stderr 'message queued as'
expect_where new "$Q" && expect_queued_message "$QFILE" "$T/big.txt"
t_result "a file as input the server defers: read again, queued intact"
server_stop "$SRV_PID"

# 10. The same for a message without Date and Message-ID, and the
# envelope sender taken from its From: the copy kept carries the fields
# the server was sent, not new ones.
reset
server_start defer2 --sink --record "$R" --size 300000000 --defer-data
mk_config "$T/s.ini"
sed '/^Message-ID:/d; /^Date:/d' "$T/four.txt" >"$T/noid.txt"
run_mailsub "$T/noid.txt" -v -C "$T/s.ini" --read-envelope-from \
    b@example.org
expect_exit 75
expect_stderr 'reading the input file again'
if expect_where new "$Q"; then
	for h in Message-ID Date; do
		sent=$(grep -i -m1 "^$h: " "$R"/msg-*.eml | tr -d '\r')
		kept=$(sed '1,/^$/d' "$QFILE" | grep -i -m1 "^$h: " | tr -d '\r')
		[ -n "$sent" ] && [ "$sent" = "$kept" ] ||
		    t_err "$h sent '$sent', kept '$kept'"
	done
fi
t_result "read again, the kept copy has the Date and Message-ID sent"
server_stop "$SRV_PID"

# 11. A file that changes before it is read again is not kept: 74, and
# the line says so (the caller has the file).
reset
server_start change --sink --discard --record "$R" --size 300000000 \
    --defer-data --end-delay-ms 1500
mk_config "$T/s.ini"
cp "$T/big.txt" "$T/change.txt"
"$MAILSUB" -C "$T/s.ini" b@example.org <"$T/change.txt" >"$T/stdout" \
    2>"$T/stderr" &
MPID=$!
if wait_msg 60; then
	echo "a line more" >>"$T/change.txt"
else
	t_err "the sink got nothing"
fi
end_fifo
expect_exit 74
expect_stderr 'the input file changed while it was sent; nothing was queued or saved'
expect_stderr '451'
expect_where none "$Q"
t_result "a file that changed before it is read again: 74, nothing kept"
server_stop "$SRV_PID"
rm -f "$T/change.txt" "$T/noid.txt"

# 12. Kills at random points of a streamed large message, in each phase:
# while the input is still coming (after a random one of its 8 parts),
# just after it ended (the rest and the final dot going out), and after
# the final dot (the sink has kept the message and waits 0.5 s before its
# 250).  The offsets within a phase are random, from a seed that is
# printed.  What each run must show:
#   exit 0: delivered once, intact, nothing queued or saved;
#   exit 75: queued once, byte for byte, and the line says so; delivered
#     at most once (the server kept it and died before its 250, or mailsub
#     was stopped waiting for it: a duplicate, never a loss);
#   exit 74 (a signal before the end of the input): nothing delivered,
#     queued or saved, and the line says so;
#   SIGKILL: nothing queued or saved (the server was up), delivered at
#     most once;
#   and never a message the server took before its input had ended.
SEED=${MAILSUB_STREAM_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "# kill points from seed $SEED (MAILSUB_STREAM_SEED=$SEED to repeat)"

# produce: the message in 8 parts 0.1 s apart (fast enough to stream),
# $T/part.N after part N; $T/eof when the input has ended.
produce()
{
	i=1
	while [ $i -le 8 ]; do
		dd if="$T/big.txt" bs=$MIB skip=$(((i - 1) * PART)) \
		    count=$PART status=none 2>/dev/null || break
		echo "$i" >"$T/part.$i"
		[ $i = 8 ] || sleep 0.1
		i=$((i + 1))
	done
	# The remainder when BIG is not a multiple of 8.
	dd if="$T/big.txt" bs=$MIB skip=$((8 * PART)) status=none 2>/dev/null
	now >"$T/eof"
}

ksink()
{
	server_start k --sink --discard --record "$R" --size 300000000 \
	    --end-delay-ms 500 ${KPORT:+--port "$KPORT"}
}

# rnd K MAX: the seed's K-th number in [0, MAX).
rnd()
{
	awk -v s="$SEED" -v k="$1" -v max="$2" 'BEGIN { srand(s + k * 7919)
		printf "%.3f", rand() * max }'
}

reset
ksink
KPORT=$SRV_PORT
mk_config "$T/k.ini"
K=0

# kill_run WHAT PHASE: WHAT is server, KILL or TERM; PHASE input, eof or
# dot for a producer on a fifo; file (at a random point of the run) or
# dot for the file itself as input, which has ended before the run.
kill_run()
{
	what=$1
	phase=$2
	K=$((K + 1))
	reset
	rm -f "$T/eof" "$T"/part.*
	if [ -z "$SRV_PID" ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
		ksink
	fi
	ppid=
	case $phase in
	file | file-dot)
		now >"$T/eof"
		"$MAILSUB" -C "$T/k.ini" b@example.org <"$T/big.txt" \
		    >"$T/stdout" 2>"$T/stderr" &
		MPID=$!
		;;
	*)
		run_fifo -C "$T/k.ini" b@example.org
		produce >"$T/fifo" &
		ppid=$!
		;;
	esac
	delay=$(rnd $K 0.09)
	case $phase in
	file)
		delay=$(rnd $K 0.6)
		point="from a file, +${delay}s into the run"
		;;
	file-dot)
		delay=$(rnd $K 0.4)
		wait_msg 30
		point="from a file, after the final dot +${delay}s"
		;;
	input)
		part=$(awk -v r="$(rnd $K 1)" 'BEGIN { printf "%d", 1 + r * 6 }')
		wait_file "$T/part.$part" 30 "$MPID"
		point="after part $part of 8 +${delay}s"
		;;
	eof)
		delay=$(rnd $K 0.2)
		wait_file "$T/eof" 30 "$MPID"
		point="after the end of the input +${delay}s"
		;;
	dot)
		delay=$(rnd $K 0.4)
		wait_msg 30
		point="after the final dot +${delay}s"
		;;
	esac
	sleep "$delay"
	kt=$(now)
	case $what in
	server) kill -KILL "$SRV_PID" 2>/dev/null ;;
	*) kill "-$what" "$MPID" 2>/dev/null ;;
	esac
	end_fifo
	# A producer left writing to a fifo nobody reads: ended by PID.
	if [ -n "$ppid" ]; then
		kill "$ppid" 2>/dev/null
		wait "$ppid" 2>/dev/null
	fi
	if [ "$what" = server ]; then
		server_stop "$SRV_PID"
		SRV_PID=
	fi
	got=$(count_msgs)
	nnew=$(count_files "$Q/new")
	nfailed=$(count_files "$Q/failed")
	ended=0
	if [ -s "$T/eof" ] && ! before "$kt" "$(cat "$T/eof")"; then
		ended=1
	fi
	case $RC in
	0)
		expect_where none "$Q"
		if [ "$got" != 1 ]; then
			t_err "exit 0 with $got delivered"
		elif [ "$(json "$(one_msg)" wire_sha256)" != "$BIG_SHA" ]; then
			t_err "exit 0, but the message changed on the way"
		fi
		;;
	75)
		expect_where new "$Q" &&
		    expect_queued_message "$QFILE" "$T/big.txt"
		expect_stderr 'message queued as'
		[ "$got" -le 1 ] || t_err "delivered $got times"
		;;
	74)
		expect_where none "$Q"
		expect_stderr 'before the end of the message; nothing was queued or saved'
		[ "$got" = 0 ] || t_err "exit 74, but delivered $got times"
		;;
	137)
		[ "$what" = KILL ] || t_err "killed by SIGKILL unasked"
		[ "$nnew" = 0 ] && [ "$nfailed" = 0 ] ||
		    t_err "killed with $nnew queued, $nfailed saved"
		[ "$got" -le 1 ] || t_err "delivered $got times"
		;;
	*)
		t_err "exit $RC"
		;;
	esac
	if [ "$ended" = 0 ] && [ "$got" != 0 ]; then
		t_err "the server took a message whose input had not ended"
	fi
	t_result "$what $point (input $([ "$ended" = 1 ] && echo ended ||
	    echo not ended)): exit $RC, $got delivered, $nnew queued"
}

for phase in input eof dot file file-dot; do
	kill_run server $phase
	kill_run KILL $phase
	kill_run TERM $phase
done
server_stop "$SRV_PID"
t_summary
