#!/bin/sh
# SPDX-License-Identifier: ISC
# Every sendmail option of mailsub(1), OPTIONS, one case each, through the
# real binary against smtpserver.py --sink: what the server received (the
# envelope, its parameters and the message) is checked, not just the exit
# status.  Also bare names through aliases and default_domain (fail2ban's
# `sendmail -f fail2ban root`).  Cases that need root (a private mount
# namespace for the GECOS full name) are skipped without it.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init options
need_mailsub

SINK=$T/rec
Q=$T/queue
CFG=$T/cfg.ini
SINKCHECK=$SRCDIR/tests/sinkcheck.py
PTYRUN=$SRCDIR/tests/ptyrun.py

server_start sink --sink --record "$SINK" --dsn \
    --reject-rcpt refused@example.org || t_fatal "the sink did not start"
SINK_PORT=$SRV_PORT
printf 'root: admin@example.org, ops\nops: ops-team@example.net\n' \
    >"$T/aliases"
mk_config "$CFG" default_domain=example.org "aliases=$T/aliases"

# check ARGS...: sinkcheck.py on the sink's records; a failure is noted.
check()
{
	if ! out=$("$PYTHON3" "$SINKCHECK" "$SINK" "$@" 2>&1); then
		t_err "$out"
		return 1
	fi
	return 0
}

# fresh: forget earlier messages and the queue.
fresh()
{
	rm -f "$SINK"/msg-*
	rm -rf "$Q"
}

