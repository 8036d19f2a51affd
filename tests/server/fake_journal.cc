#include "tests/server/fake_journal.h"

#include <utility>

namespace distributo::server {

absl::Status FakeJournal::CommitOutcomes(
    const std::vector<FinishedTask>& finished) {
  absl::Notification* gate = nullptr;
  {
    absl::MutexLock lock(&mu_);
    std::swap(gate, gate_);
  }
  if (gate != nullptr) {
    holding_.Notify();
    gate->WaitForNotification();
  }
  absl::MutexLock lock(&mu_);
  if (fail_commits_) return absl::ResourceExhaustedError("disk full");
  std::vector<std::string>& round = rounds_.emplace_back();
  for (const FinishedTask& task : finished) {
    committed_.emplace_back(task.task.id());
    round.emplace_back(task.task.id());
  }
  return absl::OkStatus();
}

absl::Status FakeJournal::MarkHandled(const std::vector<TaskRef>& tasks,
                                      uint64_t sink_position) {
  absl::MutexLock lock(&mu_);
  if (fail_marks_) return absl::ResourceExhaustedError("disk full");
  for (const TaskRef& task : tasks) marked_.push_back(task.id);
  positions_.push_back(sink_position);
  return absl::OkStatus();
}

}  // namespace distributo::server
