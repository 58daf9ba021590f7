#!/usr/bin/env bash
# Noise-free cost per enrollment: runs the gateway under valgrind --tool=callgrind, warms it up with 20 enrollments,
# zeroes the counters, runs N more (8 connections) and dumps. Read with callgrind_annotate --inclusive=yes OUT.1
#   bench/callgrind.sh [devices=200] [out=callgrind.out]
# Under valgrind OpenSSL cannot use AVX-512, so RSA costs differ from real runs; compare everything else.
set -euo pipefail

devices=${1:-200}
out=$(realpath -m "${2:-callgrind.out}")
source "$(dirname "$0")/lib.sh"
build_bench
start_gateway valgrind --tool=callgrind --callgrind-out-file="$out"
bench_run 20 4 >/dev/null
callgrind_control -z "$gateway_pid" >/dev/null 2>&1
bench_run "$devices" 8 | grep -E 'succeeded|failed'
callgrind_control -d "$gateway_pid" >/dev/null 2>&1
echo "callgrind data for the $devices timed enrollments: $out.1 (the rest of the run goes to $out at exit)"
