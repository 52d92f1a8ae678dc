#!/bin/sh
# Install what mailsub needs on Debian 12, as root, without harming what
# the machine already has.
#
#   sh tests/install-deps.sh          what the build and tests/demo.sh need
#                                     (the README's first command)
#   sh tests/install-deps.sh --tests  that, and what the whole test suite
#                                     needs (tests/run-all.sh)
#
# Build: build-essential autoconf automake pkg-config libgnutls28-dev
# libgsasl-dev libiniparser-dev libmagic-dev python3 (the demo's server).
# Tests: cmocka, gnutls-bin (certtool), dovecot-core (SASL for the test
# Postfix), aiosmtpd, mandoc, msmtp, faketime, clang and its sanitizer
# runtime, the real callers of tests/integration/callers.sh (git-email with
# libmailtools-perl, php-cli, bsd-mailx, s-nail, mutt), util-linux (script,
# unshare), bash-completion, and for the package test debhelper, lintian
# and mmdebstrap.
#
# What it never does:
#   - remove a package: apt-get runs with --no-remove, and first simulates;
#     when the installation would remove a package (an MTA that conflicts,
#     say), the script names it and stops, having changed nothing;
#   - stop, disable or reconfigure a service the machine had: no service is
#     started by the installation (a policy-rc.d that refuses, for its
#     duration, unless the machine has one of its own), and the services of
#     packages it newly installed are left disabled (deb-systemd-helper,
#     update-rc.d): the tests start their own instances, on free ports;
#   - install Postfix.  The tests run Debian's postfix package unpacked into
#     build-postfix/ (apt-get download, dpkg-deb -x) with the libraries it
#     needs, through wrappers in build-postfix/bin that tests/lib.sh puts
#     first in PATH; so it cannot conflict with the machine's MTA (exim4,
#     Postfix or another), and port 25 stays whatever it was.  Postfix's
#     daemons need the system user postfix and the groups postfix and
#     postdrop: they are created (as the postfix package would) when
#     missing.  Remove build-postfix/ to fetch the current version again.
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
libgsasl-dev libiniparser-dev libmagic-dev python3"
TEST_PACKAGES="libcmocka-dev gnutls-bin dovecot-core python3-aiosmtpd
python3-pytest mandoc msmtp faketime clang clang-tools libclang-rt-14-dev git
git-email libmailtools-perl php-cli bsd-mailx s-nail mutt util-linux
bash-completion debhelper lintian mmdebstrap"
PFDIR=$top/build-postfix

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

need_postfix=0
if [ $tests = 1 ] && [ ! -x "$PFDIR/root/usr/sbin/postfix" ]; then
	need_postfix=1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ] || [ $need_postfix = 1 ]; then
	say "apt-get update"
	apt-get update -q >/dev/null || die "apt-get update failed"
fi

# ---- the private Postfix -------------------------------------------------
if [ $need_postfix = 1 ]; then
	say "fetching Debian's postfix package into $PFDIR (not installed)"
	rm -rf "$PFDIR"
	mkdir -p "$PFDIR/dl"
	# As root into a directory of ours: apt's sandbox user need not
	# write it.
	(cd "$PFDIR/dl" && apt-get download -q -o APT::Sandbox::User=root \
	    postfix >/dev/null) || die "apt-get download postfix failed"
	deb=$(ls "$PFDIR"/dl/postfix_*.deb)
	dpkg-deb -x "$deb" "$PFDIR/root.tmp" || die "dpkg-deb -x $deb failed"
	mv "$PFDIR/root.tmp" "$PFDIR/root"
fi
if [ $tests = 1 ]; then
	# Its Depends that are not installed (libraries, ssl-cert, ...): the
	# first alternative of each.
	deps=$(dpkg-deb -f "$PFDIR"/dl/postfix_*.deb Depends | tr ',' '\n' |
	    sed 's/([^)]*)//g; s/|/ /g')
	while read -r alts; do
		first=
		for alt in $alts; do
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
			if command -v deb-systemd-helper >/dev/null 2>&1 &&
			    deb-systemd-helper --quiet is-enabled "$u"; then
				say "disabling $u (newly installed by $p)"
				deb-systemd-helper disable "$u" >/dev/null 2>&1 || true
			fi
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
	R=$PFDIR/root
	# The map types compiled in (texthash, ...) are all the tests use.
	printf '# dict-type\tso-name (pathname)\tdict-function\tmkmap-function\n' \
	    >"$R/etc/postfix/dynamicmaps.cf"
	mkdir -p "$PFDIR/bin"
	# postfix -c DIR ...: DIR's main.cf gets this copy's directories,
	# and its daemons the library path.
	cat >"$PFDIR/bin/postfix.tmp" <<EOF
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
	mv "$PFDIR/bin/postfix.tmp" "$PFDIR/bin/postfix"
	for c in postconf postmap postqueue postsuper postcat smtp-sink \
	    smtp-source posttls-finger; do
		cat >"$PFDIR/bin/$c.tmp" <<EOF
#!/bin/sh
# Debian's Postfix unpacked by tests/install-deps.sh (not installed).
LD_LIBRARY_PATH='$R/usr/lib/postfix'
export LD_LIBRARY_PATH
exec '$R/usr/sbin/$c' "\$@"
EOF
		mv "$PFDIR/bin/$c.tmp" "$PFDIR/bin/$c"
	done
	chmod 755 "$PFDIR"/bin/*
	if LD_LIBRARY_PATH=$R/usr/lib/postfix ldd "$R/usr/sbin/postfix" \
	    "$R/usr/lib/postfix/sbin/smtpd" "$R/usr/lib/postfix/sbin/virtual" \
	    2>&1 | grep 'not found' >&2; then
		die "the unpacked Postfix lacks libraries (above)"
	fi
	say "private Postfix $(dpkg-deb -f "$PFDIR"/dl/postfix_*.deb Version) in $PFDIR"
fi
say "done"
