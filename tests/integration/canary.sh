#!/bin/sh
# SPDX-License-Identifier: ISC
# Secret canary (mailsub(1), SECURITY CONSIDERATIONS; tests/FAULTS.md, "Canary"): a unique password goes
# through every path mailsub has -- the password key, password_file and
# password_command; logins that succeed (each mechanism), fail (535),
# fail temporarily after login (the queue), and are refused (plaintext);
# -v transcripts, the log file (syslog off), -bv, -q, --serverinfo and
# --check-config; config and password files others can read; a command
# that fails after printing it -- and every output, log, transcript, error
# line, queue and failed/ file is searched for it, its base64, base64 of
# "\0user\0password" and any base64 run that decodes to something holding
# it: never found.  A password_command also dumps the argv and environment
# of itself and its parents (mailsub among them) while mailsub already
# holds the password (failover to a second host): never there either.
# With root, Postfix and Dovecot, the same runs against the private rig
# (SCRAM-SHA-256, SCRAM-SHA-1 as well) with the rig's random password.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init canary
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

PW=Canary-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
USER=alice
CA="tls_trust_file = $PKI/ca.crt"
OUT=$T/out     # copies of every stdout and stderr
DUMPS=$T/dumps # what password_command children saw
SECRET=$T/secret
mkdir -p "$OUT" "$DUMPS" "$SECRET"
chmod 700 "$SECRET"
LOGFILE=$T/mailsub.log

# make_sources DIR PASSWORD: DIR/pw (0600) and DIR/pwcmd.sh, a
# password_command that records its own and two ancestors' argv and
# environment (the shell of `sh -c`, mailsub) before printing DIR/pw.
make_sources()
{
	mkdir -p "$1"
	chmod 700 "$1"
	printf '%s\n' "$2" >"$1/pw"
	chmod 600 "$1/pw"
	cat >"$1/pwcmd.sh" <<EOF
#!/bin/sh
d=\$(mktemp -d "$DUMPS/child.XXXXXX") || exit 1
p=\$\$
for who in self parent grandparent; do
	[ -r "/proc/\$p/cmdline" ] || break
	cat "/proc/\$p/cmdline" >"\$d/\$who.cmdline" 2>/dev/null
	cat "/proc/\$p/environ" >"\$d/\$who.environ" 2>/dev/null
	tr '\0' ' ' <"/proc/\$p/cmdline" >"\$d/\$who.name" 2>/dev/null
	p=\$(awk '/^PPid:/ { print \$2 }' "/proc/\$p/status")
	[ "\$p" -gt 1 ] || break
done
cat "$1/pw"
EOF
	chmod 700 "$1/pwcmd.sh"
}
make_sources "$SECRET" "$PW"

# source_key SOURCE DIR: the account line for one password source
source_key()
{
	case $1 in
	password) echo "password = $PW_NOW" ;;
	file) echo "password_file = $2/pw" ;;
	command) echo "password_command = $2/pwcmd.sh" ;;
	esac
}

# scan SECRET...: search everything mailsub wrote (outputs, log file,
# queue and failed/ files, sink records, the children's dumps).
scan()
{
	if ! why=$("$PYTHON3" - "$T" "$@" <<'EOF'
import base64, binascii, os, re, sys
top = sys.argv[1]
users = [b"alice", b"alice@example.test"]
forms = {}
for s in sys.argv[2:]:
    s = s.encode()
    forms[s] = "the password"
    forms[base64.b64encode(s)] = "base64 of the password"
    forms[binascii.hexlify(s)] = "hex of the password"
    for u in users:
        forms[base64.b64encode(b"\0" + u + b"\0" + s)] = \
            "base64 of \\0user\\0password"
        forms[base64.b64encode(u + b"\0" + u + b"\0" + s)] = \
            "base64 of user\\0user\\0password"
secrets = [s.encode() for s in sys.argv[2:]]
roots = ["out", "dumps", "mailsub.log"]
roots += [d for d in os.listdir(top) if d.startswith(("q-", "rec-"))]
paths = []
for r in roots:
    p = os.path.join(top, r)
    if os.path.isfile(p):
        paths.append(p)
    for d, _, files in os.walk(p):
        paths += [os.path.join(d, f) for f in files]
b64run = re.compile(rb"[A-Za-z0-9+/]{8,}={0,2}")
for p in paths:
    data = open(p, "rb").read()
    for f, what in forms.items():
        if f in data:
            sys.exit("%s found in %s" % (what, os.path.relpath(p, top)))
    # Base64 at any alignment: decode every run from each offset.
    for m in b64run.finditer(data):
        run = m.group(0).rstrip(b"=")
        for off in range(4):
            chunk = run[off:]
            if len(chunk) % 4 == 1:
                chunk = chunk[:-1]
            chunk += b"=" * (-len(chunk) % 4)
            try:
                dec = base64.b64decode(chunk)
            except binascii.Error:
                continue
            for s in secrets:
                if s in dec:
                    sys.exit("a base64 run holding the password in %s"
                             % os.path.relpath(p, top))
print(len(paths))
EOF
	); then
		t_err "$why"
		return 1
	fi
	SCANNED=$why
	return 0
}

