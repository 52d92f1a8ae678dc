#!/bin/sh
# SPDX-License-Identifier: ISC
# The exit-status contract of mailsub(1), EXIT STATUS, row by row, with the real
# binary: the code, the one stderr line, and where the message is
# afterwards.  Rows that need a misbehaving server are also covered by the
# scenario files (scenarios.sh); this file covers the rest.
. "$SRCDIR/tests/lib.sh"
t_init exit-codes
need_mailsub

msg=$T/msg.txt
printf 'From: a@example.org\nTo: b@example.org\nSubject: t\n\nhello\n' >"$msg"
Q=$T/queue
reset_queue() { rm -rf "$Q"; }
LINE='^mailsub: test: 127\.0\.0\.1:[0-9]+: '

server_start sink --sink --record "$T/rec" --reject-rcpt refused@example.org

# 0: accepted.
reset_queue
mk_config "$T/ok.ini"
run_mailsub "$msg" -C "$T/ok.ini" b@example.org
expect_exit 0 && expect_where none "$Q"
[ -s "$T/stderr" ] && t_err "stderr not empty on success"
t_result "0 accepted"

# 64: unknown option, with the usage line; nothing read, nothing kept.
reset_queue
run_mailsub "$msg" -C "$T/ok.ini" -Z b@example.org
expect_exit 64 && expect_stderr '-Z' && expect_stderr '(?i)usage'
[ -d "$Q/new" ] && [ "$(count_files "$Q/new")" != 0 ] && t_err "queued"
t_result "64 unknown option"

# 64: CR/LF in -f and -F, an invalid recipient.
reset_queue
run_mailsub "$msg" -C "$T/ok.ini" -f "$(printf 'a@b>\r\nRCPT TO:<evil@x>')" b@example.org
expect_exit 64 && expect_stderr '(?i)-f'
t_result "64 CR/LF in -f"
run_mailsub "$msg" -C "$T/ok.ini" -F "$(printf 'Joe\r\nBcc: victim@x')" b@example.org
expect_exit 64
t_result "64 CR/LF in -F"
run_mailsub "$msg" -C "$T/ok.ini" 'bad<@example.org'
expect_exit 64 && expect_stderr 'bad'
t_result "64 invalid recipient"
run_mailsub "$msg" -C "$T/ok.ini"
expect_exit 64 && expect_stderr '(?i)no recipients'
t_result "64 no recipients and no -t"

# 65: -t with no recipient anywhere; saved to failed/.
reset_queue
printf 'Subject: none\n\nbody\n' >"$T/norcpt.txt"
run_mailsub "$T/norcpt.txt" -C "$T/ok.ini" -t
expect_exit 65 && expect_stderr '(?i)no recipients' &&
    expect_where failed "$Q" && expect_queued_message "$QFILE" "$T/norcpt.txt"
t_result "65 -t without recipients"

# 65: NUL bytes; the whole message is saved, not cut at the NUL.
reset_queue
printf 'Subject: nul\n\nbefore\000after\nmore\n' >"$T/nul.txt"
run_mailsub "$T/nul.txt" -C "$T/ok.ini" b@example.org
expect_exit 65 && expect_stderr '(?i)NUL' && expect_where failed "$Q" &&
    grep -q more "$QFILE" || t_err "message not saved whole"
t_result "65 NUL bytes"

# 65: a header block over the limit.
reset_queue
"$PYTHON3" -c 'import sys
sys.stdout.write("Subject: big\n")
for i in range(40000): sys.stdout.write("X-Filler-%d: %s\n" % (i, "y" * 40))
sys.stdout.write("\nbody\n")' >"$T/bighdr.txt"
run_mailsub "$T/bighdr.txt" -C "$T/ok.ini" b@example.org
expect_exit 65 && expect_stderr '(?i)header' && expect_where failed "$Q"
t_result "65 header block too large"

# 67: a refused recipient; all or none; named; failed/.
reset_queue
run_mailsub "$msg" -C "$T/ok.ini" b@example.org refused@example.org
expect_exit 67 && expect_stderr "${LINE}RCPT.*refused@example\.org" &&
    expect_where failed "$Q" && expect_queued_message "$QFILE" "$msg"
t_result "67 refused recipient"

