// worker_swarm: thousands of minimal workers in one process, for row 11 of
// the fault table (notes/reliability.md): each opens its own RequestBatch
// and SubmitResults streams, a few workers per connection, with gRPC's
// callback API so that no stream holds a thread. Tasks are {"n": N}; each
// result is {"n": N, "square": N*N}, as tests' task_script.py answers.
//
//   worker_swarm --master=127.0.0.1:4000 --workers=2000 --per_channel=8
//
// Every worker says hello with no credit. Once each has its session (or was
// refused), the swarm prints "swarm ready: S sessions, R refused" and waits
// for SIGUSR1; then each grants one task of credit per ack, until the master
// says the job is complete. Exits 0 once every session saw JobComplete, and
// prints "swarm done: T tasks". A refused worker (RESOURCE_EXHAUSTED) leaves.

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "rpc/queued_client_stream.h"
#include "tests/integration/child_process.h"

ABSL_FLAG(std::string, master, "127.0.0.1:4000", "The master's HOST:PORT");
ABSL_FLAG(int, workers, 2000, "Workers, each with its own two streams");
ABSL_FLAG(int, per_channel, 8, "Workers sharing a connection");

namespace distributo::testing {
namespace {

// What the swarm's workers have done, shared by all of them.
class Tally {
 public:
  explicit Tally(int workers) : workers_(workers) {}

  void Answered(bool refused) {
    absl::MutexLock lock(&mu_);
    ++(refused ? refused_ : sessions_);
  }
  void Ended(bool complete, uint64_t tasks) {
    absl::MutexLock lock(&mu_);
    ++ended_;
    complete_ += complete;
    tasks_ += tasks;
  }
  // Waits until every worker has its session or was refused.
  void AwaitAnswers() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &Tally::AllAnswered));
    std::printf("swarm ready: %d sessions, %d refused\n", sessions_, refused_);
    std::fflush(stdout);
  }
  // Waits until every worker has ended; returns the exit code.
  int AwaitEnd() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &Tally::AllEnded));
    std::printf("swarm done: %llu tasks, %d of %d sessions complete\n",
                static_cast<unsigned long long>(tasks_), complete_, sessions_);
    return complete_ == sessions_ ? 0 : 1;
  }

 private:
  bool AllAnswered() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return sessions_ + refused_ == workers_;
  }
  bool AllEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ended_ == workers_;
  }

  absl::Mutex mu_;
  const int workers_;
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  int refused_ ABSL_GUARDED_BY(mu_) = 0;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
  int complete_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

class Worker;

// Submits a worker's results; each ack grants the worker more credit.
class ResultStream final
    : public QueuedClientStream<v1::ResultBatch, v1::ResultAck> {
 public:
  ResultStream(v1::Distributor::Stub* stub, Worker* worker);
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status&) override;

  grpc::ClientContext context;

 private:
  Worker* const worker_;
  v1::ResultAck ack_;
};

