#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the demo need.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  clang clang-format
  protobuf-compiler libprotobuf-dev
  protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  libabsl-dev libgoogle-glog-dev libgflags-dev
  libc-ares-dev libsqlite3-dev libjemalloc-dev
  libgtest-dev libgmock-dev
  wamerican python3
  dnsmasq-base avahi-daemon avahi-utils dbus-daemon iproute2 util-linux
  libcpp-httplib-dev python3-prometheus-client chromium
  python3-grpcio python3-protobuf libssl-dev openssl
  mmdebstrap
)
# buf (the proto linter) comes from npm; some machines ship their own Node.js with npm inside.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js packages, as their lock files pin them (from the npm registry): the
# Node.js worker's, and the Kubernetes schemas the deploy checks use.
root=$(dirname "${BASH_SOURCE[0]}")/..
for dir in "$root/examples/node-worker" "$root/tests/deploy"; do
  # A copy of the lock file inside node_modules says they were installed from it.
  stamp=$dir/node_modules/.installed-from-lock.json
  if ! cmp -s "$dir/package-lock.json" "$stamp"; then
    npm ci --no-audit --no-fund --loglevel=error --prefix "$dir"
    cp "$dir/package-lock.json" "$stamp"
  fi
done
