#!/bin/sh
# SPDX-License-Identifier: ISC
# System mode (mailsub(1) SECURITY): mailsub installed setgid to its group,
# the system file root:GROUP 0640 holding the relay password, every user
# submitting through it.  A second tree is built and installed under a
# throwaway prefix (configure --prefix/--sysconfdir/--localstatedir: the
# paths are compiled in, so the test runs the real thing), with a throwaway
# group and two throwaway users; the relay is the suite's private Postfix
# (tests/postfix-rig.sh), STARTTLS + AUTH, its password the canary.
#
# The threat model, one case (or more) per line:
#   - a user submits through the system account, as itself: delivered,
#     queued (75) when the relay is down, root's -q sends the queue once;
#     the log names the user;
#   - no user sees, reads, sends, requeues or deletes another's message;
#   - no user reads the system file or the password: directly, -C,
#     $MAILSUB_CONFIG, --attach, --body-file, --html, error lines, -v,
#     --check-config, --serverinfo, -bv; the canary is nowhere a user can
#     read;
#   - the environment steers nothing (LD_*, GCONV_PATH, LOCPATH, TMPDIR,
#     HOSTALIASES, LOCALDOMAIN, RES_OPTIONS, GNUTLS_*, MAGIC, XDG_*, HOME),
#     password_command gets PATH alone and keeps the group;
#   - no ptrace, /proc/PID/mem or core dump of a run;
#   - no sender but the user's own (or what local_senders allows);
#   - a user with a config of its own runs without the group;
#   - kill -9 of a user's run: the message stays queued, sent once later;
#   - real callers: cron's argv through su, PHP's mail() as www-data.
# Needs root, useradd, a C compiler and make, Postfix and Dovecot.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init sysmode
[ "$(id -u)" = 0 ] ||
    t_skip_all "needs root: throwaway users, a group and a setgid install"
need_cmd useradd userdel groupadd groupdel setpriv su make cc postfix \
    dovecot certtool
[ -x "$SRCDIR/configure" ] || t_skip_all "no configure script in $SRCDIR"
# The users must reach the install under $T (the secrets have modes of
# their own).
chmod 755 "$T"
UPY=/usr/bin/python3 # what the users run (not a per-root pyenv)

# ---- the users and the group (removed at exit) ---------------------------

G=mst$$
UA=msta$$
UB=mstb$$
T_ATEXIT='userdel "$UA" 2>/dev/null; userdel "$UB" 2>/dev/null;
groupdel "$UA" 2>/dev/null; groupdel "$UB" 2>/dev/null;
groupdel "$G" 2>/dev/null'
groupadd -r "$G" || t_fatal "groupadd $G"
mkdir -p "$T/home-a" "$T/home-b"
useradd -r -U -M -d "$T/home-a" -s /bin/sh "$UA" &&
    useradd -r -U -M -d "$T/home-b" -s /bin/sh "$UB" ||
    t_fatal "useradd failed"
chown "$UA:$UA" "$T/home-a"
chown "$UB:$UB" "$T/home-b"
chmod 700 "$T/home-a" "$T/home-b"
GID_G=$(getent group "$G" | cut -d: -f3)
UID_A=$(id -u "$UA")
GID_A=$(id -g "$UA")
GID_B=$(id -g "$UB")

# ---- the rig ---------------------------------------------------------------

RIG=$(mktemp -d /tmp/mailsub-rig.XXXXXX) || t_fatal "mktemp failed"
T_ATEXIT='sh "$SRCDIR/tests/postfix-rig.sh" stop "$RIG" >/dev/null 2>&1;
rm -rf "$RIG"; '"$T_ATEXIT"
sh "$SRCDIR/tests/postfix-rig.sh" start "$RIG" >"$T/rig.log" 2>&1 || {
	cat "$T/rig.log"
	t_fatal "the Postfix rig did not start"
}
. "$RIG/ports"
# The rig's notes hold the passwords: root's alone.
chmod 600 "$RIG/ports"
CANARY=$RIG_PASSWORD_alice
D=example.test

