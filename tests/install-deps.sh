#!/bin/sh
# SPDX-License-Identifier: ISC
# Install what mailsub needs on Debian 12, as root, without harming what
# the machine already has.
#
#   sh tests/install-deps.sh          what the build and tests/demo.sh need
#                                     (the README's first command)
#   sh tests/install-deps.sh --tests  that, and what the whole test suite
#                                     needs (tests/run-all.sh)
#
# Build: build-essential autoconf automake pkg-config libgnutls28-dev
# libgsasl-dev libiniparser-dev libmagic-dev libidn2-dev libcurl4-gnutls-dev
# libjansson-dev python3 (the demo's server).
# Tests: cmocka, gnutls-bin (certtool), dovecot-core (SASL for the test
# Postfix), aiosmtpd, pytest, mandoc, msmtp, esmtp (the bench's second
# reference client), faketime, clang, clang-format and the sanitizer
# runtime, ca-certificates, strace, time, the real callers of
# tests/integration/callers.sh (git-email with libmailtools-perl, php-cli,
# bsd-mailx, s-nail, mutt), util-linux (script, unshare), bash-completion,
# and for the package test debhelper, lintian and mmdebstrap.
#
# What it never does:
#   - remove a package: apt-get runs with --no-remove, and first simulates;
#     when the installation would remove a package (an MTA that conflicts,
#     say), the script names it and stops, having changed nothing;
#   - stop, disable or reconfigure a service the machine had: no service is
#     started by the installation (a policy-rc.d that refuses, for its
#     duration, unless the machine has one of its own), and the services of
#     packages it newly installed are left disabled (systemctl disable,
#     update-rc.d): the tests start their own instances, on free ports;
#   - install a mail transport agent.  Debian's postfix package, and
#     bsd-mailx (which depends on an MTA), are unpacked into build-private/
#     instead (apt-get download, dpkg-deb -x), their other dependencies
#     (libraries) installed, and the tests run them through wrappers in
#     build-private/bin that tests/lib.sh puts first in PATH; so they cannot
#     conflict with the machine's MTA (exim4, Postfix or another), and port
#     25 stays whatever it was.  An installation that would bring an MTA
#     all the same stops before it starts.  Postfix's daemons need the
#     system user postfix and the groups postfix and postdrop: they are
#     created (as the postfix package would) when missing.  Remove
#     build-private/ to fetch the current versions again.
# apt-get runs only when something is missing: re-runs are fast and need no
# network.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tests=0
case ${1:-} in
"") ;;
--tests) tests=1 ;;
*)
	echo "usage: install-deps.sh [--tests]" >&2
	exit 64
	;;
esac

BUILD_PACKAGES="build-essential autoconf automake pkg-config libgnutls28-dev
libgsasl-dev libiniparser-dev libmagic-dev libidn2-dev libcurl4-gnutls-dev
libjansson-dev python3"
TEST_PACKAGES="libcmocka-dev gnutls-bin dovecot-core python3-aiosmtpd
python3-pytest mandoc msmtp esmtp faketime clang clang-tools clang-format libclang-rt-14-dev git
git-email libmailtools-perl php-cli s-nail mutt util-linux bash-completion
debhelper lintian mmdebstrap ca-certificates strace time"
# Unpacked into build-private/, never installed.
PRIVATE_PACKAGES="postfix bsd-mailx"
PRIV=$top/build-private
PFROOT=$PRIV/postfix

say()
{
	echo "install-deps.sh: $*"
}

die()
{
	echo "install-deps.sh: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	die "must run as root"
fi
command -v apt-get >/dev/null 2>&1 || die "needs apt-get (Debian 12)"

installed()
{
	case $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) in
	*" installed") return 0 ;;
	esac
	return 1
}

PACKAGES=$BUILD_PACKAGES
[ $tests = 0 ] || PACKAGES="$PACKAGES $TEST_PACKAGES"
missing=
for p in $PACKAGES; do
	installed "$p" || missing="$missing $p"
done

unpack=
if [ $tests = 1 ]; then
	for p in $PRIVATE_PACKAGES; do
		[ -d "$PRIV/$p" ] || unpack="$unpack $p"
	done
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ] || [ -n "$unpack" ]; then
	say "apt-get update"
	apt-get update -q >/dev/null || die "apt-get update failed"
