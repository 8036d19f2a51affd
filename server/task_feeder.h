#ifndef DISTRIBUTO_SERVER_TASK_FEEDER_H_
#define DISTRIBUTO_SERVER_TASK_FEEDER_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/master.h"
#include "server/packed_task.h"

namespace distributo::server {

// Pulls tasks from a source into a master's queue only as workers drain it,
// so a huge source never sits in memory, and closes the queue's source when
// the pull comes back empty (the job can then complete).
//
// Thread-safe: a background thread does the pulling; the source is only ever
// called from it. The destructor stops and joins it.
class TaskFeeder {
 public:
  // Returns up to `max` more tasks, with unique ids; empty once exhausted.
  using Pull = std::function<std::vector<PackedTask>(size_t max)>;

  // Keeps at least `low_water` tasks pending while the source lasts, pulling
  // `chunk` at a time. Borrows `master`, which must outlive the feeder.
  TaskFeeder(Master* master, Pull pull, size_t low_water, size_t chunk);
  // Returns the low water a master leasing `batch_size` tasks at a time
  // keeps: a few batches per worker stay pending, the rest waits in the
  // source.
  static size_t LowWaterFor(size_t batch_size);
  ~TaskFeeder();

  TaskFeeder(const TaskFeeder&) = delete;
  TaskFeeder& operator=(const TaskFeeder&) = delete;

  // Stops pulling. Idempotent.
  void Stop();

  // Returns the error that stopped the feeder early (an enqueue that
  // retrying cannot fix), or OK: then the job cannot complete.
  absl::Status status();

 private:
  void Run();
  // Enqueues `tasks`, retrying while the journal cannot write; returns false
  // on Stop() or an error that retrying will not change.
  bool EnqueueRetrying(std::vector<PackedTask> tasks);

  Master* const master_;
  const Pull pull_;
  const size_t low_water_;
  const size_t chunk_;
  absl::Notification stop_;
  absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_FEEDER_H_
