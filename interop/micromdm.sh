#!/usr/bin/env bash
# Interop cases for micromdm's scepclient (Debian package `scep`). Started by run-all.sh (see lib.sh for the
# environment). Prints one `PASS|FAIL micromdm <case> <reason>` line per case; exits 1 if any case failed.
#
# What the client can and cannot do (details in README.md):
#   * no GetCACaps/GetCACert command: it calls both internally before every enrollment; we test them with curl;
#   * always DES-CBC + SHA-1, no options for either;
#   * POST when the caps list POSTPKIOperation, else GET. The gateway always lists it, so the GET case goes
#     through scep-proxy.py with POSTPKIOperation removed from the caps;
#   * renewal = rerun with the issued certificate in -certificate -> RenewalReq (17), same key;
#   * RSA keys only (an EC key file is refused), so no EC device-key case;
#   * polling (resending the PKCSReq every 30 s) follows PENDING: see pending.sh.
set -euo pipefail
CLIENT=micromdm
# shellcheck source=interop/lib.sh
source "$(dirname "$0")/lib.sh"
command -v scepclient >/dev/null || { fail setup "scepclient not installed (run interop/install-clients.sh)"; exit 1; }

mkdir -p "$WORK"
CA_PEM=$WORK/ca.pem

# scepclient DIR URL CN [extra args...]: enroll (or renew, if DIR/cert.pem exists) with the key in DIR.
# Output (stdout+stderr) goes to DIR/out.txt; returns the client's exit status.
scepclient_run() {
  local dir=$1 url=$2 cn=$3
  shift 3
  mkdir -p "$dir"
  timeout "$CLIENT_TIMEOUT" scepclient -server-url "$url" -challenge "${SCEP_CHALLENGE:-$CHALLENGE}" \
    -private-key "$dir/key.pem" -certificate "$dir/cert.pem" -cn "$cn" -organization Interop -debug "$@" \
    >"$dir/out.txt" 2>&1
}

# check_enrolled CASE DIR DATA LOG TYPE METHOD: the cert verifies, carries the CSR's subject/SANs, is listed by
# the gateway, and the gateway logged the expected message type and HTTP method for it.
check_enrolled() {
  local case=$1 dir=$2 data=$3 log=$4 type=$5 method=$6 why serial line
  if ! why=$(check_cert "$dir/cert.pem" "$CA_PEM" "$data" "$(csr_subject "$dir/csr.pem")" "$(csr_sans "$dir/csr.pem")"); then
    fail "$case" "$why"; return
  fi
  serial=$(openssl x509 -in "$dir/cert.pem" -noout -serial | sed 's/^serial=//')
  line=$(log_line_for_serial "$log" "$serial")
  if [[ $line != *" $method op=PKIOperation "*"type=$type "* ]]; then
    fail "$case" "gateway log does not show a $method $type for serial $serial: $line"; return
  fi
  pass "$case" "$type by $method, DES-CBC/SHA-1, serial $serial verified"
}

# GetCACaps: the client asks for it itself but has no command to print it; curl asks the same question.
if caps=$(curl -sSf --max-time 10 "$GW_URL?operation=GetCACaps") &&
  grep -qx POSTPKIOperation <<<"$caps" && grep -qx Renewal <<<"$caps"; then
  pass getcacaps "via curl (no client command; scepclient asks internally before enrolling)"
else
  fail getcacaps "caps: ${caps:-<none>}"
fi

# GetCACert: same, with curl; a single DER certificate for an RSA CA.
if fetch_ca_pem "$GW_URL" "$CA_PEM" && cmp -s <(openssl x509 -in "$CA_PEM" -outform DER) <(openssl x509 -in "$GW_DATA/ca.pem" -outform DER); then
  pass getcacert "via curl (no client command); DER CA cert equals the gateway's ca.pem"
else
  fail getcacert "GetCACert answer is not the gateway's CA certificate"
fi

# First enrollment by POST (the gateway lists POSTPKIOperation).
D=$WORK/post
if scepclient_run "$D" "$GW_URL" "mm-post-$RUN_ID"; then
  check_enrolled enroll-des-sha1-post "$D" "$GW_DATA" "$GW_LOG" PKCSReq POST
else
  fail enroll-des-sha1-post "scepclient exit $?: $(tail -n 1 "$D/out.txt")"
fi

# Renewal: rerunning with the issued certificate in -certificate sends a RenewalReq signed by it.
if [[ -s $D/cert.pem ]]; then
  old=$(openssl x509 -in "$D/cert.pem" -noout -serial)
  if scepclient_run "$D" "$GW_URL" "mm-post-$RUN_ID"; then
    if [[ $(openssl x509 -in "$D/cert.pem" -noout -serial) == "$old" ]]; then
      fail renewal "certificate not replaced"
    else
      check_enrolled renewal "$D" "$GW_DATA" "$GW_LOG" RenewalReq POST
    fi
  else
    fail renewal "scepclient exit $?: $(tail -n 1 "$D/out.txt")"
  fi
else
  fail renewal "no certificate from the first enrollment to renew"
fi

# First enrollment by GET: only when the caps lack POSTPKIOperation, so through the caps-filtering proxy
# (SCEPStandard goes too: it implies POST, and scepclient honours that).
# The message then travels base64url-encoded in the query string.
D=$WORK/get
if scepclient_run "$D" "$PROXY_URL/drop=POSTPKIOperation,SCEPStandard/scep" "mm-get-$RUN_ID"; then
  check_enrolled enroll-des-sha1-get "$D" "$GW_DATA" "$GW_LOG" PKCSReq GET
else
  fail enroll-des-sha1-get "scepclient exit $?: $(tail -n 1 "$D/out.txt")"
fi

# Wrong challenge: the client must report the FAILURE and the gateway must store nothing.
D=$WORK/wrong
before=$(cert_count "$GW_DATA")
if SCEP_CHALLENGE="not-$CHALLENGE" scepclient_run "$D" "$GW_URL" "mm-wrong-$RUN_ID"; then
  fail wrong-challenge "scepclient exited 0 with a wrong challenge"
else
  after=$(cert_count "$GW_DATA")
  msg=$(grep -v '^level=\|^ts=' "$D/out.txt" | tail -n 1)
  if [[ $msg == *"failInfo: badRequest"* && $before == "$after" && ! -s $D/cert.pem ]]; then
    pass wrong-challenge "client reports '$msg'; store still $after certificate(s)"
  else
    fail wrong-challenge "client said '$msg'; store $before -> $after"
  fi
fi

# EC CA: GetCACert returns CA + RA. scepclient encrypts to every certificate it got unless -ca-fingerprint
# picks one, and panics on the EC CA key, so it is pointed at the RSA RA certificate.
D=$WORK/ecca
mkdir -p "$D"
if fetch_ca_pem "$GW_EC_URL" "$D/ca.pem"; then
  ra=""
  for c in "$D"/getcacert-*.pem; do
    cmp -s "$c" "$D/ca.pem" || ra=$c
  done
  fp=$(openssl x509 -in "$ra" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
  if scepclient_run "$D" "$GW_EC_URL" "mm-ecca-$RUN_ID" -ca-fingerprint "$fp"; then
    CA_PEM=$D/ca.pem check_enrolled ec-ca-ra "$D" "$GW_EC_DATA" "$GW_EC_LOG" PKCSReq POST
  else
    fail ec-ca-ra "scepclient exit $?: $(grep -v '^level=\|^ts=' "$D/out.txt" | tail -n 1)"
  fi
else
  fail ec-ca-ra "GetCACert of the EC gateway is not CA+RA"
fi

exit $((FAILURES > 0))
