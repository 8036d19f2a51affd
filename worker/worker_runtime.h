#ifndef DISTRIBUTO_WORKER_WORKER_RUNTIME_H_
#define DISTRIBUTO_WORKER_WORKER_RUNTIME_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"
#include "worker/backoff.h"
#include "worker/batch_processor.h"
#include "worker/master_connection.h"
#include "worker/master_dialer.h"
#include "worker/outcome_book.h"
#include "worker/session_writer.h"
#include "worker/slot_pool.h"
#include "worker/task_ledger.h"
#include "worker/task_processor.h"
#include "worker/worker_options.h"

namespace distributo::worker {

// Counts over a worker's lifetime.
struct WorkerStats {
  uint64_t succeeded = 0;  // outcomes with a result
  uint64_t failed = 0;     // outcomes with a failure
  uint64_t cancelled = 0;  // runs whose outcome was dropped
  uint64_t accepted = 0;   // outcomes the master accepted
  uint64_t refused = 0;    // outcomes acked with any other verdict
  uint64_t sessions = 0;   // sessions opened or resumed
};

// The worker side of the Distributor protocol: keeps a session with the
// master (reconnecting and resuming as needed), holds up to a credit window
// of leased tasks, runs them on slot threads through a TaskProcessor or a
// BatchProcessor, sends outcomes in batches until they are acked, and
// extends the leases of held tasks.
//
// Threads: Run() blocks its caller, which is the connect loop and reads the
// task stream; it adds an ack reader per session, a SessionWriter thread, and
// `concurrency` slot threads, and joins them all before returning.
// Shutdown() and stats() are thread-safe and may race with Run().
// Lock order: mu_ before the ledger's and the book's locks; no callback and
// no stream write runs under mu_.
class WorkerRuntime {
 public:
  // Returns InvalidArgument for unusable options or a null processor.
  static absl::StatusOr<std::unique_ptr<WorkerRuntime>> Create(
      WorkerOptions options, std::unique_ptr<TaskProcessor> processor);
  static absl::StatusOr<std::unique_ptr<WorkerRuntime>> Create(
      WorkerOptions options, std::unique_ptr<BatchProcessor> processor);

  WorkerRuntime(const WorkerRuntime&) = delete;
  WorkerRuntime& operator=(const WorkerRuntime&) = delete;
  ~WorkerRuntime();

  // Works until the master says the job is complete and every outcome is
  // acked (OK). Returns Cancelled after Shutdown(), or the error that made
  // it give up: a status the master will keep giving (InvalidArgument,
  // Unauthenticated, PermissionDenied, Unimplemented) or a results stream
  // lost after JobComplete. Transient errors are retried with backoff. Call
  // once.
  absl::Status Run();

  // Makes Run() return soon: cancels held tasks (killing their commands) and
  // closes the streams. Their leases return to the queue on the master.
  void Shutdown();

  WorkerStats stats() const;

 private:
  // Exactly one of the processors is non-null.
  WorkerRuntime(WorkerOptions options,
                std::unique_ptr<TaskProcessor> task_processor,
                std::unique_ptr<BatchProcessor> batch_processor);
  // Creates dialer_; InvalidArgument for a malformed master form.
  absl::Status MakeDialer();
  static absl::StatusOr<std::unique_ptr<WorkerRuntime>> CreateValidated(
      WorkerOptions options, std::unique_ptr<TaskProcessor> task_processor,
      std::unique_ptr<BatchProcessor> batch_processor);
  static absl::Status Validate(const WorkerOptions& options);
  static absl::Status ValidateSecurity(const WorkerOptions& options);

  absl::Status ConnectLoop();
  // Waits `delay`, less if the channel connects meanwhile, or Shutdown().
  void WaitBeforeRetry(absl::Duration delay);
  absl::Status RunSession(Backoff& backoff);
  // Sets the session up and returns its results stream's number in the
  // book; Cancelled, with `conn` cancelled, if Shutdown() came first.
  absl::StatusOr<uint64_t> StartSession(std::shared_ptr<MasterConnection> conn);
  // Drops what the worker holds when `job_id` (from SessionStart) is not
  // the job it served so far: discovery may lead to another master.
  void ForgetOtherJob(const std::string& job_id);
  absl::Status ReadTaskLoop(MasterConnection& conn);
  void HandleMessage(v1::TaskBatch& message);
  void AddLeased(v1::LeasedTasks& leased);
  void CompleteJob(const v1::JobComplete& complete);
  absl::Status FinishJob(MasterConnection& conn);
  absl::Status EndSession(MasterConnection& conn, absl::Status status);
  void AckLoop(std::shared_ptr<MasterConnection> conn, uint64_t stream);
  // Records how the results stream ended and breaks the session with it
  // unless the worker closed that stream on purpose.
  void EndResults(MasterConnection& conn, absl::Status status);

  // Wakes the writer and the job-completion wait.
  void Wake();
  bool ShuttingDown() const;

  const WorkerOptions options_;
  const std::unique_ptr<TaskProcessor> task_processor_;
  const std::unique_ptr<BatchProcessor> batch_processor_;
  // Only the connect loop uses dialer_, bitgen_, session_id_ and job_id_.
  // The dialer comes first so that its channel outlives every other member.
  std::unique_ptr<MasterDialer> dialer_;
  TaskLedger ledger_;
  OutcomeBook book_;
  SlotPool slots_;
  SessionWriter writer_;
  absl::BitGen bitgen_;
  std::string session_id_;  // the session to resume; empty: none yet
  std::string job_id_;      // the job served so far; empty: none yet

  mutable absl::Mutex mu_;
  absl::CondVar wake_cv_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool job_complete_ ABSL_GUARDED_BY(mu_) = false;
  // The current session's connection, for Shutdown() to cancel.
  std::shared_ptr<MasterConnection> conn_ ABSL_GUARDED_BY(mu_);
  // Set by the ack reader when the results stream ended, with its status.
  bool results_ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status results_status_ ABSL_GUARDED_BY(mu_);
  // True once the worker closes the results stream on purpose.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t sessions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_WORKER_RUNTIME_H_