# ---- the install -----------------------------------------------------------

P=$T/prefix
mkdir "$T/build"
B0=$(date +%s)
if ! (cd "$T/build" && "$SRCDIR/configure" -q --prefix="$P" \
    --sysconfdir="$P/etc" --localstatedir="$P/var" \
    --with-systemdsystemunitdir=no --with-systemduserunitdir=no \
    --with-bashcompletiondir=no && make -s -j2 &&
    make -s install-system mailsub_group="$G") >"$T/build.log" 2>&1; then
	tail -n 20 "$T/build.log"
	t_fatal "the test prefix did not build or install"
fi
echo "# built and installed in $(($(date +%s) - B0)) s"
MS=$P/bin/mailsub
SPOOL=$P/var/spool/mailsub
# make install-system: what it promises, mode by mode.
[ "$(stat -c '%U:%G %a' "$MS")" = "root:$G 2755" ] ||
    t_err "bin/mailsub is $(stat -c '%U:%G %a' "$MS")"
for d in var/spool/mailsub var/spool/mailsub/tmp var/spool/mailsub/new \
    var/spool/mailsub/failed var/lib/mailsub var/lib/mailsub/cache; do
	[ "$(stat -c '%U:%G %a' "$P/$d")" = "root:$G 770" ] ||
	    t_err "$d is $(stat -c '%U:%G %a' "$P/$d" 2>&1)"
done
grep -q "^\*/15 .* root .*$MS -q" "$P/etc/cron.d/mailsub" 2>/dev/null ||
    t_err "no cron.d snippet running $MS -q"
t_result "make install-system: setgid to the group, the spool and the state 0770, cron.d"
mkdir -p "$P/var/log" && chmod 755 "$P/var/log"
LOG=$P/var/log/mailsub.log
: >"$LOG" && chown "root:$G" "$LOG" && chmod 660 "$LOG"
cp "$RIG_CA" "$P/etc/rig-ca.pem" && chmod 644 "$P/etc/rig-ca.pem"
printf '%s\n' "$CANARY" >"$P/etc/mailsub.secret"
chown "root:$G" "$P/etc/mailsub.secret" && chmod 640 "$P/etc/mailsub.secret"
# Where the password_command of the [cmd] account notes what it saw.
PC=$T/pc
mkdir "$PC" && chown "root:$G" "$PC" && chmod 770 "$PC"

# sysconf PORT [SLOWPORT]: the system file, the relay on PORT.
sysconf()
{
	cat >"$P/etc/mailsub.conf" <<EOF
; $P/etc/mailsub.conf (tests/integration/sysmode.sh)
[defaults]
account = relay
default_domain = $D
logfile = $LOG
syslog = off
tls = starttls
tls_trust_file = $P/etc/rig-ca.pem
user = alice@$D
timeout = 10
local_senders = $UB: bob-own@$D *@bob.$D

[relay]
host = 127.0.0.1
port = $1
password = "$CANARY"

[cmd]
host = 127.0.0.1
port = $1
password_command = "rm -f $PC/env $PC/gid; env >$PC/env; grep ^Gid /proc/self/status >$PC/gid; cat $P/etc/mailsub.secret"

[slow]
host = 127.0.0.1
port = ${2:-$(free_port)}
tls = off
auth = off
EOF
	chown "root:$G" "$P/etc/mailsub.conf" && chmod 640 "$P/etc/mailsub.conf"
}
sysconf "$SUBMISSION_PORT"

