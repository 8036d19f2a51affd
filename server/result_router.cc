#include "server/result_router.h"

#include <utility>

#include "glog/logging.h"
#include "server/move_append.h"

namespace distributo::server {

ResultRouter::ResultRouter(TaskQueue* queue, Journal* journal, ResultSink* sink)
    : queue_(queue), journal_(journal), sink_(sink) {}

void ResultRouter::Report(bool& failing, const char* what,
                          const absl::Status& status) {
  if (!status.ok() && !failing) {
    ++outages_;
    LOG(ERROR) << what << " failed: " << status
               << "; no outcome is acked and no task leased until it works "
                  "again (retried every reaper interval)";
  } else if (status.ok() && failing) {
    LOG(INFO) << what << " works again; resuming";
  }
  failing = !status.ok();
}

absl::Status ResultRouter::ApplyAndCommit(const Apply& apply,
                                          std::vector<FinishedTask>* finished) {
  return ApplyAllAndCommit(absl::MakeConstSpan(&apply, 1), finished);
}

absl::Status ResultRouter::ApplyAllAndCommit(
    absl::Span<const Apply> applies, std::vector<FinishedTask>* finished) {
  uint64_t mine;
  {
    absl::MutexLock lock(&commit_mu_);
    for (const Apply& apply : applies) {
      if (apply) apply(finished);
    }
    MoveAppend(*finished, uncommitted_);
    mine = ++applied_;
  }
  return AwaitCommit(mine, finished);
}

absl::Status ResultRouter::AwaitCommit(uint64_t mine,
                                       std::vector<FinishedTask>* finished) {
  std::vector<FinishedTask> round;
  uint64_t upto;
  {
    absl::MutexLock lock(&commit_mu_);
    auto may_go = [this, mine]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) {
      return !committing_ || committed_ >= mine;
    };
    commit_mu_.Await(absl::Condition(&may_go));
    if (committed_ >= mine) return absl::OkStatus();
    if (failed_upto_ >= mine) return last_failure_;
    // Lead a round: one commit for everything applied so far, by any call.
    upto = applied_;
    if (uncommitted_.empty()) {
      committed_ = upto;
      return absl::OkStatus();
    }
    committing_ = true;
    round.swap(uncommitted_);
  }
  const absl::Time start = absl::Now();
  absl::Status status = journal_->CommitOutcomes(round);
  absl::MutexLock lock(&commit_mu_);
  commit_latency_.Observe(absl::Now() - start);
  committing_ = false;
  Report(commit_failing_, "Committing outcomes to the journal", status);
  if (status.ok()) {
    committed_ = upto;
    uncommitted_count_ = 0;
    MoveAppend(round, *finished);  // The leader delivers the whole round.
    return status;
  }
  failed_upto_ = upto;
  last_failure_ = status;
  // Back in front of what was applied meanwhile, keeping the order.
  MoveAppend(uncommitted_, round);
  uncommitted_.swap(round);
  uncommitted_count_ = uncommitted_.size();
  return status;
}

Histogram ResultRouter::commit_latency() {
  absl::MutexLock lock(&commit_mu_);
  return commit_latency_;
}

void ResultRouter::Deliver(std::vector<FinishedTask> finished) {
  {
    absl::MutexLock lock(&intake_mu_);
    MoveAppend(finished, incoming_);
    // A flush running in another thread takes these too once it is done
    // with what it has: deliveries that come meanwhile share a sink write
    // and a handled mark, instead of each waiting for its own.
    if (flushing_) return;
    flushing_ = true;
  }
  bool more = true;
  while (more) {
    const bool flushed = Flush();
    absl::MutexLock lock(&intake_mu_);
    // After a failure, RetryBacklog() takes over what is left.
    more = flushed && !incoming_.empty();
    flushing_ = more;
  }
}

bool ResultRouter::Flush() {
  std::vector<TaskRef> marked;
  bool flushed;
  {
    absl::MutexLock lock(&deliver_mu_);
    {
      absl::MutexLock intake(&intake_mu_);
      MoveAppend(incoming_, unwritten_);
    }
    flushed = FlushLocked(&marked);
  }
  // Outside the lock: the queue's change listener wakes the streams.
  if (!marked.empty()) queue_->MarkHandled(marked);
  return flushed;
}

bool ResultRouter::FlushLocked(std::vector<TaskRef>* marked) {
  const bool flushed = WriteLocked() && MarkLocked(marked);
  undelivered_count_ = unwritten_.size() + unmarked_.size();
  return flushed;
}

bool ResultRouter::WriteLocked() {
  if (unwritten_.empty()) return true;
  absl::Status status = sink_->Write(unwritten_);
  Report(write_failing_, "Writing results", status);
  if (!status.ok()) return false;
  unmarked_.reserve(unmarked_.size() + unwritten_.size());
  for (FinishedTask& task : unwritten_) {
    LOG_IF(WARNING, task.dead)
        << "Task " << task.task.id() << " is dead after " << task.attempts
        << " attempts: " << FailureOf(task).code() << ": "
        << FailureOf(task).message();
    unmarked_.push_back(RefOf(task));
  }
  unwritten_.clear();
  return true;
}

bool ResultRouter::MarkLocked(std::vector<TaskRef>* marked) {
  if (unmarked_.empty()) return true;
  absl::Status status = journal_->MarkHandled(unmarked_, sink_->Position());
  Report(mark_failing_, "Marking results handled in the journal", status);
  if (!status.ok()) return false;
  marked->swap(unmarked_);
  unmarked_.clear();
  return true;
}

void ResultRouter::RetryBacklog() {
  if (healthy()) return;
  std::vector<FinishedTask> committed;
  // Through Deliver(), so that one thread at a time decides to stop
  // flushing: a task handed over meanwhile is never left behind.
  if (ApplyAndCommit(nullptr, &committed).ok()) Deliver(std::move(committed));
}

}  // namespace distributo::server
