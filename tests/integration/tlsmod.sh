#!/bin/sh
# SPDX-License-Identifier: ISC
# TLS and SASL on demand (src/base/tlsmod.h): the binary itself links neither
# GnuTLS nor libgsasl; a plain delivery never loads them; a TLS delivery
# loads mailsub-tls.so from beside the binary and, without AUTH, neither
# mailsub-sasl.so nor libgsasl; without the module a TLS account fails
# cleanly (exit 70, the message kept) and a plain one still works.  Each
# module exports one symbol, its struct of entry points, and a module from
# another build (another ABI number or version, or without that symbol) is
# refused the same way.
. "$SRCDIR/tests/lib.sh"
t_init tlsmod
need_mailsub
need_cmd certtool

msg=$T/msg.txt
printf 'From: a@example.org\nTo: b@example.org\nSubject: t\n\nhello\n' >"$msg"

if command -v ldd >/dev/null 2>&1; then
	if ldd "$MAILSUB" | grep -Eq 'libgnutls|libgsasl|libmagic'; then
		t_err "mailsub links $(ldd "$MAILSUB" |
		    grep -Eo 'lib(gnutls|gsasl|magic)[^ ]*' | tr '\n' ' ')"
	fi
	t_result "the binary links no TLS, SASL or libmagic library"
else
	t_skip "the binary links no TLS library" "no ldd"
fi
for so in mailsub-tls.so mailsub-sasl.so; do
	[ -f "$(dirname "$MAILSUB")/$so" ] || t_err "no $so beside $MAILSUB"
done
t_result "the modules are built beside the binary"

# --version (mailsub(1)): the libraries built with and loaded (the TLS and
# SASL ones through their modules), the module directory, the
# configuration file a run would read.
dir=$(cd "$(dirname "$MAILSUB")" && pwd -P)
mk_config "$T/v.ini"
run_mailsub /dev/null -C "$T/v.ini" --version
expect_exit 0
v() { sed -n "s/^$1: //p" "$T/stdout"; }
sed -n 1p "$T/stdout" | grep -Eq '^mailsub [0-9]' || t_err "line 1: $(sed -n 1p "$T/stdout")"
for lib in GnuTLS:tls:gnutls libgsasl:sasl:libgsasl; do
	name=${lib%%:*}
	mod=${lib#*:}
	pc=${mod#*:}
	mod=${mod%%:*}
	line=$(v "$name")
	echo "$line" | grep -Eq "^built with [0-9][0-9.]*, loaded [0-9][0-9.]* \($dir/mailsub-$mod\.so\)\$" ||
	    t_err "$name: '$line'"
	if command -v pkg-config >/dev/null 2>&1 &&
	    want=$(pkg-config --modversion "$pc" 2>/dev/null); then
		case $line in
		"built with $want, "*) ;;
		*) t_err "$name: pkg-config says $want: '$line'" ;;
		esac
	fi
done
v iniparser | grep -Eq '^no version number(, loaded \(/.*libiniparser[^/]*\))?$' ||
    t_err "iniparser: '$(v iniparser)'"
v libmagic | grep -Eq '^(built with [0-9]\.[0-9]{2}, loaded( [0-9]\.[0-9]{2})? \(/.*libmagic[^/]*\)|not built in .*)$' ||
    t_err "libmagic: '$(v libmagic)'"
[ "$(v 'module directory')" = "$dir" ] || t_err "module directory: '$(v 'module directory')'"
[ "$(v configuration)" = "$T/v.ini" ] || t_err "configuration: '$(v configuration)'"
MAILSUB_CONFIG=$T/v.ini run_mailsub /dev/null --version
[ "$(v configuration)" = "$T/v.ini" ] || t_err "\$MAILSUB_CONFIG: '$(v configuration)'"
run_mailsub /dev/null -C "$T/nonexistent.ini" --version
expect_exit 0
v configuration | grep -q "^none: $T/nonexistent.ini" ||
    t_err "-C missing: '$(v configuration)'"
t_result "--version: libraries built with and loaded, modules, configuration"

# One export each: the versioned struct the binary looks up (tlsmod.h).
# The linker's own symbols do not count, nor the __odr_asan.NAME that ASan
# adds beside each global.
not_ours='^(_init|_fini|_edata|_end|__bss_start|__odr_asan\..*)$'
if command -v nm >/dev/null 2>&1; then
	for m in tls sasl; do
		exports=$(nm -D --defined-only \
		    "$(dirname "$MAILSUB")/mailsub-$m.so" | awk '{print $3}' |
		    grep -Ev "$not_ours" | tr '\n' ' ')
		[ "$exports" = "mailsub_${m}_module " ] ||
		    t_err "mailsub-$m.so exports $exports"
	done
	t_result "each module exports only its struct of entry points"
