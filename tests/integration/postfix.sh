#!/bin/sh
# SPDX-License-Identifier: ISC
# mailsub against a real server: a private Postfix with Dovecot SASL
# (tests/postfix-rig.sh) on 127.0.0.1, delivering into maildirs that are
# read back byte for byte.  Cases: the plain port (two recipients; a
# refused recipient -> 67 and failed/, nothing delivered; a deferred one ->
# 75 and new/), the submission port (STARTTLS + AUTH with every mechanism
# Dovecot offers), implicit TLS, STARTTLS offered but optional, and a wrong
# password -> 77; --serverinfo --json on the three ports.  The password is a
# unique string searched for in every output and in the queue (secret
# canary).  Needs root (Postfix).

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init postfix
need_mailsub
[ "$(id -u)" = 0 ] || t_skip_all "needs root to run a private Postfix"
need_cmd postfix dovecot certtool

# The rig's own directory: Postfix's unprivileged processes must enter it,
# so not under $T (mode 0700).
RIG=$(mktemp -d /tmp/mailsub-rig.XXXXXX) || t_fatal "mktemp failed"
T_ATEXIT='sh "$SRCDIR/tests/postfix-rig.sh" stop "$RIG" >/dev/null 2>&1; rm -rf "$RIG"'
if ! sh "$SRCDIR/tests/postfix-rig.sh" start "$RIG" >"$T/rig.log" 2>&1; then
	cat "$T/rig.log"
	echo "FAIL the Postfix rig did not start"
	exit 1
fi
. "$RIG/ports"
sed 's/^/# /' "$T/rig.log"

Q=$T/queue
D=example.test

# msg FILE TAG: a message exercising the transparency rules; TAG makes its
# Subject and Message-ID unique so the delivered copy can be found.
msg()
{
	printf '%s\n' \
	    "From: Alice <alice@$D>" \
	    "To: Bob <bob@$D>, alice@$D" \
	    "Subject: rig test $2" \
	    "Date: Mon, 01 Jan 2024 00:00:00 +0000" \
	    "Message-ID: <$2.rig@$D>" \
	    "MIME-Version: 1.0" \
	    "Content-Type: text/plain; charset=utf-8" \
	    "Content-Transfer-Encoding: 8bit" \
	    "" \
	    "Hello, this is case $2." \
	    "." \
	    ".. two dots" \
	    ".leading dot" \
	    "Grüße aus dem Test — 8-bit UTF-8." \
	    "$(printf '%0900d' 0)" \
	    "" \
	    "last line" >"$1"
}

