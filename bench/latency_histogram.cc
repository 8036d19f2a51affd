#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace distributo::bench {
namespace {

constexpr int kSubBits = 5;  // 32 buckets per power of two
constexpr int64_t kLinear = int64_t{1} << (kSubBits + 1);
constexpr size_t kBuckets = kLinear + (63 - kSubBits) * (1 << kSubBits);

size_t BucketOf(int64_t nanos) {
  if (nanos < kLinear) return std::max<int64_t>(nanos, 0);
  const int exponent = 63 - __builtin_clzll(nanos);
  const int64_t sub = (nanos >> (exponent - kSubBits)) & ((1 << kSubBits) - 1);
  return kLinear + (exponent - kSubBits - 1) * (1 << kSubBits) + sub;
}

// Returns the middle of bucket `bucket`, in nanoseconds.
double MiddleOf(size_t bucket) {
  if (bucket < kLinear) return bucket;
  const size_t above = bucket - kLinear;
  const int exponent = above / (1 << kSubBits) + kSubBits + 1;
  const int64_t sub = above % (1 << kSubBits);
  const double low = std::ldexp(1.0 + sub / double{1 << kSubBits}, exponent);
  return low + std::ldexp(0.5, exponent - kSubBits);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

void LatencyHistogram::Record(int64_t nanos, uint64_t count) {
  buckets_[BucketOf(nanos)] += count;
  count_ += count;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

double LatencyHistogram::PercentileMicros(double fraction) const {
  if (count_ == 0) return 0;
  const uint64_t rank = std::ceil(fraction * count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<uint64_t>(rank, 1)) return MiddleOf(i) / 1000;
  }
  return MiddleOf(kBuckets - 1) / 1000;
}

std::string LatencyHistogram::Serialize() const {
  std::string line;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    absl::StrAppend(&line, line.empty() ? "" : " ", i, ":", buckets_[i]);
  }
  return line;
}

bool LatencyHistogram::Parse(absl::string_view line) {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  for (absl::string_view pair : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(pair, ':');
    size_t bucket;
    uint64_t count;
    if (!absl::SimpleAtoi(parts.first, &bucket) ||
        !absl::SimpleAtoi(parts.second, &count) || bucket >= kBuckets) {
      return false;
    }
    buckets_[bucket] += count;
    count_ += count;
  }
  return true;
}

}  // namespace distributo::bench
