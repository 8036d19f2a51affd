#!/usr/bin/env bash
# mDNS discovery between real peers, in network namespaces this script makes:
#   hermetic   master and workers in a private namespace (no root needed):
#              the cluster key keeps a second master out;
#   two_hosts  two namespaces joined by a veth pair: a worker in one finds
#              the master in the other (root);
#   avahi      Avahi in one of two namespaces: avahi-browse lists our master,
#              and our worker finds a service avahi-publish announces (root).
#   sdk        the SDK's syllables example in a private namespace:
#              TaskDistributor's enable_discovery, WorkerClient with no master.
# Usage: mdns_test.sh MODE MASTER_BIN WORKER_BIN TASK_SCRIPT
#          [SYLLABLES_MASTER_BIN SYLLABLES_WORKER_BIN]
# Exits 0 on success, 77 when the mode cannot run here (ctest: skipped).
set -euo pipefail

mode=$1 master_bin=$2 worker_bin=$3 task_script=$4
syllables_master=${5:-} syllables_worker=${6:-}
readonly kSkip=77 kJobSeconds=60

# The outer run makes the directory; runs inside namespaces share it.
work=${MDNS_TEST_DIR:-}
owns_work=false
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/mdns_test.XXXXXX")
  owns_work=true
fi
pids=()
netns=()

