#!/usr/bin/env bash
# Captures one real PKCSReq from each client into tests/fixtures/<client>/ (run once, by hand; the files are
# committed and read by tests/scep/client_fixtures_test.cpp).
#
#   interop/capture-fixtures.sh [path-to-scep-gateway]
#
# A throwaway gateway (fresh `ca init --key rsa:2048` data dir, challenge "fixture-secret") sits behind
# scep-proxy.py, which saves every PKIOperation message (POST body, or the decoded GET `message`). Each
# client enrolls once; its first message, the CA cert and key that decrypt it, and a README.md describing it
# are written to tests/fixtures/<client>/. Running it again replaces them with new captures (and the
# values in client_fixtures_test.cpp then need updating from the new READMEs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GW_BIN=${1:-$HERE/../build-interop/gateway/scep-gateway}
[[ -x $GW_BIN ]] || { echo "scep-gateway not found at $GW_BIN" >&2; exit 2; }
FIXTURES=$HERE/../tests/fixtures
CHALLENGE=fixture-secret

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scep-capture.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}" $(cat "$TMP"/*/proxy.pid "$TMP/cm/certmonger.pid" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_listen() { # log -> port
  local i
  for ((i = 0; i < 100; i++)); do
    grep -qo 'listening on 127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null && break
    sleep 0.1
  done
  grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$1" | head -n 1 | sed 's/.*://'
}

"$GW_BIN" ca init --data-dir "$TMP/gw" --key rsa:2048 --subject "CN=Fixture Capture CA,O=Fixtures" >/dev/null
"$GW_BIN" serve --data-dir "$TMP/gw" --listen 127.0.0.1:0 --challenge "$CHALLENGE" >"$TMP/gw.log" 2>&1 &
PIDS+=($!)
UPSTREAM=http://127.0.0.1:$(wait_listen "$TMP/gw.log")

# One proxy per client, so that each client's messages land in their own directory.
proxy_for() { # client -> URL
  mkdir -p "$TMP/$1/saved"
  python3 "$HERE/scep-proxy.py" --upstream "$UPSTREAM" --save-dir "$TMP/$1/saved" >"$TMP/$1/proxy.log" 2>&1 &
  # Called as $(proxy_for ...), i.e. in a subshell: PIDS would not survive, so the pid goes to a file.
  echo $! >"$TMP/$1/proxy.pid"
  echo "http://127.0.0.1:$(wait_listen "$TMP/$1/proxy.log")/scep"
}

# micromdm: DES + SHA-1 by POST, always.
URL=$(proxy_for micromdm)
scepclient -server-url "$URL" -challenge "$CHALLENGE" -private-key "$TMP/micromdm/key.pem" \
  -certificate "$TMP/micromdm/cert.pem" -cn micromdm-fixture -organization Fixtures -ou Interop
MICROMDM_HOW="scepclient -server-url URL -challenge $CHALLENGE -private-key key.pem -certificate cert.pem -cn micromdm-fixture -organization Fixtures -ou Interop"

# strongSwan: 3DES (its AES is unusable in 5.9.8) + SHA-256 by POST.
URL=$(proxy_for strongswan)
curl -sSf "$UPSTREAM/scep?operation=GetCACert" -o "$TMP/ca.der"
pki --gen --type rsa --size 2048 --outform pem >"$TMP/strongswan/key.pem"
pki --scep --url "$URL" --in "$TMP/strongswan/key.pem" --dn "O=Fixtures, CN=strongswan-fixture" \
  --san strongswan-fixture.fixtures.test --password "$CHALLENGE" --cacert-enc "$TMP/ca.der" \
  --cacert-sig "$TMP/ca.der" --cipher des3 --digest sha256 >"$TMP/strongswan/cert.der" 2>"$TMP/strongswan/err.txt"
STRONGSWAN_HOW="pki --scep --url URL --in key.pem --dn \"O=Fixtures, CN=strongswan-fixture\" --san strongswan-fixture.fixtures.test --password $CHALLENGE --cacert-enc ca.der --cacert-sig ca.der --cipher des3 --digest sha256"

# certmonger: a private daemon; AES-256 + SHA-256 by GET (its defaults with the gateway's caps).
URL=$(proxy_for certmonger)
D=$TMP/cm
mkdir -p "$D/requests" "$D/cas" "$D/tmp" "$D/local" "$D/out"
openssl x509 -inform DER -in "$TMP/ca.der" -out "$D/ca.pem"
env CERTMONGER_SYSTEM_LOCK_FILE="$D/lock" CERTMONGER_REQUESTS_DIR="$D/requests" CERTMONGER_CAS_DIR="$D/cas" \
  CERTMONGER_TMPDIR="$D/tmp" CERTMONGER_LOCAL_CA_DIR="$D/local" CERTMONGER_CONFIG_DIR="$D" \
  certmonger -d 1 -L -P "$D/sock" >"$D/daemon.log" 2>&1 &
echo $! >"$D/certmonger.pid"
export CERTMONGER_PVT_ADDRESS=unix:path=$D/sock
for ((i = 0; i < 100; i++)); do [[ -S $D/sock ]] && break; sleep 0.1; done
getcert add-scep-ca -c fixture -u "$URL" -N "$D/ca.pem" >/dev/null
getcert request -c fixture -I fixture -k "$D/out/key.pem" -f "$D/out/cert.pem" -N "CN=certmonger-fixture,O=Fixtures" \
  -D certmonger-fixture.fixtures.test -L "$CHALLENGE" -G rsa -g 2048 >/dev/null
