# shellcheck shell=bash
# Shared helpers for the per-client interop scripts (sourced, not run).
#
# The client scripts are started by run-all.sh, which exports:
#   GW_BIN      path to scep-gateway (for `certs list`)
#   GW_URL      SCEP URL of the RSA-CA gateway           GW_DATA     its data dir    GW_LOG     its log file
#   GW_EC_URL   SCEP URL of the EC-CA gateway (CA + RA)  GW_EC_DATA  its data dir    GW_EC_LOG  its log file
#   PROXY_URL   base URL of scep-proxy.py in front of the RSA gateway (path /drop=CAPS/... filters GetCACaps)
#   CHALLENGE   the static challenge both gateways demand (and the manual-approval gateway)
#   NDES_BASE   http://127.0.0.1:PORT of the gateway started from examples/ndes.yaml (NDES_URL: its mscep.dll URL)
#   NDES_DATA   its data dir    NDES_LOG   its log file    NDES_ADMIN_USER/NDES_ADMIN_PASSWORD   for /certsrv/mscep_admin/
#   PEND_URL    SCEP URL of the gateway with policy.approval: manual    PEND_DATA   its data dir   PEND_LOG   its log
#               (the NDES_* and PEND_* variables are set only when ndes.sh / pending.sh run)
#   WORK        a scratch directory for this client (removed by run-all.sh)
#   CLIENT      the client name printed in every result line

: "${GW_BIN:?}" "${GW_URL:?}" "${GW_DATA:?}" "${GW_LOG:?}" "${GW_EC_URL:?}" "${GW_EC_DATA:?}" "${GW_EC_LOG:?}"
: "${PROXY_URL:?}" "${CHALLENGE:?}" "${WORK:?}" "${CLIENT:?}"

# Every client command runs under `timeout` so that a hanging client cannot stall the whole matrix.
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}
FAILURES=0
# A random suffix so that subjects never repeat between runs (nothing requires it today, but a gateway with a
# "one certificate per DN" policy would otherwise refuse a second run).
RUN_ID=${RUN_ID:-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}

pass() { printf 'PASS %s %s %s\n' "$CLIENT" "$1" "$2"; }
fail() { printf 'FAIL %s %s %s\n' "$CLIENT" "$1" "$2"; FAILURES=$((FAILURES + 1)); }

# Number of certificates the gateway has stored ("N certificate(s)" is the last line of `certs list`).
cert_count() { # data_dir
  "$GW_BIN" certs list --data-dir "$1" | awk '/certificate\(s\)$/ {print $1}'
}

# Subject in RFC 2253 form, the same for a certificate and a CSR.
cert_subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
csr_subject() { openssl req -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }

# The subjectAltName line of `openssl ... -text`, sorted, comma separated ("" when there is none).
sans_from_text() {
  awk '/X509v3 Subject Alternative Name/ {getline; print; exit}' | tr -d ' ' | tr ',' '\n' | sort | paste -sd, -
}
cert_sans() { openssl x509 -in "$1" -noout -text | sans_from_text; }
csr_sans() { openssl req -in "$1" -noout -text | sans_from_text; }

# Checks an issued certificate; prints why on failure (returns 1), nothing on success.
#   check_cert CERT_PEM CA_PEM DATA_DIR EXPECTED_SUBJECT EXPECTED_SANS
# EXPECTED_SUBJECT/SANS come from the CSR when the client leaves it on disk, otherwise from what the
# client was told to put in it.
check_cert() {
  local cert=$1 ca=$2 data=$3 subject=$4 sans=$5 got serial
  [[ -s $cert ]] || { echo "no certificate file $cert"; return 1; }
  if ! got=$(openssl verify -CAfile "$ca" "$cert" 2>&1); then
    echo "openssl verify: ${got//$'\n'/ }"; return 1
  fi
  got=$(cert_subject "$cert")
  [[ $got == "$subject" ]] || { echo "subject '$got', expected '$subject'"; return 1; }
  got=$(cert_sans "$cert")
  [[ $got == "$sans" ]] || { echo "SANs '$got', expected '$sans'"; return 1; }
  serial=$(openssl x509 -in "$cert" -noout -serial | sed 's/^serial=//')
  # `certs list` prints the serial in the same upper-case hex; -w keeps one serial from matching inside another.
  if ! got=$("$GW_BIN" certs list --data-dir "$data" 2>&1); then
    echo "certs list failed: ${got//$'\n'/ }"; return 1
  fi
  if ! grep -qw -- "$serial" <<<"$got"; then
    echo "serial $serial not in 'certs list' ($(tail -n 1 <<<"$got"))"; return 1
  fi
}

