#!/bin/sh
# SPDX-License-Identifier: ISC
# System-wide use (mailsub.conf(5), File lookup and Logging): callers that run with
# HOME=/ or no HOME at all (sudo, cron, atd, daemons) get /etc/mailsub.conf;
# every message leaves a syslog record and a logfile record, also when it
# fails and nobody reads the exit status; the sender's domain comes from
# default_domain, else /etc/mailname, else nothing is sent (78); `make
# install-sendmail` installs the sendmail, mailq and newaliases links.
#
# /etc/mailsub.conf and /dev/log are never touched on the host: each case
# runs in a private mount namespace (unshare -m) with an overlay over /etc
# holding the test's mailsub.conf (and mailname) and an overlay over /dev
# whose /dev/log points at a socket this test reads.  Needs root, unshare and overlayfs.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init system
need_mailsub

SINK=$T/rec
Q=$T/sysqueue
LOG=$T/mailsub.log
SINKCHECK=$SRCDIR/tests/sinkcheck.py

# ---- make install-sendmail (no root needed) -------------------------------

# -o: use the mailsub and Makefile as they are; relinking or regenerating
# them here would pull the binary from under the tests running beside this
# one.
if [ -f "$BUILDDIR/Makefile" ] && command -v make >/dev/null 2>&1; then
	if make -s -C "$BUILDDIR" -o Makefile -o mailsub -o libmailsub.a \
	    install-sendmail DESTDIR="$T/dest" prefix=/usr \
	    >"$T/install.out" 2>&1; then
		for l in usr/sbin/sendmail usr/lib/sendmail usr/bin/mailq \
		    usr/bin/newaliases; do
			tgt=$(readlink "$T/dest/$l" 2>/dev/null)
			[ "$tgt" = /usr/bin/mailsub ] ||
			    t_err "$l -> '$tgt', want /usr/bin/mailsub"
		done
		[ -x "$T/dest/usr/bin/mailsub" ] || t_err "mailsub not installed"
		make -s -C "$BUILDDIR" -o Makefile uninstall-sendmail \
		    DESTDIR="$T/dest" prefix=/usr >>"$T/install.out" 2>&1 ||
		    t_err "uninstall-sendmail failed"
		[ -e "$T/dest/usr/sbin/sendmail" ] ||
		    [ -h "$T/dest/usr/sbin/sendmail" ] &&
		    t_err "uninstall-sendmail left the sendmail link"
	else
		t_err "make install-sendmail failed: $(tail -n 3 "$T/install.out")"
	fi
	t_result "make install-sendmail: sendmail, lib/sendmail, mailq, newaliases links"
else
	t_skip "make install-sendmail" "no build directory Makefile"
fi

# ---- the namespace cases ----------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	t_skip "system config" "needs root (private mount namespace)"
	t_summary
fi
need_cmd unshare
if ! unshare -m true 2>/dev/null; then
	t_skip "system config" "unshare -m is not permitted here"
	t_summary
fi

server_start sink --sink --record "$SINK" \
    --reject-rcpt refused@example.org || t_fatal "the sink did not start"

# The system file: what /etc/mailsub.conf would hold on a server.
cat >"$T/system.conf" <<EOF
; /etc/mailsub.conf for tests/integration/system.sh
[defaults]
account = relay

[relay]
host = 127.0.0.1
port = $SRV_PORT
tls = off
from = server@example.org
default_domain = example.org
aliases = $T/aliases
queue_dir = $Q
logfile = $LOG
timeout = 10
EOF
printf 'root: admin@example.org\n' >"$T/aliases"

# The syslog socket: records land in $T/syslog, one per datagram.
"$PYTHON3" - "$T/devlog.sock" "$T/syslog" "$T/syslog.ready" <<'EOF' &
import os, signal, socket, sys, time
path, out, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(ready, "w").write("1")
s.settimeout(1.0)
end = time.monotonic() + 600
with open(out, "ab", buffering=0) as f:
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        f.write(d.replace(b"\n", b" ") + b"\n")
EOF
SYSLOG_PID=$!
T_PIDS="$T_PIDS $SYSLOG_PID"
wait_file "$T/syslog.ready" 10 "$SYSLOG_PID" ||
    t_fatal "the syslog socket did not start"
: >"$T/syslog"

mkdir -p "$T/etc.up" "$T/etc.work" "$T/dev.up" "$T/dev.work" \
    "$T/mn.up" "$T/mn.work"
