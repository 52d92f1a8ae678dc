#!/bin/sh
# SPDX-License-Identifier: ISC
# The Debian packages of make deb, in a throwaway Debian root:
#   - lintian reports no error or warning on the binary packages and the
#     source package;
#   - mmdebstrap builds a minbase root of this machine's release from its
#     apt sources, in a mount namespace of its own (nothing is mounted on
#     the host; the root is a temporary directory, removed at the end);
#   - apt installs mailsub and mailsub-mta there; /usr/sbin/sendmail,
#     /usr/lib/sendmail, mailq and newaliases are mailsub, and so are the
#     sendmail(8), mailq(1) and newaliases(8) manual pages;
#   - sendmail -t with the system configuration (/etc/mailsub.conf, no HOME,
#     as cron runs it) delivers to a sink on 127.0.0.1 (the root shares the
#     host's network), and so does a TLS account, through the packaged TLS
#     module;
#   - apt removes and purges both packages: no file of theirs is left, no
#     path that was not there before (dpkg -S, the file lists, /etc, the
#     systemd state), and the administrator's /etc/mailsub.conf is kept.
# Needs root, mmdebstrap, lintian, certtool, and the .deb files of this
# version in BUILDDIR (tests/run-all.sh runs make deb first).  Not part of
# make check: run it with make check TESTS=tests/integration/package.sh.
. "$SRCDIR/tests/lib.sh"

if [ "$(id -u)" = 0 ] && [ -z "${PKGTEST_NS:-}" ] &&
    command -v unshare >/dev/null 2>&1; then
	# A mount namespace of its own: the root's /proc and whatever
	# mmdebstrap mounts vanish with it, whatever happens to this script.
	PKGTEST_NS=1
	export PKGTEST_NS
	exec unshare --mount --propagation private sh "$0" "$@"
fi

t_init package
[ "$(id -u)" = 0 ] || t_skip_all "needs root (mmdebstrap, chroot)"
[ -n "${PKGTEST_NS:-}" ] || t_skip_all "unshare --mount is not available"
need_mailsub
need_cmd mmdebstrap lintian dpkg-parsechangelog dpkg-source certtool chroot

VERSION=$("$MAILSUB" --version | sed -n '1s/^mailsub //p')
ARCH=$(dpkg --print-architecture)
DEB=$BUILDDIR/mailsub_${VERSION}_$ARCH.deb
MTA=$BUILDDIR/mailsub-mta_${VERSION}_all.deb
CHANGES=$BUILDDIR/mailsub_${VERSION}_$ARCH.changes
for f in "$DEB" "$MTA" "$CHANGES"; do
	[ -f "$f" ] || t_skip_all "no $f (run make deb first)"
done

# ---- the version, and lintian ---------------------------------------------
cv=$(dpkg-parsechangelog -l "$SRCDIR/debian/changelog" -S Version)
[ "$cv" = "$VERSION" ] ||
    t_err "debian/changelog is at $cv, mailsub --version says $VERSION"
t_result "debian/changelog is at configure.ac's version ($VERSION)"

lint()
{
	lintian --fail-on error,warning --display-level '>=warning' "$@" \
	    >"$T/lintian.out" 2>&1 || {
		t_err "lintian $(basename "$1"): $(grep -v 'root privileges' \
		    "$T/lintian.out" | head -n 5 | tr '\n' ' ')"
		sed 's/^/#   /' "$T/lintian.out"
	}
}
lint "$CHANGES"
t_result "lintian: the binary packages"
# The source package, from make dist's tarball as make deb used it.
tarball=$BUILDDIR/mailsub-$VERSION.tar.gz
if [ -f "$tarball" ]; then
	mkdir "$T/src" && tar -C "$T/src" -xzf "$tarball" &&
	    (cd "$T/src" && dpkg-source -b "mailsub-$VERSION" >/dev/null) ||
	    t_err "dpkg-source -b failed"
	[ -z "$T_ERR" ] && lint "$T/src/mailsub_$VERSION.dsc"
else
	t_err "no $tarball"
fi
t_result "lintian: the source package"