# The gateway log line of the request that issued SERIAL (to check the message type and method).
log_line_for_serial() { # log serial
  grep -F "serial=$2 " "$1" | tail -n 1
}

# GetCACert answer for a URL as PEM: the CA certificate (a bare DER cert), or for CA+RA the self-signed
# certificate of the PKCS#7 bundle.
fetch_ca_pem() { # url out_pem
  local der=$2.der
  curl -sSf --max-time 10 "$1?operation=GetCACert" -o "$der"
  if openssl x509 -inform DER -in "$der" -out "$2" 2>/dev/null; then return 0; fi
  openssl pkcs7 -inform DER -in "$der" -print_certs | awk -v out="$2" -v dir="${2%/*}" '
    /-----BEGIN CERTIFICATE-----/ {n++; f = dir "/getcacert-" n ".pem"}
    f {print > f}
    /-----END CERTIFICATE-----/ {close(f); f = ""}'
  local c
  for c in "${2%/*}"/getcacert-*.pem; do
    if [[ $(openssl x509 -in "$c" -noout -subject) == "subject=$(openssl x509 -in "$c" -noout -issuer | sed 's/^issuer=//')" ]]; then
      cp "$c" "$2"
      return 0
    fi
  done
  return 1
}

# pki prints harmless "plugin ... failed to load" / TPM lines on stderr; the last other line says why it failed.
pki_last_error() { grep -v "plugin '\|TPM 2.0\|^ *using \|^ *reached " "$1" | tail -n 1; }

# A private certmonger daemon in DIR: its own state dirs, lock file and socket (no D-Bus, no systemd).
# CERTMONGER_SYSTEM_LOCK_FILE matters: without it the daemon waits for ever on the machine-wide lock if another
# certmonger runs. getcert reaches it through CERTMONGER_PVT_ADDRESS=unix:path=DIR/sock. The daemon reads
# certmonger.conf ([defaults] digest) only when it starts. DIR/certmonger.pid lets run-all.sh kill a daemon left
# behind by a killed script. Returns 1 if the socket does not appear within 10 s.
certmonger_start() { # dir [digest]
  local dir=$1 i
  certmonger_stop "$dir"
  mkdir -p "$dir/requests" "$dir/cas" "$dir/tmp" "$dir/local" "$dir/out"
  printf '[defaults]\ndigest = %s\n' "${2:-sha256}" >"$dir/certmonger.conf"
  env CERTMONGER_SYSTEM_LOCK_FILE="$dir/lock" CERTMONGER_REQUESTS_DIR="$dir/requests" CERTMONGER_CAS_DIR="$dir/cas" \
    CERTMONGER_TMPDIR="$dir/tmp" CERTMONGER_LOCAL_CA_DIR="$dir/local" CERTMONGER_CONFIG_DIR="$dir" \
    certmonger -d 1 -L -P "$dir/sock" >>"$dir/daemon.log" 2>&1 &
  echo $! >"$dir/certmonger.pid"
  for ((i = 0; i < 100; i++)); do [[ -S $dir/sock ]] && return 0; sleep 0.1; done
  return 1
}
certmonger_stop() { # dir
  local pid
  pid=$(cat "$1/certmonger.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$1/certmonger.pid" "$1/sock"
}
certmonger_status() { getcert list -i "$1" | sed -n 's/^[[:space:]]*status: //p'; } # id
certmonger_ca_error() { getcert list -i "$1" | sed -n 's/^[[:space:]]*ca-error: //p'; } # id

# The CSR certmonger built for request ID, from its request file in DIR/requests (named by date, so found by id).
certmonger_csr() { # dir id out
  sed -n '/^csr=/,/END CERTIFICATE REQUEST/p' "$(grep -lx "id=$2" "$1"/requests/*)" | sed 's/^csr=//; s/^ //' >"$3"
}

# Waits at most SECONDS for request ID to reach a final status and prints it (TIMEOUT(last status) otherwise).
# CA_WORKING (submitted, or PENDING at the CA) and the NEED_SCEP_* / SUBMITTING states are transient.
certmonger_wait() { # id seconds
  local s="" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    s=$(certmonger_status "$1")
    case $s in
      MONITORING | CA_REJECTED | CA_UNREACHABLE | CA_UNCONFIGURED | NEED_GUIDANCE | NEED_*KEY*) echo "$s"; return ;;
    esac
    sleep 0.3
  done
  echo "TIMEOUT($s)"
}
