#!/usr/bin/env bash
# Installs a built distributo into a temporary prefix, then builds and runs
# tests/sdk/consumer against it, as a user's project would.
#
# Usage: install_consumer_test.sh SOURCE_DIR BUILD_DIR
# BUILD_DIR must be built already (ctest runs after the build).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
  exit 2
fi
source_dir=$1
build_dir=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build_dir" --prefix "$tmp/prefix"
timeout 120 cmake -S "$source_dir/tests/sdk/consumer" -B "$tmp/consumer-build" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix"
timeout 300 cmake --build "$tmp/consumer-build" --parallel
timeout 60 "$tmp/consumer-build/consumer"