# ---- the root -------------------------------------------------------------
R=$T/root
T_ATEXIT='umount "$R/proc" 2>/dev/null'
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
: "${SUITE:=bookworm}"
# This machine's apt sources and the Acquire options they need (proxy,
# Check-Valid-Until of a snapshot mirror).
set --
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && grep -q '^[[:space:]]*[^#[:space:]]' "$f" && set -- "$@" "$f"
done
[ $# -gt 0 ] || t_skip_all "no apt sources on this machine"
aptopts=$(apt-config dump |
    grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|ftp::Proxy) ')
started=$(date +%s)
(
	IFS='
'
	# shellcheck disable=SC2046
	exec mmdebstrap --variant=minbase --quiet \
	    $(printf '%s\n' "$aptopts" | sed -n 's/^./--aptopt=&/p') \
	    "$SUITE" "$R" "$@"
) >"$T/mmdebstrap.log" 2>&1
rc=$?
echo "# mmdebstrap --variant=minbase $SUITE: $(($(date +%s) - started)) s"
if [ $rc != 0 ]; then
	sed 's/^/#   /' "$T/mmdebstrap.log" | tail -n 20
	t_err "mmdebstrap failed ($rc)"
	t_result "a $SUITE minbase root"
	t_summary
fi
mount -t proc proc "$R/proc" || t_err "cannot mount /proc in the root"
t_result "a $SUITE minbase root"

# ch CMD...: CMD in the root, with a clean environment.
ch()
{
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

# What the root holds, but for apt's and dpkg's own bookkeeping, and the
# backups and lock that adduser's tools leave when a group comes and goes
# (/etc/group- and friends, /run/adduser).
snapshot()
{
	ch find / -xdev | grep -v -E \
	    -e '^/(tmp|run|var/cache|var/lib/apt|var/lib/dpkg|var/log)(/|$)' \
	    -e '^/etc/(group|gshadow|passwd|shadow)-$' | sort
}

ch apt-get update -q >"$T/apt.log" 2>&1 || t_err "apt-get update failed"
snapshot >"$T/before.lst"
mkdir "$R/tmp/debs" && cp "$DEB" "$MTA" "$R/tmp/debs/" ||
    t_err "cannot copy the packages into the root"
started=$(date +%s)
ch apt-get install -y -q --no-install-recommends \
    "/tmp/debs/$(basename "$DEB")" "/tmp/debs/$(basename "$MTA")" \
    >>"$T/apt.log" 2>&1 || {
	t_err "apt-get install failed"
	tail -n 20 "$T/apt.log" | sed 's/^/#   /'
}
echo "# apt-get install: $(($(date +%s) - started)) s"
for p in mailsub mailsub-mta; do
	st=$(ch dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)
	[ "$st" = "install ok installed $VERSION" ] ||
	    t_err "$p: '$st', want installed $VERSION"
done
t_result "apt installs mailsub and mailsub-mta"

# ---- mailsub is the system's sendmail --------------------------------------
for l in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq \
    /usr/bin/newaliases; do
	t=$(ch readlink -f "$l")
	[ "$t" = /usr/bin/mailsub ] || t_err "$l -> '$t', not /usr/bin/mailsub"
	ch dpkg -S "$l" 2>/dev/null | grep -q '^mailsub-mta: ' ||
	    t_err "$l is not mailsub-mta's (dpkg -S)"
done
v=$(ch /usr/sbin/sendmail --version </dev/null 2>&1 | head -n 1)
[ "$v" = "mailsub $VERSION" ] || t_err "sendmail --version: '$v'"
ch /usr/bin/newaliases </dev/null >/dev/null 2>&1 || t_err "newaliases failed"
for m in man8/sendmail.8 man1/mailq.1 man8/newaliases.8; do
	t=$(ch readlink -f "/usr/share/man/$m.gz")
	[ "$t" = /usr/share/man/man1/mailsub.1.gz ] ||
	    t_err "$m -> '$t', not mailsub.1.gz"
done
ch dpkg -L mailsub >"$T/mailsub.files"
for f in /usr/share/doc/mailsub/examples/config.example \
    /usr/share/bash-completion/completions/mailsub \
    /lib/systemd/system/mailsub-flush.service \
    /lib/systemd/system/mailsub-flush.timer \
    /usr/lib/systemd/user/mailsub-flush.service \
    /usr/lib/systemd/user/mailsub-flush.timer; do
	grep -qx "$f" "$T/mailsub.files" || t_err "mailsub lacks $f"
done
[ -h "$R/etc/systemd/system/timers.target.wants/mailsub-flush.timer" ] ||
    t_err "the system timer is not enabled"
t_result "/usr/sbin/sendmail, mailq, newaliases and their manual pages are mailsub's"

# ---- it delivers ----------------------------------------------------------
server_start sink --sink --record "$T/sink" ||
    t_skip_all "the sink did not start"
cat >"$R/etc/mailsub.conf" <<EOF
; written by tests/integration/package.sh
[relay]
host = 127.0.0.1
port = $SRV_PORT
tls = off
from = cron@example.org
default_domain = example.org
timeout = 20
EOF
chmod 600 "$R/etc/mailsub.conf"
printf 'To: root\nSubject: package test\n\nfrom the packaged sendmail\n' \
    >"$R/tmp/msg"
ch sh -c '/usr/sbin/sendmail -t </tmp/msg' >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0 &&
    "$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$T/sink" --count 1 \
	--from cron@example.org --rcpts root@example.org \
	--header "Subject: package test" >"$T/check.out" 2>&1 ||
    t_err "not delivered: $(head -n 3 "$T/check.out")"
t_result "sendmail -t with /etc/mailsub.conf delivers to 127.0.0.1"

sh "$SRCDIR/tests/pki.sh" "$T/pki" >/dev/null 2>&1 || t_err "pki.sh failed"
server_start tls --sink --record "$T/tls" --tls-cert "$T/pki/server.crt" \
    --tls-key "$T/pki/server.key" --require-tls ||
    t_err "the TLS sink did not start"
cp "$T/pki/ca.crt" "$R/tmp/ca.crt"
cat >"$R/tmp/tls.ini" <<EOF
[tls]
host = 127.0.0.1
port = $SRV_PORT
tls = starttls
tls_trust_file = /tmp/ca.crt
tls_server_name = localhost
from = cron@example.org
queue_dir = /tmp/queue
timeout = 20
EOF
chmod 600 "$R/tmp/tls.ini"
ch sh -c 'XDG_STATE_HOME=/tmp/state mailsub -C /tmp/tls.ini -i \
    admin@example.org </tmp/msg' >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0 &&
    "$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$T/tls" --count 1 \
	--rcpts admin@example.org >"$T/check.out" 2>&1 ||
    t_err "not delivered: $(head -n 3 "$T/check.out")"
t_result "STARTTLS through the packaged TLS module"

# ---- remove and purge -----------------------------------------------------
ch dpkg -L mailsub-mta >>"$T/mailsub.files"
ch apt-get remove -y -q mailsub-mta mailsub >>"$T/apt.log" 2>&1 ||
    t_err "apt-get remove failed"
st=$(ch dpkg-query -W -f='${Status}' mailsub 2>/dev/null)
[ "$st" = "deinstall ok config-files" ] ||
    t_err "after remove mailsub is '$st'"
[ -e "$R/usr/bin/mailsub" ] && t_err "remove left /usr/bin/mailsub"
[ -h "$R/usr/sbin/sendmail" ] && t_err "remove left /usr/sbin/sendmail"
t_result "apt-get remove"

ch apt-get purge -y -q mailsub-mta mailsub >>"$T/apt.log" 2>&1 ||
    t_err "apt-get purge failed"
ch apt-get autoremove --purge -y -q >>"$T/apt.log" 2>&1 ||
    t_err "apt-get autoremove --purge failed"
for p in mailsub mailsub-mta; do
	st=$(ch dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case $st in
	"" | "unknown ok not-installed" | "purge ok not-installed") ;;
	*) t_err "after purge $p is '$st'" ;;
	esac
done
# Every file the packages had is gone, and dpkg knows none of them.
while read -r f; do
	# Directories (/usr/bin, /lib, ...) are shared with other packages.
	[ -d "$R$f" ] && continue
	if [ -e "$R$f" ] || [ -h "$R$f" ]; then
		t_err "left behind: $f"
	fi
done <"$T/mailsub.files"
if ch dpkg -S mailsub >"$T/dpkg-S.out" 2>/dev/null; then
	t_err "dpkg -S still knows: $(head -n 3 "$T/dpkg-S.out" | tr '\n' ' ')"
fi
# The administrator's file stays; nothing else is new.
[ -f "$R/etc/mailsub.conf" ] || t_err "purge removed /etc/mailsub.conf"
rm -f "$R/etc/mailsub.conf"
snapshot >"$T/after.lst"
if ! diff "$T/before.lst" "$T/after.lst" >"$T/diff.out"; then
	t_err "the root differs from before the installation: $(grep '^[<>]' \
	    "$T/diff.out" | head -n 8 | tr '\n' ' ')"
fi
grep -rl mailsub "$R/etc" 2>/dev/null |
    grep -v -E '/etc/(group|gshadow|passwd|shadow)-$' >"$T/etc.out" &&
    t_err "/etc still names mailsub: $(head -n 3 "$T/etc.out" | tr '\n' ' ')"
t_result "apt-get purge leaves nothing behind"

t_summary
