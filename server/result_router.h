#ifndef DISTRIBUTO_SERVER_RESULT_ROUTER_H_
#define DISTRIBUTO_SERVER_RESULT_ROUTER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/journal.h"
#include "server/result_sink.h"
#include "server/task_queue.h"

namespace distributo::server {

// Takes finished tasks from the queue to the journal and the result sink, in
// the order of DESIGN.md §4: Commit (before the ack), then Deliver (after),
// which writes the sink and then journals the handled marks with the sink's
// position.
//
// Nothing is dropped when the journal or the sink fails (disk full, I/O
// error): what they could not take waits in memory, in order, and goes first
// at the next call or RetryBacklog(). Meanwhile healthy() is false, and the
// master neither acks outcomes nor leases tasks.
//
// Thread-safe: commits are serialised, and so are deliveries, so the sink
// sees one batch at a time.
class ResultRouter {
 public:
  // Borrows all three, which must outlive the router.
  ResultRouter(TaskQueue* queue, Journal* journal, ResultSink* sink);

  // Runs `apply`, which changes the queue and appends the tasks it finished
  // to `*finished`, then makes them durable after any batch the journal
  // could not take before; on success `*finished` holds them all, to be
  // delivered. Returns the journal's error if it fails, keeping the tasks
  // (and clearing `*finished`): their outcomes must not be acked.
  //
  // No other `apply` runs until the commit is done, so a verdict that rests
  // on another finished task (a duplicate) is never acked before that task
  // is on disk.
  absl::Status ApplyAndCommit(
      const std::function<void(std::vector<FinishedTask>*)>& apply,
      std::vector<FinishedTask>* finished);

  // Hands committed tasks to the sink, after any it could not take before,
  // and marks them handled.
  void Deliver(std::vector<FinishedTask> finished);

  // Commits and delivers what waits from earlier failures. Returns true if
  // that made the router healthy again.
  bool RetryBacklog();

  // Returns false while outcomes or results wait for the journal or sink.
  // Takes no lock, so that any caller may ask.
  bool healthy() const {
    return uncommitted_count_.load() == 0 && undelivered_count_.load() == 0;
  }

 private:
  // Writes the waiting tasks and journals the waiting handled marks; returns
  // whether both are done, and in `*marked` how many were marked, for the
  // caller to tell the queue once the lock is released.
  bool FlushLocked(size_t* marked) ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  bool WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  bool MarkLocked(size_t* marked) ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  // Logs a failure once per outage of `what`, and the recovery after it.
  void Report(bool& failing, const char* what, const absl::Status& status);

  TaskQueue* const queue_;
  Journal* const journal_;
  // What failed calls left waiting, as of the last attempt: the sizes of
  // uncommitted_, and of unwritten_ plus unmarked_.
  std::atomic<size_t> uncommitted_count_{0};
  std::atomic<size_t> undelivered_count_{0};

  absl::Mutex commit_mu_;
  std::vector<FinishedTask> uncommitted_ ABSL_GUARDED_BY(commit_mu_);
  bool commit_failing_ ABSL_GUARDED_BY(commit_mu_) = false;

  absl::Mutex deliver_mu_;
  ResultSink* const sink_ ABSL_PT_GUARDED_BY(deliver_mu_);
  std::vector<FinishedTask> unwritten_ ABSL_GUARDED_BY(deliver_mu_);
  std::vector<std::string> unmarked_ ABSL_GUARDED_BY(deliver_mu_);
  bool write_failing_ ABSL_GUARDED_BY(deliver_mu_) = false;
  bool mark_failing_ ABSL_GUARDED_BY(deliver_mu_) = false;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_ROUTER_H_