else
	t_skip "each module exports only its struct" "no nm"
fi

PKI=$T/pki
if ! sh "$SRCDIR/tests/pki.sh" "$PKI" >"$T/pki.log" 2>&1; then
	cat "$T/pki.log"
	t_fatal "pki.sh"
fi

# traced_send OUT CONFIG: one delivery under strace, every file it opens
# in OUT; sets RC.  LeakSanitizer cannot run under ptrace; leaks are
# checked by every other run of the same delivery.
traced_send()
{
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -e trace=openat,open -o "$1" \
	    "$MAILSUB" -C "$2" b@example.org <"$msg" \
	    >"$T/stdout" 2>"$T/stderr"
	RC=$?
}

# Plain: delivered, and GnuTLS never mapped (strace shows every open).
server_start plain --sink --record "$T/rec-plain"
mk_config "$T/plain.ini"
if command -v strace >/dev/null 2>&1; then
	traced_send "$T/strace" "$T/plain.ini"
	expect_exit 0
	grep -Eq 'libgnutls|libgsasl|mailsub-tls\.so' "$T/strace" &&
	    t_err "a plain run opened $(grep -Eo '[^"]*(libgnutls|libgsasl|mailsub-tls\.so)[^"]*' \
		"$T/strace" | head -3 | tr '\n' ' ')"
	t_result "a plain delivery loads no TLS library"
else
	run_mailsub "$msg" -C "$T/plain.ini" b@example.org
	expect_exit 0
	t_result "plain delivery"
	t_skip "a plain delivery loads no TLS library" "no strace"
fi
server_stop "$SRV_PID"

# STARTTLS through the module.
server_start tls --sink --record "$T/rec-tls" --tls-cert "$PKI/server.crt" \
    --tls-key "$PKI/server.key"
mk_config "$T/tls.ini" "tls = starttls" "tls_trust_file = $PKI/ca.crt"
run_mailsub "$msg" -C "$T/tls.ini" b@example.org
expect_exit 0
t_result "STARTTLS delivery through mailsub-tls.so"
if command -v strace >/dev/null 2>&1; then
	traced_send "$T/strace-tls" "$T/tls.ini"
	expect_exit 0
	grep -q 'mailsub-tls\.so' "$T/strace-tls" ||
	    t_err "the STARTTLS run did not open mailsub-tls.so"
	grep -Eq 'libgsasl|mailsub-sasl\.so' "$T/strace-tls" &&
	    t_err "a TLS run without AUTH opened $(grep -Eo \
		'[^"]*(libgsasl|mailsub-sasl\.so)[^"]*' "$T/strace-tls" |
		head -2 | tr '\n' ' ')"
	t_result "a TLS delivery without AUTH loads no SASL library"
	# The run before left a session ticket: this one resumes, and a
	# resumed session shows no certificate, so the trust anchors are
	# never read (tls_handshake.c, verify_peer).
	grep -q 'mailsub-tls\.so' "$T/strace-tls" ||
	    t_err "no trace of the STARTTLS run"
	grep -q 'ca\.crt' "$T/strace-tls" &&
	    t_err "a resumed session read the trust file"
	t_result "a resumed TLS session loads no trust anchors"
else
	t_skip "a TLS delivery without AUTH loads no SASL library" "no strace"
	t_skip "a resumed TLS session loads no trust anchors" "no strace"
fi
"$MAILSUB" -C "$T/tls.ini" --serverinfo >"$T/si.out" 2>&1 ||
    t_err "--serverinfo failed: $(head -3 "$T/si.out")"
grep -q 'session resumed' "$T/si.out" ||
    t_err "the session was not resumed: $(grep TLS "$T/si.out" | tr '\n' ' ')"
t_result "the TLS session is resumed from the ticket cache"

# The binary alone, without its module (and none installed): TLS fails
# with 70 and keeps the message; plain still works.
mkdir "$T/bin"
cp "$MAILSUB" "$T/bin/mailsub"
installed=
for d in $(strings "$MAILSUB" 2>/dev/null | grep '^/.*/mailsub$'); do
	[ -f "$d/mailsub-tls.so" ] && installed=$d
done
if [ -n "$installed" ]; then
	t_skip "without the module" "a module is installed"
