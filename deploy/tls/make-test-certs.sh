#!/usr/bin/env bash
# Makes a local test PKI for MLSDM's TLS and mTLS (SEC-006) with openssl:
#
#   ca.pem / ca.key                 test root CA ("MLSDM Test Root CA")
#   intermediate.pem / .key         an intermediate CA under the root (pathlen 0)
#   client-ca-bundle.pem            root + intermediate: the bundle for tls.clientCaFile
#   server.pem / server.key         server certificate for localhost and 127.0.0.1 (root-issued)
#   server-next.pem / .key          a second server certificate, for rotation / hot-reload drills
#   client-<name>.pem / .key        client certificates issued by the root:
#                                     reader   CN=reader   SAN DNS:reader.mlsdm.test
#                                     billing  CN=billing  SAN URI:spiffe://mlsdm.test/ns/default/sa/billing
#                                     ops      CN=ops      SAN email:ops@mlsdm.test
#                                     stranger CN=stranger (no SAN; for "verified but unmapped")
#   client-deep.pem / .key          CN=deep, issued by the intermediate; the .pem holds leaf + intermediate
#   other-ca.pem / other-ca.key     an unrelated CA (negative tests)
#   other-client.pem / .key         CN=billing issued by the unrelated CA (same name, wrong issuer)
#
# Usage: deploy/tls/make-test-certs.sh <outdir>    (DAYS=<n> sets the validity, default 365)
#
# For tests and local development only: keys are unencrypted, and the CA key sits next to the
# certificates. Production certificates come from your CA or cert-manager (docs/security/mtls.md).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 <outdir>" >&2
  exit 64
fi
OUT=$1
DAYS=${DAYS:-365}
mkdir -p "$OUT"
cd "$OUT"
umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca <name> <subject>: a self-signed root CA.
ca() {
  key "$1.key"
  cat >"$WORK/$1.ext" <<EXT
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EXT
  openssl req -new -x509 -key "$1.key" -subj "$2" -days "$DAYS" -sha256 \
    -extensions v3_ca -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\n'; cat "$WORK/$1.ext") \
    -out "$1.pem"
}

# issue <name> <subject> <issuer> <extensions...>: a certificate signed by <issuer>.pem/.key.
issue() {
  local name=$1 subject=$2 issuer=$3
  shift 3
  key "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -out "$WORK/$name.csr"
  printf '%s\n' "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" "$@" >"$WORK/$name.ext"
  openssl x509 -req -in "$WORK/$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
    -CAcreateserial -CAserial "$WORK/$issuer.srl" -days "$DAYS" -sha256 \
    -extfile "$WORK/$name.ext" -out "$name.pem" 2>/dev/null
}

LEAF_SERVER=("basicConstraints = critical, CA:false" "keyUsage = critical, digitalSignature"
  "extendedKeyUsage = serverAuth" "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1")
leaf_client() {
  printf '%s\n' "basicConstraints = critical, CA:false" "keyUsage = critical, digitalSignature" \
    "extendedKeyUsage = clientAuth"
  if [ -n "${1:-}" ]; then echo "subjectAltName = $1"; fi
}
client() {
  local name=$1 cn=$2 san=${3:-} issuer=${4:-ca}
  mapfile -t ext < <(leaf_client "$san")
  issue "client-$name" "/O=MLSDM Test/CN=$cn" "$issuer" "${ext[@]}"
}

ca ca "/O=MLSDM Test/CN=MLSDM Test Root CA"
issue intermediate "/O=MLSDM Test/CN=MLSDM Test Intermediate CA" ca \
  "basicConstraints = critical, CA:true, pathlen:0" "keyUsage = critical, keyCertSign, cRLSign"
cat ca.pem intermediate.pem >client-ca-bundle.pem

issue server "/O=MLSDM Test/CN=localhost" ca "${LEAF_SERVER[@]}"
issue server-next "/O=MLSDM Test/CN=localhost" ca "${LEAF_SERVER[@]}"

client reader reader "DNS:reader.mlsdm.test"
client billing billing "URI:spiffe://mlsdm.test/ns/default/sa/billing"
client ops ops "email:ops@mlsdm.test"
client stranger stranger
client deep deep "DNS:deep.mlsdm.test" intermediate
cat intermediate.pem >>client-deep.pem

ca other-ca "/O=Somebody Else/CN=Unrelated Test CA"
mapfile -t other < <(leaf_client "")
issue other-client "/O=Somebody Else/CN=billing" other-ca "${other[@]}"

chmod 644 ./*.pem
echo "test certificates written to $(pwd)"
