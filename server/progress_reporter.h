#ifndef DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_
#define DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "rpc/progress_printer.h"
#include "server/task_queue.h"

namespace distributo::server {

// Shows the job's progress: done/total, tasks/s, ETA, workers, in flight,
// failed attempts and dead tasks; on a terminal with a bar, redrawn in
// place, otherwise a line every `interval`.
// Thread-safe: a background thread reads the queue's counters; Stop() joins
// it.
class ProgressReporter {
 public:
  // Borrows the queue and the stream, which must outlive the reporter.
  ProgressReporter(TaskQueue* queue, std::FILE* out, absl::Duration interval);

  // Prints the final line and stops. Idempotent.
  void Stop() { printer_.Stop(); }

  // Formats one progress line from counters and a rate in tasks/s.
  static std::string FormatLine(const QueueCounts& counts, double rate,
                                bool with_bar);

 private:
  // Tasks finished already (by an earlier run of a resumed job).
  static uint64_t FinishedNow(TaskQueue& queue);

  ProgressPrinter printer_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_
