#ifndef DISTRIBUTO_WORKER_TASK_CONTEXT_H_
#define DISTRIBUTO_WORKER_TASK_CONTEXT_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace distributo::worker {

// Tells a processor that the master cancelled its task, and lets it register
// a hook that cancellation runs (e.g. killing a child process).
// Thread-safe: Cancel() comes from the stream reader thread while the
// processor runs on a slot thread.
class TaskContext {
 public:
  TaskContext() = default;
  TaskContext(const TaskContext&) = delete;
  TaskContext& operator=(const TaskContext&) = delete;

  // Returns true once the task was cancelled; its outcome will be dropped.
  bool cancelled() const;

  // Sets the hook that Cancel() runs; runs it at once if already cancelled.
  // The hook runs under the context's lock, so after SetCancelHook(nullptr)
  // returns, the old hook is not running and never will be.
  void SetCancelHook(std::function<void()> hook);

  // Marks the task cancelled and runs the hook, if any. Idempotent.
  void Cancel();

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_TASK_CONTEXT_H_
