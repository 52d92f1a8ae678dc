#!/bin/sh
# SPDX-License-Identifier: ISC
# TLS end to end: the real mailsub against tests/smtpserver.py --sink
# presenting the certificates of tests/pki.sh, over STARTTLS and implicit
# TLS (tests/FAULTS.md 35-37).  Every case asserts the exit code, the cause on
# stderr, where the message is, and what the server saw: a certificate that
# does not verify means 69, the message in failed/, and neither AUTH nor
# MAIL on the wire.  Also: sha256 pinning, client certificates,
# tls_server_name, validity checked against a faked clock, and
# --serverinfo (text and JSON) on the same servers.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init tls
need_mailsub
need_cmd certtool
"$PYTHON3" -c 'import ssl' 2>/dev/null || t_skip_all "$PYTHON3 without ssl"

PKI=$T/pki
if ! sh "$SRCDIR/tests/pki.sh" "$PKI" >"$T/pki.log" 2>&1; then
	cat "$T/pki.log"
	echo "FAIL pki.sh"
	exit 1
fi
"$PYTHON3" "$SCN" default-message >"$T/msg.eml"
PW=Canary-tls-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
CA="tls_trust_file = $PKI/ca.crt"

# fingerprint CERT: "AB:CD:..." of the certificate's DER, as tls.c prints
fingerprint()
{
	"$PYTHON3" -c 'import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())
h = hashlib.sha256(der).hexdigest().upper()
print(":".join(h[i:i + 2] for i in range(0, 64, 2)))' "$1"
}

# sink NAME CERT [ARGS...]: a sink presenting $PKI/CERT.crt, accepting
# alice:$PW, with its transcript ("sink[N] C LINE") in $T/NAME.err.
sink()
{
	name=$1
	cert=$2
	shift 2
	rm -rf "$T/$name.rec"
	server_start "$name" --sink --record "$T/$name.rec" --verbose \
	    --tls-cert "$PKI/$cert.crt" --tls-key "$PKI/$cert.key" \
	    --auth "alice:$PW" "$@"
}

# send NAME TLS [KEY = VALUE]...: one message through a TLS + AUTH
# account on the sink at $SRV_PORT; the sink is stopped afterwards so its
# transcript is complete.
send()
{
	name=$1
	tls=$2
	shift 2
	Q=$T/q-$name
	rm -rf "$Q"
	mk_config "$T/$name.ini" "tls = $tls" "user = alice" \
	    "password = $PW" "queue_dir = $Q" "$@"
	run_mailsub "$T/msg.eml" -C "$T/$name.ini" -i rcpt@example.org
	cp "$T/stderr" "$T/$name.stderr"
	server_stop "$SRV_PID"
}

# saw NAME VERB: the sink's transcript has a client line starting VERB
saw()
{
	grep -q "^sink\[[0-9]*\] C $2" "$T/$1.err"
}

# connected NAME: the sink's transcript shows a connection, the premise of
# every "the server saw no AUTH" (a sink nobody reached sees nothing).
connected()
{
	if ! grep -q '^sink\[[0-9]*\] ' "$T/$1.err" 2>/dev/null; then
		t_err "the sink $1 saw no connection"
		return 1
	fi
	return 0
}

# delivered NAME [client-cert]: exit 0, nothing kept, the sink kept one
# message that came over TLS after AUTH as alice (and with a client
# certificate when asked).
delivered()
{
	expect_exit 0 && expect_where none "$Q" || return 1
	if ! why=$("$PYTHON3" - "$T/$1.rec" "${2:-}" <<'EOF'
import glob, json, sys
envs = sorted(glob.glob(sys.argv[1] + "/msg-*.json"))
if len(envs) != 1:
    sys.exit("the sink kept %d messages, want 1" % len(envs))
env = json.load(open(envs[0]))
if not env.get("tls"):
    sys.exit("the message did not come over TLS")
if env.get("auth_user") != "alice":
    sys.exit("not authenticated as alice: %r" % env.get("auth_user"))
if sys.argv[2] and not env["tls"].get("client_cert"):
    sys.exit("no client certificate was presented")
EOF
	); then
		t_err "$why"
		return 1
	fi
	return 0
}

