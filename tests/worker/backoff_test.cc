#include "worker/backoff.h"

#include "gtest/gtest.h"

namespace distributo::worker {
namespace {

TEST(BackoffTest, NextDelayWithoutJitterGrowsUntilMax) {
  Backoff backoff({absl::Seconds(1), absl::Seconds(3), 1.6, 0.2},
                  [] { return 0.5; });
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(1));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(1600));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(2560));
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(3));
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(3));
}

TEST(BackoffTest, NextDelayWithExtremeRandomStaysWithinJitter) {
  Backoff low({absl::Seconds(1), absl::Seconds(30), 1.6, 0.2},
              [] { return 0.0; });
  EXPECT_EQ(low.NextDelay(), absl::Milliseconds(800));
  Backoff high({absl::Seconds(1), absl::Seconds(30), 1.6, 0.2},
               [] { return 1.0; });
  EXPECT_EQ(high.NextDelay(), absl::Milliseconds(1200));
}

TEST(BackoffTest, NextDelayNearMaxNeverExceedsMax) {
  Backoff backoff({absl::Seconds(30), absl::Seconds(30), 1.6, 0.2},
                  [] { return 1.0; });
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(30));
}

TEST(BackoffTest, ResetStartsOverFromInitial) {
  Backoff backoff({absl::Seconds(1), absl::Seconds(30), 2.0, 0.0},
                  [] { return 0.5; });
  backoff.NextDelay();
  backoff.NextDelay();
  backoff.Reset();
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(1));
}

}  // namespace
}  // namespace distributo::worker
