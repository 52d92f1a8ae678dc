#!/bin/sh
# --check-config and --configure with the real binary: every problem found
# in one run with its file (and line where there is one), warnings that do
# not fail the check, provider notes; a --configure section for a preset
# domain that --check-config then accepts, a bad address, and the
# no-answer path.  No DNS server is ever asked: the preset path needs no
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
password_file = $T/pw
aliases = $T/aliases
allow_plaintext_auth = on

[gm]
provider = gmail
user = x@gmail.com
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

# Several problems at once, each named with its file.
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
password = semi;colon
user = u
allow_plaintext_auth = on
EOF
chmod 600 "$T/bad.ini"
run_mailsub /dev/null -C "$T/bad.ini" --check-config
expect_exit 78
grep -q "$T/pw-open.*0644" "$T/stdout" ||
    t_err "the open password_file is not named with its mode"
grep -q "^$T/bad-aliases:1: .*:include:" "$T/stdout" ||
    t_err "the :include: line is not named with file:line"
grep -q "^warning: $T/bad.ini:11: .*cut at ';'" "$T/stdout" ||
    t_err "no file:line warning for the unquoted ';'"
grep -q 'several accounts and none chosen' "$T/stdout" ||
    t_err "no note that callers without -a get no account"
expect_stderr "3 problems found"
grep -q 'semi' "$T/stdout" "$T/stderr" && t_err "the password value was printed"
t_result "--check-config: every problem in one run, file:line, 78, no secret"

# A file that does not load at all: the first error, with file and line.
printf '[broken] ; a comment here breaks iniparser\nhost = x\n' \
    >"$T/broken.ini"
chmod 600 "$T/broken.ini"
run_mailsub /dev/null -C "$T/broken.ini" --check-config
expect_exit 78 && expect_stderr "broken\\.ini:1"
t_result "--check-config: a file that does not load -> 78 with file:line"

run_mailsub /dev/null -C "$T/missing.ini" --check-config
expect_exit 78 && expect_stderr 'missing\.ini'
t_result "--check-config: no file -> 78"

# --configure for a preset domain: no DNS; the section loads and checks.
run_mailsub /dev/null --configure alice@gmail.com
expect_exit 0
cp "$T/stdout" "$T/gmail.section"
grep -q '^\[gmail\]$' "$T/gmail.section" || t_err "no [gmail] section"
grep -q '^provider = gmail$' "$T/gmail.section" || t_err "no provider line"
grep -q '^user = alice@gmail.com$' "$T/gmail.section" || t_err "no user line"
grep -q '^; gmail: app password' "$T/gmail.section" || t_err "no note"
pwfile=$(sed -n 's/^password_file = //p' "$T/gmail.section")
case $pwfile in
"~/.config/mailsub/gmail.pw") ;;
*) t_err "password_file is '$pwfile'" ;;
esac
mkdir -p "$T/home/.config/mailsub"
printf 'app-password\n' >"$T/home/.config/mailsub/gmail.pw"
chmod 600 "$T/home/.config/mailsub/gmail.pw"
cp "$T/gmail.section" "$T/home/.config/mailsub/config.ini"
chmod 600 "$T/home/.config/mailsub/config.ini"
HOME=$T/home XDG_CONFIG_HOME= MAILSUB_CONFIG= \
    "$MAILSUB" --check-config >"$T/stdout" 2>"$T/stderr"
RC=$?
expect_exit 0
grep -q '^\[gmail\]: smtp\.gmail\.com:465, implicit TLS, user alice@gmail.com' \
    "$T/stdout" || t_err "the generated section does not check: $(cat "$T/stdout" "$T/stderr")"
t_result "--configure: a preset domain; the section passes --check-config"

# Microsoft: OAuth2 only.  The section loads; until the client id is
# filled in --check-config says what is missing, then that a login is.
run_mailsub /dev/null --configure carol@outlook.com
expect_exit 0
cp "$T/stdout" "$T/outlook.ini"
chmod 600 "$T/outlook.ini"
grep -q '^;oauth2_client_id = ' "$T/outlook.ini" || t_err "no client id line"
grep -q 'password_file' "$T/outlook.ini" && t_err "a password_file for outlook"
XDG_STATE_HOME=$T/state run_mailsub /dev/null -C "$T/outlook.ini" --check-config
expect_exit 78 && grep -q 'needs a token: set oauth2_client_id' "$T/stdout" ||
    t_err "no hint: $(cat "$T/stdout")"
sed -i 's/^;oauth2_client_id = .*/oauth2_client_id = 00000000-aaaa/' \
    "$T/outlook.ini"
XDG_STATE_HOME=$T/state run_mailsub /dev/null -C "$T/outlook.ini" --check-config
expect_exit 78 &&
    grep -q 'no token yet: run mailsub --oauth2-login outlook' "$T/stdout" ||
    t_err "no login hint: $(cat "$T/stdout")"
t_result "--configure outlook: OAuth2 section; --check-config names the next step"

for bad in alice 'a;b@example.com' '@example.com' 'a@b@example.com' \
    'Name <a@example.com>'; do
	run_mailsub /dev/null --configure "$bad"
	expect_exit 64 || t_err "for '$bad'"
done
run_mailsub /dev/null --configure
expect_exit 64
t_result "--configure: a bad or missing address -> 64"

# No preset, no answer: the network namespace has no network at all, so
# the resolver cannot reach any server and fails at once.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -n true 2>/dev/null; then
	timeout 60 unshare -n "$MAILSUB" --configure bob@example.net \
	    >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 0
	grep -q '^\[example\]$' "$T/stdout" || t_err "no [example] section"
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