# refused NAME CODE REGEX: exit CODE with REGEX on stderr, the message in
# failed/ as given, and the sink saw neither AUTH nor MAIL.
refused()
{
	expect_exit "$2"
	expect_stderr "$3"
	expect_where failed "$Q" && expect_queued_message "$QFILE" "$T/msg.eml"
	connected "$1"
	if saw "$1" AUTH; then
		t_err "the server saw AUTH"
	fi
	if saw "$1" MAIL; then
		t_err "the server saw MAIL"
	fi
	if [ -n "$(ls "$T/$1.rec" 2>/dev/null)" ]; then
		t_err "the server kept a message"
	fi
}

# --- success --------------------------------------------------------------
sink ok-starttls server && send ok-starttls starttls "$CA" &&
    delivered ok-starttls && saw ok-starttls STARTTLS
t_result "STARTTLS, tls_trust_file = the test CA -> 0"

sink ok-implicit server --implicit-tls && send ok-implicit on "$CA" &&
    delivered ok-implicit
if saw ok-implicit STARTTLS; then
	t_err "STARTTLS inside implicit TLS"
fi
t_result "implicit TLS (tls = on), tls_trust_file = the test CA -> 0"

# The chain file holds the intermediate: served with it, it verifies.
rm -rf "$T/ok-chain.rec"
server_start ok-chain --sink --record "$T/ok-chain.rec" --verbose \
    --tls-cert "$PKI/inter-server-chain.crt" \
    --tls-key "$PKI/inter-server.key" --auth "alice:$PW" &&
    send ok-chain starttls "$CA" && delivered ok-chain
t_result "certificate from an intermediate CA, chain sent -> 0"

# --- verification failures: 69, no AUTH, no MAIL ---------------------------
sink unknown server && send unknown starttls &&
    refused unknown 69 'STARTTLS|TLS.*issuer unknown' &&
    expect_stderr "its pin: tls_fingerprint = sha256:$(fingerprint "$PKI/server.crt")"
t_result "unknown issuer (system store only) -> 69, failed/, no AUTH/MAIL, the pin named"

sink wrongname wrongname && send wrongname starttls "$CA" &&
    refused wrongname 69 'name mismatch.*wrong\.example'
t_result "wrong name -> 69 naming it, failed/, no AUTH/MAIL"

sink expired expired && send expired starttls "$CA" &&
    refused expired 69 'expired \(not after 2021-'
t_result "expired certificate -> 69, failed/, no AUTH/MAIL"

sink notyet notyet && send notyet starttls "$CA" &&
    refused notyet 69 'not yet valid \(not before 2090-'
t_result "not-yet-valid certificate -> 69, failed/, no AUTH/MAIL"

sink unrelated other-server && send unrelated starttls "$CA" &&
    refused unrelated 69 'issuer unknown'
t_result "certificate from an unrelated CA -> 69, failed/, no AUTH/MAIL"

sink trust-other server &&
    send trust-other starttls "tls_trust_file = $PKI/other-ca.crt" &&
    refused trust-other 69 'issuer unknown'
t_result "tls_trust_file names an unrelated CA -> 69"

sink selfsigned selfsigned && send selfsigned starttls "$CA" &&
    refused selfsigned 69 'certificate not trusted'
t_result "self-signed certificate -> 69, failed/, no AUTH/MAIL"

sink no-inter inter-server && send no-inter starttls "$CA" &&
    refused no-inter 69 'issuer unknown'
t_result "intermediate CA not sent -> 69"

sink implicit-bad wrongname --implicit-tls && send implicit-bad on "$CA" &&
    refused implicit-bad 69 'TLS: .*name mismatch'
t_result "implicit TLS, wrong name -> 69, failed/, no AUTH/MAIL"

# A server without TLS at all: STARTTLS is not offered (or stripped).
rm -rf "$T/no-tls.rec"
server_start no-tls --sink --record "$T/no-tls.rec" --verbose \
    --auth "alice:$PW" && send no-tls starttls "$CA" &&
    refused no-tls 69 'does not offer STARTTLS'