# as USER CMD...: CMD as USER (its groups), a clean daemon-like
# environment plus whatever CMD's own env adds.
as()
{
	u=$1
	shift
	h=$(getent passwd "$u" | cut -d: -f6)
	env -i PATH=/usr/bin:/bin HOME="$h" USER="$u" LOGNAME="$u" \
	    setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

# run_as USER INPUT ARGS...: mailsub as USER; RC, $T/stdout, $T/stderr;
# every output is kept for the canary check at the end.
N_OUT=0
run_as()
{
	u=$1
	in=$2
	shift 2
	as "$u" timeout -k 5 60 "$MS" "$@" <"$in" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	N_OUT=$((N_OUT + 1))
	cat "$T/stdout" "$T/stderr" >"$T/out.$N_OUT"
}

# msg FILE TAG [HEADER...]: a message to bob with a unique Subject.
msg()
{
	f=$1
	tag=$2
	shift 2
	{
		printf 'To: bob@%s\nSubject: sysmode %s\n' "$D" "$tag"
		for h in "$@"; do
			printf '%s\n' "$h"
		done
		printf '\nbody of %s\n' "$tag"
	} >"$f"
	chmod 644 "$f"
}

# delivered BOX TAG [COUNT]: COUNT (1) copies of TAG in BOX's maildir
# (bounded wait); DELIVERED is the first.
delivered()
{
	want=${3:-1}
	i=0
	n=0
	while [ $i -lt 100 ]; do
		n=$(grep -l -F "Subject: sysmode $2" "$RIG_MAIL/$1/new"/* \
		    2>/dev/null | wc -l)
		[ "$n" -ge "$want" ] && break
		i=$((i + 1))
		sleep 0.2
	done
	sleep 0.3
	n=$(grep -l -F "Subject: sysmode $2" "$RIG_MAIL/$1/new"/* \
	    2>/dev/null | wc -l)
	DELIVERED=$(grep -l -F "Subject: sysmode $2" "$RIG_MAIL/$1/new"/* \
	    2>/dev/null | head -n 1)
	[ "$n" = "$want" ] || {
		t_err "$n copies of '$2' for $1, want $want"
		return 1
	}
	return 0
}

# has FILE REGEX: a line of FILE matches.
has()
{
	grep -q -E "$2" "$1" 2>/dev/null ||
	    t_err "$(basename "$1") lacks /$2/: $(head -c 200 "$1" | tr '\n' ' ')"
}

# queued_id: the ID in "message queued as PATH" on stderr.
queued_id()
{
	sed -n 's|.*message queued as .*/new/\([^ ;]*\).*|\1|p' "$T/stderr" |
	    head -n 1
}

# ---- submission as the user -----------------------------------------------

msg "$T/m-a" a-sends
: >"$LOG"
run_as "$UA" "$T/m-a" -t -i
expect_exit 0 && delivered bob a-sends &&
    has "$DELIVERED" "^Return-Path: <$UA@$D>" &&
    has "$DELIVERED" "^From: $UA@$D"
has "$LOG" "status=sent .*uid=$UID_A user=$UA reply="
has "$LOG" "from=<$UA@$D> .*status=sent exit=0"
[ "$(count_files "$SPOOL/new")" = 0 ] || t_err "left in the spool"
t_result "user A sends through the system account: 0, delivered as A, the log names A"

# ---- the queue: privacy and root's flush ----------------------------------

sysconf "$(free_port)"
msg "$T/m-q" a-queued
run_as "$UA" "$T/m-q" -t -i
expect_exit 75
QID=$(queued_id)
QF=$SPOOL/new/$QID
if [ -n "$QID" ] && [ -f "$QF" ]; then
	[ "$(queue_header "$QF" submitter)" = "$UID_A $UA" ] ||
	    t_err "submitter line: '$(queue_header "$QF" submitter)'"
	[ "$(stat -c '%G %a' "$QF")" = "$G 640" ] ||
	    t_err "queue file is $(stat -c '%U:%G %a' "$QF")"
	# The rest of the checks are on a stored file: a missing one
	# fails them all loudly.
else
	t_err "no queue file for '$QID': $(cat "$T/stderr")"
fi
has "$LOG" "status=queued .*uid=$UID_A user=$UA "
t_result "relay down: 75, queued in the system spool, the file names A, 0640 group $G"

run_as "$UA" /dev/null -bp
expect_exit 0
grep -q -F "$QID" "$T/stdout" || t_err "A's mailq lacks its message"
run_as "$UB" /dev/null -bp
expect_exit 0
grep -q -F "$QID" "$T/stdout" && t_err "B's mailq lists A's message"
grep -q "queue is empty" "$T/stdout" || t_err "B's mailq: $(head -n 1 "$T/stdout")"
run_as "$UB" /dev/null -bp --json
grep -q -F "$QID" "$T/stdout" && t_err "B's mailq --json lists A's message"
"$MS" -bp >"$T/root.bp" 2>&1
grep -q -F "$QID" "$T/root.bp" || t_err "root's mailq lacks A's message"
t_result "mailq: A sees its message, B does not, root sees all"

run_as "$UB" /dev/null --queue-delete "$QID"
expect_exit 66
run_as "$UB" /dev/null --requeue "$QID"
expect_exit 66
sysconf "$SUBMISSION_PORT"
run_as "$UB" /dev/null -q
expect_exit 0
[ -f "$QF" ] || t_err "A's message is gone after B's commands"
as "$UB" cat "$QF" >/dev/null 2>&1 && t_err "B reads the queue file"
as "$UA" cat "$QF" >/dev/null 2>&1 && t_err "A reads the queue file directly"
msg "$T/m-b" b-attach
run_as "$UB" "$T/m-b" --to "bob@$D" -s "sysmode b-attach" --attach "$QF"
expect_exit 66
run_as "$UB" "$T/m-b" --to "bob@$D" -s "sysmode b-attach" --body-file "$QF"
expect_exit 66
sleep 1
[ -z "$(grep -l -F "Subject: sysmode b-attach" "$RIG_MAIL/bob/new"/* 2>/dev/null)" ] ||
    t_err "a message of B's went out"
[ -z "$(grep -l -F "sysmode a-queued" "$RIG_MAIL/bob/new"/* 2>/dev/null)" ] ||
    t_err "B's -q sent A's message"
t_result "user B cannot list, read, attach, send, requeue or delete A's message (66)"

: >"$LOG"
"$MS" -q >"$T/root.q" 2>&1
RC=$?
expect_exit 0
delivered bob a-queued 1
"$MS" -q >/dev/null 2>&1
sleep 1
delivered bob a-queued 1
[ "$(count_files "$SPOOL/new")" = 0 ] || t_err "the spool is not empty"
has "$LOG" "status=sent .*uid=$UID_A user=$UA "
t_result "root's -q sends A's message once; the record names A"

# A's own: A deletes it (and B's --queue-delete of it said 66 above).
sysconf "$(free_port)"
msg "$T/m-d" a-deletes
run_as "$UA" "$T/m-d" -t -i
expect_exit 75
DID=$(queued_id)
sysconf "$SUBMISSION_PORT"
run_as "$UB" /dev/null --queue-delete "$DID"
expect_exit 66
run_as "$UA" /dev/null --queue-delete "$DID"
expect_exit 0
[ -e "$SPOOL/new/$DID" ] && t_err "A's --queue-delete left the file"
has "$LOG" "status=deleted .*uid=$UID_A user=$UA "
t_result "A deletes its own queued message; the record names A"

# ---- the config and the password stay root's ------------------------------

CONF=$P/etc/mailsub.conf
as "$UA" cat "$CONF" >/dev/null 2>&1 && t_err "A reads $CONF directly"
as "$UA" cat "$P/etc/mailsub.secret" >/dev/null 2>&1 && t_err "A reads the secret"
msg "$T/m-c" conf
run_as "$UA" "$T/m-c" -C "$CONF" -t
expect_exit 78
as "$UA" env MAILSUB_CONFIG="$CONF" "$MS" -t <"$T/m-c" >"$T/stdout" 2>"$T/stderr"
RC=$?
cat "$T/stdout" "$T/stderr" >"$T/out.mc"
expect_exit 78
for opt in --attach --body-file --html; do
	run_as "$UA" "$T/m-c" --to "bob@$D" -s "sysmode conf$opt" "$opt" "$CONF"
	expect_exit 66
	# The run's own memory and environment are not the caller's.
	run_as "$UA" "$T/m-c" --to "bob@$D" -s "sysmode conf$opt" "$opt" \
	    /proc/self/environ
	expect_exit 66
done
run_as "$UA" /dev/null --check-config
[ "$RC" = 0 ] && t_err "--check-config of the system file works for A"
run_as "$UA" /dev/null --serverinfo
run_as "$UA" /dev/null -bv "bob@$D"
run_as "$UA" "$T/m-c" -v -t -i
expect_exit 0
grep -q "authentication data hidden" "$T/stderr" ||
    t_err "-v shows no hidden AUTH line"
sleep 1
[ -z "$(grep -l -F "Subject: sysmode conf-" "$RIG_MAIL/bob/new"/* 2>/dev/null)" ] ||
    t_err "a caller-named file went out"
t_result "the system file: not by cat, -C, MAILSUB_CONFIG, --attach, --body-file, --html, --check-config, --serverinfo, -bv, -v"

# A system file that does not load: the caller learns that, not why.
cp "$CONF" "$T/conf.good"
printf 'password_typo = %s\n' "$CANARY" >>"$CONF"
printf '%s\n' "$CANARY" >>"$CONF"
run_as "$UA" "$T/m-c" -t -i
expect_exit 78
expect_stderr "root can see why"
cp "$T/conf.good" "$CONF"
t_result "a broken system file: 78, no line of it in the error"

# ---- the environment -------------------------------------------------------

mkdir -p "$T/evil" "$T/ua" "$T/home-x"
chown "$UA" "$T/ua" "$T/home-x"
cat >"$T/evil/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	close(open("$T/ua/evil-ran", O_WRONLY | O_CREAT, 0644));
}
unsigned la_version(unsigned v) { return v; }
EOF
cc -shared -fPIC -o "$T/evil/evil.so" "$T/evil/evil.c" ||
    t_fatal "cannot build the preload library"
cp "$T/evil/evil.so" "$T/evil/libmagic.so.1"
cp "$T/evil/evil.so" "$T/evil/libc.so.6"
chmod -R a+rX "$T/evil"
printf '127.0.0.1 evil.example\n' >"$T/evil/hostaliases"
printf 'SYSTEM=NONE\n' >"$T/evil/prio"
printf '0\tstring\tsysmode\tevil-type\n!:mime\tapplication/x-evil\n' \
    >"$T/evil/magic"
printf 'sysmode attachment text\n' >"$T/ua/att.txt"
chown "$UA" "$T/ua/att.txt"
msg "$T/m-e" env
as "$UA" env LD_PRELOAD="$T/evil/evil.so" LD_LIBRARY_PATH="$T/evil" \
    LD_AUDIT="$T/evil/evil.so" GCONV_PATH="$T/evil" LOCPATH="$T/evil" \
    TMPDIR="$T/ua" HOSTALIASES="$T/evil/hostaliases" \
    LOCALDOMAIN=evil.example RES_OPTIONS="ndots:15 attempts:5" \
    GNUTLS_SYSTEM_PRIORITY_FILE="$T/evil/prio" GNUTLS_DEBUG_LEVEL=9 \
    GNUTLS_FORCE_FIPS_MODE=1 MAGIC="$T/evil/magic" \
    XDG_STATE_HOME="$T/ua/state" XDG_CONFIG_HOME="$T/ua/xdg" \
    XDG_CACHE_HOME="$T/ua/cache" HOME="$T/home-x" EVIL_MARK=evil-mark \
    "$MS" -a cmd --to "bob@$D" -s "sysmode env" --attach "$T/ua/att.txt" \
    <"$T/m-e" >"$T/stdout" 2>"$T/stderr"
RC=$?
cat "$T/stdout" "$T/stderr" >"$T/out.env"
expect_exit 0 && delivered bob env &&
    grep -q "x-evil" "$DELIVERED" && t_err "MAGIC was read"
[ -e "$T/ua/evil-ran" ] && t_err "a library from the environment ran"
grep -q "gnutls\[" "$T/stderr" && t_err "GNUTLS_DEBUG_LEVEL was honoured"
[ -z "$(ls -A "$T/ua" | grep -v '^att.txt$')" ] ||
    t_err "something was written in TMPDIR/XDG dirs: $(ls -A "$T/ua")"
[ -z "$(ls -A "$T/home-x")" ] || t_err "something was written in HOME"
# password_command: PATH alone (sh adds PWD), the caller with the group.
if [ -f "$PC/env" ]; then
	bad=$(grep -v -E '^(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|PWD=.*)$' "$PC/env")
	[ -z "$bad" ] || t_err "password_command saw: $bad"
	has "$PC/gid" "^Gid:[[:space:]]+$GID_A[[:space:]]+$GID_G[[:space:]]+$GID_G[[:space:]]+$GID_G\$"
else
	t_err "the password_command did not run"
fi
t_result "the environment: LD_*, GCONV_PATH, LOCPATH, TMPDIR, HOSTALIASES, LOCALDOMAIN, RES_OPTIONS, GNUTLS_*, MAGIC, XDG_*, HOME ignored; password_command has PATH alone and the group"

# ---- ptrace, /proc/PID/mem, core dumps -------------------------------------

rm -f "$T/fifo"
mkfifo "$T/fifo" && chmod 666 "$T/fifo"
exec 9<>"$T/fifo"
as "$UA" sh -c "cd '$T/home-a' && ulimit -c unlimited; exec '$MS' bob@$D <'$T/fifo'" \
    >"$T/hold.out" 2>&1 &
HOLD=$!
i=0
MPID=
while [ $i -lt 100 ] && [ -z "$MPID" ]; do
	MPID=$(pgrep -u "$UA" -f "^$MS bob@" | head -n 1)
	[ -n "$MPID" ] || sleep 0.1
	i=$((i + 1))
done
if [ -n "$MPID" ]; then
	sleep 0.5 # the configuration is loaded: the password in memory
	has "/proc/$MPID/status" "^Gid:[[:space:]]+$GID_A[[:space:]]+$GID_G"
	if ! out=$(as "$UA" "$UPY" - "$MPID" <<'EOF' 2>&1
import ctypes, os, sys
pid = int(sys.argv[1])
bad = []
for f in ("mem", "environ", "maps", "fd/3"):
    try:
        with open("/proc/%d/%s" % (pid, f), "rb") as fh:
            fh.read(16)
        bad.append("/proc/PID/" + f + " readable")
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
for req, name in ((16, "PTRACE_ATTACH"), (0x4206, "PTRACE_SEIZE")):
    if libc.ptrace(req, pid, None, None) == 0:
        bad.append(name + " succeeded")
        libc.ptrace(17, pid, None, None)
if bad:
    print("; ".join(bad))
    sys.exit(1)
EOF
	); then
		t_err "$out"
	fi
	if command -v gdb >/dev/null 2>&1; then
		as "$UA" gdb -q -batch -p "$MPID" -ex 'print 1' \
		    >"$T/gdb.out" 2>&1
		grep -q -i "not permitted\|could not attach\|Couldn't get registers" \
		    "$T/gdb.out" || t_err "gdb -p: $(tail -n 2 "$T/gdb.out")"
	fi
	as "$UA" kill -SEGV "$MPID" || t_err "A cannot signal its own run"
	wait "$HOLD"
	ls "$T/home-a" | grep -q core && t_err "a core file was written"
else
	t_err "the held run did not start: $(cat "$T/hold.out")"
fi
exec 9>&-
t_result "a run is not ptrace-able, its /proc/PID/mem unreadable, no core dump"

# ---- senders ---------------------------------------------------------------

: >"$LOG"
msg "$T/m-s" spoof "From: The Boss <ceo@$D>" "Sender: ceo@$D"
run_as "$UA" "$T/m-s" -t -i -f "ceo@$D"
expect_exit 0
expect_stderr "sender <ceo@$D> is not $UA's to use"
delivered bob spoof && has "$DELIVERED" "^Return-Path: <$UA@$D>" &&
    has "$DELIVERED" "^From: \"?The Boss\"? <$UA@$D>"
grep -q "^Sender:" "$DELIVERED" 2>/dev/null && t_err "Sender: kept"
has "$LOG" "from=<$UA@$D> .*warning=\"sender <ceo@$D>"
t_result "a spoofed -f, From and Sender: replaced by A's own address, said on stderr and in the log"

# -bs (Symfony, Laravel): MAIL FROM is held to the same rule.
printf 'EHLO client\r\nMAIL FROM:<ceo@%s>\r\nRCPT TO:<bob@%s>\r\nDATA\r\nSubject: sysmode bs\r\n\r\nx\r\n.\r\nQUIT\r\n' \
    "$D" "$D" >"$T/bs.in"
run_as "$UA" "$T/bs.in" -bs
expect_exit 0
grep -q "^250 .*" "$T/stdout" || t_err "-bs: $(tr '\r\n' '  ' <"$T/stdout")"
delivered bob bs && has "$DELIVERED" "^Return-Path: <$UA@$D>"
t_result "-bs: a MAIL FROM of someone else's is replaced too"

msg "$T/m-s2" allowed
run_as "$UB" "$T/m-s2" -t -i -f "shop@bob.$D"
expect_exit 0 && delivered bob allowed &&
    has "$DELIVERED" "^Return-Path: <shop@bob.$D>"
msg "$T/m-s3" own-default
run_as "$UB" "$T/m-s3" -t -i
expect_exit 0 && delivered bob own-default &&
    has "$DELIVERED" "^Return-Path: <bob-own@$D>"
msg "$T/m-s4" root-any
"$MS" -t -i -f "anyone@elsewhere.example" <"$T/m-s4" >/dev/null 2>&1
delivered bob root-any && has "$DELIVERED" "^Return-Path: <anyone@elsewhere.example>"
t_result "local_senders: B may use *@bob.$D, its default is bob-own@$D; root sends as anyone"

# ---- a user with a config of its own ---------------------------------------

mkdir -p "$T/home-b/.config/mailsub"
cat >"$T/home-b/.config/mailsub/config.ini" <<EOF
[own]
host = 127.0.0.1
port = $SUBMISSION_PORT
tls = starttls
tls_trust_file = $P/etc/rig-ca.pem
user = bob@$D
password_command = "grep ^Gid /proc/self/status >$T/home-b/gid; echo $RIG_PASSWORD_bob"
from = bob@$D
EOF
chown -R "$UB:$UB" "$T/home-b"
chmod 600 "$T/home-b/.config/mailsub/config.ini"
msg "$T/m-o" own-config
run_as "$UB" "$T/m-o" -t -i
expect_exit 0 && delivered bob own-config
has "$T/home-b/gid" "^Gid:[[:space:]]+$GID_B[[:space:]]+$GID_B[[:space:]]+$GID_B[[:space:]]+$GID_B\$"
rm -rf "$T/home-b/.config"
t_result "a user with its own config runs without the group (Gid line of its password_command)"

# ---- kill -9 in the middle of a user's flush --------------------------------

mkdir -p "$T/rec-slow" "$T/rec-ok"
sysconf "$SUBMISSION_PORT" "$(free_port)"
msg "$T/m-k" killed
run_as "$UA" "$T/m-k" -a slow -t -i
expect_exit 75
KID=$(queued_id)
server_start slow --sink --record "$T/rec-slow" --delay-ms 700
SLOW_PID=$SRV_PID
sysconf "$SUBMISSION_PORT" "$SRV_PORT"
as "$UA" "$MS" -q >/dev/null 2>&1 &
KPID=$!
sleep 2.5
pkill -9 -u "$UA" -f "^$MS -q" 2>/dev/null
wait "$KPID" 2>/dev/null
server_stop "$SLOW_PID"
[ -f "$SPOOL/new/$KID" ] || t_err "the message left new/ after kill -9"
[ "$(ls "$T/rec-slow" | grep -c '\.eml$')" = 0 ] ||
    t_err "the slow relay got the message"
server_start ok --sink --record "$T/rec-ok"
sysconf "$SUBMISSION_PORT" "$SRV_PORT"
"$MS" -q >"$T/root.q2" 2>&1
"$MS" -q >/dev/null 2>&1
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$T/rec-ok" --count 1 \
    --from "$UA@$D" >/dev/null || t_err "not delivered exactly once"
[ "$(count_files "$SPOOL/new")" = 0 ] || t_err "the spool is not empty"
t_result "kill -9 of A's -q mid-transaction: still queued; root's -q sends it once"
sysconf "$SUBMISSION_PORT"

# ---- real callers ------------------------------------------------------------

# cron (Debian's): sendmail -FCronDaemon -i -B8BITMIME -oem USER, the job's
# output after From: root (Cron Daemon), as the crontab's user.
printf 'From: root (Cron Daemon)\nTo: %s\nSubject: sysmode cron\n\nhello from cron\n' \
    "bob@$D" >"$T/cron.in"
chmod 644 "$T/cron.in"
env -i PATH=/usr/bin:/bin su -s /bin/sh "$UA" -c \
    "'$MS' -FCronDaemon -i -B8BITMIME -oem bob@$D <'$T/cron.in'" \
    >"$T/out.cron" 2>&1
RC=$?
expect_exit 0 && delivered bob cron &&
    has "$DELIVERED" "^Return-Path: <$UA@$D>" &&
    has "$DELIVERED" "^From: .*<$UA@$D>"
t_result "cron's argv as A through su: delivered as A"

if command -v php >/dev/null 2>&1 && id www-data >/dev/null 2>&1; then
	as www-data php -n -d "sendmail_path=$MS -t -i" -r \
	    'exit(mail("bob@example.test", "sysmode php", "from php") ? 0 : 1);' \
	    >"$T/out.php" 2>&1
	RC=$?
	expect_exit 0 && delivered bob php &&
	    has "$DELIVERED" "^Return-Path: <www-data@$D>"
	has "$LOG" "user=www-data"
	t_result "PHP mail() as www-data: delivered as www-data@$D"
else
	t_skip "PHP mail() as www-data" "php-cli or www-data missing"
fi

# ---- the canary --------------------------------------------------------------

for u in "$UA" "$UB"; do
	found=$(as "$u" grep -rIl -F "$CANARY" "$P" "$T" "$RIG" 2>/dev/null)
	[ -z "$found" ] || t_err "$u can read the password in: $found"
done
grep -l -F "$CANARY" "$T"/out.* "$T"/*.out 2>/dev/null | grep . &&
    t_err "the password is in a user's output"
grep -rl -F "$CANARY" "$SPOOL" "$P/var/lib" "$LOG" "$PC" 2>/dev/null | grep . &&
    t_err "the password is in the spool, the state or the log"
t_result "the canary password: nowhere a user can read, in no output"

# The system state: the SCRAM and TLS caches the users' runs wrote, shared
# through the group, nothing for others.
n=0
for f in "$P/var/lib/mailsub/cache"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	m=$(stat -c '%G %a' "$f")
	[ "$m" = "$G 640" ] || t_err "$(basename "$f") is $m"
done
[ "$n" -gt 0 ] || t_err "no cache entry in the system state"
t_result "the system state: cache entries of the group, 0640"

t_summary
