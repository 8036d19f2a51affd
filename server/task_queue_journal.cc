// TaskQueue's side of a journal: tasks a restart restores, and the tasks of
// a paged queue, which live on disk and come into memory a page at a time.
// Split from task_queue.cc, which keeps the state machine, to keep both
// readable.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "glog/logging.h"
#include "server/task_queue.h"

namespace distributo::server {

namespace {

// Pairs the tasks a journal added with the seqs it gave them; `added` lists
// them in the order of `tasks`.
std::vector<JournaledTask> AppendedRows(std::vector<PackedTask> tasks,
                                        const std::vector<TaskRef>& added) {
  std::vector<JournaledTask> rows;
  rows.reserve(added.size());
  auto next = added.begin();
  for (PackedTask& task : tasks) {
    if (next == added.end()) break;
    if (task.id() != next->id) continue;  // journaled already
    JournaledTask& row = rows.emplace_back();
    row.seq = next->seq;
    row.task = std::move(task);
    ++next;
  }
  return rows;
}

}  // namespace

void TaskQueue::AddJournaled(uint64_t task_count, std::vector<PackedTask> tasks,
                             const std::vector<TaskRef>& added) {
  std::vector<JournaledTask> appended = AppendedRows(std::move(tasks), added);
  {
    absl::MutexLock lock(&mu_);
    AdmitAppendedLocked(std::move(appended));
    journaled_ = std::max(journaled_, task_count);
    counts_.total = journaled_;
  }
  NotifyChange();
}

TaskRecord& TaskQueue::AddJournaledLocked(JournaledTask&& row) {
  TaskRecord& record = AddRecordLocked(std::move(row.task));
  record.seq = row.seq;
  record.from_earlier_run = row.seq <= restored_to_;
  return record;
}

TaskRecord& TaskQueue::AdmitJournaledLocked(JournaledTask&& row,
                                            absl::Time now) {
  const bool unreadable = row.unreadable;
  TaskRecord& record = AddJournaledLocked(std::move(row));
  if (unreadable) {
    ++counts_.pending;  // pending, but in no list: it cannot be leased
    unreadable_.emplace_back(record.task.id());
  } else {
    MakePendingLocked(&record, /*front=*/false, now);
  }
  return record;
}

void TaskQueue::Restore(JournalState state,
                        std::vector<FinishedTask>* unhandled) {
  {
    absl::MutexLock lock(&mu_);
    epoch_base_ = state.generation << 32;
    journaled_ = restored_to_ = counts_.total = state.task_count;
    counts_.done = state.handled_done;
    // Every finished task lies ahead of the first page.
    ahead_ = state.handled_done + state.finished.size();
    for (StoredTask& stored : state.finished) {
      RestoreFinishedLocked(std::move(stored), unhandled);
    }
  }
  NotifyChange();
}

void TaskQueue::RestoreFinishedLocked(StoredTask stored,
                                      std::vector<FinishedTask>* unhandled) {
  const bool dead = stored.state == TaskState::kDead;
  ++(dead ? counts_.dead : counts_.done);
  if (dead) {
    dead_.push_back({stored.task.id(), stored.failure.code(),
                     stored.failure.message(), stored.attempts});
    if (!stored.handled) unhandled_dead_.insert(stored.task.id());
  }
  if (stored.handled) return;
  // Held until handled, to recognise late copies of its outcome; only the
  // id is needed for that.
  AddRecordLocked(PackedTask(stored.task.id())).state = stored.state;
  ++counts_.unhandled;
  FinishedTask& out = unhandled->emplace_back();
  out.task = PackedTask(std::move(stored.task));
  out.seq = stored.seq;
  out.dead = dead;
  out.result = std::move(stored.result);
  if (dead) out.failure = std::move(stored.failure);
  out.attempts = stored.attempts;
}

void TaskQueue::AdmitAppendedLocked(std::vector<JournaledTask> appended) {
  // Reading them back would cost a page read, under mu_, on the journal's
  // one connection, for the rows just written.
  const absl::Time now = clock_();
  for (JournaledTask& row : appended) {
    if (paged_to_ != journaled_ || row.seq != journaled_ + 1 ||
        counts_.pending >= kPageWindow) {
      return;
    }
    paged_to_ = journaled_ = row.seq;
    AdmitJournaledLocked(std::move(row), now);
  }
}

bool TaskQueue::PageInLocked() {
  if (!paged() || paged_to_ == journaled_) return false;
  absl::StatusOr<std::vector<JournaledTask>> page =
      pages_->ReadTasks(paged_to_, journaled_, kPageTasks);
  if (!page.ok()) {
    LOG_EVERY_N(WARNING, 100) << "Cannot read pending tasks from the journal "
                                 "(they wait there; retrying): "
                              << page.status();
    page_failed_ = true;
    return false;
  }
  const absl::Time now = clock_();
  for (JournaledTask& row : *page) {
    paged_to_ = row.seq;
    if (row.finished || tasks_.contains(row.task.id())) {
      --ahead_;
      continue;
    }
    if (std::optional<uint64_t> floor =
            TakeUnsureRedriveLocked(row.task.id())) {
      --ahead_;  // counted there while dead
      StartAgainLocked(AdmitJournaledLocked(std::move(row), now), *floor);
      continue;
    }
    AdmitJournaledLocked(std::move(row), now);
  }
  // Paged in by one session's lease, maybe of types only others take.
  if (!page->empty()) wake_all_ = true;
  return !page->empty();
}

bool TaskQueue::EndUnreadableLocked(std::vector<FinishedTask>* finished) {
  const bool any = !unreadable_.empty();
  for (const std::string& id : unreadable_) {
    auto it = tasks_.find(id);
    // A late result may have finished it meanwhile.
    if (it == tasks_.end() || (*it)->state != TaskState::kPending) continue;
    LOG(ERROR) << "Task " << id
               << " is dead: its row in the journal does not parse";
    TaskRecord& record = **it;
    v1::Failure& failure = MutableLastFailure(record);
    failure.set_code("unreadable");
    failure.set_message("its row in the journal does not parse");
    FinishLocked(&record, TaskState::kDead, finished);
  }
  unreadable_.clear();
  return any;
}

}  // namespace distributo::server
