#!/bin/sh
# SPDX-License-Identifier: ISC
# A private Postfix + Dovecot (SASL only) on 127.0.0.1 for the tests
# (HACKING.md).  Everything lives under DIR, which the caller makes with
# `mktemp -d` in /tmp (not in the checkout: Postfix's unprivileged processes
# must be able to enter it); the system Postfix configuration, its queue and
# port 25 are never touched.  Needs root.
#
#   postfix-rig.sh start DIR     configure, start, wait until every port
#                                answers; writes DIR/ports (shell variables)
#   postfix-rig.sh stop DIR      stop Postfix and Dovecot by PID, and wait
#
# DIR/ports defines:
#   PLAIN_PORT       smtpd, no TLS, no AUTH; 127.0.0.0/8 may send to the
#                    virtual domain
#   SUBMISSION_PORT  STARTTLS required, then AUTH required
#   SMTPS_PORT       implicit TLS (smtpd_tls_wrappermode), AUTH required
#   STARTTLS_PORT    STARTTLS offered (may), AUTH offered only after TLS
#   RIG_CA           the CA that signed the server certificate
#   RIG_MAIL         the maildir base: $RIG_MAIL/USER/new/ holds the mail of
#                    USER@example.test (any other address of the domain
#                    goes to $RIG_MAIL/catchall/)
#   RIG_MAILLOG      Postfix's log file
#   RIG_USERS        SASL users (alice@example.test bob@example.test)
#   RIG_PASSWORD_alice, RIG_PASSWORD_bob   their passwords
# Recipients refuse@example.test get 550 and defer@example.test
# 451 at RCPT time.  Passwords are stored in plain text so that PLAIN,
# LOGIN, CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 all work.

set -u

usage()
{
	echo "usage: postfix-rig.sh start|stop DIR" >&2
	exit 64
}

