#!/usr/bin/env bash
# Installs the Debian 12 packages the gateway needs: `install-deps.sh` for building and running,
# `install-deps.sh --test` for the tests too (doctest, clang for the fuzzer, the real SCEP clients).
# Runs `apt-get update` once, and only when something is missing.
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config ca-certificates openssl curl
  libssl-dev libyaml-cpp-dev libspdlog-dev libsqlite3-dev libboost-dev libcli11-dev nlohmann-json3-dev libargon2-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(doctest-dev clang libclang-rt-14-dev python3 sqlite3
    scep strongswan-pki libstrongswan-extra-plugins libstrongswan-standard-plugins certmonger podman runc debootstrap)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
