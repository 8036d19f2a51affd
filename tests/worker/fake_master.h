#ifndef DISTRIBUTO_TESTS_WORKER_FAKE_MASTER_H_
#define DISTRIBUTO_TESTS_WORKER_FAKE_MASTER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.grpc.pb.h"

namespace distributo::worker {

// A scripted master for worker tests, on 127.0.0.1:0: leases its tasks
// against credit, acks every result batch with ACCEPTED (DUPLICATE for a
// task already done), and sends JobComplete once every task has an outcome.
// Thread-safe; the gRPC server calls it from its own threads.
class FakeMaster final : public v1::Distributor::Service {
 public:
  struct Options {
    uint32_t max_batch_tasks = 2;
    // Ends this many SubmitResults streams with UNAVAILABLE on their first
    // batch, before recording or acking it.
    int break_results_streams = 0;
    // Answers a resume_session_id with NOT_FOUND, as after a restart.
    bool forget_sessions = false;
    // Acks each result batch this long after reading it, like a master
    // whose journal is slow.
    absl::Duration ack_delay = absl::ZeroDuration();
    // Runs after each hello is recorded, before the SessionStart is sent.
    std::function<void()> before_session_start;
  };

  FakeMaster(std::vector<v1::Task> tasks, Options options);
  ~FakeMaster() override;

  // Returns "127.0.0.1:PORT".
  const std::string& address() const { return address_; }

  std::vector<v1::WorkerHello> hellos() const;
  // The first outcome received for each task id.
  std::map<std::string, v1::Outcome> outcomes() const;
  // The most tasks that were ever leased and not acked at once.
  int64_t max_unacked_leases() const;

  grpc::Status RequestBatch(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::TaskBatch, v1::BatchRequest>* stream)
      override;
  grpc::Status SubmitResults(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ResultAck, v1::ResultBatch>* stream)
      override;

 private:
  // Returns the SessionStart for a hello resuming `resume` (may be empty).
  v1::TaskBatch SessionStartLocked(const std::string& resume)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Leases every undispatched task on `stream`, within `credit` plus what
  // the worker grants; returns false if the stream ended first.
  bool LeaseAll(
      uint64_t credit,
      grpc::ServerReaderWriter<v1::TaskBatch, v1::BatchRequest>& stream);
  // Returns up to `max` undispatched tasks as a TaskBatch.
  v1::TaskBatch LeaseLocked(uint64_t max) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until every task is done (true) or the call is cancelled.
  bool AwaitDone(grpc::ServerContext* context);
  v1::ResultAck RecordLocked(const v1::ResultBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const size_t total_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;

  mutable absl::Mutex mu_;
  std::deque<v1::Task> undispatched_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::WorkerHello> hellos_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Outcome> outcomes_ ABSL_GUARDED_BY(mu_);
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t leased_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_unacked_leases_ ABSL_GUARDED_BY(mu_) = 0;
  int broken_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_TESTS_WORKER_FAKE_MASTER_H_
