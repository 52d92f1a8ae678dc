#!/bin/sh
# SPDX-License-Identifier: ISC
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

# ---- msmtp's options with msmtp's meaning --------------------------------------

# nocfg ARGS...: a run with no configuration file at all (--host).
nocfg()
{
	MAILSUB_CONFIG=$T/none.ini XDG_CONFIG_HOME=$T/nothing \
	    XDG_STATE_HOME=$T/state run_mailsub "$T/in" "$@"
}

fresh
nocfg --host=127.0.0.1 --port="$SINK_PORT" --tls=off -f alice@example.org \
    bob@example.net
expect_exit 0 && check --count 1 --from alice@example.org \
    --rcpts bob@example.net --tls no --ends-with "$T/in"
t_result "--host --port --tls=off: a run without a configuration file"

fresh
nocfg --host 127.0.0.1 --port "$SINK_PORT" --tls=off \
    --domain=client.example.org -f alice@example.org bob@example.net
expect_exit 0 && check --helo client.example.org
t_result "--domain: the EHLO name; --host/--port as separate arguments"

fresh
send --domain=other.example.org bob@example.net
expect_exit 0 && check --helo other.example.org
t_result "--domain over an account of the file"

fresh
send --port=1 bob@example.net
expect_exit 75 && [ "$(ls "$SINK" | grep -c msg-)" = 0 ] ||
    t_err "sent despite --port=1"
t_result "--port over the file's port (port 1: refused, queued)"

fresh
printf 'root: ops@example.net, dev@example.net\n' >"$T/aliases"
send "--aliases=$T/aliases" root
expect_exit 0 && check --rcpts ops@example.net,dev@example.net
t_result "--aliases=FILE: root through the aliases file"

fresh
send --read-recipients
expect_exit 0 && check --rcpts bob@example.net
t_result "--read-recipients: -t"

fresh
send --debug bob@example.net
expect_exit 0 && expect_stderr 'MAIL FROM:<sender@example\.org>'
t_result "--debug: the -v transcript"

fresh
run_mailsub "$T/in" "--file=$CFG" bob@example.net
expect_exit 0 && check --count 1
t_result "--file=FILE: -C"

# Two accounts: the default one points at a closed port.
cat >"$T/two.ini" <<INI
[defaults]
account = dead

[dead]
host = 127.0.0.1
port = 1
tls = off
from = dead@example.org
queue_dir = $Q

[alice]
host = 127.0.0.1
port = $SINK_PORT
tls = off
from = alice-account@example.org
senders = alice@example.org
queue_dir = $Q
timeout = 10
INI
chmod 600 "$T/two.ini"

fresh
run_mailsub "$T/in" -C "$T/two.ini" --account=alice bob@example.net
expect_exit 0 && check --from alice-account@example.org
t_result "--account=NAME"

fresh
run_mailsub "$T/in" -C "$T/two.ini" --read-envelope-from bob@example.net
expect_exit 0 && check --from alice@example.org --ends-with "$T/in"
t_result "--read-envelope-from: the From address is the sender and picks the account"

fresh
run_mailsub "$T/in" -C "$T/two.ini" --from=alice@example.org bob@example.net
expect_exit 0 && check --from alice@example.org
t_result "--from picks the account whose senders match, as msmtp's from does"

fresh
run_mailsub "$T/in" -C "$T/two.ini" -P --account=alice
expect_exit 0 && re_search '(?m)^\[alice\]$' "$T/stdout" &&
    re_search "(?m)^port = $SINK_PORT\$" "$T/stdout" ||
    t_err "-P: $(tr '\n' '|' <"$T/stdout")"
[ "$(ls "$SINK" | grep -c msg-)" = 0 ] || t_err "-P sent something"
t_result "-P: the resolved account, nothing sent"

fresh
run_mailsub "$T/in" -C "$T/two.ini" --pretend --account=alice --port=2525 \
    --timeout=7 --syslog --tls --tls-starttls=off
expect_exit 0
for want in '^port = 2525$' '^timeout = 7$' '^syslog = user$' '^tls = on$'; do
	re_search "(?m)$want" "$T/stdout" || t_err "--pretend lacks /$want/"
done
t_result "--pretend: --port, --timeout, --syslog (LOG_USER), --tls --tls-starttls=off"

