#ifndef DISTRIBUTO_SERVER_RESULT_ROUTER_H_
#define DISTRIBUTO_SERVER_RESULT_ROUTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/histogram.h"
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
  // to `*finished`, then returns once they, and everything any call applied
  // before, are durable. Calls that come while a commit runs are committed
  // together in the next one (group commit), led by one of them: on
  // success `*finished` holds what this call must deliver, which may be
  // another call's tasks or none. Returns the journal's error if it fails,
  // keeping the tasks to commit with the next round: their outcomes must
  // not be acked.
  //
  // `apply` calls run one at a time, and each returns only once what was
  // applied before it is on disk, so a verdict that rests on another
  // finished task (a duplicate) is never acked before that task is.
  using Apply = std::function<void(std::vector<FinishedTask>*)>;
  absl::Status ApplyAndCommit(const Apply& apply,
                              std::vector<FinishedTask>* finished);
  // The same for several, applied in order and committed together.
  absl::Status ApplyAllAndCommit(absl::Span<const Apply> applies,
                                 std::vector<FinishedTask>* finished);

  // Hands committed tasks to the sink, after any it could not take before,
  // and marks them handled.
  void Deliver(std::vector<FinishedTask> finished);

  // Commits and delivers what waits from earlier failures.
  void RetryBacklog();

  // Returns how many outages there were: times the journal or the sink
  // started failing.
  uint64_t outages() const { return outages_.load(); }

  // Returns how long the journal's commits took, one per round.
  Histogram commit_latency() ABSL_LOCKS_EXCLUDED(commit_mu_);

  // Returns false while outcomes or results wait for the journal or sink.
  // Takes no lock, so that any caller may ask.
  bool healthy() const {
    return uncommitted_count_.load() == 0 && undelivered_count_.load() == 0;
  }

 private:
  // Takes what Deliver() was given, writes it and marks it; returns whether
  // nothing is left waiting. Any thread; the sink sees one at a time.
  bool Flush();
  // Writes the waiting tasks and journals the waiting handled marks; returns
  // whether both are done, and in `*marked` the ids marked, for the
  // caller to tell the queue once the lock is released.
  bool FlushLocked(std::vector<TaskRef>* marked)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  bool WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  bool MarkLocked(std::vector<TaskRef>* marked)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_);
  // Waits until what was applied up to call number `mine` is committed,
  // leading a commit round when none runs; see ApplyAndCommit().
  absl::Status AwaitCommit(uint64_t mine, std::vector<FinishedTask>* finished);
  // Logs a failure once per outage of `what`, and the recovery after it.
  void Report(bool& failing, const char* what, const absl::Status& status);

  TaskQueue* const queue_;
  Journal* const journal_;
  // What failed calls left waiting, as of the last attempt: the sizes of
  // uncommitted_, and of unwritten_ plus unmarked_.
  std::atomic<size_t> uncommitted_count_{0};
  std::atomic<size_t> undelivered_count_{0};
  std::atomic<uint64_t> outages_{0};

  absl::Mutex commit_mu_;
  Histogram commit_latency_ ABSL_GUARDED_BY(commit_mu_);
  // Applied, not yet committed, in order: the next round's tasks, or, after
  // a failed round, its tasks and those applied since.
  std::vector<FinishedTask> uncommitted_ ABSL_GUARDED_BY(commit_mu_);
  // Calls numbered in the order they applied: the last one applied, the
  // last one a round made durable, the last one a failed round covered.
  uint64_t applied_ ABSL_GUARDED_BY(commit_mu_) = 0;
  uint64_t committed_ ABSL_GUARDED_BY(commit_mu_) = 0;
  uint64_t failed_upto_ ABSL_GUARDED_BY(commit_mu_) = 0;
  absl::Status last_failure_ ABSL_GUARDED_BY(commit_mu_);
  bool committing_ ABSL_GUARDED_BY(commit_mu_) = false;  // a round runs
  bool commit_failing_ ABSL_GUARDED_BY(commit_mu_) = false;

  // Lock order: deliver_mu_ before intake_mu_.
  absl::Mutex intake_mu_;
  std::vector<FinishedTask> incoming_ ABSL_GUARDED_BY(intake_mu_);
  bool flushing_ ABSL_GUARDED_BY(intake_mu_) = false;  // a Deliver() flushes

  absl::Mutex deliver_mu_;
  ResultSink* const sink_ ABSL_PT_GUARDED_BY(deliver_mu_);
  std::vector<FinishedTask> unwritten_ ABSL_GUARDED_BY(deliver_mu_);
  std::vector<TaskRef> unmarked_ ABSL_GUARDED_BY(deliver_mu_);
  bool write_failing_ ABSL_GUARDED_BY(deliver_mu_) = false;
  bool mark_failing_ ABSL_GUARDED_BY(deliver_mu_) = false;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_ROUTER_H_
