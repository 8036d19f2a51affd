#ifndef DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_LEASE_OPTIONS_H_
#define DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_LEASE_OPTIONS_H_

#include "absl/time/time.h"

namespace distributo {

// How long workers hold tasks and how failures are retried; the same settings
// as distributo-master's flags of these names (docs/protocol.md).
struct LeaseOptions {
  // A lease lasts this long unless the worker extends it (it does, every
  // third of it, while the task runs).
  absl::Duration lease_timeout = absl::Seconds(60);
  // A worker whose stream broke keeps its leases this long, to resume.
  absl::Duration requeue_grace = absl::Seconds(5);
  // Failed attempts before a task is dead.
  int max_attempts = 5;
  // Leases lost to dead or hung workers before a task is dead (poison).
  int max_worker_deaths = 3;
  // First retry delay after a failure; doubles per failure up to the max.
  absl::Duration retry_backoff = absl::Seconds(1);
  absl::Duration max_retry_backoff = absl::Seconds(60);
};

}  // namespace distributo

#endif  // DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_LEASE_OPTIONS_H_
