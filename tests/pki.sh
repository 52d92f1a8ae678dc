#!/bin/sh
# SPDX-License-Identifier: ISC
# Make the test PKI with certtool (gnutls-bin) into OUTDIR:
#   ca.crt ca.key                 the test CA (tls_trust_file in the tests)
#   server.crt server.key         localhost, 127.0.0.1, ::1, signed by ca
#   server-chain.crt              server.crt followed by ca.crt
#   wrongname.crt wrongname.key   valid chain, DNS wrong.example only
#   expired.crt expired.key       valid names, expired in 2021
#   notyet.crt notyet.key         valid names, valid only from 2090
#   selfsigned.crt selfsigned.key valid names, self-signed (no CA)
#   other-ca.crt other-ca.key     an unrelated CA
#   other-server.crt other-server.key  valid names, signed by other-ca
#   inter-ca.crt inter-ca.key     an intermediate CA signed by ca
#   inter-server.crt inter-server.key  valid names, signed by inter-ca
#                                 (served without the intermediate: the
#                                 "untrusted intermediate" case)
#   inter-server-chain.crt        inter-server.crt + inter-ca.crt
#   client.crt client.key         a TLS client certificate signed by ca
# ECDSA P-256 keys keep it fast.  Idempotent: an existing complete set (same
# layout version) is kept; otherwise everything is made afresh.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: pki.sh OUTDIR" >&2
	exit 64
fi
OUT=$1
VERSION=2
CERTTOOL=${CERTTOOL:-certtool}

if ! command -v "$CERTTOOL" >/dev/null 2>&1; then
	echo "pki.sh: certtool not found (Debian: apt-get install gnutls-bin)" >&2
	exit 69
fi

mkdir -p "$OUT"
if [ -f "$OUT/.pki-version" ] &&
    [ "$(cat "$OUT/.pki-version")" = "$VERSION" ]; then
	exit 0
fi

TMPL=$(mktemp -d /tmp/mailsub-pki.XXXXXX)
trap 'rm -rf "$TMPL"' EXIT HUP INT TERM

key()
{
	"$CERTTOOL" --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --no-text --outfile "$OUT/$1.key" 2>/dev/null
	chmod 600 "$OUT/$1.key"
}

# tmpl NAME LINES...: write a certtool template
tmpl()
{
	name=$1
	shift
	: >"$TMPL/$name"
	for l in "$@"; do
		printf '%s\n' "$l" >>"$TMPL/$name"
	done
}

# selfsign NAME TEMPLATE
selfsign()
{
	"$CERTTOOL" --generate-self-signed --load-privkey "$OUT/$1.key" \
	    --template "$TMPL/$2" --no-text --outfile "$OUT/$1.crt" 2>/dev/null
}

# sign NAME TEMPLATE CA
sign()
{
	"$CERTTOOL" --generate-certificate --load-privkey "$OUT/$1.key" \
	    --load-ca-certificate "$OUT/$3.crt" \
	    --load-ca-privkey "$OUT/$3.key" \
	    --template "$TMPL/$2" --no-text --outfile "$OUT/$1.crt" 2>/dev/null
}

# The CAs are valid across every date the tests use (also under faketime).
CA_DATES='activation_date = "2000-01-01 00:00:00"
expiration_date = "2099-12-31 23:59:59"'
SERVER_NAMES='dns_name = "localhost"
ip_address = "127.0.0.1"
ip_address = "::1"'
SERVER_USAGE='tls_www_server
signing_key
encryption_key'

tmpl ca.tmpl 'cn = "mailsub test CA"' 'organization = "mailsub tests"' \
    "$CA_DATES" ca cert_signing_key crl_signing_key
tmpl other-ca.tmpl 'cn = "mailsub unrelated CA"' \
    'organization = "somebody else"' "$CA_DATES" ca cert_signing_key
tmpl inter-ca.tmpl 'cn = "mailsub intermediate CA"' \
    'organization = "mailsub tests"' "$CA_DATES" ca cert_signing_key
tmpl server.tmpl 'cn = "localhost"' "$SERVER_NAMES" "$SERVER_USAGE" \
    'expiration_days = 3650'
tmpl wrongname.tmpl 'cn = "wrong.example"' 'dns_name = "wrong.example"' \
    "$SERVER_USAGE" 'expiration_days = 3650'
tmpl expired.tmpl 'cn = "localhost"' "$SERVER_NAMES" "$SERVER_USAGE" \
    'activation_date = "2020-01-01 00:00:00"' \
    'expiration_date = "2021-01-01 00:00:00"'
tmpl notyet.tmpl 'cn = "localhost"' "$SERVER_NAMES" "$SERVER_USAGE" \
    'activation_date = "2090-01-01 00:00:00"' \
    'expiration_date = "2095-01-01 00:00:00"'
tmpl client.tmpl 'cn = "mailsub test client"' 'tls_www_client' \
    'signing_key' 'expiration_days = 3650'

rm -f "$OUT/.pki-version"
for k in ca other-ca inter-ca server wrongname expired notyet selfsigned \
    other-server inter-server client; do
	key "$k"
done
selfsign ca ca.tmpl
selfsign other-ca other-ca.tmpl
sign inter-ca inter-ca.tmpl ca
sign server server.tmpl ca
sign wrongname wrongname.tmpl ca
sign expired expired.tmpl ca
sign notyet notyet.tmpl ca
selfsign selfsigned server.tmpl
sign other-server server.tmpl other-ca
sign inter-server server.tmpl inter-ca
sign client client.tmpl ca
cat "$OUT/server.crt" "$OUT/ca.crt" >"$OUT/server-chain.crt"
cat "$OUT/inter-server.crt" "$OUT/inter-ca.crt" >"$OUT/inter-server-chain.crt"
echo "$VERSION" >"$OUT/.pki-version"
