#include "bench/lean_worker.h"

#include <signal.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/bench_task.h"
#include "bench/report.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "rpc/atomic_file.h"
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
// credit back unless `refill` is false. Both reactors hold off OnDone()
// (AddHold) while another thread may still write to them.
class LeanSession final
    : public QueuedClientStream<v1::BatchRequest, v1::TaskBatch> {
 public:
  // `opened` is called once the master answered the hello.
  LeanSession(v1::Distributor::Stub* stub, uint32_t initial_credit, bool refill,
              std::function<void()> opened = nullptr);

  // Grants the master `tasks` more tasks.
  void Grant(uint32_t tasks);

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  // Called by the results stream.
  void Acked(const v1::ResultAck& ack);
  // Called as each of the two streams ends, and when the results stream
  // can read no more acks.
  void StreamEnded(const grpc::Status& status);
  void ResultsBroke();

  // Waits for both streams to end; returns the report.
  absl::StatusOr<WorkerReport> Await(absl::Duration timeout);
  // Ends both streams now.
  void Cancel();

 private:
  void Answer(const v1::LeasedTasks& leased);
  // Ends what no thread will write to any more: credit once the job is
  // over, results once every ack is in too.
  void ReleaseFinished();

  v1::Distributor::Stub* const stub_;
  const bool refill_;
  const std::function<void()> opened_;
  grpc::ClientContext context_;
  v1::TaskBatch in_;        // only the reading thread's
  std::string session_id_;  // likewise
  uint64_t batch_ids_ = 0;  // likewise
  absl::Notification streams_done_;

  absl::Mutex mu_;
  WorkerReport report_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> arrivals_ ABSL_GUARDED_BY(mu_);  // of unacked batches
  std::unique_ptr<ResultsStream> results_ ABSL_GUARDED_BY(mu_);
  bool over_ ABSL_GUARDED_BY(mu_) = false;  // complete, or the stream broke
  bool results_broken_ ABSL_GUARDED_BY(mu_) = false;
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
  if (!ok) return session_->ResultsBroke();  // OnDone follows
  session_->Acked(ack_);
  StartRead(&ack_);
}

void ResultsStream::OnDone(const grpc::Status& status) {
  session_->StreamEnded(status);
}

LeanSession::LeanSession(v1::Distributor::Stub* stub, uint32_t initial_credit,
                         bool refill, std::function<void()> opened)
    : stub_(stub), refill_(refill), opened_(std::move(opened)) {
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("bench-worker");
  hello.mutable_hello()->set_slots(std::max<uint32_t>(initial_credit, 1));
  hello.mutable_hello()->set_initial_credit(initial_credit);
  stub_->async()->RequestBatch(&context_, this);
  AddHold();
  Send(std::move(hello));
  StartRead(&in_);
  StartCall();
}

void LeanSession::OnReadDone(bool ok) {
  if (ok && in_.has_session()) {
    session_id_ = in_.session().session_id();
    auto results = std::make_unique<ResultsStream>(stub_, this);
    {
      absl::MutexLock lock(&mu_);
      ++streams_open_;
      results_ = std::move(results);
    }
    if (opened_) opened_();
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
  ResultsStream* results;
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
      MakeResult(length, outcome->mutable_result());
    }
    arrivals_.push_back(now);
    results = results_.get();
  }
  results->Send(std::move(batch));
}

void LeanSession::Acked(const v1::ResultAck& ack) {
  const int64_t now = MonotonicNanos();
  const int outcomes = ack.outcomes_size();
  {
    absl::MutexLock lock(&mu_);
    if (!arrivals_.empty()) {
      report_.lease_to_ack.Record(now - arrivals_.front(), outcomes);
      arrivals_.pop_front();
    }
    report_.tasks += outcomes;
    report_.last_ack_ns = now;
  }
  if (refill_) Grant(outcomes);
  ReleaseFinished();
}

void LeanSession::Grant(uint32_t tasks) {
  {
    absl::MutexLock lock(&mu_);
    if (over_) return;  // the stream may be gone
    ++granting_;
  }
  v1::BatchRequest credit;
  credit.mutable_credit()->set_tasks(tasks);
  Send(std::move(credit));
  {
    absl::MutexLock lock(&mu_);
    --granting_;
  }
  ReleaseFinished();
}

