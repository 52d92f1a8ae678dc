#!/bin/sh
# SPDX-License-Identifier: ISC
# The README's first command ends here: build mailsub out of tree in
# build-demo/ (autoreconf -fi when there is no configure yet, configure
# once, make: the checkout itself stays unconfigured, fit for
# tests/run-all.sh), start a local test SMTP server (tests/smtpserver.py
# --sink) on 127.0.0.1, take the [example] account of config.example with
# the server's port and a temporary queue, submit a sample message through
# the built mailsub binary, and show what the server received.  Everything
# it starts it stops; what the demo writes is under a temporary directory
# that is removed.  Exit status non-zero on any failure.
#
# MAILSUB names a binary to use instead (nothing is built then); PYTHON3
# the Python (default /usr/bin/python3).

top=$(cd "$(dirname "$0")/.." && pwd)
PYTHON3=${PYTHON3:-/usr/bin/python3}
example=$top/config.example

die()
{
	echo "demo: $*" >&2
	exit 1
}

if [ -z "${MAILSUB:-}" ] && [ -f "$top/config.status" ]; then
	# Configured in place (./configure in the checkout): that build.
	echo "demo: building in $top (configured in place)"
	make -C "$top" -s || die "make failed"
	MAILSUB=$top/mailsub
elif [ -z "${MAILSUB:-}" ]; then
	b=$top/build-demo
	if [ ! -x "$top/configure" ]; then
		echo "demo: autoreconf -fi"
		(cd "$top" && autoreconf -fi) || die "autoreconf failed"
	fi
	mkdir -p "$b" || die "cannot create $b"
	if [ ! -f "$b/Makefile" ]; then
		echo "demo: configuring in $b"
		(cd "$b" && "$top/configure" -q) ||
		    die "configure failed (see $b/config.log)"
	fi
	echo "demo: building in $b"
	make -C "$b" -s -j"$(nproc 2>/dev/null || echo 2)" ||
	    die "make failed"
	MAILSUB=$b/mailsub
fi

[ -x "$MAILSUB" ] || die "no mailsub binary at $MAILSUB"
[ -f "$example" ] || die "$example is missing"
grep -q '^[[:space:]]*\[example\]' "$example" ||
    die "$example has no [example] account"

T=$(mktemp -d /tmp/mailsub-demo.XXXXXX) || die "cannot create a temp dir"
pid=
cleanup()
{
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The server: a well-behaved ESMTP sink keeping what it receives.
"$PYTHON3" "$top/tests/smtpserver.py" --sink --record "$T/received" \
    --port 0 --portfile "$T/port" 2>"$T/server.err" &
pid=$!
i=0
while [ ! -s "$T/port" ]; do
	kill -0 "$pid" 2>/dev/null || {
		cat "$T/server.err" >&2
		die "the test server did not start"
	}
	i=$((i + 1))
	[ $i -lt 200 ] || die "the test server did not start within 10 s"
	sleep 0.05
done
port=$(cat "$T/port")
echo "demo: test SMTP server listening on 127.0.0.1:$port (pid $pid)"

# 2. The configuration: config.example, its [example] account pointed at
# that port and at a temporary queue.
awk -v port="$port" -v queue="$T/queue" '
function end_example() {
	if (in_ex && !done) { print "queue_dir = " queue; done = 1 }
}
/^[ \t]*\[/ {
	end_example()
	in_ex = ($0 ~ /^[ \t]*\[example\]/)
	print
	next
}
in_ex && /^[ \t]*port[ \t]*=/ { print "port = " port; next }
in_ex && /^[ \t]*queue_dir[ \t]*=/ { next }
{ print }
END { end_example() }' "$example" >"$T/config.ini"
chmod 600 "$T/config.ini"
echo "demo: account [example] of config.example, port $port:"
sed -n '/^[[:space:]]*\[example\]/,/^[[:space:]]*\[/p' "$T/config.ini" |
    sed '$!b; /^[[:space:]]*\[/d' | sed 's/^/    /'

# 3. The message, as a program would hand it over.
cat >"$T/message.txt" <<'EOF'
From: Demo Sender <demo@example.org>
To: Demo Recipient <someone@example.org>
Subject: mailsub demo

Hello from mailsub.
This line starts the next paragraph.
.
A lone dot above must not end the message.
EOF

echo "demo: $MAILSUB -C config.ini -a example -i someone@example.org < message.txt"
"$MAILSUB" -C "$T/config.ini" -a example -i someone@example.org \
    <"$T/message.txt"
rc=$?
echo "demo: mailsub exit status $rc"
[ "$rc" = 0 ] || die "mailsub failed with exit status $rc"

# 4. What the server got (the JSON is written last: its presence means the
# message is complete).
i=0
while ! ls "$T/received"/*.json >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "the server stored no message"
	sleep 0.05
done
for j in "$T/received"/*.json; do
	echo "demo: envelope received by the server:"
	"$PYTHON3" -c 'import json, sys
e = json.load(open(sys.argv[1]))
print("    MAIL FROM:<%s> %s" % (e["mail_from"], e["mail_params"]))
for r in e["rcpts"]:
    print("    RCPT TO:<%s>" % r)
print("    EHLO %s, %d bytes" % (e["helo"], e["size"]))' "$j" || exit 1
	echo "demo: message received by the server:"
	tr -d '\r' <"${j%.json}.eml" | sed 's/^/    /'
done
grep -q '^A lone dot above' "${j%.json}.eml" ||
    die "the message arrived cut short"
echo "demo: ok"
