#include "server/prometheus_text.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/histogram.h"
#include "server/progress_reporter.h"

namespace distributo::server {
namespace {

TEST(HistogramTest, ObserveCountsEachDurationInTheFirstBucketThatHoldsIt) {
  Histogram histogram;
  histogram.Observe(absl::Microseconds(100));  // <= 0.0005
  histogram.Observe(absl::Milliseconds(1));    // <= 0.001, on the bound
  histogram.Observe(absl::Seconds(2));         // <= 2.5
  histogram.Observe(absl::Hours(1));           // +Inf
  EXPECT_EQ(histogram.buckets()[0], 1u);
  EXPECT_EQ(histogram.buckets()[1], 1u);
  EXPECT_EQ(histogram.buckets()[11], 1u);
  EXPECT_EQ(histogram.buckets().back(), 1u);
  EXPECT_EQ(histogram.count(), 4u);
  EXPECT_NEAR(histogram.sum_seconds(), 3602.0011, 1e-9);
}

TEST(PrometheusTextTest, EveryFamilyHasHelpTypeAndItsSamples) {
  MasterStatus status;
  status.queue.counts.done = 7;
  status.queue.counts.leases = 9;
  status.queue.task_duration.Observe(absl::Milliseconds(3));
  status.queue.task_duration.Observe(absl::Seconds(30));
  status.streams.request_batch_open = 2;
  status.serving = true;
  const std::string text = PrometheusText(status);
  for (const char* line :
       {"# TYPE distributo_tasks gauge\n",
        "distributo_tasks{state=\"done\"} 7\n",
        "# TYPE distributo_tasks_dispatched_total counter\n",
        "distributo_tasks_dispatched_total 9\n",
        "# TYPE distributo_task_duration_seconds histogram\n",
        "distributo_task_duration_seconds_bucket{le=\"0.0025\"} 0\n",
        "distributo_task_duration_seconds_bucket{le=\"0.005\"} 1\n",
        "distributo_task_duration_seconds_bucket{le=\"+Inf\"} 2\n",
        "distributo_task_duration_seconds_count 2\n",
        "distributo_grpc_streams{rpc=\"RequestBatch\"} 2\n",
        "distributo_serving 1\n"}) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << "\nin:\n" << text;
  }
}

TEST(ProgressReporterTest, FormatLineDrawsABarOnlyWhenAsked) {
  QueueCounts counts;
  counts.total = 10;
  counts.done = 4;
  counts.dead = 1;
  const std::string with_bar = ProgressReporter::FormatLine(counts, 2.5, true);
  EXPECT_TRUE(absl::StartsWith(with_bar, "[##########..........] 4/10 done"))
      << with_bar;
  EXPECT_TRUE(absl::StrContains(with_bar, "ETA 2s")) << with_bar;
  EXPECT_TRUE(absl::StartsWith(ProgressReporter::FormatLine(counts, 2.5, false),
                               "4/10 done (50.0%)"));
}

}  // namespace
}  // namespace distributo::server
