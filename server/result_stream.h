#ifndef DISTRIBUTO_SERVER_RESULT_STREAM_H_
#define DISTRIBUTO_SERVER_RESULT_STREAM_H_

#include <string>

#include "distributo/v1/distributor.grpc.pb.h"
#include "server/result_router.h"
#include "server/task_queue.h"

namespace distributo::server {

// One worker's SubmitResults stream: applies each ResultBatch to the queue,
// commits what finished, writes the ResultAck, then hands the finished tasks
// to the router. Reads the next batch only once the ack is written, so acks
// leave in order.
//
// Thread contract: a read and a write are never outstanding together, and
// the buffers are only touched between a read completing and the write of
// its ack, so no lock is needed. Deletes itself in OnDone().
class ResultStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ResultStream(TaskQueue* queue, ResultRouter* router);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Binds the stream to its session on the first batch. Returns an error
  // status that ends the stream for a missing, unknown or changed session.
  grpc::Status CheckSession(const std::string& session_id);

  TaskQueue* const queue_;
  ResultRouter* const router_;
  std::string session_id_;
  grpc::ByteBuffer batch_bytes_;
  v1::ResultBatch batch_;
  grpc::ByteBuffer ack_bytes_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_STREAM_H_
