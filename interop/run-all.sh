#!/usr/bin/env bash
# Interoperability matrix: real SCEP clients against scep-gateway.
#
#   interop/run-all.sh [path-to-scep-gateway] [client...]
#
# Starts gateways on free loopback ports, each with its own temporary data dir: one with an RSA-2048 CA, one with
# an EC P-256 CA (which answers GetCACert with CA + RSA RA), both with a known static challenge, plus scep-proxy.py
# in front of the RSA one. For the `ndes` script also one from examples/ndes.yaml (NDES mode, one-time passwords,
# an admin user), for `pending` one with `policy.approval: manual`. Then runs interop/<script>.sh for each script
# (default: micromdm strongswan certmonger ndes pending), prints one `PASS|FAIL <client> <case> <reason>` line per
# case and finally `N passed, N failed`. ndes.sh and pending.sh drive all three clients and name the real client
# in each line. Exit status 1 if anything failed. Gateways, proxy and certmonger daemons are always stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GW_BIN=${1:-$HERE/../build-interop/gateway/scep-gateway}
shift || true
CLIENTS=("$@")
[[ ${#CLIENTS[@]} -gt 0 ]] || CLIENTS=(micromdm strongswan certmonger ndes pending)
[[ -x $GW_BIN ]] || { echo "scep-gateway not found at $GW_BIN (build it, or pass its path)" >&2; exit 2; }
GW_BIN=$(cd "$(dirname "$GW_BIN")" && pwd)/$(basename "$GW_BIN")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scep-interop.XXXXXX")
PIDS=()
cleanup() {
  local pid
  # certmonger.sh kills its own daemon; this catches one left behind if that script was itself killed.
  for pid in "${PIDS[@]}" $(cat "$TMP"/*/certmonger.pid 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n ${KEEP_TMP:-} ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CHALLENGE="interop-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
START=$SECONDS

# wait_listen LOG: the port a server prints once it listens (port 0 = a free port, no race). Up to 30 s: the
# NDES gateway makes an RSA-3072 CA and two RA keys first.
wait_listen() {
  local i
  for ((i = 0; i < 300; i++)); do
    if grep -qo 'listening on 127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null; then
      grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$1" | head -n 1 | sed 's/.*://'
      return 0
    fi
    sleep 0.1
  done
  echo "server did not start; its log:" >&2
  cat "$1" >&2
  return 1
}

# start_gateway NAME KEY SUBJECT: ca init first (rsa:2048 is quick to generate), then serve.
start_gateway() {
  local data=$TMP/$1
  "$GW_BIN" ca init --data-dir "$data" --key "$2" --subject "$3" >/dev/null
  "$GW_BIN" serve --data-dir "$data" --listen 127.0.0.1:0 --challenge "$CHALLENGE" >"$TMP/$1.log" 2>&1 &
  PIDS+=($!)
}
start_gateway gw-rsa rsa:2048 "CN=Interop RSA CA,O=scep-gateway interop"
start_gateway gw-ec ec:p256 "CN=Interop EC CA,O=scep-gateway interop"
wants() { [[ " ${CLIENTS[*]} " == *" $1 "* ]]; }

# NDES mode exactly as shipped: examples/ndes.yaml (its CA is created on first start), one admin for the
# password page. The data dir is fresh: ndes.sh relies on an empty password cache.
NDES_ADMIN_USER="admin"
NDES_ADMIN_PASSWORD="admin-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
if wants ndes; then
  printf '%s' "$NDES_ADMIN_PASSWORD" | "$GW_BIN" users add "$NDES_ADMIN_USER" --data-dir "$TMP/gw-ndes" >/dev/null
  "$GW_BIN" serve --config "$HERE/../examples/ndes.yaml" --data-dir "$TMP/gw-ndes" --listen 127.0.0.1:0 \
    >"$TMP/gw-ndes.log" 2>&1 &
  PIDS+=($!)
fi
# Every first enrollment held for an administrator (pending.sh approves or denies with `requests`).
if wants pending; then
  cat >"$TMP/pending.yaml" <<EOF
challenge:
  mode: static
  secret: "$CHALLENGE"
ca:
  subject: "CN=Interop Pending CA,O=scep-gateway interop"
  key: rsa:2048
policy:
  approval: manual
EOF
  "$GW_BIN" serve --config "$TMP/pending.yaml" --data-dir "$TMP/gw-pending" --listen 127.0.0.1:0 \
    >"$TMP/gw-pending.log" 2>&1 &
  PIDS+=($!)
fi
python3 "$HERE/scep-proxy.py" --upstream "http://127.0.0.1:$(wait_listen "$TMP/gw-rsa.log")" >"$TMP/proxy.log" 2>&1 &
PIDS+=($!)

export GW_BIN CHALLENGE
export GW_DATA=$TMP/gw-rsa GW_LOG=$TMP/gw-rsa.log GW_EC_DATA=$TMP/gw-ec GW_EC_LOG=$TMP/gw-ec.log
GW_URL="http://127.0.0.1:$(wait_listen "$TMP/gw-rsa.log")/scep"
GW_EC_URL="http://127.0.0.1:$(wait_listen "$TMP/gw-ec.log")/cgi-bin/pkiclient.exe"
PROXY_URL="http://127.0.0.1:$(wait_listen "$TMP/proxy.log")"
export GW_URL GW_EC_URL PROXY_URL
if wants ndes; then
  NDES_BASE="http://127.0.0.1:$(wait_listen "$TMP/gw-ndes.log")"
  export NDES_BASE NDES_URL=$NDES_BASE/certsrv/mscep/mscep.dll NDES_DATA=$TMP/gw-ndes NDES_LOG=$TMP/gw-ndes.log
  export NDES_ADMIN_USER NDES_ADMIN_PASSWORD
fi
if wants pending; then
  PEND_URL="http://127.0.0.1:$(wait_listen "$TMP/gw-pending.log")/scep"
  export PEND_URL PEND_DATA=$TMP/gw-pending PEND_LOG=$TMP/gw-pending.log
fi

RESULTS=$TMP/results.txt
: >"$RESULTS"
for client in "${CLIENTS[@]}"; do
  t0=$SECONDS
  rc=0
  # Lines go to the terminal as they come and to RESULTS for the count. A script that dies without
  # reporting a failure still counts as one (ndes/pending name the real client in their lines, so look at this
  # script's own lines).
  WORK=$TMP/$client CLIENT=$client bash "$HERE/$client.sh" 2>"$TMP/$client.stderr" | tee "$TMP/$client.results" || rc=$?
  cat "$TMP/$client.results" >>"$RESULTS"
  if [[ $rc -ne 0 ]] && ! grep -q "^FAIL " "$TMP/$client.results"; then
    echo "FAIL $client script exited $rc: $(tail -n 1 "$TMP/$client.stderr")" | tee -a "$RESULTS"
  fi
  echo "# $client: $((SECONDS - t0)) s" >&2
done

passed=$(grep -c '^PASS ' "$RESULTS" || true)
failed=$(grep -c '^FAIL ' "$RESULTS" || true)
echo "# total: $((SECONDS - START)) s" >&2
if [[ $failed -gt 0 ]]; then
  echo "# gateway logs: $TMP/gw-*.log (KEEP_TMP=1 keeps them)" >&2
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