fi

# ---- the unpacked packages -----------------------------------------------
for p in $unpack; do
	say "fetching Debian's $p package into $PRIV/$p (not installed)"
	rm -rf "$PRIV/$p" "$PRIV/$p.tmp" "$PRIV/dl/$p"
	mkdir -p "$PRIV/dl/$p"
	# As root into a directory of ours: apt's sandbox user need not
	# write it.
	(cd "$PRIV/dl/$p" && apt-get download -q -o APT::Sandbox::User=root \
	    "$p" >/dev/null) || die "apt-get download $p failed"
	dpkg-deb -x "$PRIV/dl/$p/${p}_"*.deb "$PRIV/$p.tmp" ||
	    die "dpkg-deb -x $p failed"
	mv "$PRIV/$p.tmp" "$PRIV/$p"
done
if [ $tests = 1 ]; then
	# Their Depends that are not installed (libraries, ssl-cert, ...):
	# the first alternative of each; never an MTA.
	for p in $PRIVATE_PACKAGES; do
		deps=$(dpkg-deb -f "$PRIV/dl/$p/${p}_"*.deb Depends |
		    tr ',' '\n' | sed 's/([^)]*)//g; s/|/ /g')
		while read -r alts; do
			first=
			for alt in $alts; do
				case $alt in
				mail-transport-agent | default-mta)
					first=
					break
					;;
				esac
				[ -n "$first" ] || first=$alt
				if installed "$alt"; then
					first=
					break
				fi
			done
			[ -z "$first" ] || missing="$missing $first"
		done <<EOF
$deps
EOF
	done
fi