# keep NAME: copy this run's stdout and stderr into $OUT
keep()
{
	cp "$T/stdout" "$OUT/$1.stdout"
	cp "$T/stderr" "$OUT/$1.stderr"
}

# sink NAME [ARGS...]: a STARTTLS sink (server.crt) with AUTH alice:$PW
# unless ARGS say otherwise; its records in $T/rec-NAME.
sink()
{
	_n=$1
	shift
	server_start "$_n" --sink --record "$T/rec-$_n" --verbose \
	    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" "$@"
}

# account NAME SOURCE [KEY = VALUE]...: $T/NAME.ini, STARTTLS (or
# $ACCOUNT_TLS) + AUTH with the log file and no syslog, queue in $T/q-NAME.
# (Case names live in $c: lib.sh's server_start sets $name.)
account()
{
	_a=$1
	_src=$2
	shift 2
	mk_config "$T/$_a.ini" "tls = ${ACCOUNT_TLS:-starttls}" "user = $USER" \
	    "$(source_key "$_src" "$SRC_DIR")" "queue_dir = $T/q-$_a" \
	    "logfile = $LOGFILE" "syslog = off" "$CA" "$@"
}

saw()
{
	grep -q "^sink\[[0-9]*\] C $2" "$T/$1.err"
}

# auths NAME: how many AUTH commands sink NAME has seen so far
auths()
{
	grep -c "^sink\[[0-9]*\] C AUTH" "$T/$1.err"
}

# kept NAME N: sink NAME has kept N messages, the last one sent after
# AUTH as $USER
kept()
{
	if ! why=$("$PYTHON3" - "$T/rec-$1" "$2" "$USER" <<'EOF'
import glob, json, sys
envs = sorted(glob.glob(sys.argv[1] + "/msg-*.json"))
if len(envs) != int(sys.argv[2]):
    sys.exit("the sink kept %d messages, want %s" % (len(envs), sys.argv[2]))
env = json.load(open(envs[-1]))
if env.get("auth_user") != sys.argv[3] or not env.get("tls"):
    sys.exit("not sent over TLS after AUTH as %s" % sys.argv[3])
EOF
	); then
		t_err "$why"
	fi
}

SRC_DIR=$SECRET
PW_NOW=$PW

# One sink each for the successes, the refusals (535), the deferrals
# (451 after login), the flushes and the looks (-bv, --serverinfo).
sink ok --auth "$USER:$PW" && OK_PID=$SRV_PID OK_PORT=$SRV_PORT
sink fail --auth "$USER:not-the-password" && FAIL_PID=$SRV_PID \
    FAIL_PORT=$SRV_PORT
sink defer --auth "$USER:$PW" --defer-rcpt rcpt@example.org &&
    DEFER_PID=$SRV_PID DEFER_PORT=$SRV_PORT
sink flush --auth "$USER:$PW" && FLUSH_PID=$SRV_PID FLUSH_PORT=$SRV_PORT
sink look --auth "$USER:$PW" && LOOK_PID=$SRV_PID LOOK_PORT=$SRV_PORT

# --- every source: success with each mechanism, -v ---------------------------
n=0
for src in password file command; do
	for mech in on plain login cram-md5; do
		c=ok-$src-$mech
		SRV_PORT=$OK_PORT
		account "$c" "$src" "auth = $mech"
		run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
		keep "$c"
		n=$((n + 1))
		expect_exit 0 && expect_where none "$T/q-$c" && kept ok $n
		expect_stderr '(?m)^--> (AUTH |\(authentication data hidden\))'
		scan "$PW"
		t_result "$src, AUTH $mech, -v: delivered; canary clean"
	done
done

