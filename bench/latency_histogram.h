#ifndef DISTRIBUTO_BENCH_LATENCY_HISTOGRAM_H_
#define DISTRIBUTO_BENCH_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace distributo::bench {

// Counts latencies in nanoseconds in log-linear buckets (32 per power of
// two: within 3% of the true value), so that percentiles of millions of
// samples from several processes can be merged exactly. Thread-compatible.
class LatencyHistogram {
 public:
  LatencyHistogram();

  // Counts `count` samples of `nanos`.
  void Record(int64_t nanos, uint64_t count = 1);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }

  // Returns the latency below which `fraction` of the samples fall, in
  // microseconds; 0 without samples.
  double PercentileMicros(double fraction) const;

  // Returns the histogram as one line of "bucket:count" pairs, and parses
  // one back (false if it is not one).
  std::string Serialize() const;
  bool Parse(absl::string_view line);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
};

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_LATENCY_HISTOGRAM_H_
