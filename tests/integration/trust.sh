#!/bin/sh
# SPDX-License-Identifier: ISC
# What mailsub trusts on disk (mailsub.conf(5), FILES AND PERMISSIONS): a
# config, password_file or aliases file, and a queue, state or log
# directory, that someone other than the user or root owns or can write is
# refused with 78 naming the path, its owner and mode and the fix; nothing
# is read, run, followed or sent from it.  --check-config says the same and
# fails.  The cases that give a file to another uid (12345, no passwd entry
# needed) need root and are skipped otherwise; the mode cases run as anyone.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init trust
need_mailsub

OTHER=12345
HOME=$T/home
export HOME
mkdir "$HOME"
ME=$(id -u)
printf 'From: a@example.org\nTo: b@example.org\nSubject: trust\n\nbody\n' \
    >"$T/msg"

# One sink without AUTH, one with (for the password cases): both count.
server_start asink --sink --record "$T/rec-auth" --auth "u:pw" ||
    t_skip_all "the sink did not start"
AUTH_PORT=$SRV_PORT
server_start sink --sink --record "$T/rec" ||
    t_skip_all "the sink did not start"

sink_count()
{
	n=0
	for f in "$T/rec"/msg-*.json "$T/rec-auth"/msg-*.json; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# refused WHAT PATH MODE: exit 78, the line names PATH and MODE, nothing
# reached the sink since the last call.
SENT=0
refused()
{
	expect_exit 78
	expect_stderr "$(printf '%s' "$2" | sed 's/[.[\*^$]/\\&/g')"
	[ -z "$3" ] || expect_stderr "mode $3"
	now=$(sink_count)
	[ "$now" = "$SENT" ] || t_err "$1: the sink got a message"
	SENT=$now
}

# send CONFIG [ARGS]: one message through CONFIG.
send()
{
	c=$1
	shift
	run_mailsub "$T/msg" -C "$c" "$@" b@example.org
}

# ---- the suite's own layout is fine ------------------------------------------

# $T is mktemp -d (0700, ours) under /tmp (1777, root's): a config, queue and
# log there are trusted.
mk_config "$T/ok.ini" "logfile = $T/ok.log"
send "$T/ok.ini"
expect_exit 0
SENT=$(sink_count)
[ "$SENT" = 1 ] || t_err "the sink has $SENT messages, want 1"
[ -s "$T/ok.log" ] || t_err "no log record"
t_result "a config, queue and log under mktemp -d are trusted"

# ---- the config file ---------------------------------------------------------

# Writable by others: whoever can append a password_command runs it as us.
mk_config "$T/w.ini" "port = $AUTH_PORT" "user = u" "allow_plaintext_auth = on" \
    "password_command = touch $T/ran && echo pw"
chmod 666 "$T/w.ini"
rm -f "$T/ran"
send "$T/w.ini"
refused "config 0666" "$T/w.ini" 0666
expect_stderr 'chmod go-w'
[ -e "$T/ran" ] && t_err "password_command was run"
t_result "a config writable by others: 78, password_command never run"

# The same file at 0600 runs the command (the case above can fail).
chmod 600 "$T/w.ini"
send "$T/w.ini"
expect_exit 0
[ -e "$T/ran" ] || t_err "password_command was not run at 0600"
SENT=$(sink_count)
t_result "the same config at 0600 is used"

# A config in a directory others can write: they can replace it.
mkdir "$T/shared"
chmod 777 "$T/shared"
mk_config "$T/shared/c.ini"
send "$T/shared/c.ini"
refused "config in a 0777 directory" "$T/shared" 0777
rm -rf "$T/shared"
t_result "a config in a directory writable by others: 78"

if [ "$ME" = 0 ]; then
	mk_config "$T/o.ini" "port = $AUTH_PORT" "user = u" "allow_plaintext_auth = on" \
	    "password_command = touch $T/ran2 && echo pw"
	chown "$OTHER" "$T/o.ini"
	send "$T/o.ini"
	refused "config owned by $OTHER" "$T/o.ini"
	expect_stderr "owned by uid $OTHER"
	[ -e "$T/ran2" ] && t_err "password_command was run"
	t_result "a config owned by another uid: 78, nothing run"
else
	t_skip "a config owned by another uid" "needs root to chown"
fi

# ---- the queue directory -----------------------------------------------------

mk_config "$T/q777.ini" "queue_dir = $T/q777"
mkdir "$T/q777"
chmod 777 "$T/q777"
send "$T/q777.ini"
refused "queue_dir 0777" "$T/q777" 0777
expect_stderr "chmod go-w $T/q777"
[ -e "$T/q777/tmp" ] && t_err "tmp/ was made in it"
t_result "a queue_dir writable by others: 78, nothing made in it"

# A world-writable sticky directory may be on the way, never the queue
# itself.  Only root's counts (/tmp is root's).
mkdir "$T/sticky"
chmod 1777 "$T/sticky"
mk_config "$T/sticky.ini" "queue_dir = $T/sticky"
send "$T/sticky.ini"
refused "queue_dir 1777" "$T/sticky" 1777
mk_config "$T/under.ini" "queue_dir = $T/sticky/q"
send "$T/under.ini"
if [ "$ME" = 0 ]; then
	expect_exit 0
	SENT=$(sink_count)
else
	refused "queue under a sticky directory of ours" "$T/sticky" 1777
fi
t_result "a sticky directory: on the way only (root's), never the queue itself"

# tmp/ a symlink to another directory: not followed.
mk_config "$T/qlink.ini" "queue_dir = $T/qlink"
mkdir -p "$T/qlink" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/qlink/tmp"
send "$T/qlink.ini"
refused "tmp symlink" "$T/qlink/tmp"
expect_stderr 'symbolic link'
[ "$(ls -A "$T/elsewhere")" = "" ] || t_err "something was written through the link"
t_result "a queue tmp/ that is a symlink: 78, not followed"

# new/ a symlink: a message queued with -odq must not land there.
mk_config "$T/qlink2.ini" "queue_dir = $T/qlink2"
mkdir -p "$T/qlink2/tmp"
ln -s "$T/elsewhere" "$T/qlink2/new"
send "$T/qlink2.ini" -odq
refused "new symlink" "$T/qlink2/new"
[ "$(ls -A "$T/elsewhere")" = "" ] || t_err "something was written through the link"
t_result "a queue new/ that is a symlink: 78, not followed"

# -q on a queue another user can write: a planted message is never sent.
mk_config "$T/plant.ini" "queue_dir = $T/plant"
send "$T/plant.ini" -odq
expect_exit 0
[ "$(count_files "$T/plant/new")" = 1 ] || t_err "-odq queued nothing"
chmod 777 "$T/plant/new"
run_mailsub /dev/null -C "$T/plant.ini" -q
refused "-q with new/ 0777" "$T/plant/new" 0777
[ "$(count_files "$T/plant/new")" = 1 ] || t_err "the message left new/"
t_result "-q: a queue directory writable by others is refused, nothing sent"
run_mailsub /dev/null -C "$T/plant.ini" -bp
refused "-bp with new/ 0777" "$T/plant/new" 0777
t_result "-bp: the same"
chmod 700 "$T/plant/new"

if [ "$ME" = 0 ]; then
	mk_config "$T/qo.ini" "queue_dir = $T/qo"
	mkdir "$T/qo"
	chown "$OTHER" "$T/qo"
	send "$T/qo.ini"
	refused "queue_dir owned by $OTHER" "$T/qo"
	expect_stderr "owned by uid $OTHER"
	[ -e "$T/qo/tmp" ] && t_err "tmp/ was made in it"
	t_result "a queue_dir owned by another uid: 78"

	# A queue file planted by another user: the whole queue is theirs.
	chown -R "$OTHER" "$T/plant"
	run_mailsub /dev/null -C "$T/plant.ini" -q
	refused "-q with a queue of $OTHER" "$T/plant"
	[ "$(count_files "$T/plant/new")" = 1 ] || t_err "the message left new/"
	t_result "-q: a queue owned by another uid is refused, nothing sent"
else
	t_skip "a queue_dir owned by another uid" "needs root to chown"
fi

# ---- the state directory -----------------------------------------------------

# The default queue and the cache live in $XDG_STATE_HOME/mailsub.
mkdir -p "$T/state/mailsub"
chmod 777 "$T/state/mailsub"
mk_config "$T/st.ini"
sed '/^queue_dir/d' "$T/st.ini" >"$T/st2.ini"
chmod 600 "$T/st2.ini"
XDG_STATE_HOME=$T/state
export XDG_STATE_HOME
send "$T/st2.ini"
refused "state dir 0777" "$T/state/mailsub" 0777
[ -e "$T/state/mailsub/queue" ] && t_err "the queue was made in it"
chmod 700 "$T/state/mailsub"
if [ "$ME" = 0 ]; then
	chown "$OTHER" "$T/state/mailsub"
	send "$T/st2.ini"
	refused "state dir of $OTHER" "$T/state/mailsub"
	expect_stderr "owned by uid $OTHER"
	chown 0 "$T/state/mailsub"
fi
send "$T/st2.ini"
expect_exit 0
SENT=$(sink_count)
unset XDG_STATE_HOME
t_result "a state directory writable by or owned by another user: 78"

# ---- the logfile -------------------------------------------------------------

# A symlink planted as the logfile: never followed, never written through.
printf 'original\n' >"$T/victim"
mkdir "$T/logs"
ln -s "$T/victim" "$T/logs/mailsub.log"
mk_config "$T/llink.ini" "logfile = $T/logs/mailsub.log"
send "$T/llink.ini"
refused "logfile symlink" "$T/logs/mailsub.log"
expect_stderr 'symbolic link'
[ "$(cat "$T/victim")" = original ] || t_err "the link target was written"
t_result "a logfile that is a symlink: 78, not followed"

# -q is refused the same way: the queued message stays, nothing is sent
# or written through the link.
mk_config "$T/qlog.ini" "queue_dir = $T/qlog"
send "$T/qlog.ini" -odq
expect_exit 0
mk_config "$T/qlog.ini" "queue_dir = $T/qlog" \
    "logfile = $T/logs/mailsub.log"
run_mailsub /dev/null -C "$T/qlog.ini" -q
refused "-q with a logfile symlink" "$T/logs/mailsub.log"
[ "$(count_files "$T/qlog/new")" = 1 ] || t_err "the message left new/"
[ "$(cat "$T/victim")" = original ] || t_err "the link target was written"
t_result "-q with a logfile that is a symlink: 78, the message stays queued"

# The logfile's directory writable by others.
mkdir "$T/logs777"
chmod 777 "$T/logs777"
mk_config "$T/l777.ini" "logfile = $T/logs777/mailsub.log"
send "$T/l777.ini"
refused "log dir 0777" "$T/logs777" 0777
[ -e "$T/logs777/mailsub.log" ] && t_err "the log was created there"
t_result "a logfile directory writable by others: 78"

# /tmp itself (1777) is no place for a logfile: anyone can plant the name.
mk_config "$T/ltmp.ini" "logfile = /tmp/mailsub-trust-$$.log"
send "$T/ltmp.ini"
refused "logfile in /tmp" "/tmp" 1777
[ -e "/tmp/mailsub-trust-$$.log" ] && t_err "a log was made in /tmp"
rm -f "/tmp/mailsub-trust-$$.log"
t_result "a logfile directly in /tmp: 78"

# ---- files the account names -------------------------------------------------

printf 'pw\n' >"$T/pw"
chmod 640 "$T/pw"
mk_config "$T/pwf.ini" "port = $AUTH_PORT" "user = u" "allow_plaintext_auth = on" \
    "password_file = $T/pw"
send "$T/pwf.ini"
refused "password_file 0640" "$T/pw" 0640
chmod 600 "$T/pw"
send "$T/pwf.ini"
expect_exit 0
SENT=$(sink_count)
t_result "a password_file readable by the group: 78 (0600 is used)"

printf 'boss: b@example.org\n' >"$T/aliases"
chmod 666 "$T/aliases"
mk_config "$T/al.ini" "aliases = $T/aliases"
run_mailsub "$T/msg" -C "$T/al.ini" boss
refused "aliases 0666" "$T/aliases" 0666
chmod 644 "$T/aliases"
run_mailsub "$T/msg" -C "$T/al.ini" boss
expect_exit 0
SENT=$(sink_count)
t_result "an aliases file writable by others: 78 (0644 is used)"

# ---- --check-config says the same --------------------------------------------

for c in w.ini q777.ini qlink.ini l777.ini llink.ini; do
	[ "$c" = w.ini ] && chmod 666 "$T/w.ini"
	run_mailsub /dev/null -C "$T/$c" --check-config
	[ "$RC" = 0 ] && t_err "$c: --check-config exit 0"
	case $c in
	w.ini) p=$T/w.ini ;;
	q777.ini) p=$T/q777 ;;
	qlink.ini) p=$T/qlink/tmp ;;
	l777.ini) p=$T/logs777 ;;
	llink.ini) p=$T/logs/mailsub.log ;;
	esac
	grep -qF "$p" "$T/stdout" "$T/stderr" || t_err "$c: $p not named"
done
run_mailsub /dev/null -C "$T/ok.ini" --check-config
expect_exit 0
t_result "--check-config reports each and exits non-zero"

t_summary
