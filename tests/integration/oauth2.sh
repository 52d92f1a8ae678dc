#!/bin/sh
# SPDX-License-Identifier: ISC
# OAuth2 built in (src/oauth/oauth.h, mailsub.conf(5) OAUTH2), end to end and
# offline: tests/fakeidp.py is the identity provider over HTTPS with the
# test CA, tests/smtpserver.py --oauth-tokens the SMTP server accepting
# the access tokens the IdP issued.  Refresh with rotation (also when
# mailsub is killed right after the token answer), the cached token (no
# HTTPS, no libcurl or jansson mapped), parallel runs refreshing once,
# every error class and where the message goes, the XOAUTH2 and
# OAUTHBEARER error challenge, HTTPS_PROXY, the login flows (loopback with
# a scripted browser, pasted address, device code), token file modes, and
# the canary tokens nowhere in any output.
. "$SRCDIR/tests/lib.sh"
t_init oauth2
need_mailsub
need_cmd "$PYTHON3"

PKI=$T/pki
if ! sh "$SRCDIR/tests/pki.sh" "$PKI" >"$T/pki.log" 2>&1; then
	t_skip_all "pki.sh failed (certtool missing?)"
fi
[ -f "$(dirname "$MAILSUB")/mailsub-oauth.so" ] ||
    t_skip_all "no mailsub-oauth.so beside $MAILSUB"

FAKEIDP=$SRCDIR/tests/fakeidp.py
CANARY=cnry$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
CLIENT=mailsub-test-client
USER_ADDR=alice@example.com
IDP=$T/idp
XDG_STATE_HOME=$T/state
export XDG_STATE_HOME
TOKEN=$XDG_STATE_HOME/mailsub/oauth2/test.token
# No browser is started by the tests (mailsub runs xdg-open only with a
# display), and no proxy from the caller's environment applies.
unset DISPLAY WAYLAND_DISPLAY https_proxy HTTPS_PROXY http_proxy \
    HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
mkdir -p "$IDP"

msg=$T/msg.txt
printf 'From: alice@example.com\nTo: bob@example.org\nSubject: t\n\nhello\n' \
    >"$msg"

# idp_start [PORT]: the fake IdP; IDP_PID, IDP_PORT.
idp_start()
{
	rm -f "$T/idp.port"
	"$PYTHON3" "$FAKEIDP" serve --port "${1:-0}" --portfile "$T/idp.port" \
	    --cert "$PKI/server.crt" --key "$PKI/server.key" --dir "$IDP" \
	    --client-id "$CLIENT" --canary "$CANARY" \
	    >>"$T/idp.out" 2>>"$T/idp.err" &
	IDP_PID=$!
	T_PIDS="$T_PIDS $IDP_PID"
	if ! wait_file "$T/idp.port" 10 "$IDP_PID"; then
		sed 's/^/#   idp: /' "$T/idp.err" >&2
		t_skip_all "fakeidp.py did not start"
	fi
	IDP_PORT=$(cat "$T/idp.port")
}

# ctl JSON: what the IdP does next (tests/fakeidp.py).
ctl()
{
	printf '%s\n' "$1" >"$IDP/control.json"
}

# idp KEY: a counter from the IdP's state.json.
idp()
{
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = d[sys.argv[2]]
print(len(v) if isinstance(v, list) else v)' "$IDP/state.json" "$1"
}

# token_field KEY: a value of the token file.
token_field()
{
	sed -n "s/^$1 //p" "$TOKEN"
}

# stale: the stored access token is expired (the refresh token stays).
stale()
{
	sed -i 's/^expires .*/expires 1/' "$TOKEN"
}

