#include "worker/task_context.h"

#include <utility>

namespace distributo::worker {

bool TaskContext::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void TaskContext::SetCancelHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
  if (cancelled_ && hook_) hook_();
}

void TaskContext::Cancel() {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return;
  cancelled_ = true;
  if (hook_) hook_();
}

}  // namespace distributo::worker