for ((i = 0; i < 200; i++)); do
  [[ $(getcert list -i fixture | sed -n 's/^[[:space:]]*status: //p') == MONITORING ]] && break
  sleep 0.3
done
CERTMONGER_HOW="getcert add-scep-ca -c fixture -u URL -N ca.pem; getcert request -c fixture -k key.pem -f cert.pem -N \"CN=certmonger-fixture,O=Fixtures\" -D certmonger-fixture.fixtures.test -L $CHALLENGE -G rsa -g 2048 (private daemon, see interop/certmonger.sh)"

# The SCEP transactionID, digest and content cipher of a message, read back with the openssl CLI.
attr_value() { # der oid
  openssl cms -cmsout -print -inform DER -in "$1" |
    awk -v oid="($2)" 'index($0, "object: ") && index($0, oid) {f = 1} f && /PRINTABLESTRING:/ {sub(/.*PRINTABLESTRING:/, ""); print; exit}'
}
describe() { # client how
  local dir=$FIXTURES/$1 msg method txid digest cipher inner sans cp
  msg=$(ls "$TMP/$1"/saved/001-*.der)
  method=$(basename "$msg" .der | sed 's/^001-//' | tr '[:lower:]' '[:upper:]')
  mkdir -p "$dir"
  cp "$msg" "$dir/$1-pkcsreq.der"
  [[ $method == GET ]] && cp "${msg%.der}.query.txt" "$dir/$1-pkcsreq.query.txt"
  cp "$TMP/gw/ca.pem" "$TMP/gw/ca.key" "$dir/"
  txid=$(attr_value "$msg" 2.16.840.1.113733.1.9.7)
  digest=$(openssl cms -cmsout -print -inform DER -in "$msg" | awk '/digest_algorithm|digestAlgorithm/ {getline; sub(/.*algorithm: /, ""); print; exit}')
  openssl cms -verify -noverify -inform DER -in "$msg" -out "$TMP/$1/envelope.der" 2>/dev/null
  cipher=$(openssl cms -cmsout -print -inform DER -in "$TMP/$1/envelope.der" | awk '/contentEncryptionAlgorithm/ {getline; sub(/.*algorithm: /, ""); print; exit}')
  openssl cms -decrypt -provider legacy -provider default -inform DER -in "$TMP/$1/envelope.der" \
    -recip "$dir/ca.pem" -inkey "$dir/ca.key" -out "$TMP/$1/csr.der"
  inner=$(openssl req -inform DER -in "$TMP/$1/csr.der" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
  sans=$(openssl req -inform DER -in "$TMP/$1/csr.der" -noout -text | awk '/Subject Alternative Name/ {getline; gsub(/^ +/, ""); print; exit}')
  cp=$(openssl req -inform DER -in "$TMP/$1/csr.der" -noout -text | awk '/challengePassword/ {sub(/.*:/, ""); print; exit}')
  cat >"$dir/README.md" <<EOT
# $1 wire capture (test data)

\`$1-pkcsreq.der\` is one PKCSReq (messageType 19) pkiMessage exactly as the real client sent it (the
$method $( [[ $method == GET ]] && echo "request's \`message\` parameter, base64-decoded; \`$1-pkcsreq.query.txt\` is the raw query string" || echo "body")),
captured on $(date -u +%Y-%m-%d) on Debian 12 over plain HTTP on 127.0.0.1 by \`interop/capture-fixtures.sh\`:
scep-proxy.py saved it on its way to a throwaway scep-gateway.

**\`ca.key\` is a throwaway key made only for these fixtures (\`scep-gateway ca init --key rsa:2048\`). Never
trust it anywhere.** \`ca.pem\` is its certificate (\`$(openssl x509 -in "$dir/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')\`), the recipient of the
pkcsPKIEnvelope; the same CA is used for all three clients' fixtures.

Client invocation (URL = the proxy):

    $2

| | |
|---|---|
| client | $(case $1 in micromdm) dpkg-query -W -f='scep ${Version}' scep ;; strongswan) dpkg-query -W -f='strongswan-pki ${Version}' strongswan-pki ;; certmonger) dpkg-query -W -f='certmonger ${Version}' certmonger ;; esac) |
| messageType | 19 (PKCSReq) |
| HTTP method | $method |
| transactionID | \`$txid\` |
| digest | $digest |
| content cipher | $cipher |
| signer | self-signed certificate $(openssl cms -cmsout -print -inform DER -in "$msg" | awk '/subject:/ {sub(/^ *subject: /, ""); print; exit}') |
| CSR subject (RFC 2253) | \`$inner\` |
| CSR subjectAltName | ${sans:-none} |
| challengePassword | \`${cp}\` |

Decrypt by hand:

    openssl cms -verify -noverify -inform DER -in $1-pkcsreq.der -out envelope.der
    openssl cms -decrypt -provider legacy -provider default -inform DER -in envelope.der -recip ca.pem -inkey ca.key -out csr.der
EOT
  echo "$1: $method txid=$txid digest=$digest cipher=$cipher subject=$inner sans=${sans:-none} challenge=$cp"
}
describe micromdm "$MICROMDM_HOW"
describe strongswan "$STRONGSWAN_HOW"
describe certmonger "$CERTMONGER_HOW"
