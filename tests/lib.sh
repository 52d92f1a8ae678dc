# SPDX-License-Identifier: ISC
# Shell helpers for the integration tests (POSIX sh; sourced).
#
# The tests run as `$(SHELL) tests/integration/NAME.sh` from `make check`
# with MAILSUB, SRCDIR, BUILDDIR, PYTHON3 and SCENARIO_DIR set; run by hand
# they fall back to the checkout and ./mailsub.
#
#   . "$SRCDIR/tests/lib.sh"
#   t_init NAME                  temp dir $T (removed on exit), trap;
#                                T_ATEXIT holds commands run first on exit
#   server_start NAME ARGS...    smtpserver.py ARGS in the background;
#                                sets SRV_PID and SRV_PORT; one that does
#                                not start is an error (T_ERR) and returns 1
#   server_stop PID              SIGTERM, bounded wait, SIGKILL, reap
#   mk_config FILE [KEY=VALUE]... [-]  one [test] account (host 127.0.0.1,
#                                port $SRV_PORT, tls off, queue_dir $T/queue,
#                                timeout 10); "-" adds key = value lines
#                                from stdin
#   run_mailsub INPUT ARGS...    run $MAILSUB ARGS < INPUT; sets RC, and
#                                $T/stdout, $T/stderr
#   expect_exit WANT             RC must be WANT
#   expect_stderr REGEX          Python regex searched in $T/stderr
#   expect_where new|failed|none QUEUE_DIR   sets QFILE to the file found
#   expect_queued_message QFILE INPUT
#                                QFILE's message ends with INPUT in wire form
#   t_result NAME                "ok NAME" or "FAIL NAME: reasons" (counts)
#   t_skip NAME REASON           counted as skipped (failure when
#                                MAILSUB_NO_SKIP=1)
#   t_summary                    "N passed, N failed, N skipped"; exits
#   t_skip_all REASON            exit 77 (1 with MAILSUB_NO_SKIP=1)
#   t_fatal REASON               a premise every later case needs failed:
#                                "FAIL: REASON", exit 1
#
# Checks add to T_ERR; t_result reports and clears it.  Every helper that
# can fail adds to T_ERR itself, so a case whose premise failed (a server
# that did not start, a config that was not written) fails even when the
# caller ignores the return value.  Errors left when t_skip or t_summary
# runs are failures too, and so is a file that ran no case at all.  Exit
# 77 means the whole test was skipped; CI sets MAILSUB_NO_SKIP=1 so that a
# missing tool fails instead of hiding a gap.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
: "${BUILDDIR:=$SRCDIR}"
: "${MAILSUB:=$BUILDDIR/mailsub}"
: "${PYTHON3:=/usr/bin/python3}"
: "${SCENARIO_DIR:=$SRCDIR/tests/scenarios}"
: "${MAILSUB_NO_SKIP:=0}"
# The build's configured directories (make check passes them): the system
# file is $SYSCONFDIR/mailsub.conf, the system spool
# $LOCALSTATEDIR/spool/mailsub.
: "${SYSCONFDIR:=/etc}"
: "${LOCALSTATEDIR:=/var}"
export SRCDIR BUILDDIR MAILSUB PYTHON3 SCENARIO_DIR SYSCONFDIR LOCALSTATEDIR
# The Python checks are assert statements: -O would drop them all.
unset PYTHONOPTIMIZE
# Debian's postfix and bsd-mailx as tests/install-deps.sh --tests unpacked
# them (never installed): postfix, postconf, smtp-sink, bsd-mailx ... run
# from there.
if [ -x "$SRCDIR/build-private/bin/postfix" ]; then
	PATH=$SRCDIR/build-private/bin:$PATH
	export PATH
fi

SMTPSERVER=$SRCDIR/tests/smtpserver.py
SCN=$SRCDIR/tests/scn.py

T=
T_PASS=0
T_FAIL=0
T_SKIP=0
T_ERR=
T_PIDS=
T_ATEXIT=
RC=
QFILE=
SRV_PID=
SRV_PORT=

