#include "server/distributor_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rpc/status_util.h"
#include "server/batch_stream.h"
#include "server/result_stream.h"

namespace distributo::server {

namespace {

// Ends a call at once, e.g. one without a valid token.
class RefusedStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

DistributorService::DistributorService(TaskQueue* queue, ResultRouter* router,
                                       CommitQueue* commits,
                                       WorkerTokens tokens, size_t max_workers)
    : queue_(queue),
      router_(router),
      commits_(commits),
      tokens_(std::move(tokens)),
      max_workers_(max_workers) {}

absl::Status DistributorService::AdmitStream() {
  absl::MutexLock lock(&mu_);
  if (max_workers_ == 0 || admitted_ < max_workers_) {
    ++admitted_;
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("this master serves at most ", max_workers_,
                   " workers at once (--max_workers); retry later"));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
DistributorService::RequestBatch(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> name = AuthenticateWorker(tokens_, *context);
  if (!name.ok()) {
    LOG(WARNING) << "refused a worker from " << context->peer() << ": "
                 << name.status().message();
    return new RefusedStream(name.status());
  }
  if (absl::Status capacity = AdmitStream(); !capacity.ok()) {
    LOG_EVERY_N(WARNING, 100) << "refused a worker from " << context->peer()
                              << ": " << capacity.message();
    return new RefusedStream(capacity);
  }
  return new BatchStream(this, queue_, context->peer(), *std::move(name));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
DistributorService::SubmitResults(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> name = AuthenticateWorker(tokens_, *context);
  if (!name.ok()) return new RefusedStream(name.status());
  ++submit_results_total_;
  return new ResultStream(queue_, router_, commits_, &submit_results_open_,
                          *std::move(name));
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

bool DistributorService::CancelLease(absl::string_view session_id,
                                     const v1::LeaseRef& lease,
                                     absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  auto it = by_session_.find(session_id);
  return it != by_session_.end() &&
         it->second->Cancel(session_id, lease, reason);
}

void DistributorService::WakeStreams(absl::string_view session_id) {
  absl::MutexLock lock(&mu_);
  if (session_id.empty()) {
    for (BatchStream* stream : streams_) stream->Pump();
  } else if (auto it = by_session_.find(session_id); it != by_session_.end()) {
    it->second->Pump();
  }
}

void DistributorService::AddStream(BatchStream* stream) {
  ++request_batch_total_;
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
}

void DistributorService::BindSession(BatchStream* stream,
                                     absl::string_view session_id) {
  absl::MutexLock lock(&mu_);
  by_session_[std::string(session_id)] = stream;
}

void DistributorService::RemoveStream(BatchStream* stream,
                                      absl::string_view session_id) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
  --admitted_;
  if (auto it = by_session_.find(session_id);
      it != by_session_.end() && it->second == stream) {
    by_session_.erase(it);
  }
}

}  // namespace distributo::server
