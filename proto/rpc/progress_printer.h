#ifndef DISTRIBUTO_PROTO_RPC_PROGRESS_PRINTER_H_
#define DISTRIBUTO_PROTO_RPC_PROGRESS_PRINTER_H_

#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace distributo {

// Shows a progress line that a binary of ours makes up: on a terminal the
// line is redrawn in place four times a second; otherwise it is printed as
// a log line every `interval`. Thread-safe: a thread of its own calls
// `line`; Stop() joins it.
class ProgressPrinter {
 public:
  // Returns the line to show, given the time since the start and whether
  // `out` is a terminal (a bar is worth drawing there).
  using LineFunction =
      std::function<std::string(absl::Duration elapsed, bool terminal)>;

  // Borrows `out`, which must outlive the printer.
  ProgressPrinter(std::FILE* out, absl::Duration interval, LineFunction line);
  ~ProgressPrinter();

  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  // Prints the final line and stops. Idempotent.
  void Stop();

  // Returns "[#####.....]": `fraction` (0 to 1) of `width` cells filled.
  static std::string Bar(double fraction, int width);

 private:
  void Run();
  void Print(bool final_line);

  std::FILE* const out_;
  const absl::Duration interval_;
  const LineFunction line_;
  const bool terminal_;
  const absl::Time start_ = absl::Now();
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_PROGRESS_PRINTER_H_