t_cleanup()
{
	if [ -n "$T_ATEXIT" ]; then
		eval "$T_ATEXIT"
		T_ATEXIT=
	fi
	for p in $T_PIDS; do
		server_stop "$p"
	done
	T_PIDS=
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${MAILSUB_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept $T"
		else
			rm -rf "$T"
		fi
	fi
}

t_init()
{
	T_STARTED=$(date +%s)
	T=$(mktemp -d "/tmp/mailsub-${1:-test}.XXXXXX") || {
		echo "cannot create a temp dir" >&2
		exit 99
	}
	chmod 700 "$T"
	trap 't_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

t_fatal()
{
	echo "FAIL: $*"
	exit 1
}

t_skip_all()
{
	if [ "$MAILSUB_NO_SKIP" = 1 ]; then
		echo "FAIL: cannot run: $* (MAILSUB_NO_SKIP=1)"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

# need_mailsub: the binary must exist and answer --version.
need_mailsub()
{
	if [ ! -x "$MAILSUB" ]; then
		t_skip_all "no mailsub binary at $MAILSUB"
	fi
	if ! "$MAILSUB" --version </dev/null >/dev/null 2>&1; then
		t_skip_all "$MAILSUB --version fails (not built yet?)"
	fi
}

need_cmd()
{
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip_all "$c not installed"
	done
}

t_err()
{
	if [ -z "$T_ERR" ]; then
		T_ERR=$*
	else
		T_ERR="$T_ERR; $*"
	fi
}

t_result()
{
	if [ -z "$T_ERR" ]; then
		echo "ok $1"
		T_PASS=$((T_PASS + 1))
	else
		echo "FAIL $1: $T_ERR"
		T_FAIL=$((T_FAIL + 1))
		if [ -s "$T/stderr" ]; then
			sed -n '1,5s/^/#   stderr: /p' "$T/stderr"
		fi
	fi
	T_ERR=
}

t_skip()
{
	name=$1
	shift
	if [ -n "$T_ERR" ]; then
		# What went wrong before the skip is not hidden by it.
		echo "FAIL $name: $T_ERR (then skipped: $*)"
		T_FAIL=$((T_FAIL + 1))
	elif [ "$MAILSUB_NO_SKIP" = 1 ]; then
		echo "FAIL $name: skipped: $* (MAILSUB_NO_SKIP=1)"
		T_FAIL=$((T_FAIL + 1))
	else
		echo "skip $name: $*"
		T_SKIP=$((T_SKIP + 1))
	fi
	T_ERR=
}

t_summary()
{
	# The suite has a time budget (20 minutes on 2 cores): say what each
	# file costs.
	echo "# elapsed: $(($(date +%s) - ${T_STARTED:-$(date +%s)})) s"
	if [ -n "$T_ERR" ]; then
		echo "FAIL after the last case: $T_ERR"
		T_FAIL=$((T_FAIL + 1))
		T_ERR=
	fi
	if [ $((T_PASS + T_FAIL + T_SKIP)) -eq 0 ]; then
		echo "FAIL: no case ran"
		T_FAIL=1
	fi
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	if [ "$T_FAIL" -gt 0 ]; then
		exit 1
	fi
	if [ "$T_PASS" -eq 0 ] && [ "$T_SKIP" -gt 0 ]; then
		exit 77
	fi
	exit 0
}

# wait_file FILE SECONDS [PID]: until FILE is non-empty; fails early when
# PID dies.
wait_file()
{
	i=0
	n=$(($2 * 20))
	while [ ! -s "$1" ]; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.05
	done
	return 0
}

# wait_pid PID SECONDS: until the process is gone.
wait_pid()
{
	i=0
	n=$(($2 * 20))
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.05
	done
	return 0
}

# server_start NAME ARGS...: smtpserver.py on 127.0.0.1, a free port.  A
# server that does not start is an error of the case (T_ERR): whatever the
# caller does with the status, the case cannot pass without its server.
server_start()
{
	name=$1
	shift
	rm -f "$T/$name.port"
	"$PYTHON3" "$SMTPSERVER" --port 0 --portfile "$T/$name.port" "$@" \
	    >"$T/$name.out" 2>"$T/$name.err" &
	SRV_PID=$!
	T_PIDS="$T_PIDS $SRV_PID"
	echo "$SRV_PID" >"$T/$name.pid"
	if ! wait_file "$T/$name.port" 10 "$SRV_PID"; then
		echo "# smtpserver $name did not start:" >&2
		sed 's/^/#   /' "$T/$name.err" >&2
		server_stop "$SRV_PID"
		t_err "smtpserver $name did not start: $(tail -n 1 "$T/$name.err")"
		SRV_PID=
		SRV_PORT=
		return 1
	fi
	SRV_PORT=$(cat "$T/$name.port")
	return 0
}

server_stop()
{
	[ -n "$1" ] || return 0
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null
		if ! wait_pid "$1" 10; then
			kill -KILL "$1" 2>/dev/null
		fi
	fi
	wait "$1" 2>/dev/null
	# forget it
	rest=
	for p in $T_PIDS; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	T_PIDS=$rest
	return 0
}

# mk_config FILE [KEY=VALUE]... [-]: a one-account config.  Given keys
# (case-insensitive, as iniparser) replace the defaults; "-" also reads
# "key = value" lines from stdin.  A line that is not "key = value" (empty
# ones aside) or a file that cannot be written is an error (T_ERR).  Not
# in a pipeline: the error would stay in its subshell.
mk_config()
{
	f=$1
	shift
	: >"$T/.mk_config"
	for a in "$@"; do
		if [ "$a" = - ]; then
			cat >>"$T/.mk_config"
		else
			printf '%s\n' "$a" >>"$T/.mk_config"
		fi
	done
	if ! awk -v port="${SRV_PORT:-25}" -v q="$T/queue" '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	/^[ \t]*$/ { next }
	{
		i = index($0, "=")
		if (i == 0) {
			print "mk_config: not key = value: " $0 >"/dev/stderr"
			bad = 1
			next
		}
		k = trim(substr($0, 1, i - 1)); v = trim(substr($0, i + 1))
		given[tolower(k)] = 1
		n++; keys[n] = k; vals[n] = v
	}
	END {
		print "; written by tests/lib.sh"
		print "[test]"
		split("host port tls from queue_dir timeout", dk, " ")
		dv["host"] = "127.0.0.1"; dv["port"] = port; dv["tls"] = "off"
		dv["from"] = "sender@example.org"; dv["queue_dir"] = q
		dv["timeout"] = "10"
		for (j = 1; j <= 6; j++)
			if (!(dk[j] in given))
				print dk[j] " = " dv[dk[j]]
		for (j = 1; j <= n; j++)
			print keys[j] " = " vals[j]
		exit bad
	}' "$T/.mk_config" >"$f" 2>"$T/.mk_config.err" || ! chmod 600 "$f"
	then
		t_err "mk_config $f: $(head -n 1 "$T/.mk_config.err" \
		    2>/dev/null || echo "cannot write it")"
		rm -f "$T/.mk_config" "$T/.mk_config.err"
		return 1
	fi
	rm -f "$T/.mk_config" "$T/.mk_config.err"
	return 0
}

# run_mailsub INPUT ARGS...: bounded by MAILSUB_TEST_TIMEOUT (default 120 s).
run_mailsub()
{
	input=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 5 "${MAILSUB_TEST_TIMEOUT:-120}" "$MAILSUB" "$@" \
		    <"$input" >"$T/stdout" 2>"$T/stderr"
	else
		"$MAILSUB" "$@" <"$input" >"$T/stdout" 2>"$T/stderr"
	fi
	RC=$?
	if [ "$RC" = 124 ]; then
		t_err "mailsub did not finish within ${MAILSUB_TEST_TIMEOUT:-120}s"
	fi
	return 0
}

expect_exit()
{
	if [ "$RC" != "$1" ]; then
		t_err "exit $RC, want $1"
		return 1
	fi
	return 0
}

# re_search REGEX FILE: Python re.search over the file.
re_search()
{
	"$PYTHON3" -c 'import re, sys
with open(sys.argv[2], "rb") as f:
    text = f.read().decode("utf-8", "replace")
sys.exit(0 if re.search(sys.argv[1], text) else 1)' "$1" "$2"
}

expect_stderr()
{
	if ! re_search "$1" "$T/stderr"; then
		t_err "stderr does not match /$1/: $(head -c 300 "$T/stderr" |
		    tr '\n' ' ')"
		return 1
	fi
	return 0
}

# count_files DIR: regular files not starting with a dot.
count_files()
{
	n=0
	if [ -d "$1" ]; then
		for f in "$1"/*; do
			[ -f "$f" ] && n=$((n + 1))
		done
	fi
	echo $n
}

first_file()
{
	for f in "$1"/*; do
		if [ -f "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

# expect_where new|failed|none QUEUE_DIR: exactly one message where said,
# none elsewhere, and no spool file left in tmp/.
expect_where()
{
	where=$1
	q=$2
	QFILE=
	nnew=$(count_files "$q/new")
	nfailed=$(count_files "$q/failed")
	ntmp=$(count_files "$q/tmp")
	ok=0
	case $where in
	new) [ "$nnew" = 1 ] && [ "$nfailed" = 0 ] && ok=1 &&
	    QFILE=$(first_file "$q/new") ;;
	failed) [ "$nnew" = 0 ] && [ "$nfailed" = 1 ] && ok=1 &&
	    QFILE=$(first_file "$q/failed") ;;
	none) [ "$nnew" = 0 ] && [ "$nfailed" = 0 ] && ok=1 ;;
	*) t_err "bad where '$where'"; return 1 ;;
	esac
	if [ $ok != 1 ]; then
		t_err "want the message in $where; new/ has $nnew, failed/ has $nfailed"
		return 1
	fi
	if [ "$ntmp" != 0 ]; then
		t_err "$ntmp file(s) left in $q/tmp"
		return 1
	fi
	return 0
}

# expect_queued_message QFILE INPUT
expect_queued_message()
{
	if ! out=$("$PYTHON3" "$SCN" queue-check "$1" "$2" 2>&1); then
		t_err "$(basename "$1"): $out"
		return 1
	fi
	return 0
}

# queue_header QFILE KEY: the first value of a queue file header line.
queue_header()
{
	sed -n "/^\$/q; s/^$2: //p" "$1" | head -n 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port()
{
	"$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}
