#!/usr/bin/env bash
# Container test: builds docker/Dockerfile with podman (no Docker engine or registry here), runs the image with a
# volume, enrolls real SCEP clients against it over the published port, restarts it and checks that the CA and
# the issued certificates survived, and that `podman stop` ends it by SIGTERM. Prints `N passed, N failed` last.
# The podman storage and the debian:bookworm-slim stand-in are cached in .cache/container (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
WORK=${WORK:-$root/.cache/container}
IMAGE=localhost/scep-gateway:ci
BASE=docker.io/library/debian:bookworm-slim
CHALLENGE=container-ci-secret
mkdir -p "$WORK"
started=$(date +%s)

passed=0 failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$WORK/check.out" 2>&1; then
    passed=$((passed + 1)); echo "PASS container $name"
  else
    failed=$((failed + 1)); echo "FAIL container $name: $(tail -n 3 "$WORK/check.out" | tr '\n' ' ')"
  fi
}

# 1. tools: podman with runc (crun fails on this kernel's cgroup layout), debootstrap for the base image.
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y podman runc debootstrap
fi

# 2. podman configuration for this sandbox, kept out of /etc.
cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
CONF
export CONTAINERS_CONF="$WORK/containers.conf" CONTAINERS_STORAGE_CONF="$WORK/storage.conf"

# 3. A local debian:bookworm-slim made with debootstrap from the Debian mirror apt uses (once per cache).
if ! podman image exists "$BASE"; then
  mirror=$(awk '$1=="URIs:"{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$mirror" >"$WORK/debootstrap.log"
  rm -f "$WORK/rootfs/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/debian.sources "$WORK/rootfs/etc/apt/sources.list.d/"
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

# 4. Build; --pull=never guarantees that no registry is contacted; --format docker keeps the HEALTHCHECK.
podman build --pull=never --network host --isolation chroot --format docker -f docker/Dockerfile -t "$IMAGE" . \
  >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; exit 1; }
built=$(date +%s)

# 5. Run it with a named volume on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/scep"
podman volume rm -f scep-ci-data >/dev/null 2>&1 || true
podman volume create scep-ci-data >/dev/null
tmp=$(mktemp -d)
cid=""
cleanup() {
  [[ -n "$cid" ]] && podman rm -f -t0 "$cid" >/dev/null 2>&1
  podman volume rm -f scep-ci-data >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
start_container() {
  cid=$(podman run -d -p "127.0.0.1:$port:8080" -v scep-ci-data:/var/lib/scep-gateway "$IMAGE" \
        --challenge "$CHALLENGE" --log-format json)
  for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.25; done
  podman logs "$cid" | tail -n 20
  return 1
}
start_container
idle_rss=$(podman exec "$cid" sh -c 'grep VmRSS /proc/1/status' | awk '{print $2 " " $3}')

check "healthz answers 200" curl -fsS "http://127.0.0.1:$port/healthz"
check "HEALTHCHECK runs the image's own health command" podman healthcheck run "$cid"
check "GetCACaps lists AES, DES3 and SHA-256" \
  bash -c "curl -fsS '$url?operation=GetCACaps' | grep -qx AES && curl -fsS '$url?operation=GetCACaps' | grep -qx DES3"
curl -fsS "$url?operation=GetCACert" -o "$tmp/ca.der"
openssl x509 -inform DER -in "$tmp/ca.der" -out "$tmp/ca.pem"
check "runs as a non-root user" bash -c "[ \"\$(podman exec $cid id -u)\" != 0 ]"

# 6. Real clients enroll against the container.
mkdir -p "$tmp/mdm"
check "micromdm scepclient enrolls (DES, SHA-1)" bash -c "scepclient -server-url '$url' -challenge '$CHALLENGE' \
  -private-key '$tmp/mdm/key.pem' -certificate '$tmp/mdm/cert.pem' -cn container-mdm \
  && openssl verify -CAfile '$tmp/ca.pem' '$tmp/mdm/cert.pem'"
pki --gen --type rsa --size 2048 --outform pem > "$tmp/sw.key" 2>/dev/null
check "strongSwan pki --scep enrolls (3DES, SHA-256)" bash -c "pki --scep --url '$url' --in '$tmp/sw.key' \
  --dn 'CN=container-sw' --password '$CHALLENGE' --cacert-enc '$tmp/ca.der' --cacert-sig '$tmp/ca.der' \
  --cipher des3 --outform pem > '$tmp/sw.pem' 2>'$tmp/sw.err' && openssl verify -CAfile '$tmp/ca.pem' '$tmp/sw.pem'"
mkdir -p "$tmp/bad"
scepclient -server-url "$url" -challenge wrong -private-key "$tmp/bad/key.pem" -certificate "$tmp/bad/cert.pem" \
  -cn container-bad >/dev/null 2>&1 || true
curl -fsS "http://127.0.0.1:$port/metrics" > "$tmp/metrics.txt"
check "/metrics counts the 2 enrollments" grep -qx 'scep_enrollments_total{result="issued"} 2' "$tmp/metrics.txt"
check "/metrics counts the wrong challenge as badRequest" \
  grep -qx 'scep_enrollments_total{result="failed",fail_info="badRequest"} 1' "$tmp/metrics.txt"
check "/metrics shows the store size and the CA expiry" bash -c "grep -qx 'scep_certificates_in_store 2' '$tmp/metrics.txt' \
  && grep -q '^scep_ca_certificate_expiry_seconds [1-9]' '$tmp/metrics.txt'"
podman logs "$cid" > "$tmp/logs.jsonl" 2>&1
check "every log line is a JSON object (python3 -m json.tool)" bash -c \
  "n=0; while IFS= read -r line; do printf '%s' \"\$line\" | python3 -m json.tool >/dev/null || exit 1; n=\$((n+1)); done < '$tmp/logs.jsonl'; [ \$n -ge 8 ]"
check "the JSON request lines carry transactionID, subject, serial, outcome" bash -c \
  "grep '\"outcome\":\"SUCCESS\"' '$tmp/logs.jsonl' | grep -q '\"serial\":\"[0-9A-F]'"
check "no challenge password in the logs" bash -c "! grep -q '$CHALLENGE' '$tmp/logs.jsonl'"
mdm_serial=$(openssl x509 -in "$tmp/mdm/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2)

# 7. podman stop must end PID 1 by SIGTERM (exit 0), not by SIGKILL after the timeout (137).
podman stop -t 10 "$cid" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$cid")
check "podman stop ends the gateway by SIGTERM (exit code $code)" test "$code" = 0
podman rm "$cid" >/dev/null
cid=""

# 8. A new container on the same volume keeps the CA and the issued certificates.
start_container
check "the CA survives a restart" bash -c "curl -fsS '$url?operation=GetCACert' | cmp -s - '$tmp/ca.der'"
check "issued certificates survive a restart" bash -c \
  "podman exec $cid scep-gateway certs list --data-dir /var/lib/scep-gateway | grep -q '$mdm_serial'"
check "the CA key in the volume is mode 0600" bash -c \
  "[ \"\$(podman exec $cid stat -c %a /var/lib/scep-gateway/ca.key)\" = 600 ]"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image size: $((size / 1024 / 1024)) MiB; gateway RSS in the container when idle after start: $idle_rss;" \
  "build $((built - started)) s, whole test $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
