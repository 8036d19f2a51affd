#ifndef DISTRIBUTO_WORKER_MASTER_CONNECTION_H_
#define DISTRIBUTO_WORKER_MASTER_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "worker/guarded_stream.h"

namespace distributo::worker {

// One attempt at a worker session: the RequestBatch stream (hello and credit
// out; session, tasks and notices in) and the SubmitResults stream (result
// batches out, acks in).
// Thread contract: ReadTasks()/FinishTasks() from one thread (the connect
// loop), ReadAck()/FinishResults() from one thread (the ack reader). Writes
// are serialized here per stream and may come from any thread, as may
// Cancel(). Writes after the stream's Finish*() return false.
class MasterConnection {
 public:
  // Opens RequestBatch, sends `hello`, waits for SessionStart, then opens
  // SubmitResults. Returns the stream's final status if it ends first (e.g.
  // NOT_FOUND for an unknown resume_session_id, UNAVAILABLE when the master
  // is unreachable; Unavailable if that status is OK), or InvalidArgument if
  // its first message is not a SessionStart.
  // `token`, when not empty, goes with both calls as a bearer token.
  static absl::StatusOr<std::unique_ptr<MasterConnection>> Open(
      v1::Distributor::StubInterface& stub, const v1::WorkerHello& hello,
      absl::string_view token = "");

  MasterConnection(const MasterConnection&) = delete;
  MasterConnection& operator=(const MasterConnection&) = delete;
  // Cancels whatever is still open and waits for both calls to end.
  ~MasterConnection();

  const v1::SessionStart& session() const { return session_; }

  // Returns the next message from the master; nullopt once the stream ended.
  std::optional<v1::TaskBatch> ReadTasks();
  // Returns the RequestBatch stream's final status, after ReadTasks() ended.
  absl::Status FinishTasks();
  bool WriteCredit(uint32_t tasks);

  bool WriteResults(const v1::ResultBatch& batch);
  // Tells the master that no more result batches come (WritesDone).
  bool CloseResults();
  // Returns the next ack; nullopt once the stream ended.
  std::optional<v1::ResultAck> ReadAck();
  // Returns the SubmitResults stream's final status, after ReadAck() ended.
  absl::Status FinishResults();

  // Breaks both streams: pending reads and writes fail promptly.
  void Cancel();

 private:
  MasterConnection() = default;

  // The contexts come first: each must outlive its stream.
  grpc::ClientContext tasks_context_;
  grpc::ClientContext results_context_;
  v1::SessionStart session_;
  GuardedStream<v1::BatchRequest, v1::TaskBatch> tasks_;
  GuardedStream<v1::ResultBatch, v1::ResultAck> results_;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_MASTER_CONNECTION_H_