# seed: a token file as a login would leave it, with a refresh token the
# IdP knows, and the access token expired.
seed()
{
	mkdir -p "$XDG_STATE_HOME/mailsub/oauth2"
	chmod 700 "$XDG_STATE_HOME" "$XDG_STATE_HOME/mailsub" \
	    "$XDG_STATE_HOME/mailsub/oauth2"
	rt=RT-$CANARY-seed$1
	"$PYTHON3" - "$IDP/state.json" "$rt" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    d = {}
d.setdefault("refresh_tokens", []).append(sys.argv[2])
d.setdefault("issued", []).append(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
EOF
	umask_saved=$(umask)
	umask 077
	cat >"$TOKEN" <<EOF
mailsub-oauth2 1
client_id $CLIENT
token_url https://127.0.0.1:$IDP_PORT/token
user $USER_ADDR
expires 1
updated 1
refresh_token $rt
access_token AT-$CANARY-stale
EOF
	umask "$umask_saved"
}

# sink_start NAME [ARGS]: STARTTLS sink taking the IdP's access tokens.
sink_start()
{
	SINK=$T/rec-$1
	sink_name=$1
	shift
	server_start "$sink_name" --sink --record "$SINK" --tls-cert \
	    "$PKI/server.crt" --tls-key "$PKI/server.key" --auth-tls-only \
	    --oauth-tokens "$IDP/access-tokens" --oauth-user "$USER_ADDR" "$@"
	SINK_PID=$SRV_PID
}

# config FILE [KEY = VALUE...]: the OAuth2 account against the sink; the
# keys given replace the ones here.
config()
{
	f=$1
	shift
	{
		for kv in "tls = starttls" "tls_trust_file = $PKI/ca.crt" \
		    "user = $USER_ADDR" "oauth2_provider = microsoft" \
		    "oauth2_client_id = $CLIENT" \
		    "oauth2_auth_url = https://127.0.0.1:$IDP_PORT/authorize" \
		    "oauth2_token_url = https://127.0.0.1:$IDP_PORT/token" \
		    "oauth2_device_url = https://127.0.0.1:$IDP_PORT/devicecode" \
		    "oauth2_trust_file = $PKI/ca.crt" \
		    "logfile = $T/mailsub.log"; do
			k=${kv%% =*}
			keep=1
			for a in "$@"; do
				[ "${a%% =*}" = "$k" ] && keep=0
			done
			[ $keep = 1 ] && printf '%s\n' "$kv"
		done
		for a in "$@"; do
			printf '%s\n' "$a"
		done
	} | mk_config "$f" -
}

sent()
{
	count_files "$SINK" | awk '{print int($1 / 2)}'
}

# last_token_index: which issued access token the last message used.
last_token_index()
{
	"$PYTHON3" -c 'import glob, json, sys
fs = sorted(glob.glob(sys.argv[1] + "/msg-*.json"))
print(json.load(open(fs[-1]))["auth_token"] if fs else "none")' "$SINK"
}

# All the outputs a run can leave, for the canary check.
OUTPUTS=$T/outputs
: >"$OUTPUTS"
keep_outputs()
{
	cat "$T/stdout" "$T/stderr" >>"$OUTPUTS" 2>/dev/null
}

send()
{
	rm -rf "$T/queue"
	run_mailsub "$msg" -C "$T/cfg.ini" "$@" bob@example.org
	keep_outputs
}

idp_start
sink_start sink
MAIN_SINK_PID=$SINK_PID
MAIN_PORT=$SRV_PORT
config "$T/cfg.ini"

# ---- no token yet ---------------------------------------------------------
run_mailsub /dev/null -C "$T/cfg.ini" --check-config
expect_exit 78
grep -q 'no token yet: run mailsub --oauth2-login test' "$T/stdout" ||
    t_err "--check-config says: $(cat "$T/stdout")"
send
expect_exit 77 && expect_stderr 'no token yet; run mailsub --oauth2-login test' &&
    expect_where failed "$T/queue"
[ "$(idp requests)" = 0 ] || t_err "the IdP was asked $(idp requests) times"
t_result "no token: 77 naming the login command, message saved"

# ---- refresh with rotation ------------------------------------------------
seed 1
send
expect_exit 0 && expect_where none "$T/queue"
[ "$(idp refresh)" = 1 ] || t_err "refreshes: $(idp refresh), want 1"
[ "$(sent)" = 1 ] || t_err "the sink has $(sent) messages"
rt=$(token_field refresh_token)
case $rt in
RT-$CANARY-seed1 | "") t_err "the rotated refresh token was not stored" ;;
esac
at=$(token_field access_token)
grep -qx "$at" "$IDP/access-tokens" || t_err "the stored access token is not the IdP's"
[ "$(last_token_index)" = 0 ] || t_err "the sink saw token $(last_token_index)"
t_result "a stale token is refreshed; the rotated refresh token is stored"

