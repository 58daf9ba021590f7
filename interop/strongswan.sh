#!/usr/bin/env bash
# Interop cases for strongSwan `pki --scepca` / `pki --scep` (Debian 12: strongswan-pki 5.9.8 plus
# libstrongswan-extra-plugins for the curl fetcher, libstrongswan-standard-plugins for the openssl plugin that reads
# EC certificates). Started by run-all.sh (environment: see lib.sh).
#
# What the client can and cannot do (details in README.md):
#   * `pki --scepca` fetches GetCACert (and writes the RA cert separately); there is no caps command, so
#     GetCACaps is checked with curl and, indirectly, by every enrollment (pki asks for caps first);
#   * 5.9.8 tests the caps with the wrong bit masks: `--cipher aes` always fails inside the client
#     ("AES_CBC encryption algorithm not supported by CA") and it never uses GET once the caps hold AES,
#     DES3 or SHA-256. So the cases are 3DES with SHA-1, SHA-256 and SHA-512, all by POST;
#   * renewal: a new key, signed by the old cert/key -> RenewalReq (17);
#   * RSA keys only (`--scep` refuses an ECDSA key); polling (CertPoll) after PENDING is in pending.sh.
set -euo pipefail
CLIENT=strongswan
# shellcheck source=interop/lib.sh
source "$(dirname "$0")/lib.sh"
command -v pki >/dev/null || { fail setup "pki not installed (run interop/install-clients.sh)"; exit 1; }

mkdir -p "$WORK"
W=$WORK

# pki prints harmless "plugin ... failed to load" / TPM lines on stderr; keep the rest for failure reasons.
last_error() { grep -v "plugin '\|TPM 2.0\|^ *using \|^ *reached " "$1" | tail -n 1; }

newkey() { timeout "$CLIENT_TIMEOUT" pki --gen --type rsa --size 2048 --outform pem >"$1"; }

# enroll CASE URL CA_SIG CA_ENC DN SAN OUT [pki args...]: run pki --scep with a fresh key in OUT.key.
enroll() {
  local case=$1 url=$2 ca_sig=$3 ca_enc=$4 dn=$5 san=$6 out=$7
  shift 7
  newkey "$out.key"
  timeout "$CLIENT_TIMEOUT" pki --scep --url "$url" --in "$out.key" --dn "$dn" --san "$san" \
    --password "${SCEP_CHALLENGE:-$CHALLENGE}" --cacert-sig "$ca_sig" --cacert-enc "$ca_enc" \
    --outform pem "$@" >"$out.pem" 2>"$out.err"
}

# check CASE CERT CA_PEM DATA LOG TYPE EXPECTED_SUBJECT SAN WHAT: the cert checks (lib.sh) plus the gateway
# log shows the message type by POST. pki keeps no CSR on disk, so subject and SAN are the ones given to it.
check() {
  local case=$1 cert=$2 ca=$3 data=$4 log=$5 type=$6 subject=$7 san=$8 what=$9 why serial line
  if ! why=$(check_cert "$cert" "$ca" "$data" "$subject" "DNS:$san"); then
    fail "$case" "$why"; return
  fi
  serial=$(openssl x509 -in "$cert" -noout -serial | sed 's/^serial=//')
  line=$(log_line_for_serial "$log" "$serial")
  if [[ $line != *" POST op=PKIOperation "*"type=$type "* ]]; then
    fail "$case" "gateway log does not show a POST $type for serial $serial: $line"; return
  fi
  pass "$case" "$type by POST, $what, serial $serial verified"
}

# GetCACaps: no pki command for it; curl asks what pki asks before each enrollment.
if caps=$(curl -sSf --max-time 10 "$GW_URL?operation=GetCACaps") &&
  grep -qx AES <<<"$caps" && grep -qx DES3 <<<"$caps" && grep -qx SHA-256 <<<"$caps"; then
  pass getcacaps "via curl (no client command); lists AES, DES3 and SHA-256, which pki 5.9.8 needs"
else
  fail getcacaps "caps: ${caps:-<none>}"
fi

# GetCACert with the client itself.
if timeout "$CLIENT_TIMEOUT" pki --scepca --url "$GW_URL" --caout "$W/ca.der" >"$W/scepca.out" 2>&1 &&
  openssl x509 -inform DER -in "$W/ca.der" -out "$W/ca.pem" &&
  cmp -s "$W/ca.der" <(openssl x509 -in "$GW_DATA/ca.pem" -outform DER); then
  pass getcacert "pki --scepca: CA cert equals the gateway's ca.pem"
