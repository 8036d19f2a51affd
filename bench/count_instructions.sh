#!/usr/bin/env bash
# Counts the instructions the master and the raw server execute per task,
# under callgrind: a figure that, unlike time, does not move with the load
# of a shared machine, so that two builds can be compared from one run each
# (time per instruction still differs: cache misses, the kernel, waits).
#
# Usage: bench/count_instructions.sh [BUILD_DIR] [distributo-bench flags]
#   e.g. bench/count_instructions.sh build --journal=/tmp/count.journal
# Defaults: --workers=1 --batch=100 --tasks=50000 --journal=none. Runs about
# 50 times slower than natively (half a minute to a few). The counts include
# each process's start (about 40M instructions, 800 per task at 50,000), so
# compare runs with the same flags. Needs valgrind.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=build
if [ $# -gt 0 ] && [[ $1 != --* ]]; then
  build=$1
  shift
fi
readonly bench=$build/bench/distributo-bench
[ -x "$bench" ] || { echo "count_instructions: $bench not built" >&2; exit 1; }
command -v valgrind >/dev/null ||
  { echo "count_instructions: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

flags=(--workers=1 --batch=100 --tasks=50000 --journal=none "$@")
tasks=50000
for flag in "${flags[@]}"; do
  case $flag in --tasks=*) tasks=${flag#--tasks=} ;; esac
done

# Every process the benchmark starts (servers, workers) gets its own file.
timeout 900 valgrind --tool=callgrind --trace-children=yes \
  --callgrind-out-file="$work/callgrind.%p" "$bench" "${flags[@]}" --json \
  >"$work/result.json" 2>"$work/valgrind.log" || {
  tail -n 20 "$work/valgrind.log" >&2
  exit 1
}
for role in raw master; do
  for file in "$work"/callgrind.*; do
    grep -q -- "^cmd: .* --role=$role " "$file" || continue
    total=$(grep -m1 '^summary:' "$file" | cut -d' ' -f2)
    echo "$role: $((total / tasks)) instructions per task ($tasks tasks)"
  done
done
