#include "rpc/progress_printer.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace distributo {

ProgressPrinter::ProgressPrinter(std::FILE* out, absl::Duration interval,
                                 LineFunction line)
    : out_(out),
      interval_(interval),
      line_(std::move(line)),
      terminal_(isatty(fileno(out)) == 1),
      thread_([this] { Run(); }) {}

ProgressPrinter::~ProgressPrinter() { Stop(); }

void ProgressPrinter::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  Print(/*final_line=*/true);
}

std::string ProgressPrinter::Bar(double fraction, int width) {
  const int filled =
      std::clamp(static_cast<int>(fraction * width + 0.5), 0, width);
  return absl::StrCat("[", std::string(filled, '#'),
                      std::string(width - filled, '.'), "]");
}

void ProgressPrinter::Run() {
  // Redrawing in place can afford a livelier pace than appended lines.
  const absl::Duration pace =
      terminal_ ? absl::Milliseconds(250)
                : std::max(interval_, absl::Milliseconds(100));
  while (!stop_.WaitForNotificationWithTimeout(pace)) {
    Print(/*final_line=*/false);
  }
}

void ProgressPrinter::Print(bool final_line) {
  const std::string line = line_(absl::Now() - start_, terminal_);
  if (terminal_) {
    // \33[K clears what a longer previous line left behind.
    absl::FPrintF(out_, "\r%s\33[K%s", line, final_line ? "\n" : "");
  } else {
    absl::FPrintF(out_, "%s\n", line);
  }
  std::fflush(out_);
}

}  // namespace distributo
