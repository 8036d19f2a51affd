#ifndef DISTRIBUTO_WORKER_SESSION_WRITER_H_
#define DISTRIBUTO_WORKER_SESSION_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/master_connection.h"
#include "worker/outcome_book.h"
#include "worker/task_ledger.h"

namespace distributo::worker {

// Writes everything the worker sends during a session, from one thread of
// its own: credit grants as slots free up, outcome batches (once
// `flush_outcomes` are pending, the oldest waited `flush_linger`, or no task
// runs), and lease extensions for every held task each third of the lease.
// Owning all writes serializes them per stream and keeps slow writes off the
// reader and slot threads.
// Thread contract: Start()/Stop() from the owner; the rest is thread-safe.
// The ledger and book must outlive it. Lock order: mu_ before the book's
// lock; no stream write runs under mu_.
class SessionWriter {
 public:
  struct Config {
    size_t flush_outcomes = 64;
    absl::Duration flush_linger = absl::Milliseconds(2);
  };

  SessionWriter(Config config, TaskLedger& ledger, OutcomeBook& book);
  ~SessionWriter();

  void Start();
  // Ends the writer thread; returns once it has.
  void Stop();

  // Starts writing on `conn`, whose results stream is the book's `stream`.
  void Attach(std::shared_ptr<MasterConnection> conn, uint64_t stream,
              std::string session_id, size_t max_batch_bytes,
              absl::Duration lease);
  // Stops writing on the current connection, if any.
  void Detach();
  // Extends leases often enough for `lease`, if shorter than the current.
  void ShortenLease(absl::Duration lease);
  // After JobComplete: no more credit nor extensions, only outcomes.
  void StopCredit();
  // Tells the writer that there may be something to write.
  void Wake();

 private:
  // What one wake-up has to do, snapshotted under mu_.
  struct Work {
    std::shared_ptr<MasterConnection> conn;
    uint64_t stream = 0;
    std::string session_id;
    size_t max_batch_bytes = 0;
    bool extend = false;
    bool credit = false;
  };

  void Loop();
  // Blocks until there is something to do; returns nullopt after Stop().
  std::optional<Work> WaitForWork();
  // Returns when the writer must act even if nobody wakes it.
  absl::Time DeadlineLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoWork(Work work);
  void GrantCredit(MasterConnection& conn);
  // Returns true when pending outcomes should go out now.
  bool ShouldFlush() const;

  const Config config_;
  TaskLedger& ledger_;
  OutcomeBook& book_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  // Wake-ups requested, and those the writer has started acting on: an
  // event that comes while the writer works is still pending afterwards.
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t handled_events_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool credit_ ABSL_GUARDED_BY(mu_) = true;
  std::shared_ptr<MasterConnection> conn_ ABSL_GUARDED_BY(mu_);
  uint64_t stream_ ABSL_GUARDED_BY(mu_) = 0;
  std::string session_id_ ABSL_GUARDED_BY(mu_);
  size_t max_batch_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration extension_interval_ ABSL_GUARDED_BY(mu_);
  absl::Time next_extension_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_SESSION_WRITER_H_
