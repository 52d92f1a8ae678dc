#!/bin/sh
# SPDX-License-Identifier: ISC
# --configure for a domain of its own: the provider behind the domain's MX
# hosts (Microsoft 365, Google Workspace, GoDaddy, Zoho, Fastmail, ...),
# then RFC 6186 SRV records, then the marked guess.  Offline: mailsub runs
# in a network and mount namespace of its own (unshare), where
# /etc/resolv.conf is bind-mounted to name tests/dnsserver.py on
# 127.0.0.1:53, so the machine's resolver is never asked.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init configure-mx
need_mailsub
need_cmd unshare ip timeout

# Root gets plain namespaces; anyone else a user namespace (unshare -r).
if [ "$(id -u)" = 0 ]; then
	NS="unshare -m -n"
else
	NS="unshare -r -m -n"
fi
$NS true 2>/dev/null || t_skip_all "cannot make a network namespace ($NS)"

cat >"$T/zone" <<'ZONE'
contoso.example MX 0 contoso-example.mail.protection.outlook.com
acme.example MX 20 alt1.aspmx.l.google.com
acme.example MX 10 aspmx.l.google.com
newgoogle.example MX 1 smtp.google.com
gm.example MX 5 aspmx2.googlemail.com
gd.example MX 0 mailstore1.secureserver.net
zo.example MX 10 mx.zoho.com
zoeu.example MX 10 mx.zoho.eu
fm.example MX 10 in1-smtp.messagingengine.com
mixed.example MX 5 mx.own.example
mixed.example MX 10 MX2.ZOHO.COM
srv.example MX 10 mx.srv.example
_submissions._tcp.srv.example SRV 0 1 465 mail.srv.example
_submission._tcp.starttls.example SRV 0 1 587 smtp.starttls.example
lookalike.example MX 10 evilzoho.com
suffix.example MX 10 mail.protection.outlook.com.evil.example
ZONE
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' >"$T/resolv.conf"
mkdir -p "$T/out"
: >"$T/queries"

# Everything that needs the namespace in one script: the DNS server, then
# one --configure per address, then the server stopped by its PID.
cat >"$T/inside.sh" <<'INSIDE'
set -u
ip link set lo up || exit 90
mount --bind "$T/resolv.conf" /etc/resolv.conf || exit 91
"$PYTHON3" "$SRCDIR/tests/dnsserver.py" --zone "$T/zone" \
    --portfile "$T/dns.port" --log "$T/queries" 2>"$T/dns.err" &
dns=$!
i=0
while [ ! -s "$T/dns.port" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -s "$T/dns.port" ] || { kill "$dns"; exit 92; }
for a in alice@contoso.example bob@acme.example carol@newgoogle.example \
    dan@gm.example erin@gd.example fay@zo.example gus@zoeu.example \
    hal@fm.example ida@mixed.example jo@srv.example kim@starttls.example \
    lee@lookalike.example max@suffix.example ned@none.example \
    olga@gmail.com; do
	d=${a#*@}
	: >"$T/queries.$d"
	start=$(wc -l <"$T/queries" 2>/dev/null || echo 0)
	"$MAILSUB" --configure "$a" >"$T/out/$d.ini" 2>"$T/out/$d.err"
	echo $? >"$T/out/$d.rc"
	tail -n +"$((start + 1))" "$T/queries" >"$T/queries.$d" 2>/dev/null
done
kill "$dns"
wait "$dns" 2>/dev/null
exit 0
INSIDE
T=$T SRCDIR=$SRCDIR PYTHON3=$PYTHON3 MAILSUB=$MAILSUB \
    timeout 120 $NS sh "$T/inside.sh"
rc=$?
if [ "$rc" != 0 ]; then
	cat "$T/dns.err" 2>/dev/null
	t_skip_all "the namespace script failed ($rc)"
fi

# provider DOMAIN PRESET: the section names the preset, found by MX.
provider()
{
	f=$T/out/$1.ini
	[ "$(cat "$T/out/$1.rc")" = 0 ] || t_err "$1: exit $(cat "$T/out/$1.rc")"
	grep -qx "provider = $2" "$f" || t_err "$1: no provider = $2: $(tr '\n' '|' <"$f")"
	grep -q "(MX)" "$f" || t_err "$1: the comment does not say MX"
	if grep -q '^host = ' "$f"; then
		t_err "$1: a host besides the provider"
	fi
	if grep -q '_submission' "$T/queries.$1"; then
		t_err "$1: SRV asked although MX answered"
	fi
}

provider contoso.example office365
t_result "MX *.mail.protection.outlook.com -> office365"
provider acme.example workspace
grep -q 'aspmx\.l\.google\.com' "$T/out/acme.example.ini" ||
    t_err "not the preferred MX named"
t_result "MX aspmx.l.google.com (the lower preference) -> workspace"
provider newgoogle.example workspace
t_result "MX smtp.google.com -> workspace"
provider gm.example workspace
t_result "MX aspmx2.googlemail.com -> workspace"
provider gd.example godaddy
t_result "MX *.secureserver.net -> godaddy"
provider zo.example zoho
t_result "MX mx.zoho.com -> zoho"
provider zoeu.example zoho-eu
t_result "MX mx.zoho.eu -> zoho-eu"
provider fm.example fastmail
t_result "MX *.messagingengine.com -> fastmail"
provider mixed.example zoho
t_result "first MX unknown, the next (upper case) Zoho's -> zoho"

f=$T/out/srv.example.ini
grep -qx 'host = mail.srv.example' "$f" && grep -qx 'port = 465' "$f" &&
    grep -qx 'tls = on' "$f" || t_err "$(tr '\n' '|' <"$f")"
[ "$(head -1 "$T/queries.srv.example")" = "srv.example MX" ] ||
    t_err "MX not asked first: $(tr '\n' ' ' <"$T/queries.srv.example")"
t_result "an MX no provider runs -> the SRV record (implicit TLS)"

f=$T/out/starttls.example.ini
grep -qx 'host = smtp.starttls.example' "$f" && grep -qx 'tls = starttls' "$f" ||
    t_err "$(tr '\n' '|' <"$f")"
t_result "no MX -> _submission._tcp (STARTTLS)"

for d in lookalike.example suffix.example none.example; do
	f=$T/out/$d.ini
	grep -q 'host is a guess' "$f" && grep -qx "host = smtp.$d" "$f" ||
	    t_err "$d: $(tr '\n' '|' <"$f")"
	if grep -q '^provider' "$f"; then
		t_err "$d: a provider from a look-alike MX"
	fi
done
t_result "look-alike MX hosts (evilzoho.com, ...outlook.com.evil.example) and none -> the guess"

[ ! -s "$T/queries.gmail.com" ] ||
    t_err "DNS asked for a preset domain: $(cat "$T/queries.gmail.com")"
grep -qx 'provider = gmail' "$T/out/gmail.com.ini" || t_err "gmail.com"
t_result "a preset domain: no DNS query"

# The sections load.
for d in contoso.example srv.example; do
	{ printf '[defaults]\nqueue_dir = %s/q\n' "$T"; cat "$T/out/$d.ini"; } \
	    >"$T/$d.conf"
	chmod 600 "$T/$d.conf"
	touch "$T/pw"
	chmod 600 "$T/pw"
	sed -i "s|^password_file = .*|password_file = $T/pw|" "$T/$d.conf"
	run_mailsub /dev/null -C "$T/$d.conf" --check-config
	expect_exit 0 || t_err "$d: $(tr '\n' '|' <"$T/stdout")"
done
t_result "the sections pass --check-config"

t_summary
