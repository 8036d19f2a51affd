#include "server/result_router.h"

#include <iterator>
#include <utility>

#include "glog/logging.h"

namespace distributo::server {
namespace {

// Moves every element of `from` to the end of `to`.
template <typename T>
void Append(std::vector<T>& from, std::vector<T>& to) {
  if (to.empty()) {
    to.swap(from);
    return;
  }
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
  from.clear();
}

}  // namespace

ResultRouter::ResultRouter(TaskQueue* queue, Journal* journal, ResultSink* sink)
    : queue_(queue), journal_(journal), sink_(sink) {}

void ResultRouter::Report(bool& failing, const char* what,
                          const absl::Status& status) {
  if (!status.ok() && !failing) {
    LOG(ERROR) << what << " failed: " << status
               << "; no outcome is acked and no task leased until it works "
                  "again (retried every reaper interval)";
  } else if (status.ok() && failing) {
    LOG(INFO) << what << " works again; resuming";
  }
  failing = !status.ok();
}

absl::Status ResultRouter::ApplyAndCommit(
    const std::function<void(std::vector<FinishedTask>*)>& apply,
    std::vector<FinishedTask>* finished) {
  absl::MutexLock lock(&commit_mu_);
  if (apply) apply(finished);
  Append(*finished, uncommitted_);
  if (uncommitted_.empty()) return absl::OkStatus();
  absl::Status status = journal_->CommitOutcomes(uncommitted_);
  Report(commit_failing_, "Committing outcomes to the journal", status);
  if (status.ok()) finished->swap(uncommitted_);
  uncommitted_count_ = uncommitted_.size();
  return status;
}

void ResultRouter::Deliver(std::vector<FinishedTask> finished) {
  size_t marked = 0;
  {
    absl::MutexLock lock(&deliver_mu_);
    Append(finished, unwritten_);
    FlushLocked(&marked);
  }
  // Outside the lock: the queue's change listener wakes the streams.
  if (marked > 0) queue_->MarkHandled(marked);
}

bool ResultRouter::FlushLocked(size_t* marked) {
  const bool flushed = WriteLocked() && MarkLocked(marked);
  undelivered_count_ = unwritten_.size() + unmarked_.size();
  return flushed;
}

bool ResultRouter::WriteLocked() {
  if (unwritten_.empty()) return true;
  absl::Status status = sink_->Write(unwritten_);
  Report(write_failing_, "Writing results", status);
  if (!status.ok()) return false;
  for (FinishedTask& task : unwritten_) {
    LOG_IF(WARNING, task.dead)
        << "Task " << task.task.id() << " is dead after " << task.attempts
        << " attempts: " << task.failure.code() << ": "
        << task.failure.message();
    unmarked_.push_back(std::move(*task.task.mutable_id()));
  }
  unwritten_.clear();
  return true;
}

bool ResultRouter::MarkLocked(size_t* marked) {
  if (unmarked_.empty()) return true;
  absl::Status status = journal_->MarkHandled(unmarked_, sink_->Position());
  Report(mark_failing_, "Marking results handled in the journal", status);
  if (!status.ok()) return false;
  *marked = unmarked_.size();
  unmarked_.clear();
  return true;
}

bool ResultRouter::RetryBacklog() {
  if (healthy()) return false;
  std::vector<FinishedTask> committed;
  if (!ApplyAndCommit(nullptr, &committed).ok()) return false;
  bool flushed;
  size_t marked = 0;
  {
    absl::MutexLock lock(&deliver_mu_);
    Append(committed, unwritten_);
    flushed = FlushLocked(&marked);
  }
  if (marked > 0) queue_->MarkHandled(marked);
  return flushed;
}

}  // namespace distributo::server
