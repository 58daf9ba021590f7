#!/usr/bin/env bash
# Installs the real SCEP clients the interop matrix drives (Debian 12 packages), only if they are missing:
# `apt-get update` runs only when something has to be installed, so a prepared CI image costs nothing.
set -euo pipefail

# scep = micromdm scepclient; libstrongswan-extra-plugins brings the curl fetcher that `pki --scep` needs and
# libstrongswan-standard-plugins the openssl plugin, without which `pki` cannot read an EC CA certificate (the
# ec-ca-ra case; a fresh Debian 12 machine has neither); python3 runs interop/scep-proxy.py.
PACKAGES=(scep strongswan-pki libstrongswan-extra-plugins libstrongswan-standard-plugins certmonger openssl curl python3)

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all interop clients installed"
  exit 0
fi

SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
echo "installing: ${missing[*]}"
"${SUDO[@]}" apt-get update
# env after sudo: sudo would drop DEBIAN_FRONTEND (no debconf prompts in CI).
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
