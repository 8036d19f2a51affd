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
// Thread-safe. Borrows the router, which must outlive it.
class CommitQueue {
 public:
  // Called on the commit thread once the work is durable (OK), or with the
  // journal's error if it could not be made so; at once, on the caller's
  // thread, after Stop().
  using Done = std::function<void(absl::Status)>;

  explicit CommitQueue(ResultRouter* router);
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `apply` (see ResultRouter::ApplyAndCommit) and `done`.
  void Add(ResultRouter::Apply apply, Done done);

  // Runs what is queued, then stops the thread; later Add()s get
  // Unavailable at once. Idempotent.
  void Stop();

 private:
  struct Work {
    ResultRouter::Apply apply;
    Done done;
  };

  void CommitLoop();
  void DeliverLoop();
  // Applies and commits one round of queued work, then queues its results
  // for the delivery thread.
  void RunRound(std::vector<Work> round);

  ResultRouter* const router_;
  absl::Mutex mu_;
  std::vector<Work> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<FinishedTask> undelivered_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool commits_ended_ ABSL_GUARDED_BY(mu_) = false;  // the commit thread's
  absl::once_flag stop_once_;
  std::thread commit_thread_;
  std::thread deliver_thread_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_COMMIT_QUEUE_H_
