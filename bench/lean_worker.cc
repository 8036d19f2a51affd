#include "bench/lean_worker.h"

#include <deque>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/bench_task.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "rpc/queued_client_stream.h"
#include "rpc/status_util.h"

namespace distributo::bench {
namespace {

class LeanSession;

// The session's SubmitResults stream: hands each ack to the session.
class ResultsStream final
    : public QueuedClientStream<v1::ResultBatch, v1::ResultAck> {
 public:
  ResultsStream(v1::Distributor::Stub* stub, LeanSession* session);
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  grpc::ClientContext context;

 private:
  LeanSession* const session_;
  v1::ResultAck ack_;
};

// One worker session: its RequestBatch stream (this reactor) and its
// results stream. Each batch is answered at once, and each ack gives its
// credit back. Both reactors hold off OnDone() (AddHold) while another
// thread may still write to them.
class LeanSession final
    : public QueuedClientStream<v1::BatchRequest, v1::TaskBatch> {
 public:
  LeanSession(v1::Distributor::Stub* stub, uint32_t window);

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  // Called by the results stream.
  void Acked(const v1::ResultAck& ack);
  // Called as each of the two streams ends.
  void StreamEnded(const grpc::Status& status);

  // Waits for both streams to end; returns the report.
  absl::StatusOr<WorkerReport> Await(absl::Duration timeout);

 private:
  void Answer(const v1::LeasedTasks& leased);
  // Ends what no thread will write to any more: credit once the job is
  // over, results once every ack is in too.
  void ReleaseFinished();

  v1::Distributor::Stub* const stub_;
  grpc::ClientContext context_;
  v1::TaskBatch in_;        // only the reading thread's
  std::string session_id_;  // likewise
  uint64_t batch_ids_ = 0;  // likewise
  std::unique_ptr<ResultsStream> results_;
  absl::Notification streams_done_;

  absl::Mutex mu_;
  WorkerReport report_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> arrivals_ ABSL_GUARDED_BY(mu_);  // of unacked batches
  bool over_ ABSL_GUARDED_BY(mu_) = false;  // complete, or the stream broke
  bool complete_ ABSL_GUARDED_BY(mu_) = false;
  int granting_ ABSL_GUARDED_BY(mu_) = 0;
  bool credit_released_ ABSL_GUARDED_BY(mu_) = false;
  bool results_released_ ABSL_GUARDED_BY(mu_) = false;
  int streams_open_ ABSL_GUARDED_BY(mu_) = 1;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

ResultsStream::ResultsStream(v1::Distributor::Stub* stub, LeanSession* session)
    : session_(session) {
  stub->async()->SubmitResults(&context, this);
  AddHold();
  StartRead(&ack_);
  StartCall();
}

void ResultsStream::OnReadDone(bool ok) {
  if (!ok) return;  // OnDone follows
  session_->Acked(ack_);
  StartRead(&ack_);
}

void ResultsStream::OnDone(const grpc::Status& status) {
  session_->StreamEnded(status);
}

LeanSession::LeanSession(v1::Distributor::Stub* stub, uint32_t window)
    : stub_(stub) {
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("bench-worker");
  hello.mutable_hello()->set_slots(window);
  hello.mutable_hello()->set_initial_credit(window);
  stub_->async()->RequestBatch(&context_, this);
  AddHold();
  Send(std::move(hello));
  StartRead(&in_);
  StartCall();
}

void LeanSession::OnReadDone(bool ok) {
  if (ok && in_.has_session()) {
    session_id_ = in_.session().session_id();
    {
      absl::MutexLock lock(&mu_);
      ++streams_open_;
    }
    results_ = std::make_unique<ResultsStream>(stub_, this);
  } else if (ok && in_.has_tasks()) {
    Answer(in_.tasks());
  } else if (!ok || in_.has_complete()) {
    {
      absl::MutexLock lock(&mu_);
      over_ = true;
      complete_ = complete_ || ok;
    }
    ReleaseFinished();
    if (!ok) return;  // OnDone follows
  }
  StartRead(&in_);
}

void LeanSession::Answer(const v1::LeasedTasks& leased) {
  const int64_t now = MonotonicNanos();
  v1::ResultBatch batch;
  batch.set_session_id(session_id_);
  batch.set_batch_id(++batch_ids_);
  {
    absl::MutexLock lock(&mu_);
    if (report_.first_lease_ns == 0) report_.first_lease_ns = now;
    for (const v1::Task& task : leased.tasks()) {
      int64_t enqueued_ns = now;
      uint64_t length = 0;
      ReadPayload(task.payload(), &enqueued_ns, &length);
      report_.enqueue_to_lease.Record(now - enqueued_ns);
      v1::Outcome* outcome = batch.add_outcomes();
      outcome->mutable_lease()->set_task_id(task.id());
      outcome->mutable_lease()->set_epoch(task.epoch());
      *outcome->mutable_result() = MakeResult(length);
    }
    arrivals_.push_back(now);
  }
  results_->Send(std::move(batch));
}

void LeanSession::Acked(const v1::ResultAck& ack) {
  const int64_t now = MonotonicNanos();
  const int outcomes = ack.outcomes_size();
  bool grant;
  {
    absl::MutexLock lock(&mu_);
    if (!arrivals_.empty()) {
      report_.lease_to_ack.Record(now - arrivals_.front(), outcomes);
      arrivals_.pop_front();
    }
    report_.tasks += outcomes;
    report_.last_ack_ns = now;
    grant = !over_;
    granting_ += grant;
  }
  if (grant) {
    v1::BatchRequest credit;
    credit.mutable_credit()->set_tasks(outcomes);
    Send(std::move(credit));
    absl::MutexLock lock(&mu_);
    --granting_;
  }
  ReleaseFinished();
}

void LeanSession::ReleaseFinished() {
  bool release_credit = false, release_results = false;
  {
    absl::MutexLock lock(&mu_);
    if (over_ && granting_ == 0 && !credit_released_) {
      credit_released_ = release_credit = true;
    }
    // A broken session gets no more acks worth waiting for.
    if (over_ && (arrivals_.empty() || !complete_) && results_ != nullptr &&
        !results_released_) {
      results_released_ = release_results = true;
    }
  }
  if (release_credit) RemoveHold();
  if (release_results) {
    results_->CloseWhenSent();
    results_->RemoveHold();
  }
}

void LeanSession::OnDone(const grpc::Status& status) { StreamEnded(status); }

void LeanSession::StreamEnded(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!status.ok() && status_.ok()) status_ = status;
  if (--streams_open_ == 0) streams_done_.Notify();
}

absl::StatusOr<WorkerReport> LeanSession::Await(absl::Duration timeout) {
  if (!streams_done_.WaitForNotificationWithTimeout(timeout)) {
    context_.TryCancel();
    if (results_ != nullptr) results_->context.TryCancel();
    streams_done_.WaitForNotification();
    return absl::DeadlineExceededError(absl::StrCat(
        "the job did not end within ", absl::FormatDuration(timeout)));
  }
  absl::MutexLock lock(&mu_);
  if (!status_.ok()) return FromGrpcStatus(status_);
  if (!complete_) {
    return absl::UnavailableError(
        "the master ended the stream before the job was complete");
  }
  return report_;
}

}  // namespace

std::string WorkerReport::Serialize() const {
  return absl::StrCat("tasks ", tasks, "\nfirst_lease_ns ", first_lease_ns,
                      "\nlast_ack_ns ", last_ack_ns, "\nenqueue_to_lease ",
                      enqueue_to_lease.Serialize(), "\nlease_to_ack ",
                      lease_to_ack.Serialize(), "\n");
}

absl::StatusOr<WorkerReport> WorkerReport::Parse(absl::string_view text) {
  WorkerReport report;
  int fields = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    bool ok = false;
    if (kv.first == "tasks") ok = absl::SimpleAtoi(kv.second, &report.tasks);
    if (kv.first == "first_lease_ns") {
      ok = absl::SimpleAtoi(kv.second, &report.first_lease_ns);
    }
    if (kv.first == "last_ack_ns") {
      ok = absl::SimpleAtoi(kv.second, &report.last_ack_ns);
    }
    if (kv.first == "enqueue_to_lease") {
      ok = report.enqueue_to_lease.Parse(kv.second);
    }
    if (kv.first == "lease_to_ack") ok = report.lease_to_ack.Parse(kv.second);
    if (!ok)
      return absl::InvalidArgumentError(
          absl::StrCat("bad report line: ", line));
    ++fields;
  }
  if (fields != 5)
    return absl::InvalidArgumentError("incomplete worker report");
  return report;
}

absl::StatusOr<WorkerReport> RunLeanWorker(const LeanWorkerOptions& options) {
  auto stub = v1::Distributor::NewStub(
      grpc::CreateChannel(options.master, grpc::InsecureChannelCredentials()));
  LeanSession session(stub.get(), options.window);
  return session.Await(options.timeout);
}

}  // namespace distributo::bench
