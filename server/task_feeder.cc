#include "server/task_feeder.h"

#include <algorithm>
#include <utility>

#include "glog/logging.h"

namespace distributo::server {
namespace {

// How often a feeder waiting for the queue to drain checks for Stop().
constexpr absl::Duration kStopCheck = absl::Milliseconds(100);

}  // namespace

TaskFeeder::TaskFeeder(Master* master, Pull pull, size_t low_water,
                       size_t chunk)
    : master_(master),
      pull_(std::move(pull)),
      low_water_(low_water),
      chunk_(chunk),
      thread_([this] { Run(); }) {}

TaskFeeder::~TaskFeeder() { Stop(); }

size_t TaskFeeder::LowWaterFor(size_t batch_size) {
  return std::max<size_t>(8 * batch_size, 1000);
}

void TaskFeeder::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::Status TaskFeeder::status() {
  absl::MutexLock lock(&mu_);
  return status_;
}

void TaskFeeder::Run() {
  TaskQueue& queue = master_->queue();
  while (!stop_.HasBeenNotified()) {
    if (!queue.WaitForPendingBelow(low_water_, kStopCheck)) continue;
    std::vector<PackedTask> tasks = pull_(chunk_);
    if (tasks.empty()) {
      queue.CloseSource();
      return;
    }
    if (!EnqueueRetrying(std::move(tasks))) return;
  }
}

bool TaskFeeder::EnqueueRetrying(std::vector<PackedTask> tasks) {
  while (!stop_.HasBeenNotified()) {
    absl::StatusOr<size_t> added = master_->Enqueue(&tasks);
    if (added.ok()) return true;
    const absl::StatusCode code = added.status().code();
    if (code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kResourceExhausted) {
      LOG(ERROR) << "Task source stopped: cannot enqueue: " << added.status();
      absl::MutexLock lock(&mu_);
      status_ = added.status();
      return false;
    }
    LOG_EVERY_N(WARNING, 50)
        << "Cannot enqueue tasks yet, retrying: " << added.status();
    stop_.WaitForNotificationWithTimeout(kStopCheck);
  }
  return false;
}

}  // namespace distributo::server
