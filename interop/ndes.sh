#!/usr/bin/env bash
# NDES compatibility: every real client against a gateway started from examples/ndes.yaml (run-all.sh starts it
# with a fresh data dir and one admin user; environment: see lib.sh). The result lines name the real client
# (micromdm, strongswan, certmonger) or ndes-scraper for the admin page.
#
# What NDES mode means for the clients:
#   * URL http://HOST/certsrv/mscep/mscep.dll;
#   * GetCACert = CA + encryption RA (keyEncipherment) + signing RA (digitalSignature), requests are decrypted
#     with the encryption RA and CertReps signed by the signing RA;
#   * one-time challenge passwords scraped from /certsrv/mscep_admin/ (ndes-scraper.py), at most 5 unused.
# The data dir is fresh, so the first five scrapes fill the password cache; the enrollments then use those
# five passwords (each still unused, so "fresh"), which also shows that a used password frees a place.
set -euo pipefail
# shellcheck source=interop/lib.sh
source "$(dirname "$0")/lib.sh"
: "${NDES_BASE:?}" "${NDES_URL:?}" "${NDES_DATA:?}" "${NDES_LOG:?}" "${NDES_ADMIN_USER:?}" "${NDES_ADMIN_PASSWORD:?}"
SCRAPER=$(cd "$(dirname "$0")" && pwd)/ndes-scraper.py
W=$WORK
mkdir -p "$W"

# scrape [scraper options...]: one password on stdout; the scraper's complaint (page text) in $W/scrape.err.
scrape() {
  timeout "$CLIENT_TIMEOUT" python3 "$SCRAPER" "$@" "$NDES_BASE" "$NDES_ADMIN_USER" "${ADMIN_PASSWORD:-$NDES_ADMIN_PASSWORD}" \
    2>"$W/scrape.err"
}

# The gateway log line of the enrollment that issued the certificate in CERT: PKCSReq, SUCCESS.
logged_pkcsreq() { # cert
  local serial
  serial=$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//')
  [[ $(log_line_for_serial "$NDES_LOG" "$serial") == *" op=PKIOperation "*"type=PKCSReq "*"outcome=SUCCESS "* ]]
}

# ---------------------------------------------------------------------------------------------------- admin page
CLIENT=ndes-scraper
CA_PEM=$W/ca.pem
fetch_ca_pem "$NDES_URL" "$CA_PEM" || { fail setup "GetCACert of the NDES gateway has no self-signed CA"; exit 1; }
PASSWORDS=()
for ((i = 0; i < 5; i++)); do
  pw=$(scrape --thumbprint-out "$W/thumbprint.txt") || break
  PASSWORDS+=("$pw")
