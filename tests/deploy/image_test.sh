#!/usr/bin/env bash
# Proves the container image's runtime without a Docker engine: builds a
# minimal Debian 12 root filesystem with mmdebstrap, runs the Dockerfile's
# own deploy/install-runtime.sh in it, copies the binaries in, and runs a
# small job there as the image would (user distributo, the journal in
# /var/lib/distributo), in a network namespace of its own. A runtime library
# missing from the script fails here.
#
# Usage: tests/deploy/image_test.sh MASTER WORKER CLI   (the built binaries;
# needs root, mmdebstrap and Debian's package mirror)
set -euo pipefail

readonly tasks=200 timeout_s=60

# The job, inside the namespace: loopback only, in the root filesystem $1.
if [ "${1:-}" = --inside ]; then
  root=$2
  ip link set lo up
  # Runs a command in the root filesystem as the image's user.
  as_distributo() {
    chroot "$root" setpriv --reuid=distributo --regid=distributo \
      --init-groups "$@"
  }
  as_distributo timeout "$timeout_s" distributo-master --port=0 \
    --port_file=/var/lib/distributo/port \
    --tasks=/var/lib/distributo/tasks.jsonl \
    --results=/var/lib/distributo/results.jsonl \
    2>"$root/var/lib/distributo/master.log" &
  master=$!
  for _ in $(seq 600); do
    [ -s "$root/var/lib/distributo/port" ] && break
    kill -0 "$master" 2>/dev/null || break
    sleep 0.1
  done
  port=$(cat "$root/var/lib/distributo/port" 2>/dev/null) || {
    echo "image_test: the master did not start:" >&2
    cat "$root/var/lib/distributo/master.log" >&2
    exit 1
  }
  # The image's HEALTHCHECK.
  as_distributo distributo ready "--master=127.0.0.1:$port"
  as_distributo timeout "$timeout_s" distributo-worker \
    "--master=127.0.0.1:$port" --exec=cat --exec_mode=lines --concurrency=2 \
    2>"$root/var/lib/distributo/worker.log"
  wait "$master"
  exit
fi

[ $# -eq 3 ] || { echo "usage: $0 MASTER WORKER CLI" >&2; exit 2; }
for bin in "$@"; do
  [ -x "$bin" ] || { echo "image_test: $bin is not built" >&2; exit 1; }
done
readonly install_script=$(dirname "$0")/../../deploy/install-runtime.sh
root=$(mktemp -d)
trap 'rm -rf --one-file-system -- "$root"' EXIT

echo "image_test: a minimal Debian 12 with deploy/install-runtime.sh"
if ! mmdebstrap --quiet --variant=minbase \
  --customize-hook="copy-in $install_script /tmp" \
  --customize-hook='chroot "$1" sh /tmp/install-runtime.sh' \
  bookworm "$root" >"$root.log" 2>&1; then
  tail -n 40 "$root.log" >&2
  exit 1
fi
rm -f -- "$root.log"
install -m 0755 "$@" "$root/usr/local/bin/"
missing=$(chroot "$root" sh -c 'ldd /usr/local/bin/*' | grep 'not found' || true)
if [ -n "$missing" ]; then
  echo "image_test: libraries missing from deploy/install-runtime.sh:" >&2
  echo "$missing" >&2
  exit 1
fi

state=$root/var/lib/distributo
for i in $(seq "$tasks"); do
  printf '{"id": "t%d", "payload": {"n": %d}}\n' "$i" "$i"
done >"$state/tasks.jsonl"
chroot "$root" chown distributo:distributo /var/lib/distributo/tasks.jsonl
echo "image_test: a job of $tasks tasks in it"
if ! unshare --net --fork "$0" --inside "$root"; then
  echo "image_test: the job failed; master's log:" >&2
  cat "$state/master.log" >&2
  exit 1
fi
results=$(grep -c '"result"' "$state/results.jsonl" || true)
[ "$results" -eq "$tasks" ] || {
  echo "image_test: $results results of $tasks" >&2
  exit 1
}
[ -s "$state/results.jsonl.journal" ] || { echo "image_test: no journal" >&2; exit 1; }
echo "image_test: OK ($tasks results, journal in /var/lib/distributo)"