else
	rm -rf "$T/queue"
	MAILSUB_SAVED=$MAILSUB
	MAILSUB=$T/bin/mailsub
	run_mailsub "$msg" -C "$T/tls.ini" b@example.org
	MAILSUB=$MAILSUB_SAVED
	expect_exit 70 && expect_stderr 'cannot load the TLS module' &&
	    expect_where failed "$T/queue"
	MAILSUB=$T/bin/mailsub
	run_mailsub /dev/null --version
	MAILSUB=$MAILSUB_SAVED
	expect_exit 70
	grep -q '^GnuTLS: cannot load the TLS module: ' "$T/stdout" &&
	    grep -q '^mailsub [0-9]' "$T/stdout" ||
	    t_err "--version: $(cat "$T/stdout")"
	t_result "without the module: exit 70, message saved; --version says so (70)"
fi
server_stop "$SRV_PID"

# AUTH loads mailsub-sasl.so; without it (the TLS module present) an AUTH
# account fails cleanly too.
server_start auth --sink --record "$T/rec-auth" --tls-cert "$PKI/server.crt" \
    --tls-key "$PKI/server.key" --auth "u@example.org:s3cret-pw"
mk_config "$T/auth.ini" "tls = starttls" "tls_trust_file = $PKI/ca.crt" \
    "auth = PLAIN" "user = u@example.org" "password = s3cret-pw"
rm -rf "$T/queue"
run_mailsub "$msg" -C "$T/auth.ini" b@example.org
expect_exit 0 && expect_where none "$T/queue"
t_result "AUTH PLAIN through mailsub-sasl.so"
if [ -z "$installed" ]; then
	cp "$(dirname "$MAILSUB")/mailsub-tls.so" "$T/bin/"
	MAILSUB_SAVED=$MAILSUB
	MAILSUB=$T/bin/mailsub
	run_mailsub "$msg" -C "$T/auth.ini" b@example.org
	MAILSUB=$MAILSUB_SAVED
	expect_exit 70 && expect_stderr 'cannot load the SASL module' &&
	    expect_where failed "$T/queue"
	t_result "without the SASL module: exit 70, message saved"
fi

# A module from another build: a TLS module with this build's version but
# another ABI number, one with this ABI number but another version, and
# the SASL module in the TLS module's place (it lacks mailsub_tls_module).
# Each is refused before anything in it runs.
# fake_module ABI VERSION: $T/bin/mailsub-tls.so with that head.
fake_module()
{
	cat >"$T/fake.c" <<EOF
struct module_head { unsigned abi; const char *version; };
const struct module_head mailsub_tls_module = {$1, "$2"};
EOF
	cc -shared -fPIC -o "$T/bin/mailsub-tls.so" "$T/fake.c"
}
abi=$(sed -n 's/^#define TLS_MODULE_ABI \([0-9][0-9]*\)$/\1/p' \
    "$SRCDIR/src/tls/tls.h")
version=$("$MAILSUB" --version | sed -n '1s/^mailsub //p')
if [ -n "$installed" ]; then
	t_skip "a module from another build is refused" "a module is installed"
elif ! command -v cc >/dev/null 2>&1; then
	t_skip "a module from another build is refused" "no cc"
elif [ -z "$abi" ] || [ -z "$version" ]; then
	t_err "no TLS_MODULE_ABI in src/tls/tls.h ($abi) or version ($version)"
	t_result "a module from another build is refused"
else
	mk_config "$T/tls-again.ini" "tls = starttls" \
	    "tls_trust_file = $PKI/ca.crt"
	for fake in "$((abi + 1)) $version" "$abi 0.0.0-other" sasl; do
		rm -rf "$T/queue"
		if [ "$fake" = sasl ]; then
			cp "$(dirname "$MAILSUB")/mailsub-sasl.so" \
			    "$T/bin/mailsub-tls.so"
		else
			# shellcheck disable=SC2086 # ABI and version
			fake_module $fake || t_err "cc failed"
		fi
		MAILSUB_SAVED=$MAILSUB
		MAILSUB=$T/bin/mailsub
		run_mailsub "$msg" -C "$T/tls-again.ini" b@example.org
		MAILSUB=$MAILSUB_SAVED
		expect_exit 70 && expect_stderr \
		    'mailsub-tls\.so is from another build of mailsub' &&
		    expect_where failed "$T/queue"
		t_result "a TLS module from another build ($fake): refused"
	done
fi
server_stop "$SRV_PID"
t_summary
