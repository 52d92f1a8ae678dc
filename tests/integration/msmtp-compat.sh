#!/bin/sh
# msmtp users move over unchanged: every msmtp 1.8.23 option mailsub
# accepts, run against smtpserver.py --sink, with its meaning checked in
# what the server received (envelope, EHLO name, login, TLS, the message);
# every msmtp option it does not carry is refused with 64 and a line
# saying what to do instead, never taken with another meaning.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init msmtp-compat
need_mailsub

SINK=$T/rec
Q=$T/queue
CFG=$T/cfg.ini
SINKCHECK=$SRCDIR/tests/sinkcheck.py

server_start sink --sink --record "$SINK" ||
    t_skip_all "the sink did not start"
SINK_PORT=$SRV_PORT
mk_config "$CFG"

check()
{
	if ! out=$("$PYTHON3" "$SINKCHECK" "$SINK" "$@" 2>&1); then
		t_err "$out"
		return 1
	fi
	return 0
}

fresh()
{
	rm -f "$SINK"/msg-*
	rm -rf "$Q"
}

send()
{
	run_mailsub "$T/in" -C "$CFG" "$@"
}

# A complete message: mailsub adds nothing to it.
cat >"$T/in" <<'MSG'
From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: an existing message
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-ID: <orig.1@example.org>

The body, with a line that looks like a header:
Subject: not a header
MSG

# ---- --from is msmtp's -f, not compose mode ----------------------------------

for form in "--from=alice@example.org" "--from alice@example.org"; do
	fresh
	# shellcheck disable=SC2086
	send $form bob@example.net
	expect_exit 0 && check --count 1 --from alice@example.org \
	    --rcpts bob@example.net --ends-with "$T/in" --header-count From=1 \
	    --header-count Subject=1 --no-header MIME-Version
	t_result "$form: the message goes out unchanged, MAIL FROM:<alice@example.org>"
done

fresh
send -f alice@example.org --from=other@example.org bob@example.net
expect_exit 64 && expect_stderr 'different envelope senders'
[ -z "$(ls "$SINK" 2>/dev/null | grep msg-)" ] || t_err "something was sent"
t_result "-f and --from naming two senders: 64"

fresh
send --to bob@example.net
expect_exit 64 && expect_stderr 'only refines compose mode'
t_result "--to without -s/--body/--attach: 64, not a silent compose"

t_summary
