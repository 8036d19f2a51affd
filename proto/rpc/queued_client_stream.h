#ifndef DISTRIBUTO_PROTO_RPC_QUEUED_CLIENT_STREAM_H_
#define DISTRIBUTO_PROTO_RPC_QUEUED_CLIENT_STREAM_H_

#include <deque>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/client_callback.h"

namespace distributo {

// A client bidi reactor with a queue of writes: the callback API takes one
// write at a time, so messages sent meanwhile wait their turn. gRPC may run a
// callback inside StartWrite(), so it is called with no lock held.
//
// Thread-safe: Send() and CloseWhenSent() may be called from any thread.
template <typename Out, typename In>
class QueuedClientStream : public grpc::ClientBidiReactor<Out, In> {
 public:
  void Send(Out message) {
    {
      absl::MutexLock lock(&mu_);
      queue_.push_back(std::move(message));
    }
    WriteNext();
  }

  // Half-closes the stream once every queued message is written.
  void CloseWhenSent() {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (ok) WriteNext();
  }

 private:
  void WriteNext() {
    Out* next = nullptr;
    bool close = false;
    {
      absl::MutexLock lock(&mu_);
      if (writing_) return;
      if (!queue_.empty()) {
        writing_ = true;
        current_ = std::move(queue_.front());
        queue_.pop_front();
        next = &current_;
      } else if (closing_ && !closed_) {
        closed_ = true;
        close = true;
      }
    }
    if (next != nullptr) this->StartWrite(next);
    if (close) this->StartWritesDone();
  }

  absl::Mutex mu_;
  std::deque<Out> queue_ ABSL_GUARDED_BY(mu_);
  // The message being written: only WriteNext() touches it, and only while
  // no write is in flight (writing_), so it needs no lock.
  Out current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_QUEUED_CLIENT_STREAM_H_
