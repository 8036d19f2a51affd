#!/usr/bin/env bash
# Measures what the journal costs, in one run on one machine: tasks per second
# through distributo-master with --journal=none and with the SQLite journal,
# W workers (distributo-bench-worker) on loopback, batch B, trivial tasks with
# 32-byte payloads; then the master's RSS with P pending tasks in each mode.
# Prints a table; quote the ratios, since these machines are shared and noisy.
#
# Usage: bench/journal_bench.sh [BUILD_DIR]   (default build/, already built)
# Environment: TASKS (200000), WORKERS (4), BATCH (100), RUNS (3, the median is
# kept), PENDING (1000000), TIMEOUT_S (600, for each job).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly build=${1:-build}
readonly tasks=${TASKS:-200000} workers=${WORKERS:-4} batch=${BATCH:-100}
readonly runs=${RUNS:-3} pending=${PENDING:-1000000} timeout_s=${TIMEOUT_S:-600}
readonly master_bin=$build/server/distributo-master
readonly worker_bin=$build/bench/distributo-bench-worker
for bin in "$master_bin" "$worker_bin"; do
  [ -x "$bin" ] || { echo "journal_bench: $bin not built" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
# Ends what this script started, by PID, and removes its files.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf -- "$work"
}
trap cleanup EXIT

# Writes `count` tasks {"id": "t<i>", "payload": {"p": <32 bytes>}} to $1.
make_tasks() {
  python3 - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write('{"id":"t%d","payload":{"p":"%032d"}}\n' % (i, i))
EOF
}

# Waits for the port file $1 of master $2; prints the port.
wait_for_port() {
  local deadline=$((SECONDS + timeout_s))
  until [ -s "$1" ]; do
    kill -0 "$2" 2>/dev/null || { echo "journal_bench: the master died" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "journal_bench: no port" >&2; exit 1; }
    sleep 0.05
  done
  cat "$1"
}

# Runs one job with journal $1 (none, or a path); prints tasks/s, measured
# from the master serving to the master exiting, and its peak RSS in MiB.
run_job() {
  local journal=$1 dir=$work/job-$RANDOM
  mkdir -p "$dir"
  "$master_bin" --port=0 --port_file="$dir/port" --tasks="$work/tasks.jsonl" \
    --results="$dir/results.jsonl" --journal="$journal" --batch_size="$batch" \
    2>"$dir/master.log" &
  local master=$! port start end i worker_pids=()
  pids+=("$master")
  port=$(wait_for_port "$dir/port" "$master")
  start=$(date +%s%N)
  for i in $(seq "$workers"); do
    "$worker_bin" --master="127.0.0.1:$port" 2>"$dir/worker-$i.log" &
    worker_pids+=($!)
    pids+=($!)
  done
  wait "$master"
  end=$(date +%s%N)
  for i in "${worker_pids[@]}"; do wait "$i"; done
  [ "$(wc -l <"$dir/results.jsonl")" -eq "$tasks" ] ||
    { echo "journal_bench: missing results in $dir" >&2; exit 1; }
  local rss
  rss=$(sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1/p' "$dir/master.log")
  echo "$((tasks * 1000000000 / (end - start))) $rss"
  rm -rf -- "$dir"
}

# Prints the median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | sed -n "$(((${#@} + 1) / 2))p"; }

# Prints the RSS in MiB of a master holding `pending` tasks, journal $1.
pending_rss() {
  local journal=$1 dir=$work/pending-$RANDOM
  mkdir -p "$dir"
  "$master_bin" --port=0 --port_file="$dir/port" --tasks="$work/pending.jsonl" \
    --results="$dir/results.jsonl" --journal="$journal" 2>"$dir/master.log" &
  local master=$!
  pids+=("$master")
  wait_for_port "$dir/port" "$master" >/dev/null
  echo $(($(awk '/^VmRSS:/ {print $2}' "/proc/$master/status") / 1024))
  kill -KILL "$master"
  wait "$master" 2>/dev/null || true
  rm -rf -- "$dir"
}

echo "journal_bench: $tasks tasks, $workers workers, batch $batch, $runs runs"
make_tasks "$work/tasks.jsonl" "$tasks"
declare -A rate=() rss=()
for mode in none journal; do
  rates=() peaks=()
  for _ in $(seq "$runs"); do
    journal=none
    [ "$mode" = none ] || journal=$work/bench.journal
    rm -f -- "$work/bench.journal"*
    run_job "$journal" >"$work/job.out"
    read -r r p <"$work/job.out"
    rates+=("$r")
    peaks+=("$p")
  done
  rate[$mode]=$(median "${rates[@]}")
  rss[$mode]=$(median "${peaks[@]}")
done
echo "journal_bench: $pending pending tasks, no workers"
make_tasks "$work/pending.jsonl" "$pending"
pending_rss none >"$work/pending.out"
pending_none=$(cat "$work/pending.out")
pending_rss "$work/pending.journal" >"$work/pending.out"
pending_journal=$(cat "$work/pending.out")

echo
printf '| mode | tasks/s | ratio to none | master peak RSS MiB | RSS MiB, %d pending | bytes per pending task |\n' "$pending"
echo '|---|---:|---:|---:|---:|---:|'
for mode in none journal; do
  held=$pending_none
  [ "$mode" = none ] || held=$pending_journal
  printf '| %s | %d | %s | %d | %d | %d |\n' "$mode" "${rate[$mode]}" \
    "$(python3 -c "print(f'{${rate[$mode]} / ${rate[none]}:.2f}')")" \
    "${rss[$mode]}" "$held" $((held * 1048576 / pending))
done
