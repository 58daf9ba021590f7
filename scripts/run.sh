#!/usr/bin/env bash
# The first README command: install what is missing, build, and start the gateway with its embedded CA on the
# built-in defaults (listen 0.0.0.0:8080, data dir ./scep-data, a generated challenge printed at start-up).
# Extra arguments go to `scep-gateway serve`, e.g. `./scripts/run.sh --config examples/scep.yaml`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build scep-gateway
exec ./build/gateway/scep-gateway serve "$@"
