#ifndef DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_
#define DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_

#include <cstdio>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/task_queue.h"

namespace distributo::server {

// Shows the job's progress: done/total, tasks/s, ETA, workers, in flight,
// failed attempts and dead tasks. On a terminal the line is redrawn in place;
// otherwise a line is printed every `interval`.
//
// Thread-safe: a background thread reads the queue's counters; Stop() joins it.
class ProgressReporter {
 public:
  // Borrows the queue and the stream, which must outlive the reporter.
  ProgressReporter(TaskQueue* queue, std::FILE* out, absl::Duration interval);
  ~ProgressReporter();

  // Prints the final line and stops. Idempotent.
  void Stop();

  // Formats one progress line from counters and a rate in tasks/s.
  static std::string FormatLine(const QueueCounts& counts, double rate);

 private:
  void Run();
  void Print(bool final_line);

  TaskQueue* const queue_;
  std::FILE* const out_;
  const absl::Duration interval_;
  const bool redraw_;
  const absl::Time start_ = absl::Now();
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_PROGRESS_REPORTER_H_