# ---- apt: simulate, then install without removing anything ---------------
policy=
cleanup()
{
	if [ -n "$policy" ]; then
		rm -f "$policy"
		policy=
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$missing" ]; then
	say "installing:$missing"
	# shellcheck disable=SC2086
	sim=$(LC_ALL=C apt-get -s -q install --no-install-recommends \
	    $missing 2>&1) || {
		printf '%s\n' "$sim" | tail -n 20 >&2
		die "apt-get cannot install:$missing (simulation above); nothing was changed"
	}
	removed=$(printf '%s\n' "$sim" | sed -n 's/^Remv \([^ ]*\).*/\1/p' |
	    tr '\n' ' ')
	if [ -n "$removed" ]; then
		die "installing$missing would remove: $removed
install-deps.sh: stopped; nothing was installed or removed"
	fi
	# Newly installed ("Inst P (V ...)"), not upgraded ("Inst P [OLD] (V ...)").
	new=$(printf '%s\n' "$sim" | sed -n 's/^Inst \([^ ]*\) (.*/\1/p')
	# shellcheck disable=SC2086
	mta=$(apt-cache show --no-all-versions $new 2>/dev/null | awk '
	    /^Package:/ { p = $2 }
	    /^Provides:/ && /mail-transport-agent/ { print p }' | tr '\n' ' ')
	if [ -n "$mta" ]; then
		die "installing$missing would bring a mail transport agent: $mta
install-deps.sh: stopped; nothing was installed or removed"
	fi
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# tests/install-deps.sh: no service starts while it installs\nexit 101\n' \
		    >"$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends --no-remove $missing ||
	    die "apt-get install failed"
	cleanup
	# The services those packages brought stay off: they were not here
	# before, and the tests run their own instances.
	for p in $new; do
		p=${p%%:*}
		for u in $(dpkg-query -L "$p" 2>/dev/null |
		    grep -E '^(/usr)?/lib/systemd/system/[^/@]+\.(service|socket|timer|path)$' |
		    sed 's|.*/||'); do
			# systemctl works on the unit files offline too
			# (containers, chroots); a disabled unit stays so on
			# upgrades (the packages' was-enabled check).
			command -v systemctl >/dev/null 2>&1 || break
			[ "$(systemctl is-enabled "$u" 2>/dev/null)" = enabled ] ||
			    continue
			say "disabling $u (newly installed by $p)"
			systemctl --quiet disable "$u" 2>/dev/null || true
		done
		for s in $(dpkg-query -L "$p" 2>/dev/null |
		    sed -n 's|^/etc/init\.d/\([^/]*\)$|\1|p'); do
			update-rc.d "$s" disable >/dev/null 2>&1 || true
		done
	done
else
	say "all packages present"
fi

# ---- the private Postfix: accounts and wrappers ---------------------------
if [ $tests = 1 ]; then
	if ! getent group postfix >/dev/null; then
		say "creating the system group postfix"
		groupadd --system postfix
	fi
	if ! getent passwd postfix >/dev/null; then
		say "creating the system user postfix"
		useradd --system --gid postfix --home-dir /var/spool/postfix \
		    --no-create-home --shell /usr/sbin/nologin postfix
	fi
	if ! getent group postdrop >/dev/null; then
		say "creating the system group postdrop"
		groupadd --system postdrop
	fi
	R=$PFROOT
	# The map types compiled in (texthash, ...) are all the tests use.
	printf '# dict-type\tso-name (pathname)\tdict-function\tmkmap-function\n' \
	    >"$R/etc/postfix/dynamicmaps.cf"
	mkdir -p "$PRIV/bin"
	# postfix -c DIR ...: DIR's main.cf gets this copy's directories,
	# and its daemons the library path.
	cat >"$PRIV/bin/postfix.tmp" <<EOF
#!/bin/sh
# Debian's Postfix unpacked by tests/install-deps.sh (not installed).
R='$R'
LD_LIBRARY_PATH=\$R/usr/lib/postfix
export LD_LIBRARY_PATH
cfg=
prev=
for a in "\$@"; do
	[ "\$prev" = -c ] && cfg=\$a
	prev=\$a
done
if [ -n "\$cfg" ] && [ -f "\$cfg/main.cf" ]; then
	"\$R/usr/sbin/postconf" -c "\$cfg" -e \\
	    "daemon_directory = \$R/usr/lib/postfix/sbin" \\
	    "command_directory = \$R/usr/sbin" \\
	    "meta_directory = \$R/etc/postfix" \\
	    "shlib_directory = \$R/usr/lib/postfix" \\
	    "sample_directory = \$R/etc/postfix" \\
	    "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH=\$LD_LIBRARY_PATH" ||
	    exit 1
fi
exec "\$R/usr/sbin/postfix" "\$@"
EOF
	mv "$PRIV/bin/postfix.tmp" "$PRIV/bin/postfix"
	for c in postconf postmap postqueue postsuper postcat smtp-sink \
	    smtp-source posttls-finger; do
		cat >"$PRIV/bin/$c.tmp" <<EOF
#!/bin/sh
# Debian's Postfix unpacked by tests/install-deps.sh (not installed).
LD_LIBRARY_PATH='$R/usr/lib/postfix'
export LD_LIBRARY_PATH
exec '$R/usr/sbin/$c' "\$@"
EOF
		mv "$PRIV/bin/$c.tmp" "$PRIV/bin/$c"
	done
	chmod 755 "$PRIV"/bin/*
	if LD_LIBRARY_PATH=$R/usr/lib/postfix ldd "$R/usr/sbin/postfix" \
	    "$R/usr/lib/postfix/sbin/smtpd" "$R/usr/lib/postfix/sbin/virtual" \
	    2>&1 | grep 'not found' >&2; then
		die "the unpacked Postfix lacks libraries (above)"
	fi
	cat >"$PRIV/bin/bsd-mailx.tmp" <<EOF
#!/bin/sh
# Debian's bsd-mailx unpacked by tests/install-deps.sh (not installed).
exec '$PRIV/bsd-mailx/usr/bin/bsd-mailx' "\$@"
EOF
	mv "$PRIV/bin/bsd-mailx.tmp" "$PRIV/bin/bsd-mailx"
	chmod 755 "$PRIV"/bin/*
	if ldd "$PRIV/bsd-mailx/usr/bin/bsd-mailx" 2>&1 | grep 'not found' >&2
	then
		die "the unpacked bsd-mailx lacks libraries (above)"
	fi
	for p in $PRIVATE_PACKAGES; do
		say "unpacked $p $(dpkg-deb -f "$PRIV/dl/$p/${p}_"*.deb Version) in $PRIV/$p"
	done
fi
say "done"
