// TaskQueue's cancels, dead letters and their redrive (docs/protocol.md).
// Split from task_queue.cc, which keeps the state machine, to keep both
// readable.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "server/task_queue.h"

namespace distributo::server {

absl::StatusOr<TaskQueue::Cancelled> TaskQueue::Cancel(
    absl::string_view task_id, absl::string_view reason,
    std::vector<FinishedTask>* finished) {
  Cancelled cancelled;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Lookup> found = FindLocked(task_id);
    if (!found.ok()) return found.status();
    if (found->finished) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task_id, " is already finished"));
    }
    TaskRecord* record = found->record;
    if (record == nullptr) {
      return absl::NotFoundError(absl::StrCat("no task ", task_id));
    }
    if (record->state == TaskState::kLeased) {
      cancelled.session_id = record->holder->id;
      cancelled.worker_name = record->holder->worker_name;
      cancelled.lease.set_task_id(std::string(task_id));
      cancelled.lease.set_epoch(record->epoch);
      ReleaseLeaseLocked(record);
    }
    v1::Failure& failure = MutableLastFailure(*record);
    failure.set_code("cancelled");
    failure.set_message(std::string(reason));
    failure.set_retryable(false);
    FinishLocked(record, TaskState::kDead, finished);
  }
  NotifyChange();  // it may have been the last task
  return cancelled;
}

std::vector<DeadTask> TaskQueue::ListDead(size_t offset, size_t limit) {
  absl::MutexLock lock(&mu_);
  std::vector<DeadTask> page;
  for (size_t i = offset; i < dead_.size() && page.size() < limit; ++i) {
    page.push_back(dead_[i]);
  }
  return page;
}

absl::StatusOr<TaskQueue::RedrivePlan> TaskQueue::PlanRedrive(
    std::vector<std::string> task_ids, size_t max_dead) {
  absl::MutexLock lock(&mu_);
  if (CompleteLocked()) {
    return absl::FailedPreconditionError(
        "the job is complete: the master is exiting");
  }
  if (task_ids.empty()) {
    for (size_t i = 0; i < dead_.size() && i < max_dead; ++i) {
      task_ids.push_back(dead_[i].task_id);
    }
  }
  const absl::flat_hash_set<absl::string_view> wanted(task_ids.begin(),
                                                      task_ids.end());
  absl::flat_hash_set<absl::string_view> dead;
  for (const DeadTask& task : dead_) {
    if (wanted.contains(task.task_id)) dead.insert(task.task_id);
  }
  RedrivePlan plan;
  absl::flat_hash_set<absl::string_view> planned;
  for (const std::string& id : task_ids) {
    RedriveVerdict verdict = RedriveVerdict::kRedriven;
    if (!dead.contains(id)) {
      absl::StatusOr<RedriveVerdict> not_dead = NotDeadVerdictLocked(id);
      if (!not_dead.ok()) return not_dead.status();
      verdict = *not_dead;
    } else if (unhandled_dead_.contains(id)) {
      verdict = RedriveVerdict::kNotYetHandled;
    } else if (planned.insert(id).second) {
      plan.task_ids.push_back(id);
    }
    plan.verdicts.emplace_back(id, verdict);
  }
  // The job cannot complete until Redrive() says how it went.
  if (!plan.task_ids.empty()) ++redrives_in_flight_;
  return plan;
}

absl::StatusOr<TaskQueue::RedriveVerdict> TaskQueue::NotDeadVerdictLocked(
    absl::string_view task_id) {
  absl::StatusOr<Lookup> found = FindLocked(task_id);
  if (!found.ok()) return found.status();
  return found->record == nullptr && !found->finished
             ? RedriveVerdict::kUnknown
             : RedriveVerdict::kNotDead;
}

void TaskQueue::Redrive(const std::vector<std::string>& task_ids,
                        absl::StatusOr<std::vector<JournaledTask>> rows) {
  {
    absl::MutexLock lock(&mu_);
    --redrives_in_flight_;
    const absl::Time now = clock_();
    if (!rows.ok()) {
      // The journal may have taken them all the same (a commit reported as
      // failed): its rows are then pending, and the pager or a lookup
      // meeting one ends the redrive (TakeUnsureRedriveLocked()).
      if (paged()) unsure_redrives_.insert(task_ids.begin(), task_ids.end());
    } else if (paged()) {
      // What the journal changed is what is redriven.
      std::vector<std::string> changed;
      for (const JournaledTask& row : *rows) {
        changed.emplace_back(row.task.id());
      }
      const absl::flat_hash_map<std::string, uint64_t> floors =
          TakeDeadLocked(changed);
      for (JournaledTask& row : *rows) {
        const auto floor = floors.find(row.task.id());
        if (floor == floors.end()) continue;
        unsure_redrives_.erase(row.task.id());
        StartAgainLocked(AdmitJournaledLocked(std::move(row), now),
                         floor->second);
      }
    } else {
      for (const auto& [id, floor] : TakeDeadLocked(task_ids)) {
        // A dead task of a queue in memory keeps its record (FinishLocked).
        auto it = tasks_.find(id);
        CHECK(it != tasks_.end()) << "dead task " << id << " has no record";
        TaskRecord& record = **it;
        StartAgainLocked(record, floor);
        MakePendingLocked(&record, /*front=*/false, now);
      }
    }
  }
  NotifyChange();
}

absl::flat_hash_map<std::string, uint64_t> TaskQueue::TakeDeadLocked(
    const std::vector<std::string>& task_ids) {
  const absl::flat_hash_set<absl::string_view> wanted(task_ids.begin(),
                                                      task_ids.end());
  absl::flat_hash_map<std::string, uint64_t> floors;
  dead_.erase(std::remove_if(dead_.begin(), dead_.end(),
                             [&](const DeadTask& task) {
                               if (!wanted.contains(task.task_id)) return false;
                               floors[task.task_id] = task.last_epoch;
                               return true;
                             }),
              dead_.end());
  counts_.dead -= floors.size();
  return floors;
}

void TaskQueue::StartAgainLocked(TaskRecord& record, uint64_t last_epoch) {
  // New leases go on above every lease it had, whose outcomes are stale
  // now: they are of the run that failed, not of the one asked for.
  record.epoch = std::max({record.epoch, last_epoch, epoch_base_});
  record.rare.reset();  // its failures, of the run that failed
  MutableRare(record).stale_up_to = record.epoch;
  record.from_earlier_run = false;
  record.attempts = 0;
  record.failures = 0;
  record.worker_deaths = 0;
}

std::optional<uint64_t> TaskQueue::TakeUnsureRedriveLocked(
    absl::string_view task_id) {
  if (unsure_redrives_.erase(task_id) == 0) return std::nullopt;
  const absl::flat_hash_map<std::string, uint64_t> floors =
      TakeDeadLocked({std::string(task_id)});
  if (floors.empty()) return std::nullopt;
  return floors.begin()->second;
}

}  // namespace distributo::server