else
  fail getcacert "pki --scepca: $(last_error "$W/scepca.out")"
fi

# First enrollments: 3DES with each digest (AES is unusable in this client version, see above).
for digest in sha1 sha256 sha512; do
  case=enroll-3des-$digest-post
  cn=ss-$digest-$RUN_ID
  if enroll "$case" "$GW_URL" "$W/ca.der" "$W/ca.der" "C=US, O=Interop, CN=$cn" "$cn.example.org" "$W/$digest" \
    --cipher des3 --digest "$digest"; then
    check "$case" "$W/$digest.pem" "$W/ca.pem" "$GW_DATA" "$GW_LOG" PKCSReq "CN=$cn,O=Interop,C=US" \
      "$cn.example.org" "3DES/${digest^^}"
  else
    fail "$case" "pki exit $?: $(last_error "$W/$digest.err")"
  fi
done

# Renewal: a new key in --in, the old certificate and key sign the RenewalReq.
if [[ -s $W/sha256.pem ]]; then
  cn=ss-sha256-$RUN_ID
  if enroll renewal "$GW_URL" "$W/ca.der" "$W/ca.der" "C=US, O=Interop, CN=$cn" "$cn.example.org" "$W/renew" \
    --cipher des3 --cert "$W/sha256.pem" --key "$W/sha256.key"; then
    check renewal "$W/renew.pem" "$W/ca.pem" "$GW_DATA" "$GW_LOG" RenewalReq "CN=$cn,O=Interop,C=US" \
      "$cn.example.org" "new key, signed by the old certificate"
  else
    fail renewal "pki exit $?: $(last_error "$W/renew.err")"
  fi
else
  fail renewal "no certificate from enroll-3des-sha256-post to renew"
fi

# Wrong challenge: pki must fail on the FAILURE reply and the gateway must store nothing.
before=$(cert_count "$GW_DATA")
cn=ss-wrong-$RUN_ID
if SCEP_CHALLENGE="not-$CHALLENGE" enroll wrong-challenge "$GW_URL" "$W/ca.der" "$W/ca.der" \
  "C=US, O=Interop, CN=$cn" "$cn.example.org" "$W/wrong" --cipher des3; then
  fail wrong-challenge "pki exited 0 with a wrong challenge"
else
  after=$(cert_count "$GW_DATA")
  if grep -q "failInfo: *badRequest" "$W/wrong.err" && [[ $before == "$after" && ! -s $W/wrong.pem ]]; then
    pass wrong-challenge "client reports '$(grep -o 'failInfo:.*' "$W/wrong.err" | tr -s ' ')'; store still $after certificate(s)"
  else
    fail wrong-challenge "client said '$(last_error "$W/wrong.err")'; store $before -> $after"
  fi
fi

# EC CA: --scepca writes the CA and the RSA RA cert; the RA decrypts requests and signs replies.
if timeout "$CLIENT_TIMEOUT" pki --scepca --url "$GW_EC_URL" --caout "$W/ecca.der" --raout "$W/ecra.der" \
  >"$W/ecca.out" 2>&1 && openssl x509 -inform DER -in "$W/ecca.der" -out "$W/ecca.pem"; then
  cn=ss-ecca-$RUN_ID
  if enroll ec-ca-ra "$GW_EC_URL" "$W/ecra.der" "$W/ecra.der" "C=US, O=Interop, CN=$cn" "$cn.example.org" \
    "$W/ecca-cert" --cacert "$W/ecca.der" --cipher des3; then
    check ec-ca-ra "$W/ecca-cert.pem" "$W/ecca.pem" "$GW_EC_DATA" "$GW_EC_LOG" PKCSReq "CN=$cn,O=Interop,C=US" \
      "$cn.example.org" "3DES/SHA256 to the RSA RA of an EC CA"
  else
    fail ec-ca-ra "pki exit $?: $(last_error "$W/ecca-cert.err")"
  fi
else
  fail ec-ca-ra "pki --scepca (CA+RA): $(last_error "$W/ecca.out")"
fi

exit $((FAILURES > 0))
