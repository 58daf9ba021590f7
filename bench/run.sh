#!/usr/bin/env bash
# Builds (Release) if needed, starts a gateway with a fresh RSA-2048 CA in a temporary data dir on a free loopback
# port, warms it up (WARMUP enrollments, default 300, not measured), runs scep-bench against it at each connection
# count, and stops it.
#   bench/run.sh [devices=2000] [connections...=16 64]
# REPEAT=N repeats each connection count and prints the medians; WARMUP=N sets the warm-up (0: none).
# GATEWAY_CONFIG=file.yaml passes --config to the gateway (e.g. to try http.worker_threads); BUILD_DIR picks the build.
# The load generator runs on the same machine as the gateway, so wall-clock throughput is shared with the client;
# the figure to compare is enrollments per server CPU-second, read from /proc/PID/stat.
set -euo pipefail

devices=${1:-2000}
shift || true
connections=("$@")
[[ ${#connections[@]} -gt 0 ]] || connections=(16 64)

source "$(dirname "$0")/lib.sh"
build_bench
start_gateway

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "gateway: pid $gateway_pid on 127.0.0.1:$port, RSA-2048 CA, data dir $data"
# The first requests of a fresh process pay one-time costs (thread start, allocator arenas, SQLite's page cache,
# OpenSSL's lazy initialisation and the first RSA blinding factors); the target is about the steady state.
warmup=${WARMUP:-300}
if ((warmup > 0)); then
  echo "warm-up: $warmup enrollments at 16 connections (not measured)"
  bench_run "$warmup" 16 >/dev/null || { echo "warm-up failed" >&2; exit 1; }
fi
# REPEAT=N runs each connection count N times (against the same gateway) and ends with the median of
# enrollments per server CPU-second: single runs on a shared 2-core VM move by 10-20%.
repeat=${REPEAT:-1}
median() {
  printf '%s\n' "$@" | sort -n |
    awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}
status=0
summary=()
for c in "${connections[@]}"; do
  figures=()
  for ((run = 1; run <= repeat; ++run)); do
    echo
    label=""
    ((repeat == 1)) || label=" (run $run of $repeat)"
    echo "== $devices devices, $c connections$label"
    out=$(bench_run "$devices" "$c") || status=$?
    echo "$out"
    figures+=("$(sed -n 's/^enrollments per server cpu-second *//p' <<<"$out")")
  done
  summary+=("$c connections: enrollments per server cpu-second ${figures[*]}, median $(median "${figures[@]}")")
done
if ((repeat > 1)); then
  echo
  printf '%s\n' "${summary[@]}"
fi
exit $status
