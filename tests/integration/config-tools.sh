#!/bin/sh
# SPDX-License-Identifier: ISC
# --check-config and --configure with the real binary: every problem found
# in one run with its file (and line where there is one), notes that do
# not fail the check and warnings that do, provider notes; a value that
# iniparser would cut refused without showing it; a --configure section
# for a preset domain that --check-config then accepts, a bad address, and
# the no-answer path.  No DNS server is ever asked: the preset path needs no
# lookup, and the SRV path runs in a network namespace without any network
# (unshare -n), so the resolver fails at once; the SRV parser itself is
# tested on canned answers in tests/unit/test_discover.c.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init config-tools
need_mailsub

printf 'secret\n' >"$T/pw"
chmod 600 "$T/pw"
printf 'root: admin@example.org\n' >"$T/aliases"

cat >"$T/good.ini" <<EOF
[defaults]
account = main
tls = off

[main]
host = 127.0.0.1
user = u@example.org
from = u@example.org
password_file = $T/pw
aliases = $T/aliases
allow_plaintext_auth = on

[gm]
provider = gmail
user = x@gmail.com
from = x@gmail.com
password_file = $T/pw
EOF
chmod 600 "$T/good.ini"
run_mailsub /dev/null -C "$T/good.ini" --check-config
expect_exit 0
grep -q "^$T/good.ini: 2 accounts" "$T/stdout" || t_err "no summary line"
grep -q '^\[main\]: 127\.0\.0\.1:25, no TLS, user u@example.org (default)$' \
    "$T/stdout" || t_err "no line for [main]: $(head -n 3 "$T/stdout")"
grep -q '^\[gm\]: provider gmail: app password' "$T/stdout" ||
    t_err "no provider note"
grep -q ': ok' "$T/stdout" || t_err "no ok line"
t_result "--check-config: a good file -> 0, one line per account, provider note"

# Several problems at once, each named with its file (an aliases line
# for a local MTA is a note: the rest of the file works).
printf 'root: :include:/etc/other\n' >"$T/bad-aliases"
printf 'secret\n' >"$T/pw-open"
chmod 644 "$T/pw-open"
cat >"$T/bad.ini" <<EOF
[one]
host = 127.0.0.1
tls = off
user = u
password_file = $T/pw-open

[two]
host = 127.0.0.1
tls = off
aliases = $T/bad-aliases
password = "semi;colon"
user = u
allow_plaintext_auth = on
EOF
chmod 600 "$T/bad.ini"
run_mailsub /dev/null -C "$T/bad.ini" --check-config
expect_exit 78
grep -q "$T/pw-open.*0644" "$T/stdout" ||
    t_err "the open password_file is not named with its mode"
grep -q "^note: $T/bad-aliases:1: .*:include:" "$T/stdout" ||
    t_err "the :include: line is not a note with file:line"
grep -q "^warning: $T/bad.ini:1: \[one\]: no from and no domain" "$T/stdout" ||
    t_err "no warning for the sender without a domain"
grep -q 'several accounts and none chosen' "$T/stdout" ||
    t_err "no note that callers without -a get no account"
expect_stderr "4 problems found"
grep -q 'semi' "$T/stdout" "$T/stderr" && t_err "the password value was printed"
t_result "--check-config: every problem in one run, file:line, 78, no secret"

# --json: the same findings as one object for scripts.
run_mailsub /dev/null -C "$T/bad.ini" --check-config --json
expect_exit 78
grep -q 'semi' "$T/stdout" && t_err "the password value is in the JSON"
"$PYTHON3" - "$T/stdout" "$T" <<'EOF' || t_err "the JSON is not as expected"
import json, sys
j = json.load(open(sys.argv[1]))
t = sys.argv[2]
assert j["ok"] is False, j["ok"]
assert {"path": t + "/bad.ini", "kind": "config", "account": None} in j["files"]
assert {"path": t + "/pw-open", "kind": "password_file", "account": "one"} \
    in j["files"], j["files"]
assert [a["name"] for a in j["accounts"]] == ["one", "two"]
one = j["accounts"][0]
assert one["hosts"] == ["127.0.0.1"] and one["port"] == 25, one
assert one["tls"] == "off" and one["user"] == "u" and one["from"] is None
by = {}
for p in j["problems"]:
    assert set(p) == {"severity", "file", "line", "account", "key",
                      "message"}, p
    by.setdefault(p["severity"], []).append(p)
assert len(by["error"]) == 2 and len(by["warning"]) == 2, by
w = [p for p in by["warning"] if p["account"] == "one"][0]
assert w["file"] == t + "/bad.ini" and w["line"] == 1, w
assert w["message"].startswith("no from and no domain"), w
assert any(p["file"] == t + "/bad-aliases" and ":include:" in p["message"]
           for p in by["note"]), by["note"]