# /etc/mailname is always read from /etc: with another --sysconfdir a
# second overlay over /etc carries it (MN_UP is where the test puts it).
MN_UP=$T/etc.up
[ "$SYSCONFDIR" = /etc ] || MN_UP=$T/mn.up
# $SYSCONFDIR/mailsub.conf as a regular expression, for error lines.
CONF_RE=$(printf '%s/mailsub.conf' "$SYSCONFDIR" | sed 's/[.[\*^$]/\\&/g')
cp "$T/system.conf" "$T/etc.up/mailsub.conf"
chmod 600 "$T/etc.up/mailsub.conf"
ln -s "$T/devlog.sock" "$T/dev.up/log"

# in_ns CMD...: CMD inside a private mount namespace that sees our
# $SYSCONFDIR/mailsub.conf and /dev/log.  stdin, stdout and stderr pass through.
in_ns()
{
	unshare -m sh -c '
		mount -t overlay overlay -o "lowerdir=$SYSCONFDIR,upperdir=$1/etc.up,workdir=$1/etc.work" "$SYSCONFDIR" &&
		{ [ "$SYSCONFDIR" = /etc ] ||
		    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/mn.up,workdir=$1/mn.work" /etc; } &&
		mount -t overlay overlay -o "lowerdir=/dev,upperdir=$1/dev.up,workdir=$1/dev.work" /dev || exit 99
		shift
		exec "$@"' sh "$T" "$@"
}

if [ ! -d "$SYSCONFDIR" ]; then
	t_skip "system config" "no $SYSCONFDIR (configure --sysconfdir) on this machine"
	t_summary
fi
if ! in_ns test -f "$SYSCONFDIR/mailsub.conf" 2>"$T/ns.err"; then
	t_skip "system config" "no overlay mounts here: $(head -n 1 "$T/ns.err")"
	t_summary
fi

syslog_has()
{
	i=0
	while [ $i -lt 40 ]; do
		grep -q -E "$1" "$T/syslog" 2>/dev/null && return 0
		i=$((i + 1))
		sleep 0.05
	done
	t_err "no syslog record matching /$1/; have: $(tail -n 2 "$T/syslog")"
	return 1
}

PATHV=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
printf 'To: root\nSubject: from a daemon\n\nbody\n' >"$T/in"

rm -f "$SINK"/msg-*
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" -t <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 0 &&
    "$PYTHON3" "$SINKCHECK" "$SINK" --count 1 --rcpts admin@example.org \
	--from server@example.org >/dev/null || t_err "not delivered as configured"
t_result "HOME=/: $SYSCONFDIR/mailsub.conf is used"

rm -f "$SINK"/msg-*
in_ns env -i PATH=$PATHV "$MAILSUB" root <"$T/in" >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0 && "$PYTHON3" "$SINKCHECK" "$SINK" --count 1 >/dev/null ||
    t_err "not delivered"
t_result "no HOME, no XDG: $SYSCONFDIR/mailsub.conf is used"

rm -f "$SINK"/msg-*
mkdir -p "$T/emptyhome"
in_ns env -i PATH=$PATHV HOME="$T/emptyhome" "$MAILSUB" root <"$T/in" \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0 && "$PYTHON3" "$SINKCHECK" "$SINK" --count 1 >/dev/null ||
    t_err "not delivered"
t_result "a HOME without a user config: $SYSCONFDIR/mailsub.conf is used"

# syslog: one record per message, with the facts (mailsub.conf(5), Logging).
: >"$T/syslog"
rm -f "$SINK"/msg-* "$LOG"
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" -f cron root <"$T/in" \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0
syslog_has 'mailsub\[[0-9]+\]: .*account=relay .*from=<cron@example\.org> to=.*admin@example\.org.*status=sent exit=0'
[ "$(grep -c . "$T/syslog")" = 1 ] || t_err "want one syslog record, have $(grep -c . "$T/syslog")"
grep -q '^<2[0-9]>' "$T/syslog" || t_err "not the mail facility: $(head -c 60 "$T/syslog")"
grep -q 'status=sent exit=0' "$LOG" 2>/dev/null ||
    t_err "no logfile record"
t_result "syslog and logfile: one record per message"

# sudo: -t, HOME=/, stderr closed; the recipient is refused and nobody
# reads the exit status: the syslog record is what is left.
: >"$T/syslog"
printf 'To: refused@example.org\nSubject: *** SECURITY information ***\n\nsudo\n' \
    >"$T/sudo.in"
in_ns env -i PATH=$PATHV HOME=/ USER=root LOGNAME=root SUDO_USER=alice \
    "$MAILSUB" -t <"$T/sudo.in" >"$T/stdout" 2>&-
RC=$?
expect_exit 67
syslog_has 'status=failed exit=67'
syslog_has 'refused@example\.org'
[ -n "$(ls "$Q/failed" 2>/dev/null)" ] || t_err "not saved to failed/"
t_result "sudo: -t, HOME=/, stderr closed, refused: 67, syslog, failed/"

# A relay that is down: queued (75), and the syslog record says so.
: >"$T/syslog"
sed "s/^port = .*/port = $(free_port)/" "$T/system.conf" >"$T/etc.up/mailsub.conf"
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" root <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 75
syslog_has 'status=queued exit=75'
cp "$T/system.conf" "$T/etc.up/mailsub.conf"
t_result "relay down: queued, 75, syslog record"

# ---- the sender's domain: default_domain, else /etc/mailname --------------
# The system file without from and default_domain; /etc/mailname in the
# overlay (the host's is never touched).
grep -v '^from = \|^default_domain = ' "$T/system.conf" >"$T/etc.up/mailsub.conf"
printf 'mail.example.net\n' >"$MN_UP/mailname"
rm -f "$SINK"/msg-* "$Q"/new/* # what the relay-down case queued
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" root <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 0 &&
    "$PYTHON3" "$SINKCHECK" "$SINK" --count 1 --from root@mail.example.net \
	--rcpts admin@example.org >/dev/null ||
    t_err "not sent as root@mail.example.net: $(cat "$T/stderr")"
# a host name without a dot is no FQDN: EHLO takes the mail name
case $(hostname -f 2>/dev/null || hostname) in
*.*) ;;
*) "$PYTHON3" - "$SINK" <<'EOF' || t_err "EHLO is not mail.example.net"
import glob, json, sys
env = json.load(open(sorted(glob.glob(sys.argv[1] + "/msg-*.json"))[0]))
sys.exit(env["helo"] != "mail.example.net")
EOF
	;;
esac
rm -f "$SINK"/msg-*
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" -f cron root <"$T/in" \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0 &&
    "$PYTHON3" "$SINKCHECK" "$SINK" --count 1 --from cron@mail.example.net \
	>/dev/null || t_err "-f cron not sent as cron@mail.example.net"
t_result "/etc/mailname: no from -> root@ that domain, -f cron completed, EHLO"

# No /etc/mailname (a whiteout hides the host's, if it has one): nothing
# gives the sender a domain, so nothing is sent and the error says why.
rm -f "$MN_UP/mailname"
if [ -e /etc/mailname ] || [ -h /etc/mailname ]; then
	mknod "$MN_UP/mailname" c 0 0 || t_err "cannot hide /etc/mailname"
fi
rm -f "$SINK"/msg-*
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" root <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 78 &&
    expect_stderr "relay: no sender address: set from = ADDRESS in \\[relay\\] of $CONF_RE \\(or default_domain, or the mail domain in /etc/mailname\), or give -f ADDRESS"
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" -f cron root <"$T/in" \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 78 && expect_stderr "the sender 'cron' has no domain"
[ -n "$(ls "$SINK"/msg-* 2>/dev/null)" ] && t_err "the sink got a message"
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" --check-config >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 78
grep -q "^warning: $CONF_RE:[0-9]*: \\[relay\\]: no from and no domain" \
    "$T/stdout" || t_err "--check-config does not warn: $(cat "$T/stdout")"
printf 'from = alice\n' >>"$T/etc.up/mailsub.conf"
in_ns env -i PATH=$PATHV HOME=/ "$MAILSUB" root <"$T/in" >"$T/stdout" \
    2>"$T/stderr"
RC=$?
expect_exit 78 && expect_stderr "$CONF_RE:[0-9]+: \\[relay\\] from: no domain to complete it with"
rm -f "$MN_UP/mailname"
cp "$T/system.conf" "$T/etc.up/mailsub.conf"
t_result "no from, no default_domain, no /etc/mailname: 78 naming the fix, nothing sent"

t_summary
