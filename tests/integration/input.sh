#!/bin/sh
# SPDX-License-Identifier: ISC
# Input that must never make mailsub give up and keep nothing: an aliases
# file written for a local MTA, header fields in the obsolete syntax of
# RFC 5322 4.5.3, folded quoted local parts, addresses that are not UTF-8,
# and input without end (max_message_size).  The rule behind them: once
# stdin has reached EOF, a message is delivered, queued or saved, and only
# a failing disk (73/74) ends a run with nothing kept.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init input
need_mailsub

SINK=$T/rec
Q=$T/queue
SINKCHECK=$SRCDIR/tests/sinkcheck.py
ALIASES=$SRCDIR/tests/fixtures/aliases-debian
server_start sink --sink --record "$SINK" || t_skip_all "the sink did not start"
mk_config "$T/cfg.ini"
mk_config "$T/al.ini" "aliases=$ALIASES" default_domain=example.com \
    "logfile=$T/log"

fresh()
{
	rm -f "$SINK"/msg-*
	rm -rf "$Q"
	rm -f "$T/log"
}

sink()
{
	if ! out=$("$PYTHON3" "$SINKCHECK" "$SINK" "$@" 2>&1); then
		t_err "sink: $(printf '%s' "$out" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

sink_count()
{
	n=0
	for f in "$SINK"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

printf 'Subject: cron\n\nout of disk on /var\n' >"$T/plain.txt"

# ---- aliases written for a local MTA ------------------------------------

# Debian's /etc/aliases with "nobody: /dev/null", "|cmd", ":include:",
# "root: \root, admin@..." and a line without a colon: before, every
# message exited 78 and kept nothing.
fresh
run_mailsub "$T/plain.txt" -C "$T/al.ini" root nobody logcheck postmaster
expect_exit 0 && expect_where none "$Q" &&
    sink --count 1 --rcpts \
    admin@example.org,nobody@example.com,logcheck@example.com
[ -s "$T/stderr" ] && t_err "stderr without -v: $(head -c 200 "$T/stderr")"
t_result "aliases: local targets skipped, the message goes out"

fresh
run_mailsub "$T/plain.txt" -C "$T/al.ini" -v root
expect_exit 0 &&
    expect_stderr 'warning: [^\n]*aliases-debian:6: alias "nobody": target "/dev/null" \(a file\) skipped' &&
    expect_stderr 'aliases-debian:16: alias "logcheck": target "\|/usr/sbin/logcheck-mail" \(a pipe to a command\)' &&
    expect_stderr 'aliases-debian:18: alias "staff": [^\n]*\(an :include: list\)' &&
    expect_stderr 'aliases-debian:19: alias "root": [^\n]*\(a local mailbox\)' &&
    expect_stderr "aliases-debian:21: missing ':'; line skipped"
n=$(grep -c 'aliases-debian:6:' "$T/stderr")
[ "$n" = 1 ] || t_err "the /dev/null warning $n times in -v, want once"
re_search 'status=sent [^\n]*warning="[^"\n]*aliases-debian:19: alias \\x22root\\x22' \
    "$T/log" || t_err "log record without the warning: $(cat "$T/log")"
t_result "aliases: one warning each in -v, the used one in the log record"

fresh
run_mailsub "$T/plain.txt" -C "$T/al.ini" alice
expect_exit 0 && sink --count 1 --rcpts alice@example.com
grep -q 'warning=' "$T/log" && t_err "a warning for an alias not used"
t_result "aliases: no warning in the record of a message that used none"

run_mailsub /dev/null -C "$T/al.ini" --check-config
expect_exit 0
for want in 'note: [^\n]*aliases-debian:6: alias "nobody"' \
    'aliases-debian:17: alias "archive"' 'aliases-debian:19: alias "root"' \
    "aliases-debian:21: missing ':'" \
    'aliases-debian:22: alias "ops": target skipped' 'ok \(with notes\)'; do
	re_search "$want" "$T/stdout" || t_err "--check-config lacks /$want/"
done
t_result "aliases: --check-config lists every skip and exits 0"

fresh
printf 'To: root\nCc: ops, nobody\nSubject: t\n\nbody\n' >"$T/t-alias.txt"
run_mailsub "$T/t-alias.txt" -C "$T/al.ini" -t
expect_exit 0 && sink --count 1 --rcpt-set \
    admin@example.org,oncall@example.org,backup@example.org,nobody@example.com
t_result "aliases: -t recipients through the same file"

# ---- -t: folded quoted local parts ----------------------------------------

# RFC 5322 3.2.4: unfolding "long<LF><TAB>local" keeps the TAB, which no
# SMTP path can carry: 65 and saved (before: 70, nothing kept).
fresh
printf 'To: "long\n\tlocal"@example.net\nSubject: folded\n\nbody\n' \
    >"$T/folded.txt"
run_mailsub "$T/folded.txt" -C "$T/cfg.ini" -t
expect_exit 65 && expect_stderr 'long\\x09local' &&
    expect_stderr 'saved as' && expect_where failed "$Q" &&
    expect_queued_message "$QFILE" "$T/folded.txt"
sink --count 0
t_result "-t folded quoted local part with a TAB: 65, saved"

fresh
printf 'To: "long\n local"@example.net, b@example.org\nSubject: f\n\nbody\n' \
    >"$T/folded-sp.txt"
run_mailsub "$T/folded-sp.txt" -C "$T/cfg.ini" -t
expect_exit 0 && expect_where none "$Q" &&
    sink --count 1 --rcpts '"long local"@example.net,b@example.org'
t_result "-t folded quoted local part with a space: unfolded and sent"

# ---- RFC 5322 4.5.3: white space before the colon --------------------------

fresh
printf 'To: a@example.org\nBCC : hidden@example.org\nBcc\t: other@example.org\nSubject : obs\n\nbody\n' \
    >"$T/obs.txt"
run_mailsub "$T/obs.txt" -C "$T/cfg.ini" -t
expect_exit 0 && sink --count 1 \
    --rcpts a@example.org,hidden@example.org,other@example.org \
    --not-contains hidden@ --not-contains other@ --contains 'Subject : obs' \
    --contains '\r\n\r\nbody\r\n'
t_result "-t 'BCC :' and 'Bcc<TAB>:': recipients, and removed"

fresh
run_mailsub "$T/obs.txt" -C "$T/cfg.ini" c@example.org
expect_exit 0 && sink --count 1 --rcpts c@example.org \
    --not-contains hidden@ --not-contains other@
t_result "'BCC :' removed without -t"

fresh
printf 'To: a@example.org\nResent-To : r@example.org\nResent-Bcc\t: rb@example.org\nMessage-ID : <obs@example.org>\nDate\t: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n' \
    >"$T/obs-resent.txt"
run_mailsub "$T/obs-resent.txt" -C "$T/cfg.ini" -t
expect_exit 0 && sink --count 1 --rcpts r@example.org,rb@example.org \
    --not-contains rb@ --header-count message-id=0 --header-count date=0 \
    --contains 'Message-ID : <obs@example.org>'
t_result "'Resent-Bcc :', 'Message-ID :', 'Date<TAB>:' recognised"

# ---- addresses that are not UTF-8 -----------------------------------------

fresh
run_mailsub "$T/plain.txt" -C "$T/cfg.ini" "$(printf 'caf\351@example.org')"
expect_exit 64 && expect_stderr 'caf\\xe9@example\.org[^\n]*not UTF-8' &&
    expect_where none "$Q"
sink --count 0
t_result "argv address not UTF-8: 64, nothing read"

fresh
printf 'To: b@example.org, caf\351@example.org\nSubject: latin-1\n\nbody\n' \
    >"$T/latin1.txt"
run_mailsub "$T/latin1.txt" -C "$T/cfg.ini" -t
expect_exit 65 && expect_stderr 'not UTF-8' && expect_where failed "$Q" &&
    expect_queued_message "$QFILE" "$T/latin1.txt"
[ "$(queue_header "$QFILE" rcpt)" = b@example.org ] ||
    t_err "the valid recipient was not kept in the envelope"
sink --count 0
t_result "header address not UTF-8: 65, saved"

fresh
run_mailsub "$T/plain.txt" -C "$T/cfg.ini" "$(printf 'j\303\266rg@example.org')"
expect_exit 0 && sink --count 1
t_result "argv address in UTF-8: sent"

# ---- the rule: after EOF, delivered, queued or saved ------------------------

mkdir -p "$T/in"
printf 'Subject: nul\n\nbefore\000after\n' >"$T/in/nul"
"$PYTHON3" -c 'import sys
sys.stdout.write("To: a@example.org\n")
for i in range(30000): sys.stdout.write("X-F-%d: %s\n" % (i, "y" * 40))
sys.stdout.write("\nbody\n")' >"$T/in/bighdr"
printf 'Subject: none\n\nbody\n' >"$T/in/norcpt"
printf 'To: undisclosed-recipients:;\n\nbody\n' >"$T/in/group"
printf 'To: <broken@\n\nbody\n' >"$T/in/badaddr"
printf 'To: "a\001b"@example.org\n\nbody\n' >"$T/in/ctl"
cp "$T/folded.txt" "$T/in/folded"
cp "$T/latin1.txt" "$T/in/latin1"
printf 'BCC : only@example.org\n\nbody\n' >"$T/in/obsbcc"
"$PYTHON3" -c 'import sys
sys.stdout.write("To: %s@example.org\n\nbody\n" % ("l" * 300))' >"$T/in/long"
"$PYTHON3" -c 'import sys
sys.stdout.write("To: \"%s\"@example.org\n\nbody\n" % ("q" * 6000))' \
    >"$T/in/verylong"
printf 'To: a@example.org\n\nbare\rcr and\nno final newline' >"$T/in/endings"
: >"$T/in/empty"
printf 'To: loop1\n\nbody\n' >"$T/in/loop"
printf 'loop1: loop2\nloop2: loop1\n' >"$T/loop.aliases"
mk_config "$T/loop.ini" "aliases=$T/loop.aliases" default_domain=example.com
for f in nul bighdr norcpt group badaddr ctl folded latin1 obsbcc long \
    verylong endings empty loop; do
	fresh
	cfg=$T/cfg.ini
	[ "$f" = loop ] && cfg=$T/loop.ini
	run_mailsub "$T/in/$f" -C "$cfg" -t
	case $RC in
	0)
		[ "$(sink_count)" = 1 ] || t_err "exit 0 but nothing received"
		expect_where none "$Q"
		;;
	73 | 74 | 70 | 71)
		t_err "exit $RC: nothing kept"
		;;
	75)
		expect_where new "$Q" && expect_stderr 'queued as'
		;;
	*)
		# (The To of "loop" is completed: not the input's bytes.)
		if expect_where failed "$Q" && expect_stderr 'saved as' &&
		    [ "$f" != loop ]; then
			expect_queued_message "$QFILE" "$T/in/$f"
		fi
		;;
	esac
	t_result "after EOF: $f (exit $RC) is delivered, queued or saved"