void LeanSession::ReleaseFinished() {
  bool release_credit = false;
  ResultsStream* release_results = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (over_ && granting_ == 0 && !credit_released_) {
      credit_released_ = release_credit = true;
    }
    // A broken session gets no more acks worth waiting for.
    if (over_ && (arrivals_.empty() || !complete_ || results_broken_) &&
        results_ != nullptr && !results_released_) {
      results_released_ = true;
      release_results = results_.get();
    }
  }
  if (release_credit) RemoveHold();
  if (release_results != nullptr) {
    release_results->CloseWhenSent();
    release_results->RemoveHold();
  }
}

void LeanSession::ResultsBroke() {
  bool cancel;
  {
    absl::MutexLock lock(&mu_);
    results_broken_ = true;
    // At the end of a job this is how the stream ends; before, no ack can
    // come back, so the session is over too.
    cancel = !over_;
  }
  if (cancel) context_.TryCancel();
  ReleaseFinished();
}

void LeanSession::OnDone(const grpc::Status& status) { StreamEnded(status); }

void LeanSession::StreamEnded(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!status.ok() && status_.ok()) status_ = status;
  if (--streams_open_ == 0) streams_done_.Notify();
}

absl::StatusOr<WorkerReport> LeanSession::Await(absl::Duration timeout) {
  const bool ended = streams_done_.WaitForNotificationWithTimeout(timeout);
  if (!ended) {
    Cancel();
    streams_done_.WaitForNotification();
  }
  // Also waits for StreamEnded(), which notified under mu_, to let go of it.
  absl::MutexLock lock(&mu_);
  if (!ended) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the job did not end within ", absl::FormatDuration(timeout)));
  }
  if (!status_.ok()) return FromGrpcStatus(status_);
  if (!complete_) {
    return absl::UnavailableError(
        "the master ended the stream before the job was complete");
  }
  return report_;
}

void LeanSession::Cancel() {
  ResultsStream* results;
  {
    absl::MutexLock lock(&mu_);
    results = results_.get();
  }
  context_.TryCancel();
  if (results != nullptr) results->context.TryCancel();
}

std::unique_ptr<v1::Distributor::Stub> ConnectionOfItsOwn(
    const std::string& master) {
  grpc::ChannelArguments own_connection;
  own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::Distributor::NewStub(grpc::CreateCustomChannel(
      master, grpc::InsecureChannelCredentials(), own_connection));
}

// Waits for SIGUSR1 (blocked in every thread) up to `timeout`.
bool AwaitGo(absl::Duration timeout) {
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  const timespec wait = absl::ToTimespec(timeout);
  return sigtimedwait(&go, nullptr, &wait) == SIGUSR1;
}

// The swarm's idle sessions, `per_channel` to a connection of their own.
class Swarm {
 public:
  explicit Swarm(const SwarmOptions& options) {
    const int per_channel = std::max(options.per_channel, 1);
    for (int i = 0; i < options.streams; i += per_channel) {
      stubs_.push_back(ConnectionOfItsOwn(options.master));
    }
    for (int i = 0; i < options.streams; ++i) {
      sessions_.push_back(std::make_unique<LeanSession>(
          stubs_[i / per_channel].get(), /*initial_credit=*/0,
          /*refill=*/false, [this] {
            absl::MutexLock lock(&mu_);
            ++opened_;
          }));
    }
  }

  // Waits until every session is open; returns whether they all are.
  bool AwaitOpen(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return opened_ == static_cast<int>(sessions_.size());
    };
    return mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
  }

  void GrantEachOne() {
    for (auto& session : sessions_) session->Grant(1);
  }
  void CancelAll() {
    for (auto& session : sessions_) session->Cancel();
  }

  // Waits for every session to end; merges when each got its first batch,
  // from `go_ns` on, into `first_batch`.
  absl::Status AwaitEnd(int64_t go_ns, absl::Duration timeout,
                        LatencyHistogram* first_batch) {
    absl::Status status;
    for (const auto& session : sessions_) {
      absl::StatusOr<WorkerReport> report = session->Await(timeout);
      if (!report.ok()) {
        status.Update(report.status());
      } else if (report->first_lease_ns > 0) {
        first_batch->Record(report->first_lease_ns - go_ns);
      }
    }
    return status;
  }

 private:
  std::vector<std::unique_ptr<v1::Distributor::Stub>> stubs_;
  std::vector<std::unique_ptr<LeanSession>> sessions_;
  absl::Mutex mu_;
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
};

