#ifndef DISTRIBUTO_SERVER_DISTRIBUTOR_SERVICE_H_
#define DISTRIBUTO_SERVER_DISTRIBUTOR_SERVICE_H_

#include <atomic>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "server/commit_queue.h"
#include "server/result_router.h"
#include "server/task_queue.h"
#include "server/worker_tokens.h"

namespace distributo::server {

class BatchStream;

// distributo.v1.Distributor on the callback API: one reactor per stream, no
// thread per worker. Keeps the open RequestBatch streams, by session too, so
// that a change in the queue wakes the streams it concerns (one session's,
// or all) to send what they can.
//
// Thread-safe. Borrows the queue, router and commit queue, which must
// outlive it.
// How many worker streams are open, and how many were ever opened.
struct StreamCounts {
  uint64_t request_batch_open = 0;
  uint64_t request_batch_total = 0;
  uint64_t submit_results_open = 0;
  uint64_t submit_results_total = 0;
};

class DistributorService final
    : public v1::Distributor::WithRawCallbackMethod_RequestBatch<
          v1::Distributor::WithRawCallbackMethod_SubmitResults<
              v1::Distributor::Service>> {
 public:
  // With `tokens` not empty, every call must carry one of them. At most
  // `max_workers` RequestBatch streams are served at once (0: any number).
  DistributorService(TaskQueue* queue, ResultRouter* router,
                     CommitQueue* commits, WorkerTokens tokens = {},
                     size_t max_workers = 0);

  // Raw streams: see server/wire.h for why.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* RequestBatch(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SubmitResults(
      grpc::CallbackServerContext* context) override;

  // Names the job in every SessionStart. Call before the server starts.
  void set_job_id(std::string job_id) { job_id_ = std::move(job_id); }
  const std::string& job_id() const { return job_id_; }

  // Tells the worker of session `session_id` to stop working on `lease`;
  // returns false if no open stream holds that session.
  bool CancelLease(absl::string_view session_id, const v1::LeaseRef& lease,
                   absl::string_view reason);

  // Lets the open RequestBatch stream of session `session_id` send what the
  // queue now allows; every stream's for "".
  void WakeStreams(absl::string_view session_id = "");

  // Returns false while the master drains or cannot store outcomes: no task
  // is leased then.
  bool Accepting() { return !draining_.load() && router_->healthy(); }

  // Stops leasing for good, while results are still taken, and tells the
  // workers (drained). Thread-safe.
  void Drain();
  bool draining() const { return draining_.load(); }

  StreamCounts stream_counts() const;

  // Called by a BatchStream when it starts, when it has its session, and
  // when it is done.
  void AddStream(BatchStream* stream);
  void BindSession(BatchStream* stream, absl::string_view session_id);
  void RemoveStream(BatchStream* stream, absl::string_view session_id);

 private:
  // Counts a new RequestBatch stream in, or returns ResourceExhausted while
  // max_workers_ are open. One step, so that two streams arriving at once
  // cannot both take the last place.
  absl::Status AdmitStream();

  TaskQueue* const queue_;
  ResultRouter* const router_;
  CommitQueue* const commits_;
  const WorkerTokens tokens_;
  const size_t max_workers_;
  // Written once before the server starts, read by streams after.
  std::string job_id_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> request_batch_total_{0};
  // SubmitResults streams count themselves in and out.
  std::atomic<uint64_t> submit_results_open_{0};
  std::atomic<uint64_t> submit_results_total_{0};
  mutable absl::Mutex mu_;
  // Held while waking, so a stream cannot be deleted while it is woken.
  absl::flat_hash_set<BatchStream*> streams_ ABSL_GUARDED_BY(mu_);
  // Streams admitted and not yet removed, those still being made included.
  size_t admitted_ ABSL_GUARDED_BY(mu_) = 0;
  // The stream of each session, the latest if a resumed one replaced it.
  absl::flat_hash_map<std::string, BatchStream*> by_session_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_DISTRIBUTOR_SERVICE_H_