assert any(p["message"].startswith("several accounts") and
           p["file"] == t + "/bad.ini" for p in by["error"]), by["error"]
EOF
run_mailsub /dev/null -C "$T/good.ini" --check-config --json
expect_exit 0
"$PYTHON3" -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and len(j["accounts"]) == 2, j
assert all(p["severity"] == "note" for p in j["problems"]), j["problems"]
' "$T/stdout" || t_err "good.ini: not ok in JSON"
t_result "--check-config --json: files, accounts, problems with severity, 78"

# A file that does not load at all: the first error, with file and line.
printf '[broken] ; a comment here breaks iniparser\nhost = x\n' \
    >"$T/broken.ini"
chmod 600 "$T/broken.ini"
run_mailsub /dev/null -C "$T/broken.ini" --check-config
expect_exit 78 && expect_stderr "broken\\.ini:1"
run_mailsub /dev/null -C "$T/broken.ini" --check-config --json
expect_exit 78
"$PYTHON3" -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False and j["accounts"] == [], j
[p] = j["problems"]
assert p["severity"] == "error" and p["line"] == 1, p
assert p["file"].endswith("/broken.ini") and "comment" in p["message"], p
' "$T/stdout" || t_err "broken.ini: $(cat "$T/stdout")"
t_result "--check-config: a file that does not load -> 78 with file:line"

# A value iniparser would cut at ';' or '#': refused when loading, for a
# send as for --check-config, with file:line, and never shown.
CANARY=Canary-$$-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
cat >"$T/cut.ini" <<EOF
[cut]
host = 127.0.0.1
tls = off
from = a@example.org
user = u
password = $CANARY;tail$CANARY
allow_plaintext_auth = on
EOF
chmod 600 "$T/cut.ini"
printf 'Subject: cut\n\nbody\n' >"$T/cut.eml"
for how in --check-config rcpt@example.org; do
	run_mailsub "$T/cut.eml" -C "$T/cut.ini" $how
	expect_exit 78 &&
	    expect_stderr "cut\\.ini:6: \\[cut\\] password: iniparser ends an unquoted value at ';'.*quote the value: password = \"\\.\\.\\.\"" ||
	    t_err "for $how"
	grep -q "$CANARY" "$T/stdout" "$T/stderr" &&
	    t_err "$how: the password was printed"
done
t_result "a password iniparser would cut: 78 at load, file:line, never shown"

run_mailsub /dev/null -C "$T/missing.ini" --check-config
expect_exit 78 && expect_stderr 'missing\.ini'
t_result "--check-config: no file -> 78"

# --configure for a preset domain: no DNS; the section loads and checks.
run_mailsub /dev/null --configure alice@gmail.com
expect_exit 0
cp "$T/stdout" "$T/gmail.section"
grep -q '^\[alice@gmail\.com\]$' "$T/gmail.section" ||
    t_err "no [alice@gmail.com] section"
grep -q '^provider = gmail$' "$T/gmail.section" || t_err "no provider line"
grep -q '^user = alice@gmail.com$' "$T/gmail.section" || t_err "no user line"
grep -q '^; gmail: app password' "$T/gmail.section" || t_err "no note"
pwfile=$(sed -n 's/^password_file = //p' "$T/gmail.section")
case $pwfile in
"~/.config/mailsub/alice@gmail.com.pw") ;;
*) t_err "password_file is '$pwfile'" ;;
esac
mkdir -p "$T/home/.config/mailsub"
printf 'app-password\n' >"$T/home/.config/mailsub/alice@gmail.com.pw"
chmod 600 "$T/home/.config/mailsub/alice@gmail.com.pw"
cp "$T/gmail.section" "$T/home/.config/mailsub/config.ini"
chmod 600 "$T/home/.config/mailsub/config.ini"
HOME=$T/home XDG_CONFIG_HOME= MAILSUB_CONFIG= \
    "$MAILSUB" --check-config >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0
grep -q '^\[alice@gmail\.com\]: smtp\.gmail\.com:465, implicit TLS, user alice@gmail.com' \
    "$T/stdout" || t_err "the generated section does not check: $(cat "$T/stdout" "$T/stderr")"
t_result "--configure: a preset domain; the section passes --check-config"

for bad in alice 'a;b@example.com' '@example.com' 'a@b@example.com' \
    'Name <a@example.com>'; do
	run_mailsub /dev/null --configure "$bad"
	expect_exit 64 || t_err "for '$bad'"
done
run_mailsub /dev/null --configure
expect_exit 64
t_result "--configure: a bad or missing address -> 64"