t_result "STARTTLS required, not offered -> 69, no AUTH/MAIL"

rm -rf "$T/plain-port.rec"
server_start plain-port --sink --record "$T/plain-port.rec" --verbose \
    --auth "alice:$PW" && send plain-port on "$CA" &&
    refused plain-port 69 'TLS handshake'
t_result "tls = on against a plain SMTP port -> 69"

# --- validity against the clock (faketime) ----------------------------------
if command -v faketime >/dev/null 2>&1; then
	# ASan wants to be first in the library list; libfaketime is
	# preloaded before it.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	Q=$T/q-clock-late
	rm -rf "$Q"
	sink clock-late server
	mk_config "$T/clock-late.ini" "tls = starttls" "user = alice" \
	    "password = $PW" "queue_dir = $Q" "$CA"
	timeout -k 5 60 faketime -f '+40y' "$MAILSUB" -C "$T/clock-late.ini" \
	    -i rcpt@example.org <"$T/msg.eml" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	server_stop "$SRV_PID"
	refused clock-late 69 'expired \(not after'
	t_result "valid certificate, clock 40 years ahead (faketime) -> 69"

	Q=$T/q-clock-2091
	rm -rf "$Q"
	sink clock-2091 notyet
	mk_config "$T/clock-2091.ini" "tls = starttls" "user = alice" \
	    "password = $PW" "queue_dir = $Q" "$CA"
	timeout -k 5 60 faketime '2091-06-01 12:00:00' "$MAILSUB" \
	    -C "$T/clock-2091.ini" -i rcpt@example.org \
	    <"$T/msg.eml" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	server_stop "$SRV_PID"
	delivered clock-2091
	t_result "not-yet-valid certificate, clock in 2091 (faketime) -> 0"
else
	t_skip "faketime cases" "faketime not installed"
fi

# --- pinning ----------------------------------------------------------------
FP=$(fingerprint "$PKI/selfsigned.crt")
sink pin-ok selfsigned && send pin-ok starttls "tls_fingerprint = sha256:$FP" &&
    delivered pin-ok
t_result "tls_fingerprint matches (self-signed, no CA) -> 0"

FP=$(fingerprint "$PKI/server.crt" | tr 'A-F' 'a-f' | tr -d :)
sink pin-plain server --implicit-tls &&
    send pin-plain on "tls_fingerprint = sha256:$FP" && delivered pin-plain
t_result "tls_fingerprint as plain lower-case hex, implicit TLS -> 0"

FP=$(fingerprint "$PKI/other-server.crt")
sink pin-bad server &&
    send pin-bad starttls "$CA" "tls_fingerprint = sha256:$FP" &&
    refused pin-bad 69 'fingerprint mismatch: got sha256:'
t_result "tls_fingerprint mismatch (chain valid) -> 69, no AUTH/MAIL"

# --- client certificates ------------------------------------------------------
CLIENT="tls_cert_file = $PKI/client.crt"
CLIENT_KEY="tls_key_file = $PKI/client.key"
sink client-ok server --tls-client-ca "$PKI/ca.crt" --tls-client-required &&
    send client-ok starttls "$CA" "$CLIENT" "$CLIENT_KEY" &&
    delivered client-ok client-cert
t_result "client certificate accepted by a server requiring one -> 0"

sink client-ok-implicit server --implicit-tls --tls-client-ca "$PKI/ca.crt" \
    --tls-client-required &&
    send client-ok-implicit on "$CA" "$CLIENT" "$CLIENT_KEY" &&
    delivered client-ok-implicit client-cert
t_result "client certificate over implicit TLS -> 0"

sink client-none12 server --tls-client-ca "$PKI/ca.crt" \
    --tls-client-required &&
    send client-none12 starttls "$CA" "tls_priorities = NORMAL:-VERS-TLS1.3" &&
    refused client-none12 69 'TLS handshake failed: server sent alert'
t_result "no client certificate, server requires one (TLS 1.2) -> 69"

sink client-none server --tls-client-ca "$PKI/ca.crt" --tls-client-required &&
    send client-none starttls "$CA"
