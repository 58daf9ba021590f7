# Shared by bench/run.sh and bench/callgrind.sh: build the binaries, start a gateway with an RSA-2048 CA on a
# free loopback port. Source it; it sets $build, $data, $challenge, $gateway_pid and $port.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

build_bench() {
  if [[ ! -x $build/bench/scep-bench || ! -x $build/gateway/scep-gateway ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  ninja -C "$build" -j"${JOBS:-1}" scep-gateway scep-bench >/dev/null
}

data=$(mktemp -d)
gateway_pid=
cleanup() {
  if [[ -n $gateway_pid ]]; then kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
challenge=bench-$RANDOM$RANDOM

# start_gateway [WRAPPER...]: e.g. `start_gateway valgrind --tool=callgrind`. GATEWAY_CONFIG=file passes a config.
start_gateway() {
  "$build/gateway/scep-gateway" ca init --data-dir "$data" --key rsa:2048 >/dev/null
  local config_args=()
  [[ -z ${GATEWAY_CONFIG:-} ]] || config_args=(--config "$GATEWAY_CONFIG")
  # Port 0: the kernel picks a free port and the gateway logs the bound one: "... listening on 127.0.0.1:N".
  "$@" "$build/gateway/scep-gateway" serve "${config_args[@]}" --listen 127.0.0.1:0 --data-dir "$data" \
    --challenge "$challenge" >"$data/gateway.log" 2>&1 &
  gateway_pid=$!
  port=
  for _ in $(seq 600); do
    port=$(sed -n 's/.*SCEP over HTTP listening on 127\.0\.0\.1:\([1-9][0-9]*\).*/\1/p' "$data/gateway.log" | head -n1)
    [[ -n $port ]] && return 0
    kill -0 "$gateway_pid" 2>/dev/null || { cat "$data/gateway.log"; exit 1; }
    sleep 0.1
  done
  echo "gateway did not start" >&2
  cat "$data/gateway.log"
  exit 1
}

# bench_run DEVICES CONNECTIONS
bench_run() {
  "$build/bench/scep-bench" --url "http://127.0.0.1:$port/scep" --challenge "$challenge" --devices "$1" \
    --connections "$2" --server-pid "$gateway_pid"
}
