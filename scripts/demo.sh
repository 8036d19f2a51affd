#!/usr/bin/env bash
# Demo: counts the syllables of every word in /usr/share/dict/words with the C++ SDK example
# (examples/syllables/): one syllables-master and four syllables-workers, then prints a summary.
#
# Usage: scripts/demo.sh   (from any directory; needs root or sudo for scripts/setup.sh)
# Everything it writes goes to demo-out/ at the repo root, wiped at each run.
# Environment: DEMO_WORKERS (default 4), DEMO_TIMEOUT_S (default 600), the longest the job
# may take, DEMO_WORDS (default /usr/share/dict/words).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly repo=$PWD
readonly out=$repo/demo-out
readonly words=${DEMO_WORDS:-/usr/share/dict/words}
readonly num_workers=${DEMO_WORKERS:-4}
readonly job_timeout_s=${DEMO_TIMEOUT_S:-600}
readonly port_timeout_s=10   # For the master to write its port file.
readonly exit_timeout_s=30   # For the workers to exit once the master is done.
readonly progress_every_s=5   # Between progress lines when stdout is not a terminal.

declare -A name_of=()  # PID -> name, for every process started here and not yet reaped.

die() {
  echo "demo: $*" >&2
  exit 1
}

# Ends the processes this script started that are still running: TERM, then KILL after 5 s.
cleanup() {
  local pid alive _
  [ ${#name_of[@]} -gt 0 ] || return 0
  echo "demo: stopping the ${#name_of[@]} process(es) it started; logs are in $out" >&2
  for pid in "${!name_of[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in {1..50}; do
    alive=0
    for pid in "${!name_of[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ "$alive" -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "${!name_of[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

[[ $num_workers =~ ^[1-9][0-9]*$ ]] || die "DEMO_WORKERS must be a positive number"
[[ $job_timeout_s =~ ^[1-9][0-9]*$ ]] || die "DEMO_TIMEOUT_S must be a positive number"

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Reaps the exited process `pid` and fails if it did not exit 0.
reap() {
  local pid=$1 name=${name_of[$1]} rc=0
  wait "$pid" || rc=$?
  unset "name_of[$pid]"
  if [ "$rc" -ne 0 ]; then
    if [ -f "$out/$name.log" ]; then
      echo "demo: last lines of $out/$name.log:" >&2
      tail -n 20 "$out/$name.log" >&2
    fi
    die "$name exited with status $rc"
  fi
}

# Reaps every worker that has exited; fails if one failed.
reap_exited_workers() {
  local pid
  for pid in "${!name_of[@]}"; do
    if [[ ${name_of[$pid]} == worker-* ]] && ! kill -0 "$pid" 2>/dev/null; then
      reap "$pid"
    fi
  done
}

# Prints how many workers are still running (started and not yet reaped).
running_workers() {
  local pid n=0
  for pid in "${!name_of[@]}"; do [[ ${name_of[$pid]} != worker-* ]] || n=$((n + 1)); done
  echo "$n"
}

# Prints "[#####.....]": $1 of $2 as 30 cells.
bar() {
  local filled=$(($2 > 0 ? $1 * 30 / $2 : 30)) i cells="["
  for ((i = 0; i < 30; i++)); do
    if [ "$i" -lt "$filled" ]; then cells+="#"; else cells+="."; fi
  done
  echo "$cells]"
}

# Shows how far the job is: a bar redrawn in place on a terminal, else a line
# every progress_every_s.
show_progress() {
  local line done_so_far
  done_so_far=$(results_so_far)
  line="demo: $(bar "$done_so_far" "$num_words") $done_so_far of $num_words words counted"
  if [ -t 1 ]; then
    printf '\r%s' "$line"
  elif [ "$SECONDS" -ge "$next_progress" ]; then
    echo "$line"
    next_progress=$((SECONDS + progress_every_s))
  fi
}

# Prints how many results the master has written so far.
results_so_far() {
  if [ -f "$out/results.jsonl" ]; then wc -l <"$out/results.jsonl"; else echo 0; fi
}

echo "demo: installing packages (scripts/setup.sh)"
scripts/setup.sh
echo "demo: building into build/"
cmake -S . -B build -G Ninja
cmake --build build
master_bin=build/examples/syllables/syllables-master
worker_bin=build/examples/syllables/syllables-worker
[ -x "$master_bin" ] || die "$master_bin was not built"
[ -x "$worker_bin" ] || die "$worker_bin was not built"
[ -r "$words" ] || die "$words not found: install wamerican (scripts/setup.sh does)"

rm -rf -- "$out"
mkdir -p -- "$out"
# The master skips blank lines (only ASCII white space, as in the C locale).
num_words=$(LC_ALL=C grep -c '[^[:space:]]' "$words" || true)
echo "demo: $num_words words in $words"

start_ns=$(date +%s%N)
# The master reads the words lazily, a line per task, and writes one JSON line per word.
"$master_bin" --port=0 --port_file="$out/port" --words="$words" --http_port=0 \
  --results="$out/results.jsonl" --batch_size=100 >"$out/master.log" 2>&1 &
master_pid=$!
name_of[$master_pid]=master

deadline=$((SECONDS + port_timeout_s))
until port=$(cat "$out/port" 2>/dev/null) && [[ $port =~ ^[0-9]+$ ]]; do
  if ! kill -0 "$master_pid" 2>/dev/null; then
    reap "$master_pid"  # Fails with the master's status if it is not 0.
    die "the master exited before writing its port to $out/port"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "the master wrote no port to $out/port in ${port_timeout_s}s"
  sleep 0.1
done
echo "demo: master listening on 127.0.0.1:$port; starting $num_workers workers"
status_page=$(grep -o 'http://[0-9.]*:[0-9]*/' "$out/master.log" | head -n 1 || true)
[ -z "$status_page" ] || echo "demo: live status page (and /metrics) at $status_page"

for i in $(seq 1 "$num_workers"); do
  "$worker_bin" --master="127.0.0.1:$port" --concurrency=1 >"$out/worker-$i.log" 2>&1 &
  name_of[$!]=worker-$i
done

# Waits for the master, failing early if a worker fails. Workers exit once the master says
# the job is complete, a little before the master itself exits: past that, the master gets
# exit_timeout_s more.
deadline=$((SECONDS + job_timeout_s))
timeout_msg="the job did not finish in ${job_timeout_s}s"
workers_gone=false
next_progress=$((SECONDS + progress_every_s))
while kill -0 "$master_pid" 2>/dev/null; do
  reap_exited_workers
  show_progress
  if [ "$workers_gone" = false ] && [ "$(running_workers)" -eq 0 ]; then
    workers_gone=true
    deadline=$((SECONDS + exit_timeout_s))
    timeout_msg="every worker exited but the master did not finish in ${exit_timeout_s}s"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "$timeout_msg"
  sleep 0.1
done
reap "$master_pid"
end_ns=$(date +%s%N)
if [ -t 1 ]; then show_progress; fi  # The last redraw shows every word counted.

# The workers exit 0 once the master has said the job is complete.
deadline=$((SECONDS + exit_timeout_s))
reap_exited_workers
while [ "$(running_workers)" -gt 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || die "workers still running ${exit_timeout_s}s after the master"
  sleep 0.1
  reap_exited_workers
done

[ -s "$out/results.jsonl" ] || die "the master wrote no results to $out/results.jsonl"
elapsed_ms=$(((end_ns - start_ns) / 1000000))
rate=$((num_words * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1)))
echo
echo "Distributo demo: syllables of $words"
printf '  words:    %d (%d result lines)\n' "$num_words" "$(results_so_far)"
printf '  time:     %d.%03d s with %d workers\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000)) \
  "$num_workers"
printf '  rate:     %d words/s\n' "$rate"
printf '  results:  %s\n' "$out/results.jsonl"
printf '  logs:     %s\n' "$out/"
echo "  sample results:"
shuf -n 5 "$out/results.jsonl" | sed 's/^/    /'