# 68: the server's name does not exist.  Resolution is kept on this
# machine: a private mount namespace whose nsswitch.conf has files only.
reset_queue
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null; then
	printf 'hosts: files\n' >"$T/nsswitch.conf"
	mk_config "$T/nohost.ini" host=nosuch-host.invalid
	unshare -m sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift &&
	    exec "$@"' sh "$T/nsswitch.conf" "$MAILSUB" -C "$T/nohost.ini" \
	    b@example.org <"$msg" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 68 && expect_stderr 'nosuch-host\.invalid' &&
	    expect_where failed "$Q"
	t_result "68 unknown host"
else
	t_skip "68 unknown host" "needs root and unshare -m"
fi

# 73: the queue directory cannot be created; nothing read or kept.
mk_config "$T/noq.ini" queue_dir=/proc/mailsub-cannot-exist/q
run_mailsub "$msg" -C "$T/noq.ini" b@example.org
expect_exit 73 && expect_stderr 'mailsub-cannot-exist'
t_result "73 queue cannot be created"

# 74 (or 73): the spool cannot be written (file size limit); no partial
# file is left and the exit is never 0 or 75.
reset_queue
head -c 300000 /dev/zero | tr '\0' 'a' | fold -w 70 >"$T/big.txt"
(ulimit -f 64 && exec "$MAILSUB" -C "$T/ok.ini" b@example.org) \
    <"$T/big.txt" >"$T/stdout" 2>"$T/stderr"
RC=$?
case $RC in 73|74) ;; *) t_err "exit $RC, want 73 or 74" ;; esac
[ "$(count_files "$Q/tmp")" = 0 ] || t_err "partial file left in tmp/"
[ "$(count_files "$Q/new")" = 0 ] || t_err "something was queued"
t_result "74 spool cannot be written"

# 75: connection refused; queued durably; the line says where.
reset_queue
dead=$(free_port)
mk_config "$T/dead.ini" port="$dead"
run_mailsub "$msg" -C "$T/dead.ini" b@example.org
expect_exit 75 && expect_stderr "${LINE}.*queued as $Q/new/" &&
    expect_where new "$Q" && expect_queued_message "$QFILE" "$msg"
[ "$(queue_header "$QFILE" rcpt)" = b@example.org ] || t_err "rcpt not recorded"
t_result "75 connection refused"

# 0 with on_tempfail = queue-ok: queued, caller told success.
reset_queue
mk_config "$T/qok.ini" port="$dead" on_tempfail=queue-ok
run_mailsub "$msg" -C "$T/qok.ini" b@example.org
expect_exit 0 && expect_where new "$Q" && expect_stderr 'queued'
t_result "0 queue-ok"

# 0 with -odq: queued without connecting.
reset_queue
run_mailsub "$msg" -C "$T/dead.ini" -odq b@example.org
expect_exit 0 && expect_where new "$Q"
[ "$(queue_header "$QFILE" attempts)" = 0 ] || t_err "attempts not 0"
t_result "0 -odq"

# 78: no configuration anywhere; stderr names the paths searched.
mkdir -p "$T/home"
(unset MAILSUB_CONFIG XDG_CONFIG_HOME; HOME=$T/home; export HOME
 exec "$MAILSUB" -C "$T/none.ini" b@example.org) <"$msg" >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 78 && expect_stderr 'none\.ini'
t_result "78 -C file missing"
(unset MAILSUB_CONFIG XDG_CONFIG_HOME XDG_STATE_HOME; HOME=$T/home; export HOME
 exec "$MAILSUB" b@example.org) <"$msg" >"$T/stdout" 2>"$T/stderr"
RC=$?
if [ -e "$SYSCONFDIR/mailsub.conf" ]; then
	t_skip "78 no config" "$SYSCONFDIR/mailsub.conf exists on this machine"
else
	expect_exit 78 && expect_stderr 'config\.ini' &&
	    expect_stderr "$SYSCONFDIR/mailsub.conf"
	t_result "78 no config"
fi

# 78: a password in a file others can read: file and mode named, never the
# value.
reset_queue
mk_config "$T/pw.ini" user=u password=Canary-7f3a9c-secret allow_plaintext_auth=on
chmod 644 "$T/pw.ini"
run_mailsub "$msg" -C "$T/pw.ini" b@example.org
expect_exit 78 && expect_stderr 'pw\.ini' && expect_stderr '0?644'
grep -q Canary-7f3a9c "$T/stderr" && t_err "password printed"
t_result "78 readable password file"

# 78: unknown account; known names listed.
run_mailsub "$msg" -C "$T/ok.ini" -a nosuch b@example.org
expect_exit 78 && expect_stderr 'nosuch' && expect_stderr 'test'
t_result "78 unknown account"

t_summary
