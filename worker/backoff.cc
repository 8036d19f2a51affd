#include "worker/backoff.h"

#include <algorithm>
#include <utility>

namespace distributo::worker {

Backoff::Backoff(Policy policy, std::function<double()> uniform01)
    : policy_(policy),
      uniform01_(std::move(uniform01)),
      current_(policy.initial) {}

absl::Duration Backoff::NextDelay() {
  const double factor = 1.0 + policy_.jitter * (2.0 * uniform01_() - 1.0);
  // Jitter applies after the cap would be exceeded, but the result stays
  // within it so that --reconnect_max is a promise.
  const absl::Duration delay = std::min(current_ * factor, policy_.max);
  current_ = std::min(current_ * policy_.multiplier, policy_.max);
  return delay;
}

void Backoff::Reset() { current_ = policy_.initial; }

}  // namespace distributo::worker
