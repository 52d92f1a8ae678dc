#!/bin/sh
# SPDX-License-Identifier: ISC
# The TLS-capable sink for bench/run: a private Postfix smtpd (TLS and
# SASL through a private Dovecot) whose every transaction goes to
# smtp-sink as a before-queue proxy filter (smtpd_proxy_filter).  No queue
# file is written and nothing is fsync'd, so the server side of a
# transaction is smtpd's TLS and SASL work plus smtp-sink's replies: the
# client's own cost dominates what the bench measures.
#
#   front.sh start DIR SINK_PORT   configure and start; waits until every
#                                  port greets; writes DIR/ports
#   front.sh stop DIR              stop Postfix and Dovecot by PID, and wait
#
# DIR is made by the caller with mktemp -d under /tmp (Postfix's
# unprivileged processes must enter it).  DIR/ports defines:
#   STARTTLS_PORT  STARTTLS offered, no AUTH needed from 127.0.0.1 (S2)
#   SMTPS_PORT     implicit TLS (RFC 8314), no AUTH needed (S3)
#   SUBMIT_PORT    STARTTLS, then AUTH PLAIN or SCRAM-SHA-256 (S7)
#   FRONT_CA       the CA of the server certificate (tests/pki.sh)
#   PLAIN_USER PLAIN_PASSWORD  a user whose password Dovecot stores in
#                  clear (what PLAIN needs)
#   SCRAM_USER SCRAM_PASSWORD  a user whose password Dovecot stores as
#                  SCRAM-SHA-256 (fixed salt and iteration count, as a real
#                  server keeps it; PLAIN for it costs Dovecot a PBKDF2)
# Needs root, postfix, dovecot, and certtool (gnutls-bin) for the PKI.
set -u

