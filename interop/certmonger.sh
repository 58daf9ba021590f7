#!/usr/bin/env bash
# Interop cases for certmonger 0.79 (Debian 12): its SCEP helper for GetCACaps/GetCACert, and a private
# certmonger daemon (no D-Bus, no systemd) driven by getcert for enrollment. Started by run-all.sh
# (environment: see lib.sh).
#
# What the client can and cannot do (details in README.md):
#   * PKIOperation always by GET, whatever the caps say;
#   * cipher: AES-256 if the caps list AES, else 3DES if DES3, else still AES-256 (never single DES). The
#     gateway lists AES, so the 3DES cases go through scep-proxy.py, which removes AES from GetCACaps;
#   * digest: SHA-256 if the caps list it; otherwise the `digest` of certmonger.conf (default sha256) if the
#     caps list that one (so SHA-1 and SHA-512 need the proxy too);
#   * renewal (`getcert rekey`) is a PKCSReq (19) with a new key, signed by the current certificate;
#   * an EC key is refused by the daemon itself (status NEED_SCEP_RSA_CLIENT_KEY), so no EC device key;
#   * the daemon asks again only after a PENDING reply: see pending.sh;
set -euo pipefail
CLIENT=certmonger
# shellcheck source=interop/lib.sh
source "$(dirname "$0")/lib.sh"
HELPER=/usr/lib/certmonger/scep-submit
if ! command -v certmonger >/dev/null || ! command -v getcert >/dev/null || [[ ! -x $HELPER ]]; then
  fail setup "certmonger not installed (run interop/install-clients.sh)"
  exit 1
fi

# A private daemon (lib.sh: certmonger_start), its state in $D.
D=$WORK
# The daemon reads certmonger.conf ([defaults] digest) only when it starts, so a case that needs another
# digest restarts it (its state stays in $D).
DAEMON_DIGEST=""
stop_daemon() { certmonger_stop "$D"; }
start_daemon() { # digest
  certmonger_start "$D" "$1" || { fail setup "certmonger daemon did not start: $(tail -n 1 "$D/daemon.log")"; exit 1; }
  DAEMON_DIGEST=$1
}
trap stop_daemon EXIT
export CERTMONGER_PVT_ADDRESS=unix:path=$D/sock
start_daemon sha256

# Final status of a request, waiting at most CLIENT_TIMEOUT seconds (the daemon works asynchronously).
# With a cert file and a serial, also waits until the file holds a certificate with another serial (rekey starts from
# MONITORING, so the status alone does not tell that the new certificate has arrived).
wait_status() { # id [cert_file old_serial]
  local s serial deadline=$((SECONDS + CLIENT_TIMEOUT))
  while ((SECONDS < deadline)); do
    s=$(getcert list -i "$1" | sed -n 's/^[[:space:]]*status: //p')
    case $s in
      MONITORING)
        [[ -z ${2:-} ]] && { echo "$s"; return; }
        serial=$(openssl x509 -in "$2" -noout -serial 2>/dev/null | sed 's/^serial=//')
        [[ -n $serial && $serial != "$3" ]] && { echo "$s"; return; }
        ;;
      CA_REJECTED | CA_UNREACHABLE | CA_UNCONFIGURED | NEED_GUIDANCE | NEED_*KEY*) echo "$s"; return ;;
    esac
    sleep 0.3
  done
  echo "TIMEOUT($s)"
}
ca_error() { certmonger_ca_error "$1"; }

# The CSR the daemon built, from its request file (the file is named by date, so find it by id).
request_csr() { certmonger_csr "$D" "$@"; } # id out

# Daemon log lines written since byte offset $1 (to see which cipher/digest it picked for one request).
log_since() { tail -c +"$(($1 + 1))" "$D/daemon.log"; }