mode=$(stat -c %a "$TOKEN")
dmode=$(stat -c %a "$(dirname "$TOKEN")")
[ "$mode" = 600 ] || t_err "token file mode $mode"
[ "$dmode" = 700 ] || t_err "token directory mode $dmode"
left=$(ls -A "$(dirname "$TOKEN")" | grep -v -e '^test\.token$' -e '^test\.lock$')
[ -z "$left" ] || t_err "left in the token directory: $left"
t_result "token file 0600 in a 0700 directory, no temporary file left"

# ---- the cached token: no HTTPS, no libcurl, no jansson -------------------
reqs=$(idp requests)
send
expect_exit 0
[ "$(idp requests)" = "$reqs" ] || t_err "the IdP was asked again"
[ "$(last_token_index)" = 0 ] || t_err "the sink saw token $(last_token_index)"
t_result "a cached token is used without asking the IdP"
# strace_send NAME: send under strace, the files opened in $T/strace-NAME.
strace_send()
{
	rm -rf "$T/queue"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -s 4096 -e trace=openat,open,execve -o "$T/strace-$1" \
	    "$MAILSUB" -C "$T/cfg.ini" bob@example.org <"$msg" \
	    >"$T/stdout" 2>"$T/stderr"
	RC=$?
	keep_outputs
}
if command -v strace >/dev/null 2>&1; then
	strace_send cached
	expect_exit 0
	grep -Eq 'libcurl|libjansson|mailsub-oauth\.so' "$T/strace-cached" &&
	    t_err "a cached run opened $(grep -Eo \
		'[^"]*(libcurl|libjansson|mailsub-oauth\.so)[^"]*' \
		"$T/strace-cached" | sort -u | tr '\n' ' ')"
	grep -q 'test\.token' "$T/strace-cached" ||
	    t_err "the cached run did not read the token file"
	t_result "a cached run maps neither libcurl nor jansson"
	stale
	strace_send refresh
	expect_exit 0
	for lib in mailsub-oauth.so libcurl libjansson; do
		grep -q "$lib" "$T/strace-refresh" ||
		    t_err "a refreshing run did not open $lib"
	done
	t_result "a refreshing run loads mailsub-oauth.so"
else
	t_skip "cached run maps no libcurl" "no strace"
fi

# ---- the 5-minute margin --------------------------------------------------
ctl '{"expires_in": 310}'
stale
n=$(idp refresh)
send
send
expect_exit 0
[ "$(idp refresh)" = $((n + 1)) ] ||
    t_err "expires_in 310: $(($(idp refresh) - n)) refreshes, want 1"
ctl '{"expires_in": 300}'
stale
n=$(idp refresh)
send
send
expect_exit 0
[ "$(idp refresh)" = $((n + 2)) ] ||
    t_err "expires_in 300: $(($(idp refresh) - n)) refreshes, want 2"
ctl '{}'
t_result "a token is used until 5 minutes before it expires"

# ---- killed right after the token answer ----------------------------------
stale
server_start stall --scenario "$SRCDIR/tests/scenarios/stall-greeting.scn" \
    --record "$T/rec-stall" --stall-max 60
STALL_PID=$SRV_PID
config "$T/stall.ini" "port = $SRV_PORT"
before=$(token_field refresh_token)
rm -rf "$T/queue"
"$MAILSUB" -C "$T/stall.ini" bob@example.org <"$msg" >"$T/stdout" \
    2>"$T/stderr" &
MPID=$!
i=0
while [ "$(token_field refresh_token)" = "$before" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
# Connected to the stalled server, after the token file changed.
sleep 0.3
kill -KILL "$MPID" 2>/dev/null
wait "$MPID" 2>/dev/null
after=$(token_field refresh_token)
[ "$after" != "$before" ] || t_err "the token file never changed"
server_stop "$STALL_PID"
# The old refresh token is dead at the IdP (rotation); the stored one
# must be the new one for this to work.
stale
send
expect_exit 0 && expect_where none "$T/queue"
t_result "a rotated refresh token survives SIGKILL before SMTP"

# ---- two runs in parallel refresh once ------------------------------------
ctl '{"delay": 1.0}'
stale
n=$(idp refresh)
m=$(sent)
rm -rf "$T/queue"
# A reader that must never see half a file.
"$PYTHON3" - "$TOKEN" "$T/reader.out" <<'EOF' &
import sys, time
bad = 0
end = time.time() + 2.5
while time.time() < end:
    try:
        data = open(sys.argv[1]).read()
    except OSError:
        bad += 1
        continue
    if not data.startswith("mailsub-oauth2 1\n") or \
            "\naccess_token " not in data or not data.endswith("\n"):
        bad += 1
open(sys.argv[2], "w").write("%d\n" % bad)
EOF
RPID=$!
"$MAILSUB" -C "$T/cfg.ini" bob@example.org <"$msg" >"$T/p1.out" \
    2>"$T/p1.err" &
P1=$!
"$MAILSUB" -C "$T/cfg.ini" bob@example.org <"$msg" >"$T/p2.out" \
    2>"$T/p2.err" &
P2=$!
wait "$P1"
R1=$?
wait "$P2"
R2=$?
wait "$RPID"
cat "$T/p1.out" "$T/p1.err" "$T/p2.out" "$T/p2.err" >>"$OUTPUTS"
[ "$R1" = 0 ] && [ "$R2" = 0 ] || t_err "exits $R1 and $R2: $(cat "$T/p1.err" "$T/p2.err")"
[ "$(idp refresh)" = $((n + 1)) ] ||
    t_err "$(($(idp refresh) - n)) refreshes, want 1"
[ "$(sent)" = $((m + 2)) ] || t_err "$(($(sent) - m)) messages arrived"
[ "$(cat "$T/reader.out")" = 0 ] ||
    t_err "a reader saw $(cat "$T/reader.out") broken token files"
ctl '{}'
t_result "two parallel runs refresh once; readers never see half a file"

# ---- errors: where the message goes ---------------------------------------
# err_case NAME CONTROL EXIT WHERE REGEX
err_case()
{
	ctl "$2"
	stale
	send
	expect_exit "$3" && expect_where "$4" "$T/queue" && expect_stderr "$5"
	ctl '{}'
	t_result "$1"
}
err_case "invalid_grant: 77 with the login hint, message saved" \
    '{"token_error": "invalid_grant"}' 77 failed \
    'invalid_grant: AADSTS70000: told to fail\); run mailsub --oauth2-login test to sign in again; message saved'
err_case "invalid_client: 78, message saved" \
    '{"token_error": "invalid_client"}' 78 failed 'invalid_client.*oauth2_client_id'
err_case "invalid_scope: 78, message saved" \
    '{"token_error": "invalid_scope"}' 78 failed 'invalid_scope'
err_case "HTTP 503: 75, message queued" '{"token_status": 503}' 75 new \
    'HTTP 503.*message queued'
err_case "HTTP 429: 75, message queued" '{"token_status": 429}' 75 new \
    'HTTP 429'
err_case "an answer past 64 KiB: 76, message saved" '{"huge": true, "keep_old": true}' 76 \
    failed 'larger than 64 KiB'
# The refresh that did not happen left the refresh token usable.
stale
send
expect_exit 0
t_result "after the failures the stored refresh token still works"

config "$T/bad-ca.ini" "oauth2_trust_file = $PKI/other-ca.crt"
stale
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/bad-ca.ini" bob@example.org
keep_outputs
expect_exit 69 && expect_where failed "$T/queue" &&
    expect_stderr 'certificate not trusted'
t_result "an untrusted token endpoint: 69, message saved"

# ---- the IdP down, then back: -q delivers ---------------------------------
server_stop "$IDP_PID"
stale
send
expect_exit 75 && expect_where new "$T/queue" &&
    expect_stderr 'cannot reach 127\.0\.0\.1'
idp_start "$IDP_PORT"
m=$(sent)
"$MAILSUB" -C "$T/cfg.ini" -q >"$T/stdout" 2>"$T/stderr"
RC=$?
keep_outputs
expect_exit 0 && expect_where none "$T/queue"
[ "$(sent)" = $((m + 1)) ] || t_err "the queued message did not arrive"
t_result "IdP down: 75 queued; -q with the IdP back delivers"

# ---- the SMTP server refusing a token -------------------------------------
# A stored token the server refuses (revoked early): one new one.
sed -i "s/^access_token .*/access_token AT-$CANARY-revoked/; s/^expires .*/expires $(($(date +%s) + 3000))/" "$TOKEN"
n=$(idp refresh)
send
expect_exit 0
[ "$(idp refresh)" = $((n + 1)) ] || t_err "no refresh after the refusal"
grep -q '"result": "refused", "challenge_answer_ok": true' "$SINK/oauth.log" ||
    t_err "the error challenge was not answered with an empty line"
t_result "XOAUTH2: a refused stored token, the error challenge answered, a new token used"

# A server refusing every token: 77 naming the server's status, once.
: >"$T/no-tokens"
sink_start refuse --oauth-tokens "$T/no-tokens"
REFUSE_PID=$SINK_PID
config "$T/refuse.ini" "port = $SRV_PORT"
stale
n=$(idp refresh)
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/refuse.ini" bob@example.org
keep_outputs
expect_exit 77 && expect_where failed "$T/queue" &&
    expect_stderr '535 5\.7\.8.*"status": "401"'
[ "$(idp refresh)" = $((n + 1)) ] ||
    t_err "$(($(idp refresh) - n)) refreshes, want 1"
t_result "XOAUTH2: a fresh token refused: 77 naming the status, message saved"
config "$T/refuse-ob.ini" "port = $SRV_PORT" "auth = oauthbearer"
stale
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/refuse-ob.ini" bob@example.org
keep_outputs
expect_exit 77 && expect_where failed "$T/queue" &&
    expect_stderr '"status": "invalid_token"'
grep 'OAUTHBEARER' "$T/rec-refuse/oauth.log" |
    grep -q '"challenge_answer_ok": true' ||
    t_err "the OAUTHBEARER error challenge was not answered with AQ=="
t_result "OAUTHBEARER: a fresh token refused: AQ== answers the challenge, 77"
server_stop "$REFUSE_PID"

SINK=$T/rec-sink
SINK_PID=$MAIN_SINK_PID
config "$T/ob.ini" "port = $MAIN_PORT" "auth = oauthbearer"
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/ob.ini" bob@example.org
keep_outputs
expect_exit 0
grep '"mech": "OAUTHBEARER"' "$SINK/oauth.log" | grep -q '"result": "ok"' ||
    t_err "no OAUTHBEARER login in the sink's log"
t_result "OAUTHBEARER with the stored token"

# ---- HTTPS_PROXY ------------------------------------------------------------
rm -f "$T/proxy.port"
"$PYTHON3" "$FAKEIDP" proxy --portfile "$T/proxy.port" \
    --count "$T/proxy.count" >"$T/proxy.out" 2>&1 &
PROXY_PID=$!
T_PIDS="$T_PIDS $PROXY_PID"
if wait_file "$T/proxy.port" 10 "$PROXY_PID"; then
	PPORT=$(cat "$T/proxy.port")
	stale
	rm -rf "$T/queue"
	HTTPS_PROXY=http://127.0.0.1:$PPORT run_mailsub "$msg" -C "$T/cfg.ini" \
	    bob@example.org
	keep_outputs
	expect_exit 0
	[ "$(cat "$T/proxy.count")" = 1 ] ||
	    t_err "the proxy made $(cat "$T/proxy.count") tunnels, want 1"
	stale
	rm -rf "$T/queue"
	HTTPS_PROXY=http://127.0.0.1:$PPORT NO_PROXY=127.0.0.1 \
	    run_mailsub "$msg" -C "$T/cfg.ini" bob@example.org
	keep_outputs
	expect_exit 0
	[ "$(cat "$T/proxy.count")" = 1 ] ||
	    t_err "NO_PROXY: the proxy was used"
	t_result "HTTPS_PROXY is honoured, and NO_PROXY"
	server_stop "$PROXY_PID"
else
	t_err "the proxy did not start"
	t_result "HTTPS_PROXY is honoured"
fi

# ---- -v: the transcript hides the tokens ----------------------------------
stale
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/cfg.ini" -v bob@example.org
keep_outputs
expect_exit 0 && expect_stderr 'OAuth2: new access token stored' &&
    expect_stderr 'AUTH XOAUTH2|authentication data hidden'
t_result "-v shows the OAuth2 steps"

# ---- signing in: the loopback listener and a scripted browser -------------
# login IN OUT ARGS...: mailsub --oauth2-login test in the background,
# stdin from IN; LPID.  (An asynchronous command's stdin is /dev/null
# unless it names one itself.)
login()
{
	in=$1
	out=$2
	shift 2
	: >"$out"
	"$MAILSUB" -C "$T/cfg.ini" --oauth2-login test "$@" <"$in" >"$out" \
	    2>"$out.err" &
	LPID=$!
}
login_wait()
{
	i=0
	while kill -0 "$LPID" 2>/dev/null && [ $i -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -KILL "$LPID" 2>/dev/null
	wait "$LPID"
	RC=$?
	cat "$1" "$1.err" >>"$OUTPUTS"
	cp "$1.err" "$T/stderr"
}
rm -f "$TOKEN"
codes=$(idp code)
login /dev/null "$T/login.out"
"$PYTHON3" "$FAKEIDP" browser --cafile "$PKI/ca.crt" --from "$T/login.out" \
    --favicon >"$T/browser.out" 2>&1 || t_err "browser: $(cat "$T/browser.out")"
login_wait "$T/login.out"
expect_exit 0
grep -q 'signed in' "$T/browser.out" || t_err "the browser got: $(cat "$T/browser.out")"
grep -q "^mailsub: test: signed in; the token is in $TOKEN" "$T/login.out" ||
    t_err "no sign-in line: $(tail -2 "$T/login.out")"
[ "$(idp code)" = $((codes + 1)) ] || t_err "the IdP issued no token for a code"
[ "$(stat -c %a "$TOKEN" 2>/dev/null)" = 600 ] || t_err "token file mode"
[ "$(token_field user)" = "$USER_ADDR" ] || t_err "the token file names no user"
reqs=$(idp requests)
send
expect_exit 0
[ "$(idp requests)" = "$reqs" ] || t_err "the new token was not used as it is"
t_result "loopback login: PKCE, state, the browser's redirect caught, token stored and used"
run_mailsub /dev/null -C "$T/cfg.ini" --check-config
keep_outputs
expect_exit 0
grep -q "^\[test\]: OAuth2 token $TOKEN: signed in; the access token is good for" \
    "$T/stdout" || t_err "--check-config says: $(cat "$T/stdout")"
t_result "--check-config shows the token's state"

# The user refuses.
ctl '{"deny": true}'
login /dev/null "$T/deny.out"
"$PYTHON3" "$FAKEIDP" browser --cafile "$PKI/ca.crt" --from "$T/deny.out" \
    >"$T/browser.out" 2>&1
login_wait "$T/deny.out"
ctl '{}'
expect_exit 77 && expect_stderr 'the sign-in was refused: access_denied: The user declined'
t_result "loopback login refused by the user: 77"

# ---- signing in by pasting the address -------------------------------------
# paste_login LINE_FILTER: --paste, the redirect address fed to stdin
# after passing through sed LINE_FILTER.
paste_login()
{
	rm -f "$T/paste.fifo"
	mkfifo "$T/paste.fifo"
	exec 3<>"$T/paste.fifo"
	login "$T/paste.fifo" "$T/paste.out" --paste
	"$PYTHON3" "$FAKEIDP" browser --cafile "$PKI/ca.crt" \
	    --from "$T/paste.out" --print-location >"$T/location" 2>&1 ||
	    t_err "browser: $(cat "$T/location")"
	sed "$1" "$T/location" >&3
	login_wait "$T/paste.out"
	exec 3>&-
}
rm -f "$TOKEN"
codes=$(idp code)
paste_login 's/^/  /'
expect_exit 0
grep -q 'paste it here' "$T/paste.out" || t_err "no paste prompt"
grep -q '^http://localhost:[0-9]*/?code=' "$T/location" ||
    t_err "redirected to $(cat "$T/location")"
[ "$(idp code)" = $((codes + 1)) ] || t_err "the IdP issued no token"
[ -f "$TOKEN" ] || t_err "no token file"
t_result "paste login: the address pasted back is taken"
paste_login 's/state=[^&]*/state=forged/'
expect_exit 77 && expect_stderr 'another sign-in'
t_result "paste login with another state: 77"

# ---- signing in with a device code (RFC 8628) -----------------------------
rm -f "$TOKEN"
polls=$(idp device_polls)
ctl '{"device": ["authorization_pending", "slow_down"], "device_interval": 1}'
login /dev/null "$T/device.out" --device
login_wait "$T/device.out"
ctl '{}'
expect_exit 0
grep -q 'open https://127\.0\.0\.1:[0-9]*/device .*enter the code FAKE-CODE' \
    "$T/device.out" || t_err "no code shown: $(head -3 "$T/device.out")"
[ "$(idp device_polls)" = $((polls + 3)) ] ||
    t_err "$(($(idp device_polls) - polls)) polls, want 3"
# The interval: 1 s, 1 s, then 5 s more after slow_down.
"$PYTHON3" -c 'import json, sys
t = json.load(open(sys.argv[1]))["device_poll_times"][-3:]
gaps = [b - a for a, b in zip(t, t[1:])]
sys.exit(0 if gaps[0] < 3 and gaps[1] >= 5.5 else 1)' "$IDP/state.json" ||
    t_err "slow_down did not add 5 s to the interval"
[ -f "$TOKEN" ] || t_err "no token file"
t_result "device login: authorization_pending, slow_down, then the token"
for c in expired_token authorization_declined; do
	ctl "{\"device\": [\"$c\"], \"device_interval\": 1}"
	login /dev/null "$T/device.out" --device
	login_wait "$T/device.out"
	expect_exit 77
	case $c in
	expired_*) expect_stderr 'the code expired' ;;
	*) expect_stderr 'declined' ;;
	esac
	t_result "device login: $c is 77"
done
ctl '{}'

# Login refusals that need no server.
config "$T/google.ini" "oauth2_provider = google"
"$MAILSUB" -C "$T/google.ini" --oauth2-login test --device </dev/null \
    >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 78 && expect_stderr 'Google refuses the device flow'
t_result "no device flow for Gmail: 78"
send
expect_exit 0
t_result "after the logins the account still sends"

# ---- the canary: no token anywhere ----------------------------------------
# The traces hold every argv mailsub passed to exec.
cat "$T/mailsub.log" "$T"/strace-* >>"$OUTPUTS" 2>/dev/null
if ! "$PYTHON3" - "$IDP/state.json" "$OUTPUTS" "$USER_ADDR" <<'EOF'; then
import base64, json, sys
issued = json.load(open(sys.argv[1]))["issued"]
out = open(sys.argv[2], "rb").read()
user = sys.argv[3].encode()
bad = []
for t in issued:
    t = t.encode()
    forms = [t, base64.b64encode(t),
             base64.b64encode(b"user=" + user + b"\x01auth=Bearer " + t +
                              b"\x01\x01")]
    for f in forms:
        if f in out:
            bad.append(t.decode())
if bad:
    print("found: %s" % " ".join(sorted(set(bad))))
    sys.exit(1)
EOF
	t_err "a token appears in the outputs"
fi
[ "$(idp issued)" -gt 5 ] || t_err "only $(idp issued) tokens were checked"
t_result "no token in any output, log or argv"

problems=$("$PYTHON3" -c 'import json, sys
print("; ".join(json.load(open(sys.argv[1]))["problems"]))' "$IDP/state.json")
[ -z "$problems" ] || t_err "the IdP found: $problems"
t_result "every request had the right client, scope, grant and PKCE"

server_stop "$SINK_PID"
server_stop "$IDP_PID"
t_summary
