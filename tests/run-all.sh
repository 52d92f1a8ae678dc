#!/bin/sh
# SPDX-License-Identifier: ISC
# The whole test suite, as CI runs it: install what the build and the tests
# need (tests/install-deps.sh --tests), then build and run `make check`
# twice: a clang build with -Werror, and a gcc build with AddressSanitizer +
# UBSan and -Werror (so both compilers keep the code warning-free); then
# `make distcheck` (unit tests and a quick integration test from the
# tarball: the full suite already ran twice), a check that the tarball holds
# every tracked file it should, and the Debian packages: make deb, then
# tests/integration/package.sh (lintian; install, use, remove and purge in
# a throwaway mmdebstrap root).  Build trees go under build-*/ in the
# checkout, beside tests/demo.sh's build-demo/, which they leave alone.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ -f config.status ]; then
	echo "run-all.sh: this checkout is configured in place (./configure ran" \
	    "here), so out-of-tree builds cannot use it; run 'make distclean'" \
	    "here first (tests/demo.sh builds in build-demo/ instead)" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	sh tests/install-deps.sh --tests
fi
# CI must not skip the real-server tests.
MAILSUB_NO_SKIP=1
export MAILSUB_NO_SKIP

autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
jobs=$(nproc 2>/dev/null || echo 2)

run_build() {
	name=$1
	shift
	echo "=== build $name: $*"
	rm -rf "build-$name"
	mkdir "build-$name"
	(cd "build-$name" && "$top/configure" -q "$@" && make -s -j"$jobs")
}

run_check() {
	name=$1
	echo "=== make check ($name)"
	if ! (cd "build-$name" && make -s -j"$jobs" check); then
		for log in "build-$name"/tests/unit/*.log \
		    "build-$name"/tests/integration/*.log; do
			[ -f "$log" ] || continue
			if grep -q '^FAIL\|^ERROR' "${log%.log}.trs" 2>/dev/null; then
				echo "--- $log"
				tail -n 60 "$log"
			fi
		done
		echo "make check ($name) failed"
		exit 1
	fi
	cat "build-$name"/test-suite.log | sed -n '1,/^====/p' | head -n 20
	grep -H '^# elapsed' "build-$name"/tests/*/*.log | sort -t: -k3 -n -r |
	    head -n 8
}

normal_cc=gcc
command -v clang >/dev/null 2>&1 && normal_cc=clang
CC=$normal_cc run_build normal --enable-werror
run_check normal
# gcc's sanitizers: libfaketime (the certificate clock tests) deadlocks
# at start-up under clang's ASan runtime.
CC=gcc run_build asan --enable-werror --enable-sanitizers
# intercept_tls_get_addr=0: gcc 12's LeakSanitizer misrecords a dynamic
# TLS block of the libraries the TLS module loads ("DTLS 5 at
# 0x0000000000ac-0x0010000011ae" with LSAN_OPTIONS=verbosity=2) and its
# tracer then dies on it at exit ("Tracer caught signal 11"), whatever
# the program did.  Without that interception leaks are still found;
# only dynamic TLS is no longer a root, which can add reports, not hide
# them.
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:intercept_tls_get_addr=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_check asan
echo "=== make distcheck"
(cd build-normal && make -s -j"$jobs" distcheck \
    DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
    TESTS='$(UNIT_TESTS) tests/integration/exit-codes.sh tests/integration/manlint.sh' \
    >distcheck.log 2>&1) || {
	tail -n 80 build-normal/distcheck.log
	echo "make distcheck failed"
	exit 1
}
grep -E 'archives ready|mailsub-.*tar.gz' build-normal/distcheck.log | head -n 3
# The Debian packages: built from the tarball, then installed, used,
# removed and purged in a throwaway root (root only: mmdebstrap, chroot).
if [ "$(id -u)" = 0 ]; then
	echo "=== make deb"
	started=$(date +%s)
	(cd build-normal && rm -f ./*.deb ./*.changes ./*.buildinfo &&
	    make -s deb >deb.log 2>&1) || {
		tail -n 60 build-normal/deb.log
		echo "make deb failed"
		exit 1
	}
	echo "make deb: $(cd build-normal && ls ./*.deb | tr '\n' ' ')in" \
	    "$(($(date +%s) - started)) s"
	echo "=== the package test"
	if ! (cd build-normal &&
	    make -s check TESTS=tests/integration/package.sh >/dev/null 2>&1); then
		cat build-normal/tests/integration/package.log
		echo "the package test failed"
		exit 1
	fi
	grep -E '^(ok|# )' build-normal/tests/integration/package.log
fi
# Every tracked file but the repository's own plumbing must ship.
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
	(cd build-normal && make -s dist >/dev/null 2>&1)
	tar tzf build-normal/mailsub-*.tar.gz | sed 's|^[^/]*/||' | sort >build-normal/dist.lst
	git ls-files | grep -v -e '^\.gitignore$' -e '/\.keep$' | sort >build-normal/git.lst
	missing=$(comm -23 build-normal/git.lst build-normal/dist.lst)
	if [ -n "$missing" ]; then
		echo "files missing from the tarball (add them to EXTRA_DIST or a _SOURCES list):"
		echo "$missing"
		exit 1
	fi
	echo "tarball holds every tracked file"
fi
# The summary line CI reads.
passed=0 failed=0 skipped=0
for trs in build-normal/tests/*/*.trs build-asan/tests/*/*.trs; do
	[ -f "$trs" ] || continue
	case "$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)" in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
