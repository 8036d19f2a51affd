#include "server/commit_queue.h"

#include <utility>

#include "server/move_append.h"

namespace distributo::server {
namespace {

// After delivering fewer than kDeliveryTasks results, the delivery thread
// pauses this long before it looks again: the rounds committed meanwhile
// then share one sink write and one handled mark, and a round's commit
// seldom has to wake the thread (a system call for the one, a switch for
// the other). Results reach the sink that much later; acks do not wait for
// them.
constexpr size_t kDeliveryTasks = 1000;
constexpr absl::Duration kDeliveryPause = absl::Milliseconds(1);

}  // namespace

CommitQueue::CommitQueue(ResultRouter* router, RunOn run_on)
    : router_(router),
      run_on_(run_on),
      deliver_thread_([this] { DeliverLoop(); }) {
  if (run_on_ == RunOn::kCommitThread) {
    commit_thread_ = std::thread([this] { CommitLoop(); });
  }
}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Add(ResultRouter::Apply apply, Done done) {
  {
    absl::ReleasableMutexLock lock(&mu_);
    if (stopping_) {
      lock.Release();
      done(absl::UnavailableError("the master is shutting down"));
      return;
    }
    if (run_on_ == RunOn::kCommitThread) {
      queued_.push_back({std::move(apply), std::move(done)});
      return;
    }
    ++rounds_on_callers_;
  }
  std::vector<Work> round;
  round.push_back({std::move(apply), std::move(done)});
  RunRound(std::move(round));
  absl::MutexLock lock(&mu_);
  --rounds_on_callers_;
}

void CommitQueue::Stop() {
  absl::call_once(stop_once_, [this] {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (commit_thread_.joinable()) commit_thread_.join();
    {
      absl::MutexLock lock(&mu_);
      // A round on a caller's thread may still hand results over.
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return rounds_on_callers_ == 0;
      };
      mu_.Await(absl::Condition(&idle));
      commits_ended_ = true;
    }
    deliver_thread_.join();
  });
}

void CommitQueue::CommitLoop() {
  while (true) {
    std::vector<Work> round;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queued_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queued_.empty()) return;  // Stopping, with nothing left.
      round.swap(queued_);
    }
    RunRound(std::move(round));
  }
}

void CommitQueue::RunRound(std::vector<Work> round) {
  std::vector<ResultRouter::Apply> applies;
  applies.reserve(round.size());
  for (Work& work : round) applies.push_back(std::move(work.apply));
  std::vector<FinishedTask> finished;
  const absl::Status status = router_->ApplyAllAndCommit(applies, &finished);
  // Acks go out before the results are written: an ack needs the commit
  // only.
  for (Work& work : round) work.done(status);
  if (finished.empty()) return;
  absl::MutexLock lock(&mu_);
  MoveAppend(finished, undelivered_);
}

void CommitQueue::DeliverLoop() {
  while (true) {
    std::vector<FinishedTask> finished;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return commits_ended_ || !undelivered_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (undelivered_.empty()) return;  // No commit can add any more.
      finished.swap(undelivered_);
    }
    const bool few = finished.size() < kDeliveryTasks;
    router_->Deliver(std::move(finished));
    if (few) PauseDelivery();
  }
}

void CommitQueue::PauseDelivery() {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return commits_ended_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ended), kDeliveryPause);
}

}  // namespace distributo::server
