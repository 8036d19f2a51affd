#include "server/histogram.h"

#include <algorithm>

namespace distributo::server {

void Histogram::Observe(absl::Duration duration) {
  // Through nanoseconds: absl::ToDoubleSeconds() divides in its general
  // (slow) way, and this runs twice per task. Saturates for long ones; a
  // division rounds a duration on a bound to exactly that bound.
  const double seconds = std::max(
      0.0, static_cast<double>(absl::ToInt64Nanoseconds(duration)) / 1e9);
  const auto bound =
      std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds);
  ++buckets_[bound - kBoundsSeconds.begin()];
  ++count_;
  sum_seconds_ += seconds;
}

}  // namespace distributo::server