usage()
{
	echo "usage: front.sh start DIR SINK_PORT | stop DIR" >&2
	exit 64
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PYTHON3=${PYTHON3:-/usr/bin/python3}
PF=$DIR/postfix
DC=$DIR/dovecot
VUID=$(id -u nobody)

die()
{
	echo "front.sh: $*" >&2
	exit 1
}

pid_of()
{
	[ -r "$1" ] || return 1
	p=$(tr -cd '0-9' <"$1")
	[ -n "$p" ] || return 1
	echo "$p"
}

# wait_gone PID SECONDS
wait_gone()
{
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
	return 0
}

stop_front()
{
	mpid=
	dpid=
	if [ -f "$PF/main.cf" ]; then
		mpid=$(pid_of "$DIR/spool/pid/master.pid") || mpid=
		postfix -c "$PF" stop >/dev/null 2>&1
	fi
	if dpid=$(pid_of "$DC/run/master.pid") &&
	    kill -0 "$dpid" 2>/dev/null; then
		kill -TERM "$dpid" 2>/dev/null
	fi
	st=0
	for p in $mpid $dpid; do
		if ! wait_gone "$p" 15; then
			kill -KILL "$p" 2>/dev/null
			st=1
		fi
	done
	rm -f "$DIR/ports"
	return $st
}

free_ports()
{
	"$PYTHON3" -c 'import socket
socks = []
for i in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}

# probe PORT TLS: an SMTP greeting (through TLS when TLS=1) within 1 s.
probe()
{
	"$PYTHON3" - "$1" "$2" <<'EOF'
import socket, ssl, sys
port, tls = int(sys.argv[1]), sys.argv[2] == "1"
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    data = s.recv(512)
    try:
        s.sendall(b"QUIT\r\n")
    except OSError:
        pass
    s.close()
    sys.exit(0 if data.startswith(b"220") else 1)
except (OSError, ssl.SSLError):
    sys.exit(1)
EOF
}

rand()
{
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n'
}

start_front()
{
	SINK_PORT=$1
	[ "$(id -u)" = 0 ] || die "must run as root"
	command -v postfix >/dev/null 2>&1 || die "postfix not installed"
	command -v dovecot >/dev/null 2>&1 || die "dovecot not installed"
	[ -f "$DIR/ports" ] && die "$DIR already holds a front"
	set -- $(free_ports)
	STARTTLS_PORT=$1
	SMTPS_PORT=$2
	SUBMIT_PORT=$3
	mkdir -p "$PF" "$DIR/spool" "$DIR/data" "$DC/run" "$DC/state" ||
	    die "cannot create directories under $DIR"
	chmod 755 "$DIR" "$DC"
	chown postfix "$DIR/data"
	: >"$DIR/maillog"
	sh "$TOP/tests/pki.sh" "$DIR/pki" || die "pki.sh failed"
	chmod 755 "$DIR/pki"

	cat >"$PF/main.cf" <<EOF
# Private bench instance (bench/lib/front.sh).
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/data
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = example.test
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
relayhost =
biff = no
readme_directory = no
message_size_limit = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_recipient_limit = 100000
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
	reject_unauth_destination
# Every transaction goes to smtp-sink; nothing is queued.
smtpd_proxy_filter = 127.0.0.1:$SINK_PORT
smtpd_proxy_timeout = 600s
smtpd_tls_cert_file = $DIR/pki/server.crt
smtpd_tls_key_file = $DIR/pki/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC/run/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
EOF
	cat >"$PF/master.cf" <<EOF
127.0.0.1:$STARTTLS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/starttls
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
127.0.0.1:$SUBMIT_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

	PLAIN_USER=plain@example.test
	SCRAM_USER=scram@example.test
	PLAIN_PASSWORD=plain-$(rand)
	SCRAM_PASSWORD=scram-$(rand)
	scram_hash=$(doveadm pw -s SCRAM-SHA-256 -p "$SCRAM_PASSWORD") ||
	    die "doveadm pw failed"
	cat >"$DC/passwd" <<EOF
$PLAIN_USER:{PLAIN}$PLAIN_PASSWORD::::::
$SCRAM_USER:$scram_hash::::::
EOF
	chown root:dovecot "$DC/passwd"
	chmod 640 "$DC/passwd"
	cat >"$DC/dovecot.conf" <<EOF
# Private bench instance (bench/lib/front.sh): SASL for Postfix only.
instance_name = mailsub-bench-$(basename "$DIR")
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain scram-sha-256
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=$VUID gid=$VUID home=/nonexistent
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
	dovecot -c "$DC/dovecot.conf" >"$DC/start.log" 2>&1 || {
		cat "$DC/start.log" "$DC/dovecot.log" >&2 2>/dev/null
		stop_front
		die "dovecot did not start"
	}
	postfix -c "$PF" start >"$DIR/start.log" 2>&1 || {
		cat "$DIR/start.log" "$DIR/maillog" >&2
		stop_front
		die "postfix did not start"
	}
	i=0
	while :; do
		ok=1
		[ -S "$DC/run/auth-postfix" ] || ok=0
		if [ $ok = 1 ]; then
			for p in "$STARTTLS_PORT:0" "$SMTPS_PORT:1" \
			    "$SUBMIT_PORT:0"; do
				probe "${p%:*}" "${p#*:}" || { ok=0; break; }
			done
		fi
		[ $ok = 1 ] && break
		i=$((i + 1))
		if [ $i -ge 60 ]; then
			tail -n 30 "$DIR/maillog" "$DC/dovecot.log" >&2
			stop_front
			die "the front did not come up in 30 s"
		fi
		sleep 0.5
	done
	cat >"$DIR/ports" <<EOF
STARTTLS_PORT=$STARTTLS_PORT
SMTPS_PORT=$SMTPS_PORT
SUBMIT_PORT=$SUBMIT_PORT
FRONT_CA='$DIR/pki/ca.crt'
PLAIN_USER='$PLAIN_USER'
PLAIN_PASSWORD='$PLAIN_PASSWORD'
SCRAM_USER='$SCRAM_USER'
SCRAM_PASSWORD='$SCRAM_PASSWORD'
EOF
}

case $cmd in
start)
	[ $# -eq 3 ] || usage
	start_front "$3"
	;;
stop)
	stop_front
	;;
*) usage ;;
esac
