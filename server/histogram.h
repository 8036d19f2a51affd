#ifndef DISTRIBUTO_SERVER_HISTOGRAM_H_
#define DISTRIBUTO_SERVER_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace distributo::server {

// Counts durations in fixed buckets from 0.5 ms to 5 min, as a Prometheus
// histogram does: each bucket counts observations up to its bound, plus a
// total count and sum. Thread-compatible: the owner locks around it.
class Histogram {
 public:
  static constexpr std::array<double, 16> kBoundsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,   1,      2.5,   5,    10,    60,   300};

  void Observe(absl::Duration duration);

  // Observations in bucket i (not cumulative); the last one is +Inf.
  const std::array<uint64_t, kBoundsSeconds.size() + 1>& buckets() const {
    return buckets_;
  }
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_seconds_; }

 private:
  std::array<uint64_t, kBoundsSeconds.size() + 1> buckets_ = {};
  uint64_t count_ = 0;
  double sum_seconds_ = 0;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_HISTOGRAM_H_