fresh
run_mailsub "$T/in" -C "$T/two.ini" -P --account=alice --tls
expect_exit 0 && re_search '(?m)^tls = starttls$' "$T/stdout" &&
    re_search "(?m)^port = $SINK_PORT\$" "$T/stdout" ||
    t_err "$(cat "$T/stdout")"
nocfg -P --host=mx.example.org --tls -f a@example.org
expect_exit 0 && re_search '(?m)^tls = starttls$' "$T/stdout" &&
    re_search '(?m)^port = 587$' "$T/stdout" || t_err "$(cat "$T/stdout")"
nocfg -P --host=mx.example.org --tls=off -f a@example.org
expect_exit 0 && re_search '(?m)^tls = off$' "$T/stdout" &&
    re_search '(?m)^port = 25$' "$T/stdout" || t_err "$(cat "$T/stdout")"
t_result "--tls is msmtp's: TLS with STARTTLS; a port not named follows the mode"

fresh
run_mailsub "$T/in" -C "$T/two.ini" -P --account=alice --syslog=LOG_LOCAL3 \
    --logfile= --timeout=off
expect_exit 0 && re_search '(?m)^syslog = local3$' "$T/stdout" &&
    re_search '(?m)^timeout = 10$' "$T/stdout" || t_err "$(cat "$T/stdout")"
t_result "--syslog=LOG_LOCAL3; --timeout=off keeps the account's timeout"

fresh
mk_config "$T/log.ini" "logfile = $T/mail.log"
run_mailsub "$T/in" -C "$T/log.ini" --logfile= bob@example.net
expect_exit 0 && [ ! -e "$T/mail.log" ] || t_err "--logfile= still logged"
run_mailsub "$T/in" -C "$T/log.ini" bob@example.net
[ -s "$T/mail.log" ] || t_err "no log without --logfile="
t_result "--logfile= (empty): no log file"

