#!/bin/sh
# Installs what Distributo's binaries need at run time on Debian 12, and the
# user they run as. The Dockerfile's runtime stage runs it; CI runs it in a
# fresh minimal Debian root filesystem and then a job there
# (tests/deploy/image_test.sh), so a library missing here fails CI, not a
# user.
set -eu

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libgoogle-glog0v6 \
  libgflags2.2 libc-ares2 libsqlite3-0 libcpp-httplib0.11 libssl3 \
  libjemalloc2 \
  ca-certificates
rm -rf /var/lib/apt/lists/*
useradd --uid 10001 --user-group --home-dir /var/lib/distributo \
  --create-home --shell /usr/sbin/nologin distributo
