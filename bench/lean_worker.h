#ifndef DISTRIBUTO_BENCH_LEAN_WORKER_H_
#define DISTRIBUTO_BENCH_LEAN_WORKER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/latency_histogram.h"
#include "bench/report.h"

namespace distributo::bench {

// What one lean worker measured, in CLOCK_MONOTONIC nanoseconds.
struct WorkerReport {
  uint64_t tasks = 0;          // outcomes acked
  int64_t first_lease_ns = 0;  // the first batch's arrival
  int64_t last_ack_ns = 0;     // the last ack's arrival
  // From the task's enqueue to its batch's arrival at the worker.
  LatencyHistogram enqueue_to_lease;
  // From a batch's arrival to the arrival of the ack of its outcomes.
  LatencyHistogram lease_to_ack;

  // As lines of text, for the benchmark's parent process, and back.
  std::string Serialize() const;
  static absl::StatusOr<WorkerReport> Parse(absl::string_view text);
};

struct LeanWorkerOptions {
  std::string master;  // HOST:PORT
  // Tasks the worker may hold at once (leased or waiting for their ack):
  // its credit, granted in the hello and given back with each ack.
  uint32_t window = 400;
  absl::Duration timeout = absl::Minutes(10);
};

struct SwarmOptions {
  std::string master;  // HOST:PORT
  int streams = 1000;
  int per_channel = 4;     // sessions (two streams each) per connection
  std::string ready_file;  // written once every session is open
  absl::Duration timeout = absl::Minutes(10);
};

// Opens `streams` idle worker sessions, their hellos granting no credit;
// once all are open, writes `ready_file` and waits for SIGUSR1 (which the
// caller blocks in every thread before any starts), then grants each one
// task and waits until the job is complete. Reports how long the sessions
// took to open and each its first batch, from the grant on.
absl::StatusOr<Report> RunIdleSwarm(const SwarmOptions& options);

// Runs a worker that answers each benchmark task at once, with gRPC's
// callback API and no SDK, so that what is measured is the master and the
// transport. Returns its report once the master said the job is complete
// and every outcome is acked; Unavailable or DeadlineExceeded otherwise.
absl::StatusOr<WorkerReport> RunLeanWorker(const LeanWorkerOptions& options);

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_LEAN_WORKER_H_
