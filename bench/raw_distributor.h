#ifndef DISTRIBUTO_BENCH_RAW_DISTRIBUTOR_H_
#define DISTRIBUTO_BENCH_RAW_DISTRIBUTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.grpc.pb.h"

namespace distributo::bench {

class RawBatchStream;

// The transport's limit, as a baseline: distributo.v1.Distributor served
// with the callback API, as the master serves it, carrying the same messages
// in the same batches within the same credit, but with no queue and no
// leases. Tasks are minted from a counter as credit asks for them; outcomes
// are acked ACCEPTED without a look; after `tasks` acked outcomes every
// stream gets JobComplete. No task goes out before `workers` sessions are
// open, so that every worker takes part.
//
// Thread-safe: gRPC calls it on its threads.
class RawDistributor final : public v1::Distributor::CallbackService {
 public:
  RawDistributor(uint64_t tasks, size_t batch_size, int workers);

  grpc::ServerBidiReactor<v1::BatchRequest, v1::TaskBatch>* RequestBatch(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::ResultBatch, v1::ResultAck>* SubmitResults(
      grpc::CallbackServerContext* context) override;

  // Waits until every task's outcome was acked; returns whether it was.
  bool AwaitAllAcked(absl::Duration timeout);

  // For the streams.
  size_t batch_size() const { return batch_size_; }
  // Puts up to `max` new tasks in `out`; returns how many.
  size_t Mint(size_t max, v1::LeasedTasks* out);
  void Acked(size_t outcomes);
  void SessionOpened();
  bool all_acked() const { return acked_.load() >= tasks_; }
  uint64_t acked() const { return acked_.load(); }
  void AddStream(RawBatchStream* stream);
  void RemoveStream(RawBatchStream* stream);

 private:
  const uint64_t tasks_;
  const size_t batch_size_;
  const int workers_;
  std::atomic<int> opened_{0};
  std::atomic<int> sessions_{0};
  std::atomic<uint64_t> minted_{0};
  std::atomic<uint64_t> acked_{0};
  absl::Notification all_acked_;
  absl::Mutex mu_;
  absl::flat_hash_set<RawBatchStream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_RAW_DISTRIBUTOR_H_
