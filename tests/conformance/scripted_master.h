#ifndef DISTRIBUTO_TESTS_CONFORMANCE_SCRIPTED_MASTER_H_
#define DISTRIBUTO_TESTS_CONFORMANCE_SCRIPTED_MASTER_H_

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "grpcpp/server.h"

namespace distributo::conformance {

// One stream a worker opened, driven by the test: what the worker sent waits
// in an inbox for Next(); Send() queues messages to it; End() finishes the
// stream with a status once the queued messages are out. gRPC's callback API
// runs it. Thread-safe; owned by the ScriptedMaster until it stops.
template <typename In, typename Out>
class ScriptedStream final : public grpc::ServerBidiReactor<In, Out> {
 public:
  ScriptedStream() { this->StartRead(&incoming_); }

  // Waits up to `timeout` for the worker's next message; nullopt if none
  // came or the worker closed its side.
  std::optional<In> Next(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !inbox_.empty() || closed_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (inbox_.empty()) return std::nullopt;
    In message = std::move(inbox_.front());
    inbox_.pop_front();
    return message;
  }

  void Send(Out message) {
    Out* first = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      outbox_.push_back(std::move(message));
      if (outbox_.size() == 1) first = &outbox_.front();
    }
    // Outside the lock: gRPC may run the reaction at once.
    if (first != nullptr) this->StartWrite(first);
  }

  // Finishes the stream with `status` once what was sent is written.
  void End(grpc::Status status) { EndWith(std::move(status)); }

  // Whether the worker closed its side (WritesDone or cancel) or the stream
  // is over.
  bool closed() {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        closed_ = true;
        return;
      }
      inbox_.push_back(std::move(incoming_));
    }
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    Out* next = nullptr;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      outbox_.pop_front();
      if (!ok) outbox_.clear();
      if (!outbox_.empty()) {
        next = &outbox_.front();
      } else {
        finish = ending_;
      }
    }
    if (next != nullptr) this->StartWrite(next);
    if (finish) this->Finish(end_status_);
  }

  // A cancelled call (the worker went, or the server shuts down) still
  // needs its Finish().
  void OnCancel() override {
    EndWith(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // Finishes now if nothing is being written, else once it is (exactly
  // once, whoever asks first).
  void EndWith(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      ending_ = true;
      end_status_ = std::move(status);
      if (!outbox_.empty()) return;
    }
    this->Finish(end_status_);
  }

  absl::Mutex mu_;
  In incoming_;
  std::deque<In> inbox_ ABSL_GUARDED_BY(mu_);
  std::deque<Out> outbox_ ABSL_GUARDED_BY(mu_);  // front: being written
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  // Set once, under mu_, before Finish() reads it.
  grpc::Status end_status_;
};

using TaskStream = ScriptedStream<v1::BatchRequest, v1::TaskBatch>;
using ResultStream = ScriptedStream<v1::ResultBatch, v1::ResultAck>;

// The streams of one kind a worker opened, in order, each taken once.
template <typename Stream>
class Arrivals {
 public:
  Stream* Add() {
    absl::MutexLock lock(&mu_);
    return streams_.emplace_back(std::make_unique<Stream>()).get();
  }
  // Waits up to `timeout` for a stream not taken yet; nullptr if none came.
  Stream* Next(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto opened = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return streams_.size() > taken_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&opened), timeout)) {
      return nullptr;
    }
    return streams_[taken_++].get();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
  size_t taken_ ABSL_GUARDED_BY(mu_) = 0;
};

// A distributo.v1.Distributor on 127.0.0.1 with no queue behind it: each
// stream a worker opens is handed to the test, which plays the master's
// part message by message. Thread-safe.
class ScriptedMaster final : public v1::Distributor::CallbackService {
 public:
  // Starts serving on a free port.
  ScriptedMaster();
  ~ScriptedMaster() override;

  int port() const { return port_; }

  // Waits up to `timeout` for the next stream the worker opens; nullptr if
  // none did.
  TaskStream* NextTaskStream(absl::Duration timeout) {
    return task_streams_.Next(timeout);
  }
  ResultStream* NextResultStream(absl::Duration timeout) {
    return result_streams_.Next(timeout);
  }

 private:
  grpc::ServerBidiReactor<v1::BatchRequest, v1::TaskBatch>* RequestBatch(
      grpc::CallbackServerContext*) override {
    return task_streams_.Add();
  }
  grpc::ServerBidiReactor<v1::ResultBatch, v1::ResultAck>* SubmitResults(
      grpc::CallbackServerContext*) override {
    return result_streams_.Add();
  }

  // Declared before the server, so that they outlive its last callback.
  Arrivals<TaskStream> task_streams_;
  Arrivals<ResultStream> result_streams_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace distributo::conformance

#endif  // DISTRIBUTO_TESTS_CONFORMANCE_SCRIPTED_MASTER_H_