done

# ---- max_message_size ----------------------------------------------------

mk_config "$T/max.ini" max_message_size=1048576
mk_config "$T/nomax.ini" max_message_size=0
NAMED='max_message_size \(1048576 bytes\)'

fresh
head -c 2097152 /dev/zero | "$MAILSUB" -C "$T/max.ini" b@example.org \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 65 && expect_stderr "$NAMED" && expect_where none "$Q"
sink --count 0
t_result "max_message_size: 2 MiB of stdin with a 1 MiB limit: 65, nothing left"

fresh
timeout -k 5 60 sh -c 'yes "an endless line of text" |
    "$MAILSUB" -C "$1" b@example.org' sh "$T/max.ini" \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 65 && expect_stderr "$NAMED" && expect_where none "$Q"
t_result "max_message_size: an endless stdin stops at the limit"

head -c 2097152 /dev/urandom >"$T/2m.bin"
fresh
run_mailsub /dev/null -C "$T/max.ini" --to b@example.org --body hi \
    --attach "$T/2m.bin"
expect_exit 65 && expect_stderr "$NAMED" && expect_where none "$Q"
sink --count 0
t_result "max_message_size: --attach of a 2 MiB file: 65, nothing left"

fresh
MAILSUB_TEST_TIMEOUT=60 run_mailsub /dev/null -C "$T/max.ini" \
    --to b@example.org --body hi --attach /dev/zero
