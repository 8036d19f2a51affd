#ifndef DISTRIBUTO_WORKER_GUARDED_STREAM_H_
#define DISTRIBUTO_WORKER_GUARDED_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rpc/status_util.h"

namespace distributo::worker {

// One client-side bidirectional stream, used the way gRPC allows it from
// several threads: writes, WritesDone() and Finish() are serialized by a
// lock, while reads take no lock so that they may block beside a write.
// Once Finish() ran, or before Reset(), every call is a no-op that fails.
// Thread contract: Read() and Finish() from one thread (the reader); the
// rest from any thread.
template <typename Request, typename Response>
class GuardedStream {
 public:
  using Stream = grpc::ClientReaderWriterInterface<Request, Response>;

  // Takes over a freshly opened stream.
  void Reset(std::unique_ptr<Stream> stream) {
    absl::MutexLock lock(&mu_);
    stream_ = std::move(stream);
    finished_ = false;
  }

  // Returns the next message; nullopt once the stream ended.
  std::optional<Response> Read();

  // Returns false if the stream is broken or finished.
  bool Write(const Request& message) {
    absl::MutexLock lock(&mu_);
    return Usable() && stream_->Write(message);
  }

  // Half-closes the stream; returns false if it is broken or finished.
  bool WritesDone() {
    absl::MutexLock lock(&mu_);
    return Usable() && stream_->WritesDone();
  }

  // Returns the call's final status, once reads ended; OK if already
  // finished or never opened.
  absl::Status Finish();

 private:
  bool Usable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !finished_ && stream_ != nullptr;
  }

  absl::Mutex mu_;
  std::unique_ptr<Stream> stream_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

template <typename Request, typename Response>
std::optional<Response> GuardedStream<Request, Response>::Read() {
  Stream* stream;
  {
    absl::MutexLock lock(&mu_);
    if (!Usable()) return std::nullopt;
    // Only the reading thread finishes or replaces the stream, so the
    // pointer stays valid after the lock is released.
    stream = stream_.get();
  }
  Response message;
  if (!stream->Read(&message)) return std::nullopt;
  return message;
}

template <typename Request, typename Response>
absl::Status GuardedStream<Request, Response>::Finish() {
  absl::MutexLock lock(&mu_);
  if (!Usable()) return absl::OkStatus();
  finished_ = true;
  return FromGrpcStatus(stream_->Finish());
}

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_GUARDED_STREAM_H_
