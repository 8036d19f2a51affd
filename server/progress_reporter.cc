#include "server/progress_reporter.h"

#include <unistd.h>

#include "absl/strings/str_format.h"

namespace distributo::server {

ProgressReporter::ProgressReporter(TaskQueue* queue, std::FILE* out,
                                   absl::Duration interval)
    : queue_(queue),
      out_(out),
      interval_(interval),
      redraw_(isatty(fileno(out)) == 1),
      thread_([this] { Run(); }) {}

ProgressReporter::~ProgressReporter() { Stop(); }

void ProgressReporter::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  Print(/*final_line=*/true);
}

void ProgressReporter::Run() {
  // Redrawing in place can afford a livelier pace than appended lines.
  const absl::Duration pace = redraw_ ? absl::Milliseconds(250) : interval_;
  while (!stop_.WaitForNotificationWithTimeout(pace)) {
    Print(/*final_line=*/false);
  }
}

void ProgressReporter::Print(bool final_line) {
  const QueueCounts counts = queue_->Counts();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
  const double rate = seconds > 0 ? (counts.done + counts.dead) / seconds : 0;
  const std::string line = FormatLine(counts, rate);
  if (redraw_) {
    // \33[K clears what a longer previous line left behind.
    absl::FPrintF(out_, "\r%s\33[K%s", line, final_line ? "\n" : "");
  } else {
    absl::FPrintF(out_, "%s\n", line);
  }
  std::fflush(out_);
}

std::string ProgressReporter::FormatLine(const QueueCounts& counts,
                                         double rate) {
  const uint64_t finished = counts.done + counts.dead;
  const double percent =
      counts.total == 0 ? 100.0 : 100.0 * finished / counts.total;
  std::string eta = "-";
  if (rate > 0 && finished < counts.total) {
    eta = absl::FormatDuration(absl::Seconds(
        static_cast<int64_t>((counts.total - finished) / rate + 0.5)));
  }
  return absl::StrFormat(
      "%d/%d done (%.1f%%) | %.0f tasks/s | ETA %s | %d workers | %d in flight "
      "| %d failed attempts | %d dead",
      counts.done, counts.total, percent, rate, eta, counts.sessions,
      counts.leased, counts.failures, counts.dead);
}

}  // namespace distributo::server