expect_exit 65 && expect_stderr "$NAMED" && expect_where none "$Q"
t_result "max_message_size: --attach /dev/zero stops at the limit"

head -c 2097152 /dev/zero | tr '\0' 'a' | fold -w 76 >"$T/2m.txt"
fresh
run_mailsub "$T/2m.txt" -C "$T/nomax.ini" b@example.org
expect_exit 0 && sink --count 1
t_result "max_message_size = 0: no limit"

fresh
run_mailsub "$T/2m.txt" -C "$T/cfg.ini" b@example.org
expect_exit 0 && sink --count 1
t_result "max_message_size: the default (256 MiB) takes 2 MiB"

fresh
run_mailsub "$T/2m.txt" -C "$T/max.ini" --to b@example.org --body hi
expect_exit 0 && sink --count 1
t_result "max_message_size: a small compose message is not refused"

# -bs: a DATA over the limit gets 552 naming it; the session goes on.
fresh
export MAILSUB T
if ! out=$(PYTHONPATH=$SRCDIR/tests "$PYTHON3" - 2>&1 <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["T"] + "/max.ini", "-bs"])
s.expect(220)
s.cmd("EHLO [127.0.0.1]", 250)
s.cmd("MAIL FROM:<app@example.org>", 250)
s.cmd("RCPT TO:<b@example.org>", 250)
body = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 2100
s.data(body, 552, r"1048576 bytes")
s.cmd("MAIL FROM:<app@example.org>", 250)
s.cmd("RCPT TO:<b@example.org>", 250)
s.data(b"Subject: small\r\n\r\nhi\r\n", 250)
rc = s.quit()
assert rc == 0, (rc, s.stderr)
EOF
); then
	t_err "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
fi
sink --count 1 --header 'Subject: small'
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "files left in tmp/"
t_result "max_message_size: -bs DATA over the limit gets 552, the next one goes"

# The server's SIZE still applies, before DATA, whatever the limit.
server_start small --sink --record "$T/rec-small" --size 100000 ||
    t_err "the second sink did not start"
mk_config "$T/small.ini" max_message_size=0
fresh
run_mailsub "$T/2m.txt" -C "$T/small.ini" b@example.org
expect_exit 65 && expect_stderr 'server limit is 100000' &&
    expect_where failed "$Q"
t_result "max_message_size = 0: the server's SIZE limit still refuses"

t_summary
