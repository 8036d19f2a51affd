#include "server/commit_queue.h"

#include <utility>

namespace distributo::server {

CommitQueue::CommitQueue(ResultRouter* router)
    : router_(router), thread_([this] { Loop(); }) {}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Add(ResultRouter::Apply apply, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queued_.push_back({std::move(apply), std::move(done)});
      return;
    }
  }
  done(absl::UnavailableError("the master is shutting down"));
}

void CommitQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void CommitQueue::Loop() {
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
  if (status.ok()) router_->Deliver(std::move(finished));
}

}  // namespace distributo::server