# --- every source: 535, temporary failure after login, flush, -bv, looks --------
nf=0
for src in password file command; do
	c=fail-$src
	SRV_PORT=$FAIL_PORT
	account "$c" "$src"
	run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
	keep "$c"
	expect_exit 77 && expect_stderr '535 5\.7\.8' &&
	    expect_where failed "$T/q-$c"
	scan "$PW"
	t_result "$src: wrong password (535) -> 77, failed/ file, -v; canary clean"

	c=defer-$src
	SRV_PORT=$DEFER_PORT
	before=$(auths defer)
	account "$c" "$src"
	run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
	keep "$c"
	expect_exit 75 && expect_where new "$T/q-$c"
	[ "$(auths defer)" -gt "$before" ] || t_err "no login before the 451"
	# The queued message goes out on -q, logging in again.
	SRV_PORT=$FLUSH_PORT
	account "$c" "$src"
	run_mailsub /dev/null -C "$T/$c.ini" -v -q
	keep "$c-flush"
	nf=$((nf + 1))
	expect_exit 0 && expect_where none "$T/q-$c" && kept flush $nf
	scan "$PW"
	t_result "$src: 451 after login -> 75 queued, then -q -v; canary clean"

	c=verify-$src
	SRV_PORT=$LOOK_PORT
	before=$(auths look)
	account "$c" "$src"
	run_mailsub /dev/null -C "$T/$c.ini" -v -bv rcpt@example.org
	keep "$c"
	expect_exit 0 && expect_stderr '(?m)^--> (AUTH |\(authentication data hidden\))'
	grep -q 'authenticated as alice' "$T/stdout" ||
	    t_err "-bv did not log in"
	[ "$(auths look)" -gt "$before" ] || t_err "the server saw no AUTH"
	scan "$PW"
	t_result "$src: -bv -v logs in; canary clean"

	c=info-$src
	before=$(auths look)
	account "$c" "$src"
	run_mailsub /dev/null -C "$T/$c.ini" -v --serverinfo
	keep "$c"
	expect_exit 0
	run_mailsub /dev/null -C "$T/$c.ini" --serverinfo --json
	keep "$c-json"
	expect_exit 0
	"$PYTHON3" -m json.tool "$T/stdout" >/dev/null 2>&1 ||
	    t_err "--serverinfo --json is not JSON"
	[ "$(auths look)" = "$before" ] || t_err "--serverinfo logged in"
	scan "$PW"
	t_result "$src: --serverinfo -v and --json (no login); canary clean"

	c=check-$src
	account "$c" "$src"
	run_mailsub /dev/null -C "$T/$c.ini" --check-config
	keep "$c"
	scan "$PW"
	t_result "$src: --check-config (exit $RC); canary clean"
done
for p in $OK_PID $FAIL_PID $DEFER_PID $FLUSH_PID $LOOK_PID; do
	server_stop "$p"
done

# --- refusals before anything is sent -----------------------------------------
c=plaintext
rm -rf "$T/rec-$c"
server_start "$c" --sink --record "$T/rec-$c" --verbose \
    --auth "$USER:$PW"
mk_config "$T/$c.ini" "tls = off" "user = $USER" "password = $PW" \
    "queue_dir = $T/q-$c" "logfile = $LOGFILE" "syslog = off"
run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
keep "$c"
server_stop "$SRV_PID"
expect_exit 78 && expect_where failed "$T/q-$c"
if saw "$c" AUTH; then
	t_err "AUTH went out on a plaintext link"
fi
scan "$PW"
t_result "no TLS, allow_plaintext_auth off: refused before AUTH (78); canary clean"

c=cfg-mode
account "$c" password
chmod 644 "$T/$c.ini"
run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
keep "$c"
expect_exit 78 && expect_stderr '0?644|readable'
scan "$PW"
t_result "config holding password, mode 0644 -> 78 naming the mode; canary clean"

c=file-mode
make_sources "$T/secret-644" "$PW"
chmod 644 "$T/secret-644/pw"
SRC_DIR=$T/secret-644
account "$c" file
SRC_DIR=$SECRET
sink "$c" --auth "$USER:$PW"
run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
keep "$c"
server_stop "$SRV_PID"
expect_exit 78 && expect_stderr '0?644|readable'
if saw "$c" AUTH; then
	t_err "AUTH sent with an unsafe password_file"
fi
scan "$PW"
t_result "password_file mode 0644 -> 78 naming the mode; canary clean"

c=cmd-fails
printf '#!/bin/sh\ncat "%s/pw"\nexit 3\n' "$SECRET" >"$SECRET/fails.sh"
chmod 700 "$SECRET/fails.sh"
sink "$c" --auth "$USER:$PW"
account "$c" password "password_command = $SECRET/fails.sh"
# password_command replaces the password key here: drop the key.
grep -v '^password = ' "$T/$c.ini" >"$T/$c.tmp" &&
    mv "$T/$c.tmp" "$T/$c.ini" && chmod 600 "$T/$c.ini"
run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i rcpt@example.org
keep "$c"
server_stop "$SRV_PID"
expect_exit 78 && expect_stderr 'password_command'
scan "$PW"
t_result "password_command prints it, then exits 3 -> 78; canary clean"