done
ca_sha1=$(openssl x509 -in "$CA_PEM" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
if [[ ${#PASSWORDS[@]} -ne 5 ]]; then
  fail password-and-thumbprint "scrape $((${#PASSWORDS[@]} + 1)) of 5 failed: $(cat "$W/scrape.err")"
elif [[ $(cat "$W/thumbprint.txt") != "$ca_sha1" ]]; then
  fail password-and-thumbprint "thumbprint $(cat "$W/thumbprint.txt") is not the SHA-1 of the GetCACert CA ($ca_sha1)"
elif [[ $(printf '%s\n' "${PASSWORDS[@]}" | sort -u | wc -l) -ne 5 ]] ||
  printf '%s\n' "${PASSWORDS[@]}" | grep -qvx '[0-9A-F]\{16\}'; then
  fail password-and-thumbprint "passwords not 5 distinct 16-hex-digit strings: ${PASSWORDS[*]}"
else
  pass password-and-thumbprint "5 passwords from the UTF-16LE page (e.g. ${PASSWORDS[0]}), CA thumbprint = SHA-1 of the GetCACert CA"
fi

# A sixth password while five are unused: NDES's "password cache is full" page, and no password.
if pw=$(scrape); then
  fail cache-full "a sixth unused password was issued: $pw"
elif grep -q "password cache is full" "$W/scrape.err"; then
  pass cache-full "6th scrape with 5 unused passwords: exit 1, '$(grep -o 'The password cache is full[^.]*\.' "$W/scrape.err")'"
else
  fail cache-full "scraper: $(cat "$W/scrape.err")"
fi

# A wrong admin password: NDES's permission page.
if pw=$(ADMIN_PASSWORD="not-$NDES_ADMIN_PASSWORD" scrape); then
  fail no-permission "a password was issued with a wrong admin password: $pw"
elif grep -q "do not have sufficient permission" "$W/scrape.err"; then
  pass no-permission "wrong admin password: exit 1, '$(grep -o 'You do not have sufficient permission[^.]*\.' "$W/scrape.err")'"
else
  fail no-permission "scraper: $(cat "$W/scrape.err")"
fi
# Enrollments below take these passwords in order; an empty one makes the case fail at the gateway.
pw_micromdm=${PASSWORDS[0]:-}
pw_strongswan=${PASSWORDS[1]:-}
pw_certmonger=${PASSWORDS[2]:-}

# ------------------------------------------------------------------------------------------------------ micromdm
# No -ca-fingerprint: scepclient gets all three certificates of GetCACert and chooses the recipients itself (in
# the EC-CA case of micromdm.sh it encrypts to every one of them); the gateway decrypts with the encryption RA.
CLIENT=micromdm
D=$W/micromdm
mkdir -p "$D"
if ! command -v scepclient >/dev/null; then
  fail ndes-split-ra "scepclient not installed (run interop/install-clients.sh)"
elif timeout "$CLIENT_TIMEOUT" scepclient -server-url "$NDES_URL" -challenge "$pw_micromdm" \
  -private-key "$D/key.pem" -certificate "$D/cert.pem" -cn "mm-ndes-$RUN_ID" -organization Interop -debug \
  >"$D/out.txt" 2>&1; then
  if ! why=$(check_cert "$D/cert.pem" "$CA_PEM" "$NDES_DATA" "$(csr_subject "$D/csr.pem")" "$(csr_sans "$D/csr.pem")"); then
    fail ndes-split-ra "$why"
  elif ! logged_pkcsreq "$D/cert.pem"; then
    fail ndes-split-ra "gateway log shows no successful PKCSReq for the certificate"
  else
    pass ndes-split-ra "mscep.dll, scraped password, DES/SHA-1, no -ca-fingerprint ($(grep -o 'cacertlist count=[0-9]*' "$D/out.txt")), cert verified and listed"
  fi
else
  fail ndes-split-ra "scepclient exit $?: $(grep -v '^level=\|^ts=' "$D/out.txt" | tail -n 1)"
fi

# ---------------------------------------------------------------------------------------------------- strongSwan
# pki --scepca writes the CA to --caout and the RA certificates to --raout, the second one as ra-2.der (the
# order is its own, not GetCACert's), so the roles are told apart by key usage.
CLIENT=strongswan
S=$W/strongswan
mkdir -p "$S"
enc="" sig=""
if ! command -v pki >/dev/null; then
  fail getcacert-split-ra "pki not installed (run interop/install-clients.sh)"
elif timeout "$CLIENT_TIMEOUT" pki --scepca --url "$NDES_URL" --caout "$S/ca.der" --raout "$S/ra.der" >"$S/scepca.out" 2>&1; then
  for f in "$S"/ra*.der; do
    case $(openssl x509 -inform DER -in "$f" -noout -ext keyUsage 2>/dev/null | sed -n 2p | sed 's/^ *//') in
      "Key Encipherment") enc=$f ;;
      "Digital Signature") sig=$f ;;
    esac
  done
  written=$(for f in "$S"/*.der; do echo "${f##*/}"; done | paste -sd' ' -)
  if [[ -z $enc || -z $sig ]]; then
    fail getcacert-split-ra "no encryption-only and signing-only RA among the written files: $written"
  elif ! cmp -s "$S/ca.der" <(openssl x509 -in "$CA_PEM" -outform DER); then
    fail getcacert-split-ra "ca.der is not the CA of GetCACert"
  elif [[ $(grep -c 'RA cert is trusted' "$S/scepca.out") -ne 2 ]]; then
    fail getcacert-split-ra "pki did not find both RA certificates trusted: $(pki_last_error "$S/scepca.out")"
  else
    pass getcacert-split-ra "pki --scepca wrote $written: encryption RA ${enc##*/}, signing RA ${sig##*/}, both chain to the CA"
  fi
else
  fail getcacert-split-ra "pki --scepca: $(pki_last_error "$S/scepca.out")"
fi

# ss_enroll NAME PASSWORD: pki --scep with a new key, encrypting to the encryption RA and verifying the reply
# against the signing RA. Certificate in $S/NAME.pem, stderr in $S/NAME.err.
ss_enroll() {
  local cn=ss-$1-$RUN_ID
  timeout "$CLIENT_TIMEOUT" pki --gen --type rsa --size 2048 --outform pem >"$S/$1.key"
  timeout "$CLIENT_TIMEOUT" pki --scep --url "$NDES_URL" --in "$S/$1.key" --dn "C=US, O=Interop, CN=$cn" \
    --san "$cn.example.org" --password "$2" --cacert-enc "$enc" --cacert-sig "$sig" --cacert "$S/ca.der" \
    --cipher des3 --outform pem >"$S/$1.pem" 2>"$S/$1.err"
}
if [[ -z $enc || -z $sig ]]; then
  fail ndes-split-ra "no RA certificates from pki --scepca"
elif ss_enroll ndes "$pw_strongswan"; then
  cn=ss-ndes-$RUN_ID
  if ! why=$(check_cert "$S/ndes.pem" "$CA_PEM" "$NDES_DATA" "CN=$cn,O=Interop,C=US" "DNS:$cn.example.org"); then
    fail ndes-split-ra "$why"
  elif ! logged_pkcsreq "$S/ndes.pem"; then
    fail ndes-split-ra "gateway log shows no successful PKCSReq for the certificate"
  else
    pass ndes-split-ra "mscep.dll, scraped password, 3DES to --cacert-enc ${enc##*/}, reply verified with --cacert-sig ${sig##*/}"
  fi
else
  fail ndes-split-ra "pki exit $?: $(pki_last_error "$S/ndes.err")"
fi

# The same password again (new key, so a new transactionID): refused, nothing stored.
before=$(cert_count "$NDES_DATA")
if [[ -z $enc || -z $sig ]]; then
  fail password-reuse "no RA certificates from pki --scepca"
elif ss_enroll reuse "$pw_strongswan"; then
  fail password-reuse "a second enrollment with the same one-time password succeeded"
else
  after=$(cert_count "$NDES_DATA")
  # The gateway's reason, so that the refusal is known to be about the password (not, say, the transaction).
  why=$(grep -F "subject=CN=ss-reuse-$RUN_ID," "$NDES_LOG" | grep -o 'reason=.*' | tail -n 1)
  if grep -q "failInfo: *badRequest" "$S/reuse.err" && [[ $before == "$after" && ! -s $S/reuse.pem ]] &&
    grep -qi 'password.*used' <<<"$why"; then
    pass password-reuse "2nd use of a one-time password: client '$(grep -o 'failInfo:.*' "$S/reuse.err" | tr -s ' ')', gateway '$why'; store still $after certificate(s)"
  else
    fail password-reuse "client said '$(pki_last_error "$S/reuse.err")', gateway '$why'; store $before -> $after"
  fi
fi

# ---------------------------------------------------------------------------------------------------- certmonger
# The daemon takes the encryption RA from the bundle as its "RA certificate" (whatever the order) and verifies the
# reply with the signing RA found among the other certificates, so add-scep-ca needs no -N/-r.
CLIENT=certmonger
C=$W/certmonger
if ! command -v certmonger >/dev/null || ! command -v getcert >/dev/null; then
  fail ndes-split-ra "certmonger not installed (run interop/install-clients.sh)"
elif ! certmonger_start "$C"; then
  fail ndes-split-ra "certmonger daemon did not start: $(tail -n 1 "$C/daemon.log")"
else
  trap 'certmonger_stop "$C"' EXIT
  export CERTMONGER_PVT_ADDRESS=unix:path=$C/sock
  cn=cm-ndes-$RUN_ID
  getcert add-scep-ca -c ndes -u "$NDES_URL" >/dev/null
  getcert request -c ndes -I ndes -k "$C/out/ndes.key" -f "$C/out/ndes.pem" -N "CN=$cn,O=Interop" \
    -D "$cn.example.org" -L "$pw_certmonger" -G rsa -g 2048 >/dev/null
  st=$(certmonger_wait ndes "$CLIENT_TIMEOUT")
  if [[ $st != MONITORING ]]; then
    fail ndes-split-ra "status $st: $(certmonger_ca_error ndes)"
  else
    certmonger_csr "$C" ndes "$C/out/ndes.csr"
    if ! why=$(check_cert "$C/out/ndes.pem" "$CA_PEM" "$NDES_DATA" "$(csr_subject "$C/out/ndes.csr")" "$(csr_sans "$C/out/ndes.csr")"); then
      fail ndes-split-ra "$why"
    elif ! logged_pkcsreq "$C/out/ndes.pem"; then
      fail ndes-split-ra "gateway log shows no successful PKCSReq for the certificate"
    else
      # What the daemon picked from the bundle to encrypt to, from its CA file.
      enc_cert=$(sed -n '/^ca_encryption_cert=/,/END CERTIFICATE/p' "$(grep -lx id=ndes "$C"/cas/*)" |
        sed 's/^ca_encryption_cert=//; s/^ //')
      enc_cn=$(openssl x509 -noout -subject -nameopt multiline <<<"$enc_cert" | sed -n 's/^ *commonName *= //p')
      enc_usage=$(openssl x509 -noout -ext keyUsage <<<"$enc_cert" | sed -n 2p | sed 's/^ *//')
      algs=$(grep -o 'Server supports [^,]*, using [A-Za-z0-9-]*' "$C/daemon.log" |
        sed 's/Server supports \(.*\), using that/\1/; s/Server supports .*, using //' | paste -sd/ -)
      if [[ $enc_usage != "Key Encipherment" ]]; then
        fail ndes-split-ra "enrolled, but the daemon's encryption cert is '$enc_cn' ($enc_usage)"
      else
        pass ndes-split-ra "mscep.dll, scraped password, add-scep-ca without -N; encrypts ($algs) to '$enc_cn', status MONITORING, cert verified"
      fi
    fi
  fi
fi

# ------------------------------------------------------------------------------------------- admin page, again
# Three of the five passwords are used now, so the cache has room again.
CLIENT=ndes-scraper
if pw=$(scrape); then
  pass cache-frees-after-use "after enrollments used passwords, the scraper gets a new one ($pw)"
else
  fail cache-frees-after-use "scraper: $(cat "$W/scrape.err")"
fi

exit $((FAILURES > 0))