# TLS 1.3 (RFC 8446 4.4.2.4): the server refuses after the client's
# Finished, so mailsub reads its alert with the reply to EHLO: a setup
# to fix (69, the message saved), and no AUTH or MAIL reach the server.
refused client-none 69 'server requires a client certificate'
t_result "no client certificate, server requires one (TLS 1.3) -> 69"

sink client-bad server --tls-client-ca "$PKI/other-ca.crt" \
    --tls-client-required &&
    send client-bad starttls "$CA" "$CLIENT" "$CLIENT_KEY" &&
    refused client-bad 69 'server refused our client certificate'
t_result "client certificate the server does not trust (TLS 1.3) -> 69"

mk_config "$T/client-nokey.ini" "tls = starttls" "$CA" "$CLIENT" \
    "queue_dir = $T/q-client-nokey"
run_mailsub "$T/msg.eml" -C "$T/client-nokey.ini" -i rcpt@example.org
expect_exit 78 && expect_stderr 'tls_key_file|tls_cert_file'
t_result "tls_cert_file without tls_key_file -> 78"

# --- tls_server_name ------------------------------------------------------------
sink name-override wrongname &&
    send name-override starttls "$CA" "tls_server_name = wrong.example" &&
    delivered name-override
t_result "tls_server_name = the certificate's name -> 0"

sink name-override-bad server &&
    send name-override-bad starttls "$CA" "tls_server_name = wrong.example" &&
    refused name-override-bad 69 'name mismatch.*wrong\.example'
t_result "tls_server_name = another name -> 69 (checked against it)"

# --- --serverinfo -------------------------------------------------------------
# serverinfo NAME TLS [KEY = VALUE]...: mailsub --serverinfo [--json]
# (SI_ARGS) on the sink; the sink is stopped afterwards.
serverinfo()
{
	name=$1
	tls=$2
	shift 2
	mk_config "$T/$name.ini" "tls = $tls" "user = alice" \
	    "password = $PW" "queue_dir = $T/q-$name" "$@"
	run_mailsub /dev/null -C "$T/$name.ini" --serverinfo ${SI_ARGS:-}
	cp "$T/stdout" "$T/$name.stdout"
	cp "$T/stderr" "$T/$name.stderr"
	server_stop "$SRV_PID"
	connected "$name"
	if saw "$name" AUTH || saw "$name" MAIL; then
		t_err "--serverinfo sent AUTH or MAIL"
	fi
	if [ -d "$T/q-$name" ] && [ -n "$(find "$T/q-$name" -type f)" ]; then
		t_err "--serverinfo left something in the queue"
	fi
}

# json_check FILE PYTHON-EXPR...: FILE is valid JSON (json.tool) and every
# expression holds for it (as j).
json_check()
{
	f=$1
	shift
	if ! "$PYTHON3" -m json.tool "$f" >/dev/null 2>"$T/json.err"; then
		t_err "not JSON: $(head -c 200 "$T/json.err")"
		return 1
	fi
	if ! why=$("$PYTHON3" - "$f" "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr):
        sys.exit("does not hold: %s" % expr)
EOF
	); then
		t_err "$why"
		return 1
	fi
	return 0
}

FP=$(fingerprint "$PKI/server.crt")
SI_ARGS=
sink si-text server && serverinfo si-text starttls "$CA"
expect_exit 0
for want in "^account: test\$" "^greeting: 220 mx.test.invalid ESMTP" \
    "^TLS mode: STARTTLS\$" \
    "^capabilities before TLS: PIPELINING.*STARTTLS, AUTH PLAIN LOGIN" \
    "^capabilities after TLS: PIPELINING.*AUTH PLAIN LOGIN CRAM-MD5\$" \
    "^TLS version: TLS1\.[23]\$" "^TLS cipher: " \
    "^AUTH mechanisms: PLAIN LOGIN CRAM-MD5\$" "^certificate chain:\$" \
    "^    subject: CN=localhost\$" "^    tls_fingerprint = sha256:$FP\$" \
    "^    not after: 20"; do
	if ! grep -q -- "$want" "$T/stdout"; then
		t_err "no line /$want/ in the output"
	fi
