#include "server/histogram.h"

#include <algorithm>

namespace distributo::server {

void Histogram::Observe(absl::Duration duration) {
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(duration));
  const auto bound =
      std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds);
  ++buckets_[bound - kBoundsSeconds.begin()];
  ++count_;
  sum_seconds_ += seconds;
}

}  // namespace distributo::server