Report SwarmReport(int streams, int64_t open_ns,
                   const LatencyHistogram& first_batch) {
  Report report;
  report.SetNumber("streams", streams);
  report.SetNumber("open_ms", open_ns / 1e6);
  report.SetNumber("first_batch_p50_ms",
                   first_batch.PercentileMicros(0.5) / 1e3);
  report.SetNumber("first_batch_p99_ms",
                   first_batch.PercentileMicros(0.99) / 1e3);
  report.SetNumber("first_batch_max_ms", first_batch.PercentileMicros(1) / 1e3);
  report.SetNumber("served", first_batch.count());
  return report;
}

}  // namespace

absl::StatusOr<Report> RunIdleSwarm(const SwarmOptions& options) {
  const int64_t start_ns = MonotonicNanos();
  Swarm swarm(options);
  const bool all_open = swarm.AwaitOpen(options.timeout);
  const int64_t open_ns = MonotonicNanos() - start_ns;
  absl::Status status =
      all_open ? WriteFileAtomically(options.ready_file, "ready\n")
               : absl::DeadlineExceededError("the sessions did not all open");
  if (status.ok() && !AwaitGo(options.timeout)) {
    status = absl::DeadlineExceededError("no SIGUSR1 came");
  }
  const int64_t go_ns = MonotonicNanos();
  if (status.ok()) {
    swarm.GrantEachOne();
  } else {
    swarm.CancelAll();
  }
  LatencyHistogram first_batch;
  status.Update(swarm.AwaitEnd(go_ns, options.timeout, &first_batch));
  if (!status.ok()) return status;
  return SwarmReport(options.streams, open_ns, first_batch);
}

std::string WorkerReport::Serialize() const {
  Report report;
  report.SetNumber("tasks", tasks);
  report.SetNumber("first_lease_ns", first_lease_ns);
  report.SetNumber("last_ack_ns", last_ack_ns);
  report.Set("enqueue_to_lease", enqueue_to_lease.Serialize());
  report.Set("lease_to_ack", lease_to_ack.Serialize());
  return report.Serialize();
}

absl::StatusOr<WorkerReport> WorkerReport::Parse(absl::string_view text) {
  absl::StatusOr<Report> report = Report::Parse(text);
  if (!report.ok()) return report.status();
  absl::StatusOr<double> tasks = report->Number("tasks");
  absl::StatusOr<double> first = report->Number("first_lease_ns");
  absl::StatusOr<double> last = report->Number("last_ack_ns");
  absl::StatusOr<std::string> waits = report->Text("enqueue_to_lease");
  absl::StatusOr<std::string> runs = report->Text("lease_to_ack");
  for (const absl::Status& status :
       {tasks.status(), first.status(), last.status(), waits.status(),
        runs.status()}) {
    if (!status.ok()) return status;
  }
  WorkerReport parsed;
  parsed.tasks = *tasks;
  parsed.first_lease_ns = *first;
  parsed.last_ack_ns = *last;
  if (!parsed.enqueue_to_lease.Parse(*waits) ||
      !parsed.lease_to_ack.Parse(*runs)) {
    return absl::InvalidArgumentError("a worker report's histogram is bad");
  }
  return parsed;
}

absl::StatusOr<WorkerReport> RunLeanWorker(const LeanWorkerOptions& options) {
  auto stub = v1::Distributor::NewStub(
      grpc::CreateChannel(options.master, grpc::InsecureChannelCredentials()));
  LeanSession session(stub.get(), options.window, /*refill=*/true);
  return session.Await(options.timeout);
}

}  // namespace distributo::bench
