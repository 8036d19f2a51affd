#include "worker/outcome_book.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "worker/json_payload.h"

namespace distributo::worker {
namespace {

void LogRefused(const char* what, const v1::ItemVerdict& verdict) {
  switch (verdict.verdict()) {
    case v1::VERDICT_ACCEPTED:
      return;
    case v1::VERDICT_DUPLICATE:
    case v1::VERDICT_STALE:
      // Routine after a reconnect or a cancellation.
      VLOG(1) << what << " for task " << verdict.task_id() << ": "
              << v1::Verdict_Name(verdict.verdict()) << " "
              << verdict.message();
      return;
    default:
      LOG(WARNING) << what << " for task " << verdict.task_id()
                   << " refused: " << v1::Verdict_Name(verdict.verdict()) << " "
                   << verdict.message();
  }
}

}  // namespace

void OutcomeBook::SetMaxResultBytes(uint64_t max_result_bytes) {
  absl::MutexLock lock(&mu_);
  max_result_bytes_ = max_result_bytes;
}

bool OutcomeBook::Add(v1::Outcome outcome, uint64_t job) {
  absl::MutexLock lock(&mu_);
  if (job != job_) return false;
  if (outcome.has_result() && max_result_bytes_ > 0 &&
      outcome.result().ByteSizeLong() > max_result_bytes_) {
    v1::LeaseRef lease = outcome.lease();
    outcome = FailureOutcome(
        "result_too_large",
        absl::StrCat("the result has ", outcome.result().ByteSizeLong(),
                     " bytes; the master accepts at most ", max_result_bytes_),
        /*retryable=*/true);
    *outcome.mutable_lease() = std::move(lease);
  }
  if (pending_.empty()) oldest_pending_ = absl::Now();
  pending_.push_back(std::move(outcome));
  return true;
}

uint64_t OutcomeBook::job() const {
  absl::MutexLock lock(&mu_);
  return job_;
}

size_t OutcomeBook::DropAll() {
  absl::MutexLock lock(&mu_);
  const size_t dropped = pending_.size() + SentUnackedLocked();
  pending_.clear();
  unacked_.clear();
  oldest_pending_ = absl::InfiniteFuture();
  ++job_;
  return dropped;
}

uint64_t OutcomeBook::StartStream() {
  absl::MutexLock lock(&mu_);
  for (auto batch = unacked_.rbegin(); batch != unacked_.rend(); ++batch) {
    for (auto it = batch->outcomes.rbegin(); it != batch->outcomes.rend();
         ++it) {
      pending_.push_front(std::move(*it));
    }
  }
  unacked_.clear();
  if (!pending_.empty()) oldest_pending_ = absl::Now();
  return ++stream_;
}

std::optional<v1::ResultBatch> OutcomeBook::NextBatch(
    uint64_t stream, size_t max_outcomes, size_t max_bytes,
    std::vector<v1::LeaseRef> extensions) {
  absl::MutexLock lock(&mu_);
  if (stream != stream_ || (pending_.empty() && extensions.empty())) {
    return std::nullopt;
  }
  SentBatch sent{next_batch_id_++, {}, std::move(extensions)};
  v1::ResultBatch batch;
  batch.set_batch_id(sent.batch_id);
  for (const v1::LeaseRef& lease : sent.extensions) {
    *batch.add_extensions() = lease;
  }
  size_t bytes = batch.ByteSizeLong();
  while (!pending_.empty() && sent.outcomes.size() < max_outcomes) {
    const size_t size = pending_.front().ByteSizeLong() + 8;
    if (!sent.outcomes.empty() && bytes + size > max_bytes) break;
    bytes += size;
    *batch.add_outcomes() = pending_.front();
    sent.outcomes.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  oldest_pending_ = pending_.empty() ? absl::InfiniteFuture() : absl::Now();
  unacked_.push_back(std::move(sent));
  return batch;
}

absl::Status OutcomeBook::OnAck(uint64_t stream, const v1::ResultAck& ack) {
  absl::MutexLock lock(&mu_);
  if (stream != stream_) return absl::OkStatus();  // A stream already left.
  if (unacked_.empty() || unacked_.front().batch_id != ack.batch_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ack for batch ", ack.batch_id(), " but the oldest unacked is ",
        unacked_.empty() ? 0 : unacked_.front().batch_id));
  }
  CountVerdictsLocked(unacked_.front(), ack);
  unacked_.pop_front();
  return absl::OkStatus();
}

void OutcomeBook::CountVerdictsLocked(const SentBatch& sent,
                                      const v1::ResultAck& ack) {
  if (static_cast<size_t>(ack.outcomes_size()) != sent.outcomes.size()) {
    LOG(WARNING) << "ack for batch " << ack.batch_id() << " has "
                 << ack.outcomes_size() << " verdicts for "
                 << sent.outcomes.size() << " outcomes";
  }
  for (const v1::ItemVerdict& verdict : ack.outcomes()) {
    LogRefused("outcome", verdict);
    if (verdict.verdict() == v1::VERDICT_ACCEPTED) {
      // The master has this outcome on disk: fault tests check the ids of
      // these lines against its journal.
      VLOG(2) << "outcome accepted: " << verdict.task_id();
      ++stats_.accepted;
    } else {
      ++stats_.refused;
    }
  }
  for (const v1::ItemVerdict& verdict : ack.extensions()) {
    LogRefused("lease extension", verdict);
  }
}

size_t OutcomeBook::pending() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

size_t OutcomeBook::unacked() const {
  absl::MutexLock lock(&mu_);
  return pending_.size() + SentUnackedLocked();
}

size_t OutcomeBook::SentUnackedLocked() const {
  size_t sent = 0;
  for (const SentBatch& batch : unacked_) sent += batch.outcomes.size();
  return sent;
}

absl::Time OutcomeBook::oldest_pending() const {
  absl::MutexLock lock(&mu_);
  return oldest_pending_;
}

bool OutcomeBook::AllAcked() const {
  absl::MutexLock lock(&mu_);
  return pending_.empty() && unacked_.empty();
}

OutcomeBook::Stats OutcomeBook::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace distributo::worker
