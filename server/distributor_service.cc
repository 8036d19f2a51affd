#include "server/distributor_service.h"

#include "server/batch_stream.h"
#include "server/result_stream.h"

namespace distributo::server {

DistributorService::DistributorService(TaskQueue* queue, ResultRouter* router,
                                       CommitQueue* commits)
    : queue_(queue), router_(router), commits_(commits) {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
DistributorService::RequestBatch(grpc::CallbackServerContext* context) {
  return new BatchStream(this, queue_, context->peer());
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
DistributorService::SubmitResults(grpc::CallbackServerContext*) {
  ++submit_results_total_;
  return new ResultStream(queue_, router_, commits_, &submit_results_open_);
}

StreamCounts DistributorService::stream_counts() const {
  StreamCounts counts;
  {
    absl::MutexLock lock(&mu_);
    counts.request_batch_open = streams_.size();
  }
  counts.request_batch_total = request_batch_total_.load();
  counts.submit_results_open = submit_results_open_.load();
  counts.submit_results_total = submit_results_total_.load();
  return counts;
}

void DistributorService::Drain() {
  draining_ = true;
  WakeStreams();
}

void DistributorService::WakeStreams() {
  absl::MutexLock lock(&mu_);
  for (BatchStream* stream : streams_) stream->Pump();
}

void DistributorService::AddStream(BatchStream* stream) {
  ++request_batch_total_;
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
}

void DistributorService::RemoveStream(BatchStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

}  // namespace distributo::server