done
if grep -q 'after TLS:.*STARTTLS' "$T/stdout"; then
	t_err "STARTTLS listed after TLS"
fi
saw si-text STARTTLS && saw si-text QUIT ||
    t_err "the sink did not see STARTTLS and QUIT"
t_result "--serverinfo: STARTTLS server described, no AUTH, no MAIL"

# The fingerprint line pasted as it is into an account pins the server.
PIN=$(sed -n 's/^    \(tls_fingerprint = .*\)$/\1/p' "$T/stdout" | head -1)
[ -n "$PIN" ] || t_err "no tls_fingerprint line"
sink si-pin server && send si-pin starttls "$PIN" && delivered si-pin
t_result "--serverinfo's tls_fingerprint line, pasted, pins the certificate"

SI_ARGS=--json
sink si-json server && serverinfo si-json starttls "$CA"
expect_exit 0 && json_check "$T/stdout" \
    'j["account"] == "test" and j["host"] == "127.0.0.1"' \
    'j["greeting"].startswith("220 mx.test.invalid")' \
    'j["tls_mode"] == "starttls" and j["ehlo"] is True' \
    '"STARTTLS" in j["capabilities_before_tls"]' \
    '"STARTTLS" not in j["capabilities"]' \
    '"AUTH PLAIN LOGIN CRAM-MD5" in j["capabilities"]' \
    'j["auth_mechanisms"] == ["PLAIN", "LOGIN", "CRAM-MD5"]' \
    'j["size_limit"] == 104857600' \
    'j["tls"]["version"].startswith("TLS1.")' \
    'j["tls"]["cipher"]' \
    "j['tls']['certificates'][0]['sha256'] == '$FP'" \
    "j['tls']['certificates'][0]['tls_fingerprint'] == 'sha256:$FP'" \
    'j["tls"]["certificates"][0]["subject"] == "CN=localhost"' \
    '"mailsub test CA" in j["tls"]["certificates"][0]["issuer"]'
t_result "--serverinfo --json: STARTTLS server, valid JSON with every field"

rm -rf "$T/si-chain.rec"
server_start si-chain --sink --record "$T/si-chain.rec" --verbose \
    --implicit-tls --tls-cert "$PKI/inter-server-chain.crt" \
    --tls-key "$PKI/inter-server.key" && serverinfo si-chain on "$CA"
expect_exit 0 && json_check "$T/stdout" \
    'j["tls_mode"] == "implicit"' \
    'j["capabilities_before_tls"] is None' \
    'len(j["tls"]["certificates"]) == 2' \
    '"intermediate" in j["tls"]["certificates"][1]["subject"]' \
    'j["tls"]["certificates"][0]["issuer"] == j["tls"]["certificates"][1]["subject"]'
t_result "--serverinfo --json: implicit TLS, a chain of two"

rm -rf "$T/si-plain.rec"
server_start si-plain --sink --record "$T/si-plain.rec" --verbose \
    --auth "alice:$PW" && serverinfo si-plain off
expect_exit 0 && json_check "$T/stdout" \
    'j["tls_mode"] == "off" and j["tls"] is None' \
    'j["capabilities_before_tls"] is None' \
    'j["auth_mechanisms"] == ["PLAIN", "LOGIN", "CRAM-MD5"]'
t_result "--serverinfo --json: no TLS"

SI_ARGS=
sink si-bad wrongname && serverinfo si-bad starttls "$CA"
expect_exit 69 && expect_stderr '^mailsub: test: 127\.0\.0\.1:[0-9]+: .*name mismatch'
if [ -s "$T/stdout" ]; then
	t_err "output on stdout although the certificate is wrong"
fi
t_result "--serverinfo: certificate not trusted -> 69, no description"

SI_ARGS=--json
sink si-bad-json expired && serverinfo si-bad-json starttls "$CA"
expect_exit 69 && expect_stderr 'expired'
if [ -s "$T/stdout" ]; then
	t_err "output on stdout although the certificate is wrong"
fi
t_result "--serverinfo --json: expired certificate -> 69, no JSON"

t_summary