# --configure ADDRESS --write: the directory and the file are made (0700,
# 0600); a second address at the same provider gets a section of its own;
# the same address again, a symbolic link, a file others may write or one
# that does not load are refused and the file stays as it was.
W=$T/whome
CF=$W/.config/mailsub/config.ini
wconf()
{
	HOME=$W XDG_CONFIG_HOME= MAILSUB_CONFIG= \
	    "$MAILSUB" --configure "$@" >"$T/stdout" 2>"$T/stderr"
	RC=$?
}
mkdir -p "$W"
wconf alice@gmail.com --write
expect_exit 0
[ "$(stat -c %a "$W/.config" "$W/.config/mailsub" "$CF" 2>&1 | tr '\n' ' ')" = \
    "700 700 600 " ] || t_err "modes: $(stat -c '%n %a' "$W/.config" \
    "$W/.config/mailsub" "$CF" 2>&1 | tr '\n' ' ')"
grep -q "^; \[alice@gmail.com\] added to $CF\$" "$T/stdout" ||
    t_err "stdout does not say where: $(tail -n 1 "$T/stdout")"
grep -q '^\[alice@gmail\.com\]$' "$CF" || t_err "no section in the file"
t_result "--configure --write: a new file 0600 in a new directory 0700"

chmod 640 "$CF"
wconf bob@gmail.com --write
expect_exit 0
[ "$(grep -c '^\[' "$CF")" = 2 ] && grep -q '^\[bob@gmail\.com\]$' "$CF" ||
    t_err "want [alice@gmail.com] and [bob@gmail.com]: $(grep '^\[' "$CF")"
[ "$(stat -c %a "$CF")" = 640 ] || t_err "the mode was not kept: $(stat -c %a "$CF")"
HOME=$W XDG_CONFIG_HOME= MAILSUB_CONFIG= "$MAILSUB" -a bob@gmail.com \
    --check-config >"$T/stdout" 2>"$T/stderr"
grep -q '^\[bob@gmail\.com\]: smtp\.gmail\.com:465' "$T/stdout" ||
    t_err "the file does not load: $(cat "$T/stdout" "$T/stderr")"
t_result "--configure --write: a second address at one provider, its own section"

cp "$CF" "$T/before"
wconf BOB@gmail.com --write
expect_exit 78 &&
    expect_stderr "config\\.ini:[0-9]+: \\[bob@gmail\\.com\\] exists already"
cmp -s "$CF" "$T/before" || t_err "the file changed"
chmod 660 "$CF"
wconf carol@gmail.com --write
expect_exit 78 && expect_stderr 'chmod go-w'
chmod 600 "$CF"
printf '[broken] ; comment\n' >>"$CF"
cp "$CF" "$T/before"
wconf carol@gmail.com --write
expect_exit 78 && expect_stderr 'fix the file before adding to it'
cmp -s "$CF" "$T/before" || t_err "the broken file changed"
sed -i '$d' "$CF" # the broken line again
mv "$CF" "$W/real.ini"
ln -s "$W/real.ini" "$CF"
wconf carol@gmail.com --write
expect_exit 78 && expect_stderr 'symbolic link'
[ -n "$(ls -A "$W/.config/mailsub" | grep -v '^config\.ini$')" ] &&
    t_err "left behind: $(ls -A "$W/.config/mailsub")"
rm -f "$CF"
t_result "--configure --write: the same section, mode, broken file, symlink -> 78, file unchanged"

# -C names the file; the result must load (a section a file cannot
# take is refused before it is written)
printf '[other]\nhost = 127.0.0.1\nfrom = o@example.org\n' >"$T/c.ini"
chmod 600 "$T/c.ini"
run_mailsub /dev/null -C "$T/c.ini" --configure dave@gmail.com --write
expect_exit 0 && grep -q '^\[dave@gmail\.com\]$' "$T/c.ini" ||
    t_err "not added to -C's file"
run_mailsub /dev/null --check-config --write
expect_exit 64 && expect_stderr 'write goes with --configure'
t_result "--configure --write -C FILE; --write alone -> 64"

# No preset, no answer: the network namespace has no network at all, so
# the resolver cannot reach any server and fails at once.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -n true 2>/dev/null; then
	timeout 60 unshare -n "$MAILSUB" --configure bob@example.net \
	    >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 0
	grep -q '^\[bob@example\.net\]$' "$T/stdout" ||
	    t_err "no [bob@example.net] section"
	grep -q '^host = smtp\.example\.net$' "$T/stdout" || t_err "no guessed host"
	grep -q '^port = 587$' "$T/stdout" && grep -q '^tls = starttls$' \
	    "$T/stdout" || t_err "not 587 starttls"
	grep -q 'guess' "$T/stdout" || t_err "the guess is not marked as one"
	grep -q '_submissions\._tcp\.example\.net' "$T/stdout" ||
	    t_err "the SRV names asked are not shown"
	t_result "--configure: no preset and no SRV answer -> a marked guess"
else
	t_skip "--configure without an answer" "needs root and unshare -n"
fi

t_summary