# enroll CASE CA_NAME CA_PEM DATA LOG CIPHER DIGEST: request a certificate, check it and the algorithms.
# When the caps lack SHA-256, the daemon takes the digest of certmonger.conf ([defaults] digest) if the caps
# list it; enroll restarts the daemon with the case's digest there.
enroll() {
  local case=$1 ca=$2 ca_pem=$3 data=$4 log=$5 cipher=$6 digest=$7 id cn off st why serial line algs conf_digest
  id=$case
  cn=cm-$case-$RUN_ID
  conf_digest=$(tr -d - <<<"${digest,,}")
  [[ $conf_digest == "$DAEMON_DIGEST" ]] || start_daemon "$conf_digest"
  off=$(stat -c %s "$D/daemon.log")
  getcert request -c "$ca" -I "$id" -k "$D/out/$id.key" -f "$D/out/$id.pem" -N "CN=$cn,O=Interop" \
    -D "$cn.example.org" -L "$CHALLENGE" -G rsa -g 2048 >/dev/null
  st=$(wait_status "$id")
  [[ $st == MONITORING ]] || { fail "$case" "status $st: $(ca_error "$id")"; return; }
  request_csr "$id" "$D/out/$id.csr"
  if ! why=$(check_cert "$D/out/$id.pem" "$ca_pem" "$data" "$(csr_subject "$D/out/$id.csr")" "$(csr_sans "$D/out/$id.csr")"); then
    fail "$case" "$why"; return
  fi
  # "Server supports AES, using AES256." / "Server supports SHA-512, using that."
  algs=$(log_since "$off" | grep -o 'Server supports [^,]*, using [A-Za-z0-9-]*' |
    sed 's/Server supports \(.*\), using that/\1/; s/Server supports .*, using //' | paste -sd/ -)
  [[ $algs == "$cipher/$digest" ]] || { fail "$case" "daemon chose '$algs', expected $cipher/$digest"; return; }
  serial=$(openssl x509 -in "$D/out/$id.pem" -noout -serial | sed 's/^serial=//')
  line=$(log_line_for_serial "$log" "$serial")
  [[ $line == *" GET op=PKIOperation "*"type=PKCSReq "* ]] ||
    { fail "$case" "gateway log does not show a GET PKCSReq for serial $serial: $line"; return; }
  pass "$case" "PKCSReq by GET, $cipher/$digest, serial $serial verified"
}

# GetCACaps and GetCACert with the helper's own commands.
if caps=$(timeout "$CLIENT_TIMEOUT" "$HELPER" -u "$GW_URL" -c) && grep -qx AES <<<"$caps" && grep -qx SHA-256 <<<"$caps"; then
  pass getcacaps "scep-submit -c: $(paste -sd' ' - <<<"$caps")"
else
  fail getcacaps "scep-submit -c: ${caps:-<none>}"
fi
CA_PEM=$D/ca.pem
if timeout "$CLIENT_TIMEOUT" "$HELPER" -u "$GW_URL" -C >"$D/getcacert.pem" &&
  openssl x509 -in "$D/getcacert.pem" -out "$CA_PEM" &&
  cmp -s <(openssl x509 -in "$CA_PEM" -outform DER) <(openssl x509 -in "$GW_DATA/ca.pem" -outform DER); then
  pass getcacert "scep-submit -C: CA cert equals the gateway's ca.pem"
else
  fail getcacert "scep-submit -C did not return the gateway's CA certificate"
fi

# One SCEP "CA" per caps view. With a lone CA certificate in GetCACert the daemon takes it for the RA cert
# and cannot verify the reply unless -N names the CA certificate too (see CLIENTS.md).
add_ca() { getcert add-scep-ca -c "$1" -u "$2" "${@:3}" >/dev/null; }
add_ca gw "$GW_URL" -N "$CA_PEM"
# The daemon takes SHA-256 whenever the caps list it, and 3DES only when they lack AES. The gateway lists
# both, so the other combinations go through the proxy with those keywords removed from GetCACaps.
add_ca gw-no-sha256 "$PROXY_URL/drop=SHA-256/scep" -N "$CA_PEM"
add_ca gw-no-aes "$PROXY_URL/drop=AES/scep" -N "$CA_PEM"
add_ca gw-no-aes-sha256 "$PROXY_URL/drop=AES,SHA-256/scep" -N "$CA_PEM"

