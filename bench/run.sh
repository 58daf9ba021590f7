#!/usr/bin/env bash
# Builds (Release) if needed, starts a gateway with a fresh RSA-2048 CA in a temporary data dir on a free loopback
# port, runs scep-bench against it at each connection count, and stops it.
#   bench/run.sh [devices=2000] [connections...=16 64]
# GATEWAY_CONFIG=file.yaml passes --config to the gateway (e.g. to try http.worker_threads); BUILD_DIR picks the build.
# The load generator runs on the same machine as the gateway, so wall-clock throughput is shared with the client;
# the figure to compare is enrollments per server CPU-second, read from /proc/PID/stat.
set -euo pipefail

devices=${1:-2000}
shift || true
connections=("$@")
[[ ${#connections[@]} -gt 0 ]] || connections=(16 64)

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
if [[ ! -x $build/bench/scep-bench || ! -x $build/gateway/scep-gateway ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" -j"${JOBS:-1}" scep-gateway scep-bench >/dev/null

data=$(mktemp -d)
gateway_pid=
cleanup() {
  if [[ -n $gateway_pid ]]; then kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

challenge=bench-$RANDOM$RANDOM
"$build/gateway/scep-gateway" ca init --data-dir "$data" --key rsa:2048 >/dev/null
# Port 0: the kernel picks a free port and the gateway logs which one.
config_args=()
[[ -z ${GATEWAY_CONFIG:-} ]] || config_args=(--config "$GATEWAY_CONFIG")
"$build/gateway/scep-gateway" serve "${config_args[@]}" --listen 127.0.0.1:0 --data-dir "$data" \
  --challenge "$challenge" >"$data/gateway.log" 2>&1 &
gateway_pid=$!
port=
for _ in $(seq 100); do
  # "... listening on 127.0.0.1:0 (port 41234)"; older builds print the bound port in the address.
  line=$(grep -m1 'listening on' "$data/gateway.log" || true)
  port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' <<<"$line")
  [[ -n $port ]] || port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([1-9][0-9]*\).*/\1/p' <<<"$line")
  [[ -n $port ]] && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$data/gateway.log"; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "gateway did not start" >&2; cat "$data/gateway.log"; exit 1; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "gateway: pid $gateway_pid on 127.0.0.1:$port, RSA-2048 CA, data dir $data"
status=0
for c in "${connections[@]}"; do
  echo
  echo "== $devices devices, $c connections"
  "$build/bench/scep-bench" --url "http://127.0.0.1:$port/scep" --challenge "$challenge" --devices "$devices" \
    --connections "$c" --server-pid "$gateway_pid" || status=$?
done
exit $status
