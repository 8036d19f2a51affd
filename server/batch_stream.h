#ifndef DISTRIBUTO_SERVER_BATCH_STREAM_H_
#define DISTRIBUTO_SERVER_BATCH_STREAM_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "server/lease_writer.h"
#include "server/task_queue.h"

namespace distributo::server {

class DistributorService;

// One worker's RequestBatch stream: reads its hello and credit grants, and
// writes SessionStart, then leased batches within the credit, Drained when the
// queue runs dry, and JobComplete at the end of a job.
//
// Thread contract: gRPC calls the On* methods (never two reads or two writes
// at once); Pump() may be called from any thread. Deletes itself in OnDone().
class BatchStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `identity` is the name of the worker's token, "" without tokens.
  BatchStream(DistributorService* service, TaskQueue* queue, std::string peer,
              std::string identity = "");

  // Writes the next message the queue and the credit allow, if no write is in
  // flight: here, or, if another thread is pumping this stream, on that
  // thread, which goes round again for the calls that came meanwhile.
  void Pump();

  // Tells the worker, if this stream holds session `session_id`, to stop
  // working on `lease`; returns whether it does.
  bool Cancel(absl::string_view session_id, const v1::LeaseRef& lease,
              absl::string_view reason);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // What Pump decided to do once the lock is released.
  enum class Next { kNothing, kWrite };

  // Pump()'s one round.
  void PumpOnce();
  void HandleHello(const v1::WorkerHello& received);
  void HandleCredit(const v1::CreditGrant& credit);
  // Puts the next message in out_bytes_, if there is one to write.
  Next PrepareNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns out_, emptied.
  v1::TaskBatch& NewOutLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts out_ in out_bytes_.
  Next SerializeOutLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the stream once no write is in flight.
  void FinishWhenIdle(const grpc::Status& status);
  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes out_bytes_.
  void WriteOutLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DistributorService* const service_;
  TaskQueue* const queue_;
  const std::string peer_;
  const std::string identity_;
  grpc::ByteBuffer request_bytes_;  // touched only by the read callbacks
  v1::BatchRequest request_;        // likewise

  // Pump() calls not yet served: the first sets it to 1 and pumps. A call
  // that finds it above 0 leaves its round to that thread rather than wait
  // for mu_, which a round holds while the queue leases.
  std::atomic<uint32_t> pump_calls_ = 0;
  absl::Mutex mu_;
  // The next message to write, unless it is leased tasks, which leases_
  // writes from the queue's records straight to their bytes.
  v1::TaskBatch out_ ABSL_GUARDED_BY(mu_);
  WireLeaseWriter leases_ ABSL_GUARDED_BY(mu_);
  // Cancellations waiting for the next write, sent before any task.
  v1::CancelTasks cancels_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer out_bytes_ ABSL_GUARDED_BY(mu_);  // the one being written
  std::string session_id_ ABSL_GUARDED_BY(mu_);
  uint64_t credit_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;  // hello handled
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool drained_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool complete_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_BATCH_STREAM_H_
