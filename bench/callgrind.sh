#!/usr/bin/env bash
# Noise-free cost per enrollment: runs the gateway under valgrind --tool=callgrind, warms it up with 20 enrollments,
# zeroes the counters, runs N more (8 connections) and dumps. Read with callgrind_annotate --inclusive=yes OUT.1
#   bench/callgrind.sh [devices=200] [out=callgrind.out]
# Under valgrind OpenSSL cannot use AVX-512, so RSA costs differ from real runs; compare everything else.
set -euo pipefail

devices=${1:-200}
out=$(realpath -m "${2:-callgrind.out}")
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
valgrind --tool=callgrind --callgrind-out-file="$out" "$build/gateway/scep-gateway" serve --listen 127.0.0.1:0 \
  --data-dir "$data" --challenge "$challenge" >"$data/gateway.log" 2>&1 &
gateway_pid=$!
port=
for _ in $(seq 600); do
  port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$data/gateway.log" | head -n1)
  [[ -n $port ]] && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$data/gateway.log"; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "gateway did not start" >&2; exit 1; }
bench() { "$build/bench/scep-bench" --url "http://127.0.0.1:$port/scep" --challenge "$challenge" --devices "$1" \
            --connections "$2" --server-pid "$gateway_pid"; }
bench 20 4 >/dev/null
callgrind_control -z "$gateway_pid" >/dev/null 2>&1
bench "$devices" 8 | grep -E 'succeeded|failed'
callgrind_control -d "$gateway_pid" >/dev/null 2>&1
echo "callgrind data for the $devices timed enrollments: $out.1 (the rest of the run goes to $out at exit)"
