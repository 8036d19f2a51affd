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

absl::Status FakeJournal::MarkHandled(const std::vector<std::string>& task_ids,
                                      uint64_t sink_position) {
  absl::MutexLock lock(&mu_);
  if (fail_marks_) return absl::ResourceExhaustedError("disk full");
  marked_.insert(marked_.end(), task_ids.begin(), task_ids.end());
  positions_.push_back(sink_position);
  return absl::OkStatus();
}

}  // namespace distributo::server
