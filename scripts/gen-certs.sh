#!/usr/bin/env bash
# A private CA and the certificates servofleet's TLS example needs: Mosquitto on
# mqtts://, the gateway on https://, and a client certificate for mutual TLS. For a
# laptop or a test rig; a plant uses its own PKI.
#
#   scripts/gen-certs.sh [OUT_DIR [EXTRA_DNS_NAME...]]
#
# OUT_DIR (default: config/certs/ in this repository, which git ignores) receives
#   ca.crt     ca.key       the CA, CN "servofleet dev CA", 90 days
#   server.crt server.key   for Mosquitto and the gateway: localhost, 127.0.0.1, ::1 and
#                           each EXTRA_DNS_NAME (in compose: mosquitto gateway), 30 days
#   client.crt client.key   CN servofleet-client, for brokers that require one, 30 days
# Keys are EC P-256, mode 0600. Idempotent: a file that exists, matches its key,
# verifies against the CA, names the hosts asked for and stays valid for another day
# is kept; anything else is made anew (a new CA reissues everything under it).
set -euo pipefail
umask 077

OPENSSL=${OPENSSL:-/usr/bin/openssl}
if [[ ${1-} == -h || ${1-} == --help ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit 0
fi
if [[ $# -gt 0 ]]; then
  out=$1
  shift
else
  out="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/config/certs"
fi

CA_DAYS=90
LEAF_DAYS=30
DAY=86400

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
  if [[ ! $name =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    echo "gen-certs.sh: not a DNS name: $name" >&2
    exit 2
  fi
  san="$san,DNS:$name"
done

mkdir -p -m 755 "$out"
cd "$out"

say() { echo "gen-certs.sh: $*"; }

new_key() {
  "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp"
  chmod 600 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

# The certificate's public key is the key file's.
key_matches() {
  [[ "$("$OPENSSL" x509 -in "$1" -noout -pubkey 2>/dev/null)" == \
    "$("$OPENSSL" pkey -in "$2" -pubout 2>/dev/null)" ]]
}

# A leaf worth keeping: its key, signed by this CA, valid tomorrow, made from this extfile.
leaf_ok() {
  local name=$1 ext=$2
  [[ -s $name.crt && -s $name.key && -s $name.ext ]] &&
    [[ "$(cat "$name.ext")" == "$ext" ]] &&
    key_matches "$name.crt" "$name.key" &&
    "$OPENSSL" verify -CAfile ca.crt "$name.crt" >/dev/null 2>&1 &&
    "$OPENSSL" x509 -in "$name.crt" -noout -checkend "$DAY" >/dev/null
}

# CA: renewed a leaf's lifetime before it ends, so no leaf outlives its CA.
if [[ -s ca.crt && -s ca.key ]] && key_matches ca.crt ca.key &&
  "$OPENSSL" x509 -in ca.crt -noout -checkend $(((LEAF_DAYS + 1) * DAY)) >/dev/null; then
  say "kept $out/ca.crt"
else
  new_key ca.key
  cat >ca.cnf <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = servofleet dev CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
  "$OPENSSL" req -x509 -new -config ca.cnf -extensions v3_ca -key ca.key -sha256 \
    -days "$CA_DAYS" -out ca.crt.tmp
  rm -f ca.cnf
  chmod 644 ca.crt.tmp
  mv -f ca.crt.tmp ca.crt
  say "made $out/ca.crt (CA, $CA_DAYS days)"
fi

issue() {
  local name=$1 cn=$2 ext=$3
  if leaf_ok "$name" "$ext"; then
    say "kept $out/$name.crt"
    return
  fi
  new_key "$name.key"
  printf '%s\n' "$ext" >"$name.ext"
  "$OPENSSL" req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  "$OPENSSL" x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key \
    -set_serial "0x$("$OPENSSL" rand -hex 16)" -sha256 -days "$LEAF_DAYS" \
    -extfile "$name.ext" -out "$name.crt.tmp" 2>/dev/null
  rm -f "$name.csr"
  chmod 644 "$name.crt.tmp" "$name.ext"
  mv -f "$name.crt.tmp" "$name.crt"
  say "made $out/$name.crt ($cn, $LEAF_DAYS days)"
}

issue server localhost "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid"

issue client servofleet-client "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid"
