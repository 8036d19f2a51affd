#ifndef DISTRIBUTO_BENCH_BENCH_RUN_H_
#define DISTRIBUTO_BENCH_BENCH_RUN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/bench_servers.h"
#include "bench/latency_histogram.h"

namespace distributo::bench {

struct RunOptions {
  int workers = 4;
  size_t batch_size = 100;
  int in_flight = 4;
  uint64_t tasks = 200'000;
  std::string journal = "none";  // or the path of a new SQLite file
  double rate = 0;               // 0: as fast as the workers go
  bool preload = false;          // see ServerOptions::preload
  absl::Duration timeout = absl::Minutes(10);
};

// One job through one server, as its processes reported it.
struct JobResult {
  double tasks_per_s = 0;  // from the first lease to the last ack
  LatencyHistogram enqueue_to_lease;
  LatencyHistogram lease_to_ack;
  ServerReport server;
};

struct RunResult {
  JobResult raw;
  JobResult master;
  // With a journal: how long a master restarted on the finished job's
  // journal took to recover it (replaying its rounds).
  std::optional<absl::Duration> recover;
  // With a journal: bare commits of the journal's disk (TimeDiskSyncs).
  std::optional<LatencyHistogram> disk_sync;
};

// Runs the job against the raw baseline, then against the master, each in
// processes of their own (this binary with --role=...), and times a restart
// on the master's journal and its disk's syncs, if it has one. Returns
// FailedPrecondition if the journal's file exists, Internal if a process
// failed or a task was lost or handled twice, DeadlineExceeded on timeout.
absl::StatusOr<RunResult> RunBoth(const RunOptions& options);

// Holds `pending` tasks in a master with no worker (in a process of its
// own, with options.journal); returns a JSON object with its RSS before and
// after and the bytes per pending task.
absl::StatusOr<std::string> MeasurePending(const RunOptions& options,
                                           uint64_t pending);

// Connects `streams` idle worker sessions to a master; returns a JSON object
// with the master's RSS with and without them, how long they took to open,
// and, once each asks for one task, how long they waited for it.
absl::StatusOr<std::string> MeasureIdleStreams(const RunOptions& options,
                                               int streams);

std::string ToJson(const RunOptions& options, const RunResult& result);
std::string ToTable(const RunOptions& options, const RunResult& result);

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_BENCH_RUN_H_