# delivered USER TAG INPUT: the copy in USER's maildir (bounded wait) must
# end with INPUT exactly, above it only header lines (what Postfix adds:
# Return-Path, Delivered-To, Received, and any header mailsub adds).
delivered()
{
	box=$RIG_MAIL/$1/new
	f=
	i=0
	while [ $i -lt 100 ]; do
		if [ -d "$box" ]; then
			f=$(grep -l -F "Subject: rig test $2" "$box"/* 2>/dev/null |
			    head -n 1)
			[ -n "$f" ] && break
		fi
		i=$((i + 1))
		sleep 0.2
	done
	if [ -z "$f" ]; then
		t_err "no copy for $1 in the maildir after 20 s"
		return 1
	fi
	if ! why=$("$PYTHON3" - "$f" "$3" <<'EOF'
import re, sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read()
if not got.endswith(want):
    print("the delivered copy does not end with the input")
    sys.exit(1)
top = got[:len(got) - len(want)]
for line in top.split(b"\n")[:-1]:
    if not re.match(rb"^([!-9;-~]+:|[ \t])", line):
        print("not a header line above the message: %r" % line[:80])
        sys.exit(1)
if top and not top.endswith(b"\n"):
    print("the added headers do not end with a newline")
    sys.exit(1)
EOF
	); then
		t_err "$1: $why ($f)"
		return 1
	fi
	return 0
}

not_delivered()
{
	if [ -d "$RIG_MAIL/$1/new" ] &&
	    grep -q -l -F "Subject: rig test $2" "$RIG_MAIL/$1/new"/* 2>/dev/null; then
		t_err "a copy reached $1 although the transaction must be abandoned"
	fi
}

# canary SECRET: not in stdout, stderr, the queue, or base64 forms of it.
canary()
{
	if ! why=$("$PYTHON3" - "$1" "$T/stdout" "$T/stderr" "$Q" <<'EOF'
import base64, os, sys
secret = sys.argv[1].encode()
user = b"alice@example.test"
forms = [secret, base64.b64encode(secret),
         base64.b64encode(b"\0" + user + b"\0" + secret),
         base64.b64encode(user + b"\0" + user + b"\0" + secret)]
paths = list(sys.argv[2:4])
for root, dirs, files in os.walk(sys.argv[4]):
    paths += [os.path.join(root, f) for f in files]
for p in paths:
    try:
        data = open(p, "rb").read()
    except OSError:
        continue
    for f in forms:
        if f in data:
            print("the password (or a base64 form) is in %s" % p)
            sys.exit(1)
EOF
	); then
		t_err "$why"
	fi
}

# --- plain port: no TLS, no AUTH ------------------------------------------
SRV_PORT=$PLAIN_PORT
mk_config "$T/plain.ini" "port = $PLAIN_PORT" "from = alice@$D" \
    "queue_dir = $Q" "domain = client.example.test"

rm -rf "$Q"
msg "$T/m1" plain-two
run_mailsub "$T/m1" -C "$T/plain.ini" -i "bob@$D" "alice@$D"
expect_exit 0 && expect_where none "$Q" &&
    delivered bob plain-two "$T/m1" && delivered alice plain-two "$T/m1"
t_result "plain: two recipients, delivered byte for byte"

rm -rf "$Q"
msg "$T/m2" plain-refuse
run_mailsub "$T/m2" -C "$T/plain.ini" -i "alice@$D" "refuse@$D"
expect_exit 67 && expect_stderr "refuse@$D" &&
    expect_where failed "$Q" && expect_queued_message "$QFILE" "$T/m2"
sleep 1
not_delivered alice plain-refuse
t_result "plain: refuse@ -> 67, saved in failed/, nothing delivered"

rm -rf "$Q"
msg "$T/m3" plain-defer
run_mailsub "$T/m3" -C "$T/plain.ini" -i "defer@$D"
expect_exit 75 && expect_where new "$Q" &&
    expect_queued_message "$QFILE" "$T/m3"
t_result "plain: defer@ -> 75, queued in new/"

# --- TLS + AUTH -------------------------------------------------------------
# tls_case NAME PORT TLS AUTH PASSWORD WANT_EXIT
tls_case()
{
	name=$1
	tag=$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')
	rm -rf "$Q"
	mk_config "$T/$tag.ini" "port = $2" "tls = $3" \
	    "tls_trust_file = $RIG_CA" "user = alice@$D" \
	    "password = \"$5\"" "auth = $4" "from = alice@$D" \
	    "queue_dir = $Q" "domain = client.example.test"
	msg "$T/$tag.txt" "$tag"
	run_mailsub "$T/$tag.txt" -C "$T/$tag.ini" -i "bob@$D"
	if [ "$6" = 0 ]; then
		expect_exit 0 && expect_where none "$Q" &&
		    delivered bob "$tag" "$T/$tag.txt"
	else
		expect_exit "$6" && expect_where failed "$Q" &&
		    expect_queued_message "$QFILE" "$T/$tag.txt"
	fi
	canary "$5"
	t_result "$name"
}

PW=$RIG_PASSWORD_alice
tls_case "submission: STARTTLS + AUTH (default mechanism)" \
    "$SUBMISSION_PORT" starttls on "$PW" 0
for mech in plain login cram-md5 scram-sha-1 scram-sha-256; do
	tls_case "submission: STARTTLS + AUTH $mech" \
	    "$SUBMISSION_PORT" starttls "$mech" "$PW" 0
done
tls_case "smtps: implicit TLS + AUTH" "$SMTPS_PORT" on on "$PW" 0
for mech in plain login cram-md5 scram-sha-1 scram-sha-256; do
	tls_case "smtps: implicit TLS + AUTH $mech" \
	    "$SMTPS_PORT" on "$mech" "$PW" 0
done
tls_case "starttls port: STARTTLS optional, AUTH after it" \
    "$STARTTLS_PORT" starttls on "$PW" 0
tls_case "submission: wrong password -> 77" \
    "$SUBMISSION_PORT" starttls on "wrong-$PW" 77

# --- --serverinfo -------------------------------------------------------------
# serverinfo_case NAME PORT TLS PYTHON-EXPR...: --serverinfo --json on the
# port is JSON (json.tool) for which every expression holds (as j); the
# account has a password, which must neither be used nor printed.
serverinfo_case()
{
	name=$1
	tag=$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')
	mk_config "$T/$tag.ini" "port = $2" "tls = $3" \
	    "tls_trust_file = $RIG_CA" "user = alice@$D" "password = \"$PW\"" \
	    "queue_dir = $Q" "domain = client.example.test"
	shift 3
	run_mailsub /dev/null -C "$T/$tag.ini" --serverinfo --json
	expect_exit 0
	if ! "$PYTHON3" -m json.tool "$T/stdout" >/dev/null 2>&1; then
		t_err "not JSON: $(head -c 200 "$T/stdout")"
	elif ! why=$("$PYTHON3" - "$T/stdout" "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr):
        sys.exit("does not hold: %s" % expr)
EOF
	); then
		t_err "$why"
	fi
	canary "$PW"
	t_result "$name"
}

MECHS='set(["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"])'
serverinfo_case "--serverinfo: submission (STARTTLS, AUTH after it)" \
    "$SUBMISSION_PORT" starttls \
    'j["greeting"].startswith("220 ")' \
    '"STARTTLS" in j["capabilities_before_tls"]' \
    'not any(c.startswith("AUTH") for c in j["capabilities_before_tls"])' \
    '"STARTTLS" not in j["capabilities"]' \
    "$MECHS <= set(j['auth_mechanisms'])" \
    'j["tls"]["version"] in ("TLS1.2", "TLS1.3")' \
    'len(j["tls"]["certificates"]) >= 1' \
    'all(len(c["sha256"]) == 95 for c in j["tls"]["certificates"])'
serverinfo_case "--serverinfo: smtps (implicit TLS)" "$SMTPS_PORT" on \
    'j["tls_mode"] == "implicit" and j["capabilities_before_tls"] is None' \
    "$MECHS <= set(j['auth_mechanisms'])" 'j["tls"]["cipher"]'
serverinfo_case "--serverinfo: plain port, no TLS" "$PLAIN_PORT" off \
    'j["tls"] is None and j["tls_mode"] == "off"' \
    'j["auth_mechanisms"] == []'

t_summary