cleanup() {
  local status=$? pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${netns[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  # Kept after a failure, for its logs.
  if [ "$status" -eq 0 ] && $owns_work; then rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

# Writes N tasks {"n": i} with ids t0..t(N-1) to FILE.
write_tasks() {
  local count=$1 file=$2 i
  : >"$file"
  for ((i = 0; i < count; i++)); do
    echo "{\"id\": \"t$i\", \"payload\": {\"n\": $i}}" >>"$file"
  done
}

# Checks that FILE holds exactly one correct result for each of N tasks.
check_results() {
  python3 - "$1" "$2" <<'EOF' || fail "results in $1"
import collections, json, sys
path, count = sys.argv[1], int(sys.argv[2])
seen = collections.Counter()
for line in open(path):
    row = json.loads(line)
    n = int(row["id"][1:])
    assert row["result"]["square"] == n * n, row
    seen[row["id"]] += 1
expected = {f"t{i}" for i in range(count)}
lost, twice = expected - set(seen), [i for i, c in seen.items() if c > 1]
assert not lost and not twice and set(seen) == expected, (lost, twice)
EOF
}

# Waits up to SECONDS for FILE to contain TEXT.
wait_for_text() {
  local file=$1 text=$2 seconds=$3 end=$((SECONDS + $3))
  until grep -qF -- "$text" "$file" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "no \"$text\" in $file after ${seconds}s"
    sleep 0.1
  done
}

# Waits up to kJobSeconds for PID to exit and fails unless it exits 0.
expect_exit_zero() {
  local pid=$1 what=$2 rc=0
  timeout "$kJobSeconds" tail --pid="$pid" -f /dev/null ||
    fail "$what did not finish in ${kJobSeconds}s"
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$what exited $rc"
}

# Splits "PREFIX... -- FLAGS..." into the arrays prefix and flags.
split_args() {
  prefix=() flags=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  [ "$#" -gt 0 ] && shift
  flags=("$@")
}

# Starts a job master in the background: NAME COUNT [PREFIX...] -- [FLAGS...]
# (PREFIX runs it, e.g. "ip netns exec a"). Sets master_pid and waits until
# it serves; its port is then in $work/NAME.port.
start_master() {
  local name=$1 count=$2
  shift 2
  split_args "$@"
  write_tasks "$count" "$work/$name.tasks"
  "${prefix[@]}" "$master_bin" --tasks="$work/$name.tasks" \
    --results="$work/$name.results" --journal=none --port=0 \
    --port_file="$work/$name.port" "${flags[@]}" 2>"$work/$name.log" &
  master_pid=$!
  pids+=("$master_pid")
  wait_for_text "$work/$name.log" "listening on" 10
}

# Runs a worker to its end: NAME [PREFIX...] -- [FLAGS...]
run_worker() {
  local name=$1 rc=0
  shift
  split_args "$@"
  timeout "$kJobSeconds" "${prefix[@]}" "$worker_bin" \
    --exec="python3 $task_script" --exec_mode=lines --concurrency=2 \
    --reconnect_initial=200ms --reconnect_max=1s "${flags[@]}" \
    2>"$work/$name.log" || rc=$?
  [ "$rc" -eq 0 ] || fail "worker $name exited $rc"
}

# Inside a private namespace: two masters of different clusters on lo.
hermetic() {
  ip link set lo up
  start_master blue 40 -- --advertise --cluster=blue
  local blue=$master_pid
  start_master green 20 -- --advertise=green-master --cluster=green
  local green=$master_pid
  wait_for_text "$work/blue.log" "advertising" 10
  wait_for_text "$work/green.log" "advertising green-master" 10
  run_worker blue-worker -- --master=mdns --cluster=blue
  expect_exit_zero "$blue" "the blue master"
  check_results "$work/blue.results" 40
  [ ! -s "$work/green.results" ] || fail "a blue worker served green"
  # Without --cluster any master will do: only green is left.
  run_worker any-worker -- --master=mdns
  expect_exit_zero "$green" "the green master"
  check_results "$work/green.results" 20
  echo "PASS: hermetic mDNS, clusters kept apart"
}

# Inside a private namespace: the SDK's example master advertises, its
# workers find it with no address.
sdk() {
  ip link set lo up
  printf '%s\n' apple banana cherry dinosaur elephant >"$work/words"
  "$syllables_master" --words="$work/words" --results="$work/words.results" \
    --port=0 --advertise --cluster=sdk 2>"$work/sdk-master.log" &
  local master=$!
  pids+=("$master")
  wait_for_text "$work/sdk-master.log" "advertising" 10
  timeout "$kJobSeconds" "$syllables_worker" --master=mdns --cluster=sdk \
    2>"$work/sdk-worker.log" || fail "the SDK worker exited $?"
  expect_exit_zero "$master" "the SDK master"
  [ "$(wc -l <"$work/words.results")" -eq 5 ] || fail "not 5 words counted"
  echo "PASS: SDK discovery in a private namespace"
}

# Runs MODE_inner (a function) as root of private user, network and pid
# namespaces; skips when they cannot be made.
in_private_namespace() {
  if ! unshare --user --map-root-user --net --pid --fork --kill-child true \
    2>/dev/null; then
    echo "SKIP: cannot make a private network namespace here"
    exit "$kSkip"
  fi
  MDNS_TEST_DIR=$work unshare --user --map-root-user --net --pid --fork \
    --kill-child "$0" "$1_inner" "$master_bin" "$worker_bin" "$task_script" \
    "$syllables_master" "$syllables_worker"
}

# Makes namespaces A and B joined by a veth pair: A is 10.$net.1, B .2.
make_two_hosts() {
  local net=$(( $$ % 200 + 20 ))
  ns_a="dst-a-$$" ns_b="dst-b-$$"
  addr_a="10.77.$net.1" addr_b="10.77.$net.2"
  ip netns add "$ns_a" && netns+=("$ns_a")
  ip netns add "$ns_b" && netns+=("$ns_b")
  ip link add va netns "$ns_a" type veth peer name vb netns "$ns_b"
  ip -n "$ns_a" addr add "$addr_a/24" dev va
  ip -n "$ns_b" addr add "$addr_b/24" dev vb
  for ns in "$ns_a" "$ns_b"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$( [ "$ns" = "$ns_a" ] && echo va || echo vb)" up
  done
}

need_root() {
  if [ "$(id -u)" -ne 0 ] || ! ip netns add "dst-probe-$$" 2>/dev/null; then
    echo "SKIP: needs root and ip netns"
    exit "$kSkip"
  fi
  ip netns delete "dst-probe-$$"
}

two_hosts() {
  need_root
  make_two_hosts
  start_master far 30 ip netns exec "$ns_a" -- --listen=0.0.0.0 --insecure --advertise
  local far=$master_pid
  wait_for_text "$work/far.log" "advertising" 10
  run_worker near-worker ip netns exec "$ns_b" -- --master=mdns
  expect_exit_zero "$far" "the master"
  check_results "$work/far.results" 30
  grep -q "trying ipv4:$addr_a:" "$work/near-worker.log" ||
    fail "the worker did not reach the master over the veth"
  echo "PASS: mDNS across two namespaces"
}

# Writes the dbus and avahi-daemon configs for a private /run in $work.
write_avahi_configs() {
  cat >"$work/dbus.conf" <<'END'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
END
  cat >"$work/avahi.conf" <<'END'
[server]
allow-interfaces=vb
use-ipv6=no
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
publish-hinfo=no
END
}

# In namespace B, with a /run of its own: dbus, avahi-daemon, then
# avahi-browse for our master (in A), then a master of ours that only
# avahi-publish announces. Ends, with all it started, when that master does.
avahi_inner() {
  mount -t tmpfs tmpfs /run
  mkdir -p /run/dbus /run/avahi-daemon
  dbus-daemon --config-file="$work/dbus.conf" --nofork --nopidfile \
    2>"$work/dbus.log" &
  pids+=($!)
  local end=$((SECONDS + 10))
  until [ -S /run/dbus/system_bus_socket ]; do
    [ "$SECONDS" -lt "$end" ] || fail "dbus-daemon did not start"
    sleep 0.1
  done
  avahi-daemon -f "$work/avahi.conf" --no-drop-root --no-chroot \
    --no-rlimits 2>"$work/avahi-daemon.log" &
  pids+=($!)
  wait_for_text "$work/avahi-daemon.log" "Server startup complete" 15
  timeout 20 avahi-browse -rpt _distributo._tcp >"$work/browse.txt" \
    2>"$work/browse.log" || true
  touch "$work/browsed"
  start_master published 25 -- --listen=0.0.0.0 --insecure
  local published=$master_pid
  avahi-publish -s "published-$$" _distributo._tcp \
    "$(cat "$work/published.port")" txtvers=1 >"$work/publish.log" 2>&1 &
  pids+=($!)
  wait_for_text "$work/publish.log" "Established" 15
  touch "$work/published"
  expect_exit_zero "$published" "the avahi-published master"
}

# Waits up to 30 s for FILE to exist.
wait_for_file() {
  local end=$((SECONDS + 30))
  until [ -e "$1" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "no $1 after 30s"
    sleep 0.1
  done
}

avahi() {
  need_root
  command -v avahi-daemon >/dev/null || { echo "SKIP: no avahi"; exit "$kSkip"; }
  make_two_hosts
  write_avahi_configs
  start_master ours 10 ip netns exec "$ns_a" -- --listen=0.0.0.0 --insecure \
    --advertise="ours-$$"
  local ours=$master_pid
  wait_for_text "$work/ours.log" "advertising" 10
  MDNS_TEST_DIR=$work ip netns exec "$ns_b" unshare --mount \
    --propagation private --pid --fork --kill-child \
    "$0" avahi_inner "$master_bin" "$worker_bin" "$task_script" &
  local inner=$!
  pids+=("$inner")
  wait_for_file "$work/browsed"
  grep -q "^=;vb;IPv4;ours-$$;_distributo._tcp;local;.*;$addr_a;$(cat "$work/ours.port");" \
    "$work/browse.txt" || fail "avahi-browse did not list our master"
  grep -q "proto=distributo.v1" "$work/browse.txt" || fail "TXT keys missing"
  # Ours says goodbye, so the worker can find only the published one.
  kill -TERM "$ours"
  expect_exit_zero "$ours" "our master"
  wait_for_file "$work/published"
  run_worker finder ip netns exec "$ns_a" -- --master=mdns
  expect_exit_zero "$inner" "the avahi namespace"
  check_results "$work/published.results" 25
  echo "PASS: Avahi lists our master and our worker finds Avahi's service"
}

case "$mode" in
  avahi) avahi ;;
  avahi_inner) avahi_inner ;;
  hermetic | sdk) in_private_namespace "$mode" ;;
  hermetic_inner) hermetic ;;
  sdk_inner) sdk ;;
  two_hosts) two_hosts ;;
  *) fail "unknown mode $mode" ;;
esac
