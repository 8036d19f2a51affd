#ifndef DISTRIBUTO_SERVER_QUEUE_OPTIONS_H_
#define DISTRIBUTO_SERVER_QUEUE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"

namespace distributo::server {

// Lease, retry and size settings of a TaskQueue. The defaults follow
// DESIGN.md §3 and notes/reliability.md.
struct QueueOptions {
  // How long a lease lasts unless the worker extends it.
  absl::Duration lease_duration = absl::Seconds(60);
  // How long a disconnected session keeps its leases, so that a worker that
  // reconnects quickly can resume instead of losing its work.
  absl::Duration requeue_grace = absl::Seconds(5);
  // Failed attempts before a task goes to the dead set.
  int max_attempts = 5;
  // Leases lost to broken streams or expiry before a task counts as poison.
  int max_worker_deaths = 3;
  // Backoff before a failed task is retried: doubles per failure, capped.
  absl::Duration retry_backoff = absl::Seconds(1);
  absl::Duration max_retry_backoff = absl::Seconds(60);
  // Relative jitter applied to each backoff, in [0, 1).
  double retry_jitter = 0.2;
  // Limits of one LeasedTasks message.
  size_t max_batch_tasks = 100;
  size_t max_batch_bytes = size_t{1} << 20;
  // Results larger than this are refused with VERDICT_TOO_LARGE.
  size_t max_result_bytes = size_t{1} << 20;
  // The largest message the master accepts on a stream, told to workers.
  size_t max_message_bytes = size_t{4} << 20;
  // Finished tasks whose results wait for the journal or the result sink,
  // past which no task is leased: a sink slower than the workers then slows
  // the workers down, instead of growing the master's memory.
  size_t max_unhandled = 20'000;
  // If set, a result it refuses is acked VERDICT_INVALID with its message,
  // e.g. one that is not of the type the job expects. Called concurrently.
  using ResultCheck = std::function<absl::Status(const google::protobuf::Any&)>;
  ResultCheck check_result;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_QUEUE_OPTIONS_H_
