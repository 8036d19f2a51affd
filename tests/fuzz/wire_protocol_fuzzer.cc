// libFuzzer target: the wire protocol, end to end. One real Master serves on
// 127.0.0.1:0 for the whole run; each input is a worker's conversation with
// it, read from the fuzzer's bytes: a hello (any name, slots, credit, types,
// session to resume), then credits, reads of task batches, result batches
// (results, failures, made-up ids and epochs, extensions) and a hang-up.
// After each input the master must still serve, its counts must add up, and
// no task may have reached the sink twice.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "glog/logging.h"
#include "grpcpp/create_channel.h"
#include "rpc/json_value.h"
#include "server/journal.h"
#include "server/master.h"
#include "server/result_sink.h"
#include "tests/fuzz/fuzz_input.h"

namespace distributo::server {
namespace {

using fuzz::Input;

// Traps if a task reaches the sink twice.
class OnceSink final : public ResultSink {
 public:
  absl::Status Write(const std::vector<FinishedTask>& finished) override {
    absl::MutexLock lock(&mu_);
    for (const FinishedTask& task : finished) {
      if (!ids_.emplace(task.task.id()).second) __builtin_trap();
    }
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> ids_ ABSL_GUARDED_BY(mu_);
};

// The master of the whole run, kept fed with tasks.
class Harness {
 public:
  Harness() {
    MasterOptions options;
    options.queue.max_batch_tasks = 4;
    options.queue.requeue_grace = absl::ZeroDuration();
    options.reaper_interval = absl::Milliseconds(5);
    auto master = Master::Create(options, std::make_unique<InMemoryJournal>(),
                                 std::make_unique<OnceSink>());
    if (!master.ok()) __builtin_trap();
    master_ = *std::move(master);
    stub_ = v1::Distributor::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", master_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  Master& master() { return *master_; }
  v1::Distributor::Stub& stub() { return *stub_; }

  // A few new tasks per input: those lost by earlier inputs' hang-ups are
  // suspects, leased one at a time, and would not make batches.
  void KeepFed() {
    const google::protobuf::Any payload = *JsonToAny("1");
    std::vector<PackedTask> tasks;
    for (int i = 0; i < 4; ++i) {
      tasks.emplace_back(absl::StrCat("t", next_id_++), payload.type_url(),
                         payload.value());
    }
    if (!master_->Enqueue(&tasks).ok()) __builtin_trap();
  }

  void CheckInvariants() {
    const QueueCounts c = master_->queue().Counts();
    if (c.pending + c.leased + c.backoff + c.done + c.dead != c.total) {
      __builtin_trap();
    }
    if (!master_->serving()) __builtin_trap();
  }

 private:
  std::unique_ptr<Master> master_;
  std::unique_ptr<v1::Distributor::Stub> stub_;
  int next_id_ = 0;
};

std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(200);
}

// One worker's conversation, as the input tells it.
class Conversation {
 public:
  Conversation(Harness& harness, Input& in) : harness_(harness), in_(in) {}

  void Run() {
    batches_context_.set_deadline(Soon());
    results_context_.set_deadline(Soon());
    batches_ = harness_.stub().RequestBatch(&batches_context_);
    if (!batches_->Write(Hello())) return;
    v1::TaskBatch start;
    if (!batches_->Read(&start)) return;
    session_id_ = start.session().session_id();
    results_ = harness_.stub().SubmitResults(&results_context_);
    for (int step = 0; step < 32 && in_.more(); ++step) {
      if (!Step()) break;
    }
    batches_context_.TryCancel();
    results_context_.TryCancel();
  }

 private:
  v1::BatchRequest Hello() {
    v1::BatchRequest request;
    v1::WorkerHello& hello = *request.mutable_hello();
    hello.set_worker_name(in_.Text());
    hello.set_slots(in_.Next() % 4);
    hello.set_initial_credit(in_.Next() % 6);
    credit_ = hello.initial_credit();
    if (in_.Next() % 4 == 0) hello.add_accepted_types(in_.Text());
    if (in_.Next() % 4 == 0) hello.set_resume_session_id(in_.Text());
    return request;
  }

  bool Step() {
    switch (in_.Next() % 4) {
      case 0: {
        v1::BatchRequest credit;
        credit.mutable_credit()->set_tasks(in_.Next() % 6);
        credit_ += credit.credit().tasks();
        return batches_->Write(credit);
      }
      case 1: {
        // Without credit, or once drained, nothing would come: the read
        // would only wait.
        if (credit_ == 0 || drained_) return true;
        v1::TaskBatch batch;
        if (!batches_->Read(&batch)) return false;
        credit_ -= std::min<uint32_t>(credit_, batch.tasks().tasks_size());
        drained_ = batch.has_drained();
        for (const v1::Task& task : batch.tasks().tasks()) {
          leases_.push_back(task);
        }
        return true;
      }
      case 2:
        return SubmitSome();
      default:
        return in_.Next() % 8 != 0;  // now and then, hang up mid-way
    }
  }

  bool SubmitSome() {
    v1::ResultBatch batch;
    batch.set_session_id(in_.Next() % 8 == 0 ? in_.Text() : session_id_);
    batch.set_batch_id(++batch_id_);
    for (int count = in_.Next() % 4; count > 0; --count) {
      v1::LeaseRef lease = PickLease();
      if (in_.Next() % 4 == 0) {
        *batch.add_extensions() = lease;
        continue;
      }
      v1::Outcome* outcome = batch.add_outcomes();
      *outcome->mutable_lease() = lease;
      switch (in_.Next() % 4) {
        case 0:
          outcome->mutable_failure()->set_code(in_.Text());
          outcome->mutable_failure()->set_retryable(in_.Next() % 2 == 0);
          break;
        case 1:
          break;  // neither result nor failure
        default:
          *outcome->mutable_result() = *JsonToAny("2");
      }
    }
    if (!results_->Write(batch)) return false;
    v1::ResultAck ack;
    return results_->Read(&ack);
  }

  // A lease seen on this stream, or now and then a made-up one.
  v1::LeaseRef PickLease() {
    v1::LeaseRef lease;
    if (leases_.empty() || in_.Next() % 6 == 0) {
      lease.set_task_id(absl::StrCat("t", in_.Next()));
      lease.set_epoch(in_.Next());
      return lease;
    }
    const v1::Task& task = leases_[in_.Next() % leases_.size()];
    lease.set_task_id(task.id());
    lease.set_epoch(task.epoch() + (in_.Next() % 8 == 0 ? 1 : 0));
    return lease;
  }

  Harness& harness_;
  Input& in_;
  grpc::ClientContext batches_context_;
  grpc::ClientContext results_context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::BatchRequest, v1::TaskBatch>>
      batches_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ResultBatch, v1::ResultAck>>
      results_;
  std::string session_id_;
  std::vector<v1::Task> leases_;
  uint64_t batch_id_ = 0;
  uint32_t credit_ = 0;  // granted, not yet used
  bool drained_ = false;
};

}  // namespace
}  // namespace distributo::server

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FLAGS_minloglevel = 2;  // a line per session would drown the fuzzer's own
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* harness = new distributo::server::Harness();
  harness->KeepFed();
  distributo::fuzz::Input in(data, size);
  distributo::server::Conversation(*harness, in).Run();
  harness->CheckInvariants();
  return 0;
}
