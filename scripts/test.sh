#!/usr/bin/env bash
# The second README command: install what is missing, build, and run every test:
#   1. unit and integration tests (doctest through CTest), warnings as errors;
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the pkiMessage fuzzer (libFuzzer, clang) for FUZZ_SECONDS (default 60);
#   4. the container image, built and tested with podman (docker/test.sh);
#   5. the interoperability matrix with real SCEP clients (interop/run-all.sh).
# Build folders (build-ci, build-asan, build-fuzz) are git-ignored and reused between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/install-deps.sh --test

stage() { printf '\n=== %s ===\n' "$*"; }

stage "build and test (-Werror)"
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCEP_WERROR=ON >/dev/null
ninja -C build-ci -j"$jobs"
(cd build-ci && ctest -j"$jobs" --output-on-failure --timeout 300)

stage "build and test under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCEP_WERROR=ON -DSCEP_SANITIZE=ON >/dev/null
ninja -C build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -j"$jobs" --output-on-failure --timeout 600)

stage "fuzz the pkiMessage parser for ${FUZZ_SECONDS:-60} s"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCEP_FUZZ=ON >/dev/null
ninja -C build-fuzz -j"$jobs" pki_message_fuzzer
mkdir -p build-fuzz/corpus
build-fuzz/tests/fuzz/pki_message_fuzzer -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
  -print_final_stats=1 build-fuzz/corpus tests/fixtures/sscep 2>&1 | tail -n 12

stage "container image (podman)"
docker/test.sh

stage "interoperability with real SCEP clients"
interop/run-all.sh build-ci/gateway/scep-gateway
