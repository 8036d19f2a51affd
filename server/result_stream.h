#ifndef DISTRIBUTO_SERVER_RESULT_STREAM_H_
#define DISTRIBUTO_SERVER_RESULT_STREAM_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "server/commit_queue.h"
#include "server/result_router.h"
#include "server/task_queue.h"

namespace distributo::server {

// One worker's SubmitResults stream: hands each ResultBatch to the commit
// queue, which applies it to the queue and commits what finished, then
// writes the ResultAck. Reads the next batch only once the ack is written,
// so acks leave in order.
//
// Thread contract: a read, a commit and a write are never outstanding
// together, and the buffers are only touched by whichever of them runs, so
// no lock is needed. Deletes itself in OnDone().
class ResultStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Borrows all three, which must outlive every stream.
  // Counts itself in `open` while it exists. `identity` is the worker's
  // token's name ("" without tokens): it hands in outcomes only for its own
  // sessions.
  ResultStream(TaskQueue* queue, ResultRouter* router, CommitQueue* commits,
               std::atomic<uint64_t>* open, std::string identity);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override {
    --*open_;
    delete this;
  }

 private:
  // Binds the stream to its session on the first batch. Returns an error
  // status that ends the stream for a missing, unknown, another worker's or
  // changed session.
  grpc::Status CheckSession(const std::string& session_id);
  // Writes the ack once the batch is durable, or ends the stream.
  void AckOrEnd(const absl::Status& committed);

  TaskQueue* const queue_;
  ResultRouter* const router_;
  CommitQueue* const commits_;
  std::atomic<uint64_t>* const open_;
  const std::string identity_;
  std::string session_id_;
  grpc::ByteBuffer batch_bytes_;
  // The batch and its ack, reused from one batch to the next: a batch
  // parsed into the last one's message reuses its outcomes, verdicts and
  // their strings, so that they cost no malloc and free each, and accepted
  // results move out to their FinishedTasks without a copy (an arena would
  // save the mallocs, not the copy).
  v1::ResultBatch batch_;
  size_t reused_wire_bytes_ = 0;          // parsed into batch_ since it was new
  std::vector<std::string> bad_results_;  // of batch_, see CheckResults()
  v1::ResultAck ack_;
  grpc::ByteBuffer ack_bytes_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_STREAM_H_
