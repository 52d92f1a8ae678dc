#!/bin/sh
# Install everything the build and every test needs, on Debian 12, as root
# (git-email, php-cli, bsd-mailx, s-nail and mutt are the real callers of
# tests/integration/callers.sh -- git send-email needs libmailtools-perl,
# which git-email only recommends; util-linux gives script and unshare;
# ca-certificates is the system bundle test_tls verifies against, strace
# shows what tlsmod.sh's runs open, time measures compose.sh's memory;
# esmtp is the bench's second reference client).
# Idempotent and fast on re-runs: apt-get runs only when a package is
# missing.  Postfix is preseeded to "No configuration" so that no system
# instance is set up; the tests run their own private Postfix and Dovecot
# (tests/postfix-rig.sh), so any system instance is stopped afterwards and
# port 25 on 127.0.0.1 must be free.
set -eu

PACKAGES="build-essential autoconf automake pkg-config libgnutls28-dev
libgsasl-dev libiniparser-dev libcmocka-dev libmagic-dev gnutls-bin postfix
dovecot-core python3 python3-aiosmtpd python3-pytest mandoc msmtp esmtp faketime clang
clang-tools libclang-rt-14-dev git
git-email libmailtools-perl php-cli bsd-mailx s-nail mutt util-linux
ca-certificates strace time"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root" >&2
	exit 1
fi

missing=
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	echo "install-deps.sh: installing:$missing"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
else
	echo "install-deps.sh: all packages present"
fi

# No system mail server: the tests own their servers and ports.
if command -v postfix >/dev/null 2>&1; then
	postfix stop >/dev/null 2>&1 || true
fi
for svc in postfix dovecot; do
	if command -v systemctl >/dev/null 2>&1 &&
	    [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	fi
	if command -v service >/dev/null 2>&1; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done
# Containers without an init: stop what the pidfiles name, by PID.
for pf in /var/spool/postfix/pid/master.pid /run/dovecot/master.pid; do
	[ -r "$pf" ] || continue
	pid=$(tr -cd '0-9' <"$pf")
	[ -n "$pid" ] || continue
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
done

# Nothing may listen on 127.0.0.1:25 (a test that got there by mistake
# would talk to a real server).
if command -v ss >/dev/null 2>&1; then
	if ss -Hltn 'sport = :25' 2>/dev/null | grep -q .; then
		echo "install-deps.sh: something still listens on port 25:" >&2
		ss -ltnp 'sport = :25' >&2 || true
		exit 1
	fi
elif /usr/bin/python3 -c 'import socket,sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 25)) == 0 else 1)' 2>/dev/null; then
	echo "install-deps.sh: something still listens on 127.0.0.1:25" >&2
	exit 1
fi
echo "install-deps.sh: done"
