#include "server/progress_reporter.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace distributo::server {

ProgressReporter::ProgressReporter(TaskQueue* queue, std::FILE* out,
                                   absl::Duration interval)
    : printer_(out, interval,
               [queue, before = FinishedNow(*queue)](absl::Duration elapsed,
                                                     bool terminal) {
                 const QueueCounts counts = queue->Counts();
                 return FormatLine(counts,
                                   FinishedPerSecond(counts, before, elapsed),
                                   terminal);
               }) {}

uint64_t ProgressReporter::FinishedNow(TaskQueue& queue) {
  const QueueCounts counts = queue.Counts();
  return counts.done + counts.dead;
}

std::string ProgressReporter::FormatLine(const QueueCounts& counts, double rate,
                                         bool with_bar) {
  const uint64_t finished = counts.done + counts.dead;
  const double fraction =
      counts.total == 0 ? 1.0 : static_cast<double>(finished) / counts.total;
  std::string eta = "-";
  if (rate > 0 && finished < counts.total) {
    eta = absl::FormatDuration(absl::Seconds(
        static_cast<int64_t>((counts.total - finished) / rate + 0.5)));
  }
  return absl::StrFormat(
      "%s%d/%d done (%.1f%%) | %.0f tasks/s | ETA %s | %d workers | %d in "
      "flight | %d failed attempts | %d dead",
      with_bar ? absl::StrCat(ProgressPrinter::Bar(fraction, 20), " ") : "",
      counts.done, counts.total, 100 * fraction, rate, eta, counts.sessions,
      counts.leased, counts.failures, counts.dead);
}

}  // namespace distributo::server