[ $# -eq 2 ] || usage
cmd=$1
DIR=$2
case $DIR in
/*) ;;
*) DIR=$(cd "$DIR" 2>/dev/null && pwd) || usage ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON3=${PYTHON3:-/usr/bin/python3}

PF=$DIR/postfix
DC=$DIR/dovecot
DOMAIN=example.test
VUID=$(id -u nobody)
VGID=$(getent group nogroup | cut -d: -f3)
: "${VGID:=$(id -g nobody)}"

die()
{
	echo "postfix-rig: $*" >&2
	exit 1
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

pid_of()
{
	[ -r "$1" ] || return 1
	p=$(tr -cd '0-9' <"$1")
	[ -n "$p" ] || return 1
	echo "$p"
}

stop_rig()
{
	status=0
	mpid=
	dpid=
	# Ask both to stop first, then wait for both (they take seconds).
	if [ -f "$PF/main.cf" ]; then
		mpid=$(pid_of "$DIR/spool/pid/master.pid") || mpid=
		postfix -c "$PF" stop >/dev/null 2>&1
	fi
	if dpid=$(pid_of "$DC/run/master.pid") &&
	    kill -0 "$dpid" 2>/dev/null; then
		kill -TERM "$dpid" 2>/dev/null
	fi
	for p in $mpid $dpid; do
		if ! wait_gone "$p" 15; then
			echo "postfix-rig: pid $p did not stop; killing it" >&2
			kill -KILL "$p" 2>/dev/null
			status=1
		fi
	done
	return $status
}

free_ports()
{
	"$PYTHON3" -c 'import socket
socks = []
for i in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()'
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

write_config()
{
	set -- $(free_ports)
	PLAIN_PORT=$1
	SUBMISSION_PORT=$2
	SMTPS_PORT=$3
	STARTTLS_PORT=$4

	mkdir -p "$PF" "$DIR/spool" "$DIR/data" "$DIR/mail" "$DC/run" \
	    "$DC/state" || die "cannot create directories under $DIR"
	# Postfix's and Dovecot's unprivileged processes enter DIR.
	chmod 755 "$DIR" "$DC" &&
	    chown "$VUID:$VGID" "$DIR/mail" &&
	    chmod 755 "$DIR/mail" &&
	    chown postfix "$DIR/data" &&
	    : >"$DIR/maillog" || die "cannot set up $DIR for Postfix"
	sh "$HERE/pki.sh" "$DIR/pki" || die "pki.sh failed"
	chmod 755 "$DIR/pki" || die "cannot open $DIR/pki to Postfix"

	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/postfix-rig.sh); nothing here is shared with
# the system Postfix.
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/data
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.$DOMAIN
mydomain = $DOMAIN
myorigin = $DOMAIN
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_transport = error:5.1.1 no local delivery in the test rig
relayhost =
default_transport = error:5.4.4 no relaying from the test rig
biff = no
append_dot_mydomain = no
readme_directory = no
smtpd_banner = \$myhostname ESMTP test rig
# Deliver what clients send, unchanged: no header rewriting or additions.
local_header_rewrite_clients =
always_add_missing_headers = no
message_size_limit = 0
mailbox_size_limit = 0
virtual_mailbox_limit = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_recipient_limit = 100000
queue_run_delay = 5s
minimal_backoff_time = 5s
# Virtual mailboxes: maildirs under $DIR/mail owned by nobody.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $DIR/mail
virtual_mailbox_maps = texthash:$PF/vmailbox
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
virtual_transport = virtual
virtual_destination_recipient_limit = 1
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
	reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$PF/rcpt_access
# TLS: the certificate of tests/pki.sh for localhost and 127.0.0.1.
smtpd_tls_cert_file = $DIR/pki/server.crt
smtpd_tls_key_file = $DIR/pki/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
# SASL through Dovecot's auth socket.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC/run/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
EOF

	cat >"$PF/master.cf" <<EOF
# service type  private unpriv chroot wakeup maxproc command
127.0.0.1:$PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=postfix/plain
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$STARTTLS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/starttls
  -o smtpd_tls_security_level=may
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

	cat >"$PF/vmailbox" <<EOF
alice@$DOMAIN alice/
bob@$DOMAIN bob/
carol@$DOMAIN carol/
refuse@$DOMAIN refuse/
defer@$DOMAIN defer/
@$DOMAIN catchall/
EOF
	cat >"$PF/rcpt_access" <<EOF
refuse@$DOMAIN 550 5.1.1 refused by the test rig
defer@$DOMAIN 451 4.7.1 try later
EOF

	# Dovecot: authentication only, one listener for Postfix.
	pw_alice=alice-pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	pw_bob=bob-pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	cat >"$DC/passwd" <<EOF
alice@$DOMAIN:{PLAIN}$pw_alice::::::
bob@$DOMAIN:{PLAIN}$pw_bob::::::
EOF
	chown root:dovecot "$DC/passwd"
	chmod 640 "$DC/passwd"
	cat >"$DC/dovecot.conf" <<EOF
# Private test instance (tests/postfix-rig.sh): SASL for Postfix only.
instance_name = mailsub-rig-$(basename "$DIR")
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=$VUID gid=$VGID home=$DIR/mail/%n
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF

	cat >"$DIR/ports" <<EOF
PLAIN_PORT=$PLAIN_PORT
SUBMISSION_PORT=$SUBMISSION_PORT
SMTPS_PORT=$SMTPS_PORT
STARTTLS_PORT=$STARTTLS_PORT
RIG_DIR='$DIR'
RIG_CA='$DIR/pki/ca.crt'
RIG_MAIL='$DIR/mail'
RIG_MAILLOG='$DIR/maillog'
RIG_USERS='alice@$DOMAIN bob@$DOMAIN'
RIG_PASSWORD_alice='$pw_alice'
RIG_PASSWORD_bob='$pw_bob'
EOF
}

start_failed()
{
	stop_rig
	rm -f "$DIR/ports"
	die "$@"
}

start_rig()
{
	[ "$(id -u)" = 0 ] || die "must run as root"
	command -v postfix >/dev/null 2>&1 || die "postfix not installed"
	command -v dovecot >/dev/null 2>&1 || die "dovecot not installed"
	[ -d "$DIR" ] || die "$DIR: no such directory"
	case $DIR in
	/root | /root/*) die "$DIR: Postfix cannot enter /root; use mktemp -d in /tmp" ;;
	esac
	if [ -f "$DIR/ports" ]; then
		die "$DIR already holds a rig (stop it first)"
	fi
	# The free ports are free when chosen, not when bound: another test
	# running in parallel may take one in between ("Address already in
	# use").  Then the rig starts again on new ports, at most 3 times.
	try=1
	while :; do
		write_config
		: >"$DIR/maillog"
		if dovecot -c "$DC/dovecot.conf" >"$DC/start.log" 2>&1 &&
		    postfix -c "$PF" start >"$DIR/start.log" 2>&1; then
			break
		fi
		if [ $try -lt 3 ] && cat "$DIR/start.log" "$DIR/maillog" \
		    "$DC/start.log" "$DC/dovecot.log" 2>/dev/null |
		    grep -q 'Address already in use'; then
			stop_rig
			try=$((try + 1))
			continue
		fi
		cat "$DC/start.log" "$DC/dovecot.log" "$DIR/start.log" \
		    "$DIR/maillog" >&2 2>/dev/null
		start_failed "dovecot or postfix did not start"
	done

	# Bounded wait: every port greets, Dovecot's socket is there.
	i=0
	while :; do
		ok=1
		[ -S "$DC/run/auth-postfix" ] || ok=0
		if [ $ok = 1 ]; then
			for p in "$PLAIN_PORT:0" "$SUBMISSION_PORT:0" \
			    "$SMTPS_PORT:1" "$STARTTLS_PORT:0"; do
				probe "${p%:*}" "${p#*:}" || { ok=0; break; }
			done
		fi
		[ $ok = 1 ] && break
		i=$((i + 1))
		if [ $i -ge 60 ]; then
			tail -n 30 "$DIR/maillog" "$DC/dovecot.log" >&2 2>/dev/null
			start_failed "the rig did not come up in 30 s"
		fi
		sleep 0.5
	done
	echo "postfix-rig: running in $DIR: plain $PLAIN_PORT, submission" \
	    "$SUBMISSION_PORT, smtps $SMTPS_PORT, starttls $STARTTLS_PORT"
}

case $cmd in
start) start_rig ;;
stop)
	stop_rig
	st=$?
	rm -f "$DIR/ports"
	exit $st
	;;
*) usage ;;
esac
