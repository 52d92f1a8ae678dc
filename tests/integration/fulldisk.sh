#!/bin/sh
# SPDX-License-Identifier: ISC
# Full disk (tests/FAULTS.md 42): when the spool or the queue cannot
# be written the exit is 73 or 74, never 0 or 75, and no partial file is
# left; a flush that cannot record an attempt keeps the message as it was.
# A small tmpfs in a private mount namespace (root only) and RLIMIT_FSIZE
# (anyone).
. "$SRCDIR/tests/lib.sh"
t_init fulldisk
need_mailsub

dead=$(free_port)

# expect_full: RC is 73 or 74 and the stderr line says why.
expect_full()
{
	case $RC in
	73|74) ;;
	*) t_err "exit $RC, want 73 or 74" ;;
	esac
	expect_stderr '(?i)(no space|file too large|cannot (write|create))'
}

# big_message FILE KB: a message with every header mailsub would add, so
# its wire form is the input with CRLF line ends.
big_message()
{
	"$PYTHON3" -c 'import sys
kb = int(sys.argv[1])
sys.stdout.write("From: a@example.org\nTo: b@example.org\n"
                 "Date: Mon, 23 Nov 2026 10:00:00 +0000\n"
                 "Message-ID: <full@example.org>\nSubject: big\n\n")
for i in range(kb * 1024 // 72):
    sys.stdout.write("%070d\n" % i)' "$2" >"$1"
}

# ---- RLIMIT_FSIZE: the spool fits, the queue file (spool + header) not.
Q=$T/queue
big_message "$T/m100.txt" 100
wire=$("$PYTHON3" -c 'import sys
print(len(open(sys.argv[1], "rb").read().replace(b"\n", b"\r\n")))' "$T/m100.txt")
mk_config "$T/dead.ini" port="$dead"
# limit_run LIMIT ARGS...: mailsub with RLIMIT_FSIZE = LIMIT bytes.
limit_run()
{
	lim=$1
	shift
	"$PYTHON3" -c 'import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
os.execv(sys.argv[2], sys.argv[2:])' "$lim" "$MAILSUB" "$@" \
	    <"$T/m100.txt" >"$T/stdout" 2>"$T/stderr"
	RC=$?
}
rm -rf "$Q"
limit_run $((wire + 16)) -C "$T/dead.ini" b@example.org
expect_full && expect_stderr 'could not be kept'
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "partial file left in tmp/"
[ "$(count_files "$Q/new")" = 0 ] || t_err "a queue file was left in new/"
t_result "RLIMIT_FSIZE: tempfail but the queue file cannot be written"

rm -rf "$Q"
limit_run $((wire + 16)) -C "$T/dead.ini" -odq b@example.org
expect_full
[ "$(count_files "$Q/tmp")" = 0 ] && [ "$(count_files "$Q/new")" = 0 ] ||
    t_err "partial file left"
t_result "RLIMIT_FSIZE: -odq cannot queue"

rm -rf "$Q"
limit_run 4096 -C "$T/dead.ini" b@example.org
expect_full
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "partial spool left"
t_result "RLIMIT_FSIZE: the spool cannot be written"

# ---- A small tmpfs (root, private mount namespace).
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
    ! unshare -m true 2>/dev/null; then
	t_skip "tmpfs full" "needs root and unshare -m"
	t_summary
fi

mkdir -p "$T/small"
SQ=$T/small/q
# in_tmpfs SIZE SCRIPT: run the sh SCRIPT with a fresh tmpfs of SIZE on
# $T/small, in a mount namespace of its own (gone when it ends).  The
# results of the case before are removed first: a SCRIPT that did not run
# (the mount failed) leaves no $T/rc, which is an error, not the last
# case's exit status read again.
in_tmpfs()
{
	rm -f "$T/rc" "$T/ls" "$T/stdout" "$T/stderr" "$T/cmp"
	unshare -m sh -c 'mount -t tmpfs -o size="$1",mode=0700 tmpfs "$2" &&
	    eval "$3"' sh "$1" "$T/small" "$2"
	_st=$?
	[ -s "$T/rc" ] || t_err "the case did not run in its tmpfs"
	return $_st
}
export MAILSUB T SQ

mk_config "$T/small-dead.ini" port="$dead" "queue_dir = $SQ"

# The spool does not fit.
big_message "$T/m400.txt" 400
in_tmpfs 256k '"$MAILSUB" -C "$T/small-dead.ini" b@example.org \
    <"$T/m400.txt" >"$T/stdout" 2>"$T/stderr"; echo $? >"$T/rc"
    ls -A "$SQ/tmp" "$SQ/new" "$SQ/failed" >"$T/ls" 2>/dev/null'
RC=$(cat "$T/rc")
expect_full && expect_stderr 'No space left on device'
grep -v ':$' "$T/ls" | grep -q . && t_err "files left: $(cat "$T/ls")"
sed "s|^|#   |" "$T/stderr"
t_result "tmpfs full: the spool does not fit"

# The spool fits, the queue copy does not: never 75.
in_tmpfs 160k '"$MAILSUB" -C "$T/small-dead.ini" b@example.org \
    <"$T/m100.txt" >"$T/stdout" 2>"$T/stderr"; echo $? >"$T/rc"
    ls -A "$SQ/tmp" "$SQ/new" "$SQ/failed" >"$T/ls" 2>/dev/null'
RC=$(cat "$T/rc")
expect_full && expect_stderr 'could not be kept: .*No space left on device'
grep -v ':$' "$T/ls" | grep -q . && t_err "files left: $(cat "$T/ls")"
sed "s|^|#   |" "$T/stderr"
t_result "tmpfs full: tempfail but the queue file does not fit"

# -odq likewise never says 0.
in_tmpfs 160k '"$MAILSUB" -C "$T/small-dead.ini" -odq b@example.org \
    <"$T/m100.txt" >"$T/stdout" 2>"$T/stderr"; echo $? >"$T/rc"
    ls -A "$SQ/tmp" "$SQ/new" "$SQ/failed" >"$T/ls" 2>/dev/null'
RC=$(cat "$T/rc")
expect_full && expect_stderr 'No space left on device'
grep -v ':$' "$T/ls" | grep -q . && t_err "files left: $(cat "$T/ls")"
sed "s|^|#   |" "$T/stderr"
t_result "tmpfs full: -odq cannot queue"

# A flush on a full disk: the attempt cannot be recorded (the rewrite
# needs room), the message stays exactly as it was, exit 75.
mkdir -p "$T/defer.rec"
server_start defer --sink --record "$T/defer.rec" --defer-rcpt b@example.org
mk_config "$T/small-defer.ini" "queue_dir = $SQ"
in_tmpfs 256k '"$MAILSUB" -C "$T/small-dead.ini" -odq b@example.org \
    <"$T/m100.txt" 2>"$T/odq.err" || exit 1
    f=$(ls "$SQ/new"); cp "$SQ/new/$f" "$T/before"
    head -c 400000 /dev/zero >"$T/small/filler" 2>/dev/null
    "$MAILSUB" -C "$T/small-defer.ini" -q >"$T/stdout" 2>"$T/stderr"
    echo $? >"$T/rc"
    cmp "$SQ/new/$f" "$T/before" >"$T/cmp" 2>&1 || echo changed >>"$T/cmp"
    ls -A "$SQ/tmp" >"$T/ls" 2>&1' || t_err "-odq failed: $(cat "$T/odq.err")"
RC=$(cat "$T/rc")
expect_exit 75 &&
    expect_stderr 'stays queued, but its attempt could not be recorded: .*No space left'
[ -s "$T/cmp" ] && t_err "the queued message changed: $(cat "$T/cmp")"
[ -s "$T/ls" ] && t_err "left in tmp/: $(cat "$T/ls")"
sed "s|^|#   |" "$T/stderr"
t_result "tmpfs full: a flush keeps the message as it was"

t_summary
