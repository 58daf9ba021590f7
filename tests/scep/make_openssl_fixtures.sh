#!/usr/bin/env bash
# Makes SCEP-layer test inputs with the openssl CLI, so the protocol library is tested on bytes it did not build.
# Usage: make_openssl_fixtures.sh OUTDIR
#
# openssl cms cannot add SCEP's own signed attributes, so these files test the CMS layers (SignedData parsing and
# verification in every encoding and signature scheme, EnvelopedData decryption with every cipher and key
# transport) and the PKCS#10 parser. Whole pkiMessages from real clients are in tests/fixtures/.
set -euo pipefail
out=$1
rm -rf "$out"; mkdir -p "$out"; cd "$out"
legacy=(-provider legacy -provider default)
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

# A CA the envelopes are encrypted to, and a second one that is not the recipient.
for ca in ca other-ca; do
  q openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 30 -subj "/O=Fixtures/CN=$ca" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign"
done

# Device keys: RSA (signs PKCS#1 v1.5 and PSS) and EC P-256.
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key

# CSRs whose challengePassword is a PrintableString, a UTF8String and a BMPString.
csr() {  # name key string_mask password
  cat > $1.cnf <<CNF
[req]
distinguished_name = dn
attributes = attrs
prompt = no
string_mask = $3
utf8 = yes
[dn]
O = Fixtures
CN = $1.example
[attrs]
challengePassword = $4
CNF
  q openssl req -new -key $2 -config $1.cnf -utf8 -outform DER -out $1.der \
    -addext "subjectAltName=DNS:$1.example,IP:192.0.2.7,email:ops@example.com,URI:https://example.com/$1" \
    -addext "keyUsage=digitalSignature"
}
csr csr-printable rsa.key nombstr "secret-123"
csr csr-utf8 rsa.key utf8only "sécret-utf8"
csr csr-bmp ec.key default "Ωmega-€uro"

# Self-signed signer certificates (openssl req -x509 adds a subjectKeyIdentifier, needed for -keyid).
q openssl req -x509 -key rsa.key -out signer-rsa.pem -days 30 -subj "/CN=signer-rsa"
q openssl req -x509 -key ec.key -out signer-ec.pem -days 30 -subj "/CN=signer-ec"

# EnvelopedData with every content cipher, RSA PKCS#1 v1.5 and OAEP key transport.
for c in aes-128-cbc aes-192-cbc aes-256-cbc des-ede3-cbc; do
  q openssl cms -encrypt -binary -in csr-printable.der -outform DER -out env-$c.der -$c ca.pem
done
q openssl cms -encrypt -binary -in csr-printable.der -outform DER -out env-des-cbc.der -des "${legacy[@]}" ca.pem
q openssl cms -encrypt -binary -in csr-printable.der -outform DER -out env-oaep.der -aes-256-cbc \
  -recip ca.pem -keyopt rsa_padding_mode:oaep
q openssl cms -encrypt -binary -in csr-printable.der -outform DER -out env-other.der -aes-128-cbc other-ca.pem
q openssl cms -encrypt -binary -in csr-printable.der -outform DER -out env-camellia.der -camellia-128-cbc ca.pem
# BER: indefinite lengths and a constructed OCTET STRING.
q openssl cms -encrypt -binary -stream -in csr-printable.der -outform DER -out env-ber.der -aes-128-cbc ca.pem

# SignedData around an envelope: DER and BER, issuerAndSerialNumber and subjectKeyIdentifier, every digest,
# RSA PKCS#1 v1.5, RSA-PSS and ECDSA.
sign() {  # out signer key extra-args...
  local o=$1 s=$2 k=$3; shift 3
  q openssl cms -sign -binary -nodetach -nosmimecap -in env-aes-128-cbc.der -outform DER -out $o -signer $s -inkey $k "$@"
}
for md in md5 sha1 sha256 sha384 sha512; do sign sd-rsa-$md.der signer-rsa.pem rsa.key -md $md; done
sign sd-rsa-ber.der signer-rsa.pem rsa.key -md sha256 -stream
sign sd-rsa-keyid.der signer-rsa.pem rsa.key -md sha256 -keyid
sign sd-rsa-pss.der signer-rsa.pem rsa.key -md sha256 -keyopt rsa_padding_mode:pss
sign sd-ec.der signer-ec.pem ec.key -md sha256
sign sd-ec-sha384-ber-keyid.der signer-ec.pem ec.key -md sha384 -stream -keyid
echo "fixtures made in $out"
