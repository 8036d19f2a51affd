#ifndef DISTRIBUTO_SERVER_COMMIT_QUEUE_H_
#define DISTRIBUTO_SERVER_COMMIT_QUEUE_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/result_router.h"

namespace distributo::server {

// Runs the result streams' commits on a thread of its own, so that gRPC's
// few callback threads never wait for the disk: the batches that come while
// a commit runs are applied and committed together in the next one. Their
// results go to the sink on a second thread, so that the next commit need
// not wait for the sink.
//
// With a journal that never waits for a disk (in memory), the commits can
// run on the callers' threads instead: a batch of outcomes is then acked
// without a hand-over to another thread and back.
//
// Thread-safe. Borrows the router, which must outlive it.
class CommitQueue {
 public:
  // Where Add() applies and commits its work.
  enum class RunOn { kCommitThread, kCallerThread };

  // Called once the work is durable (OK), or with the journal's error if it
  // could not be made so: on the commit thread or the caller's, as RunOn
  // says, and on the caller's, at once, after Stop().
  using Done = std::function<void(absl::Status)>;

  CommitQueue(ResultRouter* router, RunOn run_on);
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `apply` (see ResultRouter::ApplyAndCommit) and `done`, or runs
  // them at once (RunOn::kCallerThread). Results reach the delivery thread
  // in the order of their commits; on callers' threads, two commits that
  // end together may hand theirs over in either order.
  void Add(ResultRouter::Apply apply, Done done);

  // Runs what is queued and waits for rounds on callers' threads, then
  // stops the threads once they have delivered everything; later Add()s
  // get Unavailable at once. Idempotent.
  void Stop();

 private:
  struct Work {
    ResultRouter::Apply apply;
    Done done;
  };

  void CommitLoop();
  void DeliverLoop();
  // Waits kDeliveryPause, or until the commits end.
  void PauseDelivery();
  // Applies and commits one round of queued work, then queues its results
  // for the delivery thread.
  void RunRound(std::vector<Work> round);

  ResultRouter* const router_;
  const RunOn run_on_;
  absl::Mutex mu_;
  std::vector<Work> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<FinishedTask> undelivered_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t rounds_on_callers_ ABSL_GUARDED_BY(mu_) = 0;  // running now
  bool commits_ended_ ABSL_GUARDED_BY(mu_) = false;    // no round runs
  absl::once_flag stop_once_;
  std::thread commit_thread_;  // only to RunOn::kCommitThread
  std::thread deliver_thread_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_COMMIT_QUEUE_H_
