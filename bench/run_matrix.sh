#!/usr/bin/env bash
# Runs distributo-bench over the matrix of docs/performance.md and prints its
# tables (Markdown): throughput against the raw gRPC limit for W workers x
# batch B x journal, latency at a moderate load, the master's RSS per pending
# task, and idle worker streams. Each configuration runs the raw baseline and
# the master in the same run; quote the ratios, since these machines are
# shared and noisy.
#
# Usage: bench/run_matrix.sh [BUILD_DIR]   (default build/, already built)
# Environment: TASKS (200000: per job at batch >= 100; a tenth at batch 1, a
# half at batch 10), WORKERS ("1 4 16"), BATCHES ("1 10 100 1000"),
# PENDING ("1000000"; add 10000000 for the 10M row), STREAMS ("1000 10000"),
# RATE (1000 tasks/s for the latency rows).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly bench=${1:-build}/bench/distributo-bench
[ -x "$bench" ] || { echo "run_matrix: $bench not built" >&2; exit 1; }
readonly tasks=${TASKS:-200000} workers=${WORKERS:-1 4 16}
readonly batches=${BATCHES:-1 10 100 1000} pending=${PENDING:-1000000}
readonly streams=${STREAMS:-1000 10000} rate=${RATE:-1000}

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
readonly journal=$work/bench.journal

# Prints the tasks of a job at batch $1.
tasks_for() {
  case $1 in
    1) echo $((tasks / 10)) ;;
    10) echo $((tasks / 2)) ;;
    *) echo "$tasks" ;;
  esac
}

# Runs distributo-bench with "$@" and appends its JSON line to $work/$1.
record() {
  local file=$work/$1
  shift
  "$bench" --json "$@" >>"$file"
}

echo "run_matrix: $(nproc) cores, $(date -u +%FT%TZ); $tasks tasks per job" >&2
for mode in none journal; do
  j=none
  [ "$mode" = none ] || j=$journal
  for b in $batches; do
    for w in $workers; do
      echo "run_matrix: W=$w B=$b journal=$mode" >&2
      record throughput --workers="$w" --batch="$b" --tasks="$(tasks_for "$b")" --journal="$j"
    done
  done
  echo "run_matrix: latency at $rate tasks/s, journal=$mode" >&2
  record latency --workers=4 --batch=100 --tasks=$((rate * 5)) --rate="$rate" --journal="$j"
  for p in $pending; do
    echo "run_matrix: $p pending, journal=$mode" >&2
    record pending --pending="$p" --journal="$j"
  done
done
for s in $streams; do
  echo "run_matrix: $s idle streams" >&2
  record streams --idle_streams="$s"
done

python3 - "$work" <<'PY'
import json, os, sys

work = sys.argv[1]
def rows(name):
    path = os.path.join(work, name)
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []

print("| W | batch | journal | master tasks/s | raw gRPC tasks/s | ratio "
      "| enqueue to lease p50 / p99 us | lease to result p50 / p99 us "
      "| master CPU s per 1M (raw) | master peak RSS MiB |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows("throughput"):
    print(f"| {r['workers']} | {r['batch']} | {r['journal']} | {r['tasks_per_s']:,} "
          f"| {r['raw_limit_per_s']:,} | {r['ratio']:.2f} "
          f"| {r['master_enqueue_to_lease_p50_us']:.0f} / {r['master_enqueue_to_lease_p99_us']:.0f} "
          f"| {r['master_lease_to_result_p50_us']:.0f} / {r['master_lease_to_result_p99_us']:.0f} "
          f"| {r['master_cpu_s_per_million']:.2f} ({r['raw_cpu_s_per_million']:.2f}) "
          f"| {r['master_peak_rss_mb']} |")
print()
print("| load | journal | enqueue to lease p50 / p99 us | lease to result p50 / p99 us "
      "| disk sync p50 / p99 us |")
print("|---|---|---:|---:|---:|")
for r in rows("latency"):
    disk = (f"{r['disk_sync_p50_us']:.0f} / {r['disk_sync_p99_us']:.0f}"
            if "disk_sync_p99_us" in r else "-")
    print(f"| {r['rate']:g} tasks/s, W={r['workers']}, batch {r['batch']} | {r['journal']} "
          f"| {r['master_enqueue_to_lease_p50_us']:.0f} / {r['master_enqueue_to_lease_p99_us']:.0f} "
          f"| {r['master_lease_to_result_p50_us']:.0f} / {r['master_lease_to_result_p99_us']:.0f} "
          f"| {disk} |")
print()
print("| pending tasks | journal | master RSS MiB before / after | bytes per pending task |")
print("|---:|---|---:|---:|")
for r in rows("pending"):
    print(f"| {r['pending']:,} | {r['journal']} | {r['rss_before_mb']:.0f} / {r['rss_after_mb']:.0f} "
          f"| {r['bytes_per_pending_task']:.0f} |")
print()
print("| idle worker sessions | master RSS MiB without / with | KiB per session "
      "| all open in ms | first batch p50 / p99 / max ms |")
print("|---:|---:|---:|---:|---:|")
for r in rows("streams"):
    print(f"| {r['idle_streams']:,} | {r['master_rss_mb']:.0f} / {r['master_rss_with_streams_mb']:.0f} "
          f"| {r['kb_per_stream']:.1f} | {r['open_ms']:.0f} "
          f"| {r['first_batch_p50_ms']:.1f} / {r['first_batch_p99_ms']:.1f} / {r['first_batch_max_ms']:.1f} |")
PY
