#ifndef DISTRIBUTO_WORKER_OUTCOME_BOOK_H_
#define DISTRIBUTO_WORKER_OUTCOME_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"

namespace distributo::worker {

// Keeps the outcomes on their way to the master: pending (not sent yet) and
// sent but not acked, by batch. An outcome is forgotten only when its batch
// is acked (whatever the verdict: every verdict is final); after a reconnect
// the unacked ones are sent again.
// Thread-safe: slot threads add, the sender takes batches, the ack reader
// acks, the connect loop starts streams.
class OutcomeBook {
 public:
  // Verdict counts over the worker's lifetime.
  struct Stats {
    uint64_t accepted = 0;
    uint64_t refused = 0;  // any other verdict
  };

  // Results larger than this become "result_too_large" failures on Add(),
  // since the master would refuse them anyway. 0: no limit.
  void SetMaxResultBytes(uint64_t max_result_bytes);

  // Queues an outcome (with its lease set) for sending, unless it belongs
  // to a job dropped since (`job` is not job()). Returns whether it did.
  bool Add(v1::Outcome outcome, uint64_t job = 0);

  // Forgets every outcome not yet acked, pending or sent: they belong to a
  // job the worker no longer serves. Starts the next job(), so that
  // outcomes of the old one still being made are dropped too. Returns how
  // many it forgot.
  size_t DropAll();
  // Counts the jobs dropped so far; tasks are leased under this number.
  uint64_t job() const;

  // Starts a new stream: unacked outcomes go back in front of the pending
  // ones, in their order. Returns the new stream's number.
  uint64_t StartStream();

  // Returns the next batch for stream `stream`: up to `max_outcomes` pending
  // outcomes within about `max_bytes` (always at least one), plus
  // `extensions`, and records it as unacked. Returns nullopt if there is
  // nothing to send or `stream` is no longer the current one.
  std::optional<v1::ResultBatch> NextBatch(
      uint64_t stream, size_t max_outcomes, size_t max_bytes,
      std::vector<v1::LeaseRef> extensions);

  // Applies the ack of the oldest unacked batch of stream `stream`.
  // Returns FailedPrecondition if it does not match that batch.
  absl::Status OnAck(uint64_t stream, const v1::ResultAck& ack);

  size_t pending() const;
  // Outcomes not acked yet: pending, or sent and waiting for their ack.
  size_t unacked() const;
  // When the oldest pending outcome was added; InfiniteFuture() if none.
  absl::Time oldest_pending() const;
  // True when nothing is pending nor waiting for an ack.
  bool AllAcked() const;
  Stats stats() const;

 private:
  struct SentBatch {
    uint64_t batch_id;
    std::vector<v1::Outcome> outcomes;
    std::vector<v1::LeaseRef> extensions;
  };

  // The outcomes in unacked_: a short walk, since credit bounds them to
  // about one window (TaskLedger).
  size_t SentUnackedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountVerdictsLocked(const SentBatch& sent, const v1::ResultAck& ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  uint64_t max_result_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t job_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<v1::Outcome> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time oldest_pending_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::deque<SentBatch> unacked_ ABSL_GUARDED_BY(mu_);
  uint64_t stream_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_OUTCOME_BOOK_H_