# --- password_command children while mailsub holds the password ----------------
# Host 1 (127.0.0.1) answers AUTH with 454, so mailsub fails over to host 2
# (127.0.0.2, same port) and runs the command again.  (Host 1's record
# holds the AUTH line it received: it is not scanned.)
c=failover
rm -rf "$DUMPS"/child.*
if server_start "$c-1" --scenario "$SCENARIO_DIR/auth-454.scn" --once \
    --record "$T/scn-$c-1" --tls-cert "$PKI/server.crt" \
    --tls-key "$PKI/server.key"; then
	pid1=$SRV_PID
	port=$SRV_PORT
	if server_start "$c" --sink --record "$T/rec-$c" --verbose \
	    --bind 127.0.0.2 --port "$port" --auth "$USER:$PW" \
	    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"; then
		account "$c" command "host = 127.0.0.1, 127.0.0.2" \
		    "port = $port" "tls_server_name = localhost"
		run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i \
		    rcpt@example.org
		keep "$c"
		server_stop "$SRV_PID"
		expect_exit 0 && expect_where none "$T/q-$c"
		saw "$c" AUTH || t_err "no login on the second host"
		n=$(ls -d "$DUMPS"/child.* 2>/dev/null | wc -l)
		[ "$n" -ge 2 ] ||
		    t_err "password_command ran $n times, want 2 (failover)"
		if ! cat "$DUMPS"/child.*/*.name 2>/dev/null |
		    grep -q mailsub; then
			t_err "the dumps do not reach mailsub itself"
		fi
		scan "$PW"
	else
		t_err "the second server did not start (--bind 127.0.0.2)"
	fi
	server_stop "$pid1"
else
	t_err "the 454 server did not start"
fi
t_result "password_command children (argv, environment, of them and mailsub) hold no password"

# --- the Postfix rig: SCRAM too ------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	t_skip "Postfix rig" "needs root to run a private Postfix"
elif ! command -v postfix >/dev/null 2>&1 ||
    ! command -v dovecot >/dev/null 2>&1; then
	t_skip "Postfix rig" "postfix or dovecot not installed"
else
	RIG=$(mktemp -d /tmp/mailsub-rig.XXXXXX)
	T_ATEXIT='sh "$SRCDIR/tests/postfix-rig.sh" stop "$RIG" >/dev/null 2>&1; rm -rf "$RIG"'
	if ! sh "$SRCDIR/tests/postfix-rig.sh" start "$RIG" >"$T/rig.log" 2>&1
	then
		sed 's/^/# /' "$T/rig.log"
		t_err "the Postfix rig did not start"
		t_result "Postfix rig"
	else
		. "$RIG/ports"
		RPW=$RIG_PASSWORD_alice
		make_sources "$T/secret-rig" "$RPW"
		SRC_DIR=$T/secret-rig
		PW_NOW=$RPW
		USER=alice@example.test
		CA="tls_trust_file = $RIG_CA"
		for src in password file command; do
			for mech in on scram-sha-256 scram-sha-1 plain login \
			    cram-md5; do
				c=rig-$src-$mech
				account "$c" "$src" "auth = $mech" \
				    "port = $SUBMISSION_PORT" \
				    "from = alice@example.test"
				run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v \
				    -i bob@example.test
				keep "$c"
				expect_exit 0 && expect_where none "$T/q-$c"
				scan "$RPW" "$PW"
				t_result "rig: $src, AUTH $mech, -v; canary clean"
			done
		done
		# The rig's password, one character short: Dovecot refuses.
		c=rig-wrong
		PW_NOW=${RPW%?}
		ACCOUNT_TLS=on
		account "$c" password "port = $SMTPS_PORT" \
		    "from = alice@example.test"
		ACCOUNT_TLS=
		PW_NOW=$RPW
		run_mailsub "$T/msg.eml" -C "$T/$c.ini" -v -i bob@example.test
		keep "$c"
		expect_exit 77 && expect_where failed "$T/q-$c"
		scan "$RPW" "$PW" "${RPW%?}"
		t_result "rig: implicit TLS, wrong password -> 77; canary clean"
		c=rig-info
		account "$c" password "port = $SUBMISSION_PORT"
		run_mailsub /dev/null -C "$T/$c.ini" -v --serverinfo --json
		keep "$c"
		expect_exit 0
		"$PYTHON3" -m json.tool "$T/stdout" >/dev/null 2>&1 ||
		    t_err "--serverinfo --json is not JSON"
		scan "$RPW" "$PW"
		t_result "rig: --serverinfo; canary clean"
	fi
fi

# The log file got a record per message and holds no secret.
[ -s "$LOGFILE" ] || t_err "the log file is empty"
scan "$PW"
t_result "everything written ($SCANNED files): no canary"

t_summary
