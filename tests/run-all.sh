#!/bin/sh
# The whole test suite, as CI runs it: install what the build and the tests
# need, then build and run `make check` twice (normal build with -Werror,
# and AddressSanitizer + UBSan), compile once with clang, and run
# `make distcheck`.  Build trees go under build-*/ in the checkout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" = 0 ]; then
	sh tests/install-deps.sh
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
}

run_build normal --enable-werror
run_check normal
run_build asan --enable-werror --enable-sanitizers
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_check asan
if command -v clang >/dev/null 2>&1; then
	CC=clang run_build clang --enable-werror
fi
echo "=== make distcheck"
(cd build-normal && make -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1) || {
	tail -n 80 build-normal/distcheck.log
	echo "make distcheck failed"
	exit 1
}
grep -E 'archives ready|mailsub-.*tar.gz' build-normal/distcheck.log | head -n 3
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
