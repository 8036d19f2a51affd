#include "server/task_feeder.h"

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

void TaskFeeder::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void TaskFeeder::Run() {
  TaskQueue& queue = master_->queue();
  while (!stop_.HasBeenNotified()) {
    if (!queue.WaitForPendingBelow(low_water_, kStopCheck)) continue;
    std::vector<v1::Task> tasks = pull_(chunk_);
    if (tasks.empty()) {
      queue.CloseSource();
      return;
    }
    if (absl::Status status = master_->Enqueue(std::move(tasks));
        !status.ok()) {
      LOG(ERROR) << "Task source stopped: cannot enqueue: " << status;
      return;
    }
  }
}

}  // namespace distributo::server