// One worker: its session's RequestBatch stream, and a results stream.
class Worker final
    : public QueuedClientStream<v1::BatchRequest, v1::TaskBatch> {
 public:
  Worker(v1::Distributor::Stub* stub, Tally* tally, int index)
      : stub_(stub), tally_(tally) {
    v1::BatchRequest hello;
    hello.mutable_hello()->set_worker_name(absl::StrCat("swarm-", index));
    hello.mutable_hello()->set_slots(1);
    stub_->async()->RequestBatch(&context_, this);
    Send(std::move(hello));
    StartRead(&in_);
    StartCall();
  }

  void Grant(uint32_t tasks) {
    v1::BatchRequest credit;
    credit.mutable_credit()->set_tasks(tasks);
    Send(std::move(credit));
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    switch (in_.kind_case()) {
      case v1::TaskBatch::kSession:
        session_id_ = in_.session().session_id();
        results_ = std::make_unique<ResultStream>(stub_, this);
        tally_->Answered(/*refused=*/false);
        break;
      case v1::TaskBatch::kTasks:
        Answer(in_.tasks());
        break;
      case v1::TaskBatch::kComplete: {
        absl::MutexLock lock(&mu_);
        complete_ = true;
        break;
      }
      default:
        break;
    }
    StartRead(&in_);
  }

  void OnDone(const grpc::Status& status) override {
    if (session_id_.empty()) {
      tally_->Answered(status.error_code() ==
                       grpc::StatusCode::RESOURCE_EXHAUSTED);
      tally_->Ended(false, 0);
      return;
    }
    // The results stream ends once every ack is in, then Ended().
    results_->CloseWhenSent();
  }

  void ResultsDone() {
    absl::MutexLock lock(&mu_);
    tally_->Ended(complete_, tasks_);
  }

  void CountAcked(int outcomes) {
    absl::MutexLock lock(&mu_);
    tasks_ += outcomes;
  }

 private:
  void Answer(const v1::LeasedTasks& leased) {
    v1::ResultBatch batch;
    batch.set_session_id(session_id_);
    batch.set_batch_id(++batches_);
    for (const v1::Task& task : leased.tasks()) {
      google::protobuf::Value payload;
      task.payload().UnpackTo(&payload);
      const double n = payload.struct_value().fields().at("n").number_value();
      google::protobuf::Value result;
      auto& fields = *result.mutable_struct_value()->mutable_fields();
      fields["n"].set_number_value(n);
      fields["square"].set_number_value(n * n);
      v1::Outcome* outcome = batch.add_outcomes();
      outcome->mutable_lease()->set_task_id(task.id());
      outcome->mutable_lease()->set_epoch(task.epoch());
      outcome->mutable_result()->PackFrom(result);
    }
    results_->Send(std::move(batch));
  }

  v1::Distributor::Stub* const stub_;
  Tally* const tally_;
  grpc::ClientContext context_;
  v1::TaskBatch in_;
  std::string session_id_;  // set by the first read, before any other
  uint64_t batches_ = 0;    // only the reading thread's
  std::unique_ptr<ResultStream> results_;
  absl::Mutex mu_;
  bool complete_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

ResultStream::ResultStream(v1::Distributor::Stub* stub, Worker* worker)
    : worker_(worker) {
  stub->async()->SubmitResults(&context, this);
  StartRead(&ack_);
  StartCall();
}

void ResultStream::OnReadDone(bool ok) {
  if (!ok) return;
  worker_->CountAcked(ack_.outcomes_size());
  worker_->Grant(ack_.outcomes_size());
  StartRead(&ack_);
}

void ResultStream::OnDone(const grpc::Status&) { worker_->ResultsDone(); }

int Run() {
  RaiseFileLimit();
  const int count = absl::GetFlag(FLAGS_workers);
  const int per_channel = std::max(absl::GetFlag(FLAGS_per_channel), 1);
  std::vector<std::unique_ptr<v1::Distributor::Stub>> stubs;
  for (int i = 0; i < (count + per_channel - 1) / per_channel; ++i) {
    grpc::ChannelArguments own_connection;
    own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(v1::Distributor::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_master), grpc::InsecureChannelCredentials(),
        own_connection)));
  }
  Tally tally(count);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < count; ++i) {
    workers.push_back(
        std::make_unique<Worker>(stubs[i / per_channel].get(), &tally, i));
  }
  tally.AwaitAnswers();
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  int signal = 0;
  sigwait(&go, &signal);
  for (auto& worker : workers) worker->Grant(1);
  return tally.AwaitEnd();
}

}  // namespace
}  // namespace distributo::testing

int main(int argc, char** argv) {
  // Before any thread starts: SIGUSR1 is taken by sigwait() only.
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &go, nullptr);
  absl::ParseCommandLine(argc, argv);
  return distributo::testing::Run();
}