received()
{
	n=0
	for f in "$SINK"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# send ARGS...: run mailsub -C $CFG ARGS < $T/in
send()
{
	run_mailsub "$T/in" -C "$CFG" "$@"
}

msg()
{
	printf '%s\n' "$@" >"$T/in"
}

# ---- -t -----------------------------------------------------------------

fresh
msg "From: a@example.org" "To: to@example.org" "Cc: Cc Person <cc@example.org>" \
    "Bcc: bcc@example.org" "Subject: -t" "" "body"
send -t
expect_exit 0 && check --count 1 \
    --rcpt-set to@example.org,cc@example.org,bcc@example.org \
    --no-header Bcc --header "To: to@example.org" --body-equals "$T/in"
t_result "-t: To, Cc and Bcc are the recipients; Bcc is removed"

fresh
msg "From: a@example.org" "To: old@example.org" "Cc: oldcc@example.org" \
    "Resent-From: b@example.org" "Resent-To: new@example.org" \
    "Resent-Cc: newcc@example.org" "Resent-Bcc: newbcc@example.org" \
    "Subject: resent" "" "body"
send -t
expect_exit 0 && check --count 1 \
    --rcpt-set new@example.org,newcc@example.org,newbcc@example.org \
    --no-header Resent-Bcc --header "To: old@example.org" \
    --header "Resent-To: new@example.org"
t_result "-t: Resent-* present: only the Resent-* recipients; Resent-Bcc removed"

fresh
msg "From: a@example.org" "To: dup@example.org, Dup <dup@example.org>" \
    "Cc: dup@EXAMPLE.ORG, other@example.org" "Bcc: dup@example.org" \
    "Subject: dup" "" "body"
send -t dup@example.org
expect_exit 0 && check --count 1 --rcpts dup@example.org,other@example.org
t_result "-t: duplicates across To, Cc, Bcc and argv are sent once"

fresh
msg "From: a@example.org" "To: undisclosed-recipients:;" \
    "Bcc: hidden@example.org" "Subject: group" "" "body"
send -t
expect_exit 0 && check --count 1 --rcpts hidden@example.org \
    --header "To: undisclosed-recipients:;" --no-header Bcc
t_result "-t: undisclosed-recipients:; adds nothing, Bcc still counts"

fresh
msg "From: a@example.org" "To: team: t1@example.org, T2 <t2@example.org>;," \
    "  folded@example.org" "Subject: group members" "" "body"
send -t
expect_exit 0 && check --count 1 \
    --rcpts t1@example.org,t2@example.org,folded@example.org
t_result "-t: group members and a folded To line"

fresh
msg "From: a@example.org" "To: undisclosed-recipients:;" "Subject: none" "" \
    "body"
send -t
expect_exit 65 && expect_stderr '(?i)no recipients' &&
    expect_where failed "$Q"
[ "$(received)" = 0 ] || t_err "something was sent"
t_result "-t: no recipients at all -> 65, saved to failed/"

fresh
msg "From: a@example.org" "To: hdr@example.org" "Subject: plus argv" "" "x"
send -t arg@example.org
expect_exit 0 && check --rcpt-set arg@example.org,hdr@example.org
t_result "-t: argv recipients are added to the header ones"

# ---- -i, -oi and the lone dot -------------------------------------------

fresh
msg "Subject: dots" "" "line 1" "." "line 3" ".." "...x" "last"
for opt in -i -oi ""; do
	rm -f "$SINK"/msg-*
	# shellcheck disable=SC2086
	send $opt dot@example.org
	expect_exit 0 && check --count 1 --body-equals "$T/in"
	t_result "lone dot: ${opt:-no -i}, stdin not a terminal: all of it arrives"
done

if "$PYTHON3" -c 'import pty' 2>/dev/null; then
	fresh
	msg "Subject: typed" "" "before" "." "after"
	"$PYTHON3" "$PTYRUN" --output "$T/pty.out" "$T/in" -- "$MAILSUB" \
	    -C "$CFG" tty@example.org
	RC=$?
	expect_exit 0 && check --count 1 --contains 'before\r\n' \
	    --not-contains 'after'
	t_result "terminal without -i: a lone dot ends the message"

	fresh
	"$PYTHON3" "$PTYRUN" --eof --output "$T/pty.out" "$T/in" -- \
	    "$MAILSUB" -i -C "$CFG" tty@example.org
	RC=$?
	expect_exit 0 && check --count 1 --body-equals "$T/in"
	t_result "terminal with -i: the dot is text, Ctrl-D ends the message"
else
	t_skip "terminal lone-dot rule" "python3 has no pty module"
fi

# ---- -f, -r, -F -----------------------------------------------------------

fresh
msg "Subject: no from" "" "body"
send -f bounce@example.org f@example.org
expect_exit 0 && check --from bounce@example.org \
    --header-re 'From: <?bounce@example\.org>?$|<bounce@example\.org>$'
t_result "-f: envelope sender and the generated From"

fresh
send -r rflag@example.org f@example.org
expect_exit 0 && check --from rflag@example.org
t_result "-r: same as -f"

fresh
send -f '<>' f@example.org
expect_exit 0 && check --from ""
t_result "-f '<>': the null sender"

fresh
send -f fail2ban f@example.org
expect_exit 0 && check --from fail2ban@example.org
t_result "-f bare name: completed with default_domain"

fresh
send -F "Backup Robot" -f robot@example.org f@example.org
expect_exit 0 && check --header-re 'From: ^"?Backup Robot"? <robot@example\.org>$'
t_result "-F: the full name of the generated From"

fresh
send -FCronDaemon -f robot@example.org f@example.org
expect_exit 0 && check --header-re 'From: ^"?CronDaemon"? <robot@example\.org>$'
t_result "-FName attached (cron's -FCronDaemon)"

fresh
msg "From: Kept Name <kept@example.org>" "Subject: has from" "" "body"
send -F "Other Name" f@example.org
expect_exit 0 && check --header "From: Kept Name <kept@example.org>" \
    --header-count From=1
t_result "-F: an existing From is kept"

# The GECOS full name when no -F: a private mount namespace with a
# passwd file of our own over /etc/passwd (root only).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null; then
	fresh
	msg "Subject: gecos" "" "body"
	sed "s/^root:\([^:]*\):0:0:[^:]*:/root:\1:0:0:Gecos Test User,Room 7,555-1234,:/" \
	    /etc/passwd >"$T/passwd"
	unshare -m sh -c 'mount --bind "$1" /etc/passwd && shift &&
	    exec "$@"' sh "$T/passwd" "$MAILSUB" -C "$CFG" \
	    -f me@example.org gecos@example.org <"$T/in" >"$T/stdout" \
	    2>"$T/stderr"
	RC=$?
	expect_exit 0 &&
	    check --header-re 'From: ^"?Gecos Test User"? <me@example\.org>$'
	t_result "no -F: the full name from the password database (GECOS)"
else
	t_skip "GECOS full name" "needs root and unshare -m"
fi

# ---- DSN, body type ---------------------------------------------------------

fresh
msg "Subject: dsn" "" "body"
send -N success,failure -R hdrs -V env-42 dsn@example.org
expect_exit 0 && check --mail-param 'RET=HDRS' --mail-param 'ENVID=env-42' \
    --rcpt-param 'NOTIFY=SUCCESS,FAILURE'
t_result "-N/-R/-V: NOTIFY, RET and ENVID when the server offers DSN"

fresh
send -N never -R full dsn@example.org
expect_exit 0 && check --mail-param 'RET=FULL' --rcpt-param 'NOTIFY=NEVER'
t_result "-N never -R full"

if server_start nodsn --sink --record "$T/rec-nodsn"; then
	mk_config "$T/nodsn.ini"
	run_mailsub "$T/in" -C "$T/nodsn.ini" -N success dsn@example.org
	expect_exit 0 && expect_stderr '(?i)warning.*DSN'
	if ! out=$("$PYTHON3" "$SINKCHECK" "$T/rec-nodsn" --count 1 \
	    --no-mail-param RET= 2>&1); then
		t_err "$out"
	fi
	t_result "-N without DSN at the server: sent, with a warning"
	server_stop "$SRV_PID"
	SRV_PORT=$SINK_PORT
else
	t_result "-N without DSN at the server: sent, with a warning"
	SRV_PORT=$SINK_PORT
fi

fresh
msg "Subject: body" "" "plain ascii"
send -B 8BITMIME b@example.org
expect_exit 0 && check --mail-param 'BODY=8BITMIME'
t_result "-B 8BITMIME: BODY=8BITMIME"

fresh
send -B8BITMIME b@example.org
expect_exit 0 && check --mail-param 'BODY=8BITMIME'
t_result "-B8BITMIME attached (cron)"

fresh
send -B 7BIT b@example.org
expect_exit 0 && check --no-mail-param 'BODY=8BITMIME'
t_result "-B 7BIT: no BODY=8BITMIME"

fresh
printf 'Subject: 8bit\n\nGr\303\274\303\237e\n' >"$T/in"
send b@example.org
expect_exit 0 && check --mail-param 'BODY=8BITMIME' --body-equals "$T/in"
t_result "an 8-bit body without -B: BODY=8BITMIME"

# ---- modes ----------------------------------------------------------------

fresh
msg "Subject: bm" "" "body"
send -bm bm@example.org
expect_exit 0 && check --count 1 --rcpts bm@example.org
t_result "-bm: deliver (the default)"

fresh
send -bv root v@example.org
expect_exit 0 && expect_where none "$Q"
grep -q '127\.0\.0\.1:[0-9]*: verified' "$T/stdout" ||
    t_err "no 'verified' line: $(cat "$T/stdout")"
grep -q 'recipient admin@example\.org' "$T/stdout" ||
    t_err "aliases not shown"
[ "$(received)" = 0 ] || t_err "-bv sent a message"
t_result "-bv: connects, prints verified, sends nothing"

send -bv 'bad<@example.org'
expect_exit 64
t_result "-bv: a bad recipient -> 64"

mk_config "$T/closed.ini" "port=$(free_port)"
run_mailsub "$T/in" -C "$T/closed.ini" -bv v@example.org
[ "$RC" != 0 ] || t_err "-bv against a closed port exits 0"
expect_stderr '(?i)connect' && expect_where none "$Q"
t_result "-bv: an unreachable relay fails, nothing queued"

fresh
send -odi odi@example.org
expect_exit 0 && check --count 1
t_result "-odi: delivered now"

fresh
send -odq odq@example.org
expect_exit 0 && expect_where new "$Q"
[ "$(received)" = 0 ] || t_err "-odq sent the message"
t_result "-odq: queued, not sent, exit 0"

fresh
send -odb odb@example.org
expect_exit 0
i=0
while [ "$(received)" = 0 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
check --count 1 --rcpts odb@example.org
t_result "-odb: exit 0 at once, delivered in the background"

for mode in -oem -oep -oeq -oew -oee -em -ep -eq -ew; do
	fresh
	send "$mode" ok@example.org
	expect_exit 0 && check --count 1
	send "$mode" refused@example.org
	expect_exit 67 && expect_stderr 'refused@example\.org'
	[ -n "$(ls "$Q/failed" 2>/dev/null)" ] || t_err "not saved to failed/"
	t_result "$mode: accepted; errors still on stderr with the exit status"
done

# ---- ignored options, --, argv shapes ---------------------------------------

fresh
mkdir -p "$T/cwd"
(
	cd "$T/cwd" &&
	    "$MAILSUB" -C "$CFG" -X "$T/xlog" -X relative.log -L mytag \
		-O DeliveryMode=b -oQ/tmp -h 17 -G -U -n -m -d0.1 -A c -M x \
		-p smtp:host ign@example.org <"$T/in" >"$T/stdout" 2>"$T/stderr"
)
RC=$?
expect_exit 0 && check --count 1 --rcpts ign@example.org
[ -e "$T/xlog" ] && t_err "-X wrote $T/xlog"
[ -n "$(ls -A "$T/cwd")" ] && t_err "a file appeared in the cwd: $(ls -A "$T/cwd")"
t_result "ignored options accepted; -X never writes a file"

fresh
send -- -dash@example.org plain@example.org
expect_exit 0 && check --rcpts=-dash@example.org,plain@example.org
t_result "--: what follows is a recipient, even with a leading dash"

fresh
send a1@example.org -f late@example.org
expect_exit 0 && check --from late@example.org --rcpts a1@example.org
t_result "options after recipients still count"

fresh
send "c1@example.org,c2@example.org" "Name <c3@example.org>, c4@example.org"
expect_exit 0 &&
    check --rcpts c1@example.org,c2@example.org,c3@example.org,c4@example.org
t_result "comma lists and Name <addr> in one argument (cron)"

# ---- invocation names -------------------------------------------------------

mkdir -p "$T/bin"
for n in sendmail mailq newaliases; do
	ln -s "$MAILSUB" "$T/bin/$n"
done
fresh
"$T/bin/sendmail" -C "$CFG" -i name@example.org <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 0 && check --count 1 --rcpts name@example.org
t_result "invoked as sendmail: delivers"

"$T/bin/newaliases" </dev/null >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0
[ -s "$T/stdout" ] && t_err "newaliases printed something"
"$T/bin/sendmail" -bi </dev/null >/dev/null 2>&1 || t_err "sendmail -bi failed"
t_result "newaliases and -bi: accepted, do nothing"

MAILSUB_CONFIG=$CFG "$T/bin/mailq" </dev/null >"$T/mailq.out" 2>&1
rc1=$?
MAILSUB_CONFIG=$CFG "$MAILSUB" -bp </dev/null >"$T/bp.out" 2>&1
rc2=$?
[ "$rc1" = "$rc2" ] || t_err "mailq exit $rc1, -bp exit $rc2"
[ "$rc2" = 0 ] || t_err "-bp exit $rc2: $(head -c 200 "$T/bp.out")"
cmp -s "$T/mailq.out" "$T/bp.out" || t_err "mailq and -bp print differently"
t_result "invoked as mailq: the same as -bp"

# ---- bare names (aliases and default_domain) --------------------------------

fresh
msg "From: Fail2Ban <fail2ban>" "To: root" "Subject: [Fail2Ban] sshd: banned" \
    "" "Hi,"
send -f fail2ban root
expect_exit 0 && check --from fail2ban@example.org \
    --rcpts admin@example.org,ops-team@example.net \
    --header "From: Fail2Ban <fail2ban@example.org>" \
    --header "To: root@example.org"
t_result "sendmail -f fail2ban root: aliases, recursion and default_domain"

# ---- -v ----------------------------------------------------------------------

fresh
send -v v@example.org
expect_exit 0 && expect_stderr 'MAIL FROM:<sender@example\.org>' &&
    expect_stderr '(?m)^.*250'
t_result "-v: the dialogue on stderr"

t_summary