enroll enroll-aes256-sha256-get gw "$CA_PEM" "$GW_DATA" "$GW_LOG" AES256 SHA-256
enroll enroll-aes256-sha1-get gw-no-sha256 "$CA_PEM" "$GW_DATA" "$GW_LOG" AES256 SHA-1
enroll enroll-aes256-sha512-get gw-no-sha256 "$CA_PEM" "$GW_DATA" "$GW_LOG" AES256 SHA-512
enroll enroll-3des-sha256-get gw-no-aes "$CA_PEM" "$GW_DATA" "$GW_LOG" DES3 SHA-256
enroll enroll-3des-sha1-get gw-no-aes-sha256 "$CA_PEM" "$GW_DATA" "$GW_LOG" DES3 SHA-1

# Renewal: rekey the first request; the daemon sends a PKCSReq with a new key signed by the current cert.
id=enroll-aes256-sha256-get
start_daemon sha256
if [[ -s $D/out/$id.pem ]]; then
  old=$(openssl x509 -in "$D/out/$id.pem" -noout -serial | sed 's/^serial=//')
  oldkey=$(openssl pkey -in "$D/out/$id.key" -pubout | sha256sum)
  getcert rekey -i "$id" -L "$CHALLENGE" >/dev/null
  st=$(wait_status "$id" "$D/out/$id.pem" "$old")
  if [[ $st != MONITORING ]]; then
    fail renewal "status $st: $(ca_error "$id")"
  elif [[ $(openssl pkey -in "$D/out/$id.key" -pubout | sha256sum) == "$oldkey" ]]; then
    fail renewal "rekey kept the old key"
  else
    request_csr "$id" "$D/out/renew.csr"
    serial=$(openssl x509 -in "$D/out/$id.pem" -noout -serial | sed 's/^serial=//')
    if ! why=$(check_cert "$D/out/$id.pem" "$CA_PEM" "$GW_DATA" "$(csr_subject "$D/out/renew.csr")" "$(csr_sans "$D/out/renew.csr")"); then
      fail renewal "$why"
    elif [[ $(log_line_for_serial "$GW_LOG" "$serial") != *" GET op=PKIOperation "*"type=PKCSReq "* ]]; then
      fail renewal "gateway log does not show a GET PKCSReq for serial $serial"
    else
      pass renewal "getcert rekey: PKCSReq by GET with a new key, signed by serial $old; new serial $serial verified"
    fi
  fi
else
  fail renewal "no certificate from enroll-aes256-sha256-get to renew"
fi

# Wrong challenge: CA_REJECTED, and nothing stored.
before=$(cert_count "$GW_DATA")
getcert request -c gw -I wrong -k "$D/out/wrong.key" -f "$D/out/wrong.pem" -N "CN=cm-wrong-$RUN_ID,O=Interop" \
  -L "not-$CHALLENGE" -G rsa -g 2048 >/dev/null
st=$(wait_status wrong)
after=$(cert_count "$GW_DATA")
if [[ $st == CA_REJECTED && $before == "$after" && ! -s $D/out/wrong.pem ]]; then
  pass wrong-challenge "status CA_REJECTED ('$(ca_error wrong)'); store still $after certificate(s)"
else
  fail wrong-challenge "status $st ($(ca_error wrong)); store $before -> $after"
fi

# EC CA: GetCACert returns CA + RA; with that the daemon needs no -N (it takes the RA from the bundle).
if timeout "$CLIENT_TIMEOUT" "$HELPER" -u "$GW_EC_URL" -C >"$D/ec-getcacert.pem" && fetch_ca_pem "$GW_EC_URL" "$D/ecca.pem"; then
  add_ca gw-ec "$GW_EC_URL"
  enroll ec-ca-ra gw-ec "$D/ecca.pem" "$GW_EC_DATA" "$GW_EC_LOG" AES256 SHA-256
else
  fail ec-ca-ra "GetCACert of the EC gateway failed"
fi

exit $((FAILURES > 0))
