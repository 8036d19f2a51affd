#ifndef DISTRIBUTO_WORKER_BACKOFF_H_
#define DISTRIBUTO_WORKER_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"

namespace distributo::worker {

// Computes reconnect delays: exponential growth with random jitter, capped.
// Thread-compatible: one owner calls it, typically the connect loop.
class Backoff {
 public:
  struct Policy {
    absl::Duration initial = absl::Seconds(1);
    absl::Duration max = absl::Seconds(30);
    double multiplier = 1.6;
    // The delay is scaled by a random factor in [1 - jitter, 1 + jitter].
    double jitter = 0.2;
  };

  // `uniform01` returns a random number in [0, 1); tests inject a fixed one.
  Backoff(Policy policy, std::function<double()> uniform01);

  // Returns the delay to wait before the next attempt and grows the base.
  absl::Duration NextDelay();

  // Starts over from `initial`, e.g. once a connection succeeded.
  void Reset();

 private:
  Policy policy_;
  std::function<double()> uniform01_;
  absl::Duration current_;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_BACKOFF_H_