# ---- TLS ----------------------------------------------------------------------------
if command -v certtool >/dev/null 2>&1 &&
    sh "$SRCDIR/tests/pki.sh" "$T/pki" >"$T/pki.log" 2>&1; then
	PKI=$T/pki
	server_start tls --sink --record "$T/tls.rec" \
	    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" ||
	    t_skip_all "the TLS sink did not start"
	TLS_PORT=$SRV_PORT
	server_start tlsauth --sink --record "$T/auth.rec" \
	    --auth "carol:s3cret-$$" --tls-cert "$PKI/server.crt" \
	    --tls-key "$PKI/server.key" ||
	    t_skip_all "the TLS + AUTH sink did not start"
	AUTH_PORT=$SRV_PORT
	server_start tlsi --sink --record "$T/tlsi.rec" --implicit-tls \
	    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" ||
	    t_skip_all "the implicit TLS sink did not start"
	TLSI_PORT=$SRV_PORT
	FP=$("$PYTHON3" -c 'import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())
h = hashlib.sha256(der).hexdigest().upper()
print(":".join(h[i:i + 2] for i in range(0, 64, 2)))' "$PKI/server.crt")
	tls_check()
	{
		out=$("$PYTHON3" "$SINKCHECK" "$1" --tls yes --count 1 2>&1) ||
		    t_err "$out"
	}

	rm -f "$T/tls.rec"/msg-*
	nocfg --host=127.0.0.1 --port="$TLS_PORT" --tls \
	    "--tls-trust-file=$PKI/ca.crt" -f a@example.org bob@example.net
	expect_exit 0 && tls_check "$T/tls.rec"
	t_result "--tls --tls-trust-file: STARTTLS, verified against the CA"

	rm -f "$T/tlsi.rec"/msg-*
	nocfg --host=127.0.0.1 --port="$TLSI_PORT" --tls --tls-starttls=off \
	    "--tls-trust-file=$PKI/ca.crt" -f a@example.org bob@example.net
	expect_exit 0 && tls_check "$T/tlsi.rec"
	t_result "--tls --tls-starttls=off: implicit TLS"

	rm -f "$T/tls.rec"/msg-*
	nocfg --host=127.0.0.1 --port="$TLS_PORT" --tls \
	    "--tls-fingerprint=$FP" -f a@example.org bob@example.net
	expect_exit 0 && tls_check "$T/tls.rec"
	t_result "--tls-fingerprint in msmtp's form (AB:CD:..., no CA)"

	nocfg --host=127.0.0.1 --port="$TLS_PORT" --tls \
	    "--tls-fingerprint=00:$(echo "$FP" | cut -c4-)" -f a@example.org \
	    bob@example.net
	expect_exit 69 && expect_stderr 'fingerprint mismatch'
	t_result "--tls-fingerprint that does not match: 69"

	nocfg --host=127.0.0.1 --port="$TLS_PORT" --tls \
	    "--tls-trust-file=$PKI/ca.crt" --tls-host-override=wrong.example \
	    -f a@example.org bob@example.net
	expect_exit 69 && expect_stderr 'wrong\.example|name'
	t_result "--tls-host-override: the name the certificate is checked for"

	nocfg --host=127.0.0.1 --port="$TLS_PORT" -f a@example.org \
	    bob@example.net
	expect_exit 69
	t_result "--host alone: STARTTLS with the system store (no plain fallback)"

	printf '#!/bin/sh\necho s3cret-%s\n' "$$" >"$T/pw.sh"
	chmod 700 "$T/pw.sh"
	rm -f "$T/auth.rec"/msg-*
	nocfg --host=127.0.0.1 --port="$AUTH_PORT" --tls \
	    "--tls-trust-file=$PKI/ca.crt" --auth=plain --user=carol \
	    "--passwordeval=$T/pw.sh" -f carol@example.org bob@example.net
	expect_exit 0 && { out=$("$PYTHON3" "$SINKCHECK" "$T/auth.rec" \
	    --auth-user carol --from carol@example.org 2>&1) || t_err "$out"; }
	t_result "--auth=plain --user --passwordeval: logged in as carol"

	nocfg --host=127.0.0.1 --port="$AUTH_PORT" --tls \
	    "--tls-trust-file=$PKI/ca.crt" --auth --user=carol \
	    --passwordeval="echo wrong" -f carol@example.org bob@example.net
	expect_exit 77
	t_result "--passwordeval with a wrong password: 77"

	nocfg --host=127.0.0.1 --port="$AUTH_PORT" --tls \
	    "--tls-trust-file=$PKI/ca.crt" --auth=off --user=carol \
	    --passwordeval="echo wrong" -f carol@example.org bob@example.net
	expect_exit 77 && expect_stderr 'MAIL FROM:<carol@example\.org>: 530'
	t_result "--auth=off: no login even with --user (the server's 530 to MAIL)"
else
	t_skip "TLS options" "certtool missing or pki.sh failed"
fi

# ---- msmtp options mailsub does not carry: 64 and what to do instead ------------
for opt in --tls-certcheck=off --tls-crl-file=/etc/crl.pem \
    --tls-min-dh-prime-bits=512 --proxy-host=127.0.0.1 --proxy-port=9050 \
    --socket=/run/smtp.sock --protocol=lmtp --rmqs=example.org \
    --set-from-header=off --set-date-header=off --set-msgid-header=off \
    --remove-bcc-headers=off --undisclosed-recipients \
    --logfile-time-format=%s --auto-from --logfile=/tmp/x.php \
    --tls-trust-file= --tls-fingerprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33 \
    --auth=ntlm --domain=%M; do
	fresh
	send "$opt" bob@example.net
	expect_exit 64 && expect_stderr "^mailsub: --[a-z-]+.*: .{20,}"
	[ "$(ls "$SINK" | grep -c msg-)" = 0 ] || t_err "something was sent"
	t_result "$opt: 64 with what to do instead"
done

# Accepted as no-ops: what mailsub does anyway.
for opt in --tls-certcheck --tls-certcheck=on --protocol=smtp \
    --remove-bcc-headers --set-date-header=auto --set-msgid-header=auto \
    --set-from-header=auto --undisclosed-recipients=off --auto-from=off; do
	fresh
	send "$opt" bob@example.net
	expect_exit 0 && check --count 1 --ends-with "$T/in"
	t_result "$opt: what mailsub does anyway"
done

fresh
cat >"$T/nofrom" <<'MSG'
To: bob@example.net
Subject: no From

body
MSG
run_mailsub "$T/nofrom" -C "$CFG" --set-from-header -f robot@example.org \
    bob@example.net
expect_exit 0 && check --header-re 'From: robot@example\.org'
t_result "--set-from-header (on): From from the envelope sender"

fresh
send -N success,failure --dsn-return=headers bob@example.net
expect_exit 0 && check --count 1
t_result "--dsn-return=headers (msmtp's spelling) accepted"

# ---- --import-msmtprc -------------------------------------------------------------
FIX=$SRCDIR/tests/fixtures/msmtprc
for f in "$FIX"/*.msmtprc; do
	name=$(basename "$f" .msmtprc)
	run_mailsub /dev/null --import-msmtprc "$f"
	expect_exit 0 || { t_result "import $name"; continue; }
	cp "$T/stdout" "$T/$name.ini"
	chmod 600 "$T/$name.ini"
	# The first account, for files without msmtp's "default".
	first=$(sed -n 's/^\[\([^]]*\)\]$/\1/p' "$T/$name.ini" |
	    grep -v '^defaults$' | head -1)
	HOME=$T run_mailsub /dev/null -C "$T/$name.ini" -a "$first" \
	    --check-config
	# An msmtp account without from is a warning here (mailsub sends
	# no bare name: mailsub.conf(5), from); anything else fails it.
	if [ "$RC" = 78 ] && grep -q '^warning: ' "$T/stdout" &&
	    ! grep '^warning: \|^error' "$T/stdout" |
	    grep -qv 'no from and no domain for the sender'; then
		RC=0
	fi
	expect_exit 0 || t_err "$(head -c 400 "$T/stdout")"
	# -f: an account without from has no sender of its own here.
	HOME=$T run_mailsub /dev/null -C "$T/$name.ini" -a "$first" \
	    -f someone@example.org -P
	expect_exit 0
	t_result "--import-msmtprc $name: loads (--check-config, -P)"
done

# Every line of the file is either carried over or commented.
run_mailsub /dev/null --import-msmtprc "$FIX/unsupported.msmtprc"
n=$(grep -c '^; line ' "$T/stdout")
[ "$n" -ge 18 ] || t_err "only $n lines commented"
t_result "--import-msmtprc: a comment on every line it cannot carry over"

# msmtp's own lookup: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config.
mkdir -p "$T/home/xdg/msmtp"
cp "$FIX/manual-user.msmtprc" "$T/home/xdg/msmtp/config"
HOME=$T/home XDG_CONFIG_HOME=$T/home/xdg run_mailsub /dev/null \
    --import-msmtprc
expect_exit 0 && re_search 'msmtp configuration .*/xdg/msmtp/config' \
    "$T/stdout" || t_err "XDG file not read"
cp "$FIX/debian-system.msmtprc" "$T/home/.msmtprc"
HOME=$T/home XDG_CONFIG_HOME=$T/home/xdg run_mailsub /dev/null \
    --import-msmtprc
expect_exit 0 && re_search 'smarthost\.example\.net' "$T/stdout" ||
    t_err "~/.msmtprc not read first"
HOME=$T/empty XDG_CONFIG_HOME=$T/empty run_mailsub /dev/null --import-msmtprc
expect_exit 66 && expect_stderr 'no msmtp configuration'
t_result "--import-msmtprc without FILE: ~/.msmtprc, then XDG, else 66"

printf 'account a : nosuch\nhost x\n' >"$T/bad.msmtprc"
run_mailsub /dev/null --import-msmtprc "$T/bad.msmtprc"
expect_exit 65 && expect_stderr 'bad\.msmtprc:1: account a inherits'
t_result "--import-msmtprc: what msmtp refuses is 65, with the line"

# A real send through the imported file: msmtp's defaults carried over
# (no TLS, port 25 is replaced here by the sink's port, no auth).
cat >"$T/plain.msmtprc" <<RC
account default
host 127.0.0.1
port $SINK_PORT
from importer@example.org
RC
run_mailsub /dev/null --import-msmtprc "$T/plain.msmtprc"
cp "$T/stdout" "$T/plain.ini"
printf 'queue_dir = %s\n' "$Q" >>"$T/plain.ini"
fresh
run_mailsub "$T/in" -C "$T/plain.ini" bob@example.net
expect_exit 0 && check --from importer@example.org --tls no
run_mailsub "$T/in" -C "$T/plain.ini" -f importer@example.org \
    bob@example.net
expect_exit 0
t_result "--import-msmtprc: the imported account sends as msmtp did"

t_summary
