#include "worker/worker_runtime.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "discovery/master_locator.h"
#include "glog/logging.h"

namespace distributo::worker {
namespace {

constexpr absl::Duration kDefaultLease = absl::Seconds(60);
constexpr size_t kDefaultMaxMessageBytes = size_t{4} << 20;
// Room for the batch's own fields and framing below the master's limit.
constexpr size_t kBatchSlackBytes = size_t{64} << 10;

// Returns true for statuses that retrying will not change.
bool IsFatal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

absl::Status ShutdownRequested() {
  return absl::CancelledError("shutdown requested");
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::Create(
    WorkerOptions options, std::unique_ptr<TaskProcessor> processor) {
  return CreateValidated(std::move(options), std::move(processor), nullptr);
}

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::Create(
    WorkerOptions options, std::unique_ptr<BatchProcessor> processor) {
  return CreateValidated(std::move(options), nullptr, std::move(processor));
}

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::CreateValidated(
    WorkerOptions options, std::unique_ptr<TaskProcessor> task_processor,
    std::unique_ptr<BatchProcessor> batch_processor) {
  if (task_processor == nullptr && batch_processor == nullptr) {
    return absl::InvalidArgumentError("no processor");
  }
  if (auto status = Validate(options); !status.ok()) return status;
  auto runtime = std::unique_ptr<WorkerRuntime>(
      new WorkerRuntime(std::move(options), std::move(task_processor),
                        std::move(batch_processor)));
  if (auto status = runtime->MakeDialer(); !status.ok()) return status;
  return runtime;
}

absl::Status WorkerRuntime::Validate(const WorkerOptions& options) {
  if (options.master.empty() && options.channel == nullptr) {
    return absl::InvalidArgumentError("no master address");
  }
  if (options.concurrency == 0) {
    return absl::InvalidArgumentError("concurrency must be at least 1");
  }
  if (options.reconnect_initial <= absl::ZeroDuration() ||
      options.reconnect_max < options.reconnect_initial) {
    return absl::InvalidArgumentError(
        "need 0 < reconnect_initial <= reconnect_max");
  }
  if (options.flush_outcomes == 0) {
    return absl::InvalidArgumentError("flush_outcomes must be at least 1");
  }
  return ValidateSecurity(options);
}

absl::Status WorkerRuntime::ValidateSecurity(const WorkerOptions& options) {
  for (const char c : options.token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          "the token may hold only printable ASCII, no spaces");
    }
  }
  const absl::string_view master = options.master;
  const bool discovered = discovery::IsDiscoveryForm(master);
  if (discovered && options.tls.enabled() && options.tls.ca.empty()) {
    // Whoever answers the lookup picks the name checked: only our own CA
    // makes that check mean something.
    return absl::InvalidArgumentError(
        "TLS to a discovered master needs --tls_ca (the system's roots "
        "would accept any name the answer chose)");
  }
  const bool loopback =
      options.channel != nullptr ||
      (!discovered && IsLoopback(master.substr(0, master.rfind(':'))));
  if (!options.token.empty() && !options.tls.enabled() && !loopback) {
    return absl::InvalidArgumentError(
        "the token would cross the network in clear: use TLS (--tls_ca), "
        "or a master on loopback");
  }
  return absl::OkStatus();
}

WorkerRuntime::WorkerRuntime(WorkerOptions options,
                             std::unique_ptr<TaskProcessor> task_processor,
                             std::unique_ptr<BatchProcessor> batch_processor)
    : options_(std::move(options)),
      task_processor_(std::move(task_processor)),
      batch_processor_(std::move(batch_processor)),
      slots_(task_processor_.get(), batch_processor_.get(), ledger_, book_,
             [this] { Wake(); }),
      writer_({options_.flush_outcomes, options_.flush_linger}, ledger_,
              book_) {}

WorkerRuntime::~WorkerRuntime() = default;

absl::Status WorkerRuntime::MakeDialer() {
  absl::StatusOr<std::unique_ptr<MasterDialer>> dialer = MasterDialer::Create(
      options_, task_processor_ != nullptr ? task_processor_->AcceptedTypes()
                                           : batch_processor_->AcceptedTypes());
  if (!dialer.ok()) return dialer.status();
  dialer_ = *std::move(dialer);
  return absl::OkStatus();
}

absl::Status WorkerRuntime::Run() {
  slots_.Start(options_.concurrency);
  writer_.Start();
  absl::Status status = ConnectLoop();
  // After JobComplete nothing is held; after an error, what is held is lost
  // to this worker and returns to the queue on the master.
  ledger_.CancelAll();
  ledger_.Close();
  slots_.Join();
  writer_.Stop();
  return status;
}

void WorkerRuntime::Shutdown() {
  std::shared_ptr<MasterConnection> conn;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    conn = conn_;
    wake_cv_.SignalAll();
  }
  LOG(INFO) << "shutting down: cancelling " << ledger_.held() << " held tasks";
  ledger_.CancelAll();
  ledger_.Close();
  // A connection still opening is not in conn_: StartSession() sees
  // shutdown_ and cancels it instead.
  if (conn != nullptr) conn->Cancel();
}

WorkerStats WorkerRuntime::stats() const {
  const SlotPool::Stats slots = slots_.stats();
  const OutcomeBook::Stats book = book_.stats();
  absl::MutexLock lock(&mu_);
  return {slots.succeeded, slots.failed, slots.cancelled,
          book.accepted,   book.refused, sessions_};
}

absl::Status WorkerRuntime::ConnectLoop() {
  Backoff backoff({options_.reconnect_initial, options_.reconnect_max},
                  [this] { return absl::Uniform(bitgen_, 0.0, 1.0); });
  while (true) {
    absl::Status status = RunSession(backoff);
    if (ShuttingDown()) return ShutdownRequested();
    if (status.ok() || IsFatal(status)) return status;
    {
      absl::MutexLock lock(&mu_);
      if (job_complete_) return status;
    }
    const absl::Duration delay =
        absl::Trunc(backoff.NextDelay(), absl::Milliseconds(1));
    LOG(WARNING) << "master " << dialer_->Describe() << ": " << status
                 << "; holding " << ledger_.held() << " tasks; retrying in "
                 << delay;
    WaitBeforeRetry(delay);
  }
}

void WorkerRuntime::WaitBeforeRetry(absl::Duration delay) {
  const absl::Time end = absl::Now() + delay;
  if (dialer_->Connected()) {
    // The master is there but refused us or broke the session: back off.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&shutdown_), delay);
    return;
  }
  // Watch the channel connect rather than retrying blind: a fail-fast call
  // on a channel between attempts fails at once, and can even abort the
  // channel's own attempt, so a returning master would be noticed late.
  // Slices keep Shutdown() prompt.
  while (!ShuttingDown() && absl::Now() < end) {
    const absl::Time slice =
        std::min(end, absl::Now() + absl::Milliseconds(250));
    if (dialer_->WaitForConnected(slice)) return;
  }
}

absl::Status WorkerRuntime::RunSession(Backoff& backoff) {
  if (ShuttingDown()) return ShutdownRequested();
  absl::StatusOr<std::unique_ptr<MasterConnection>> opened =
      dialer_->Open(session_id_);
  if (!opened.ok()) return opened.status();
  backoff.Reset();
  std::shared_ptr<MasterConnection> conn = *std::move(opened);
  session_id_ = conn->session().session_id();
  absl::StatusOr<uint64_t> stream = StartSession(conn);
  if (!stream.ok()) return stream.status();
  std::thread acks([this, conn, stream = *stream] { AckLoop(conn, stream); });
  absl::Status status = ReadTaskLoop(*conn);
  if (status.ok()) status = FinishJob(*conn);
  status = EndSession(*conn, std::move(status));
  acks.join();
  return status;
}

absl::StatusOr<uint64_t> WorkerRuntime::StartSession(
    std::shared_ptr<MasterConnection> conn) {
  const v1::SessionStart& session = conn->session();
  const uint32_t batch = std::max<uint32_t>(1, session.max_batch_tasks());
  const uint32_t window = options_.prefetch > 0
                              ? options_.prefetch
                              : std::max(2 * batch, options_.concurrency);
  const size_t max_message = session.max_message_bytes() > 0
                                 ? session.max_message_bytes()
                                 : kDefaultMaxMessageBytes;
  absl::Duration lease = FromProto(session.lease_duration());
  if (lease <= absl::ZeroDuration()) lease = kDefaultLease;
  {
    absl::MutexLock lock(&mu_);
    // Shutdown() may have come while the connection was opening, when it had
    // nothing to cancel; without this check the session would run on.
    if (shutdown_) {
      conn->Cancel();
      return ShutdownRequested();
    }
    conn_ = conn;
    results_ended_ = false;
    results_status_ = absl::OkStatus();
    closing_ = false;
    ++sessions_;
  }
  ForgetOtherJob(session.job_id());
  slots_.set_batch_size(batch);
  book_.SetMaxResultBytes(session.max_result_bytes());
  ledger_.StartCredit(window);
  const uint64_t stream = book_.StartStream();
  LOG(INFO) << (session.resumed() ? "resumed" : "started") << " session "
            << session.session_id() << " with master " << dialer_->Describe()
            << ": lease " << lease << ", max_batch_tasks " << batch
            << ", window " << window << "; holding " << ledger_.held()
            << " tasks, " << book_.pending() << " outcomes to submit";
  writer_.Attach(std::move(conn), stream, session.session_id(),
                 std::max(max_message / 2, max_message - kBatchSlackBytes),
                 lease);
  return stream;
}

void WorkerRuntime::ForgetOtherJob(const std::string& job_id) {
  if (!job_id_.empty() && !job_id.empty() && job_id != job_id_) {
    const size_t tasks = ledger_.held();
    ledger_.CancelAll();
    const size_t outcomes = book_.DropAll();
    LOG(WARNING) << "this master serves job " << job_id << ", not job "
                 << job_id_ << ": dropped " << tasks << " held tasks and "
                 << outcomes << " outcomes of the old job (its master gets "
                 << "its leases back)";
  }
  if (!job_id.empty()) job_id_ = job_id;
}

absl::Status WorkerRuntime::ReadTaskLoop(MasterConnection& conn) {
  while (std::optional<v1::TaskBatch> message = conn.ReadTasks()) {
    HandleMessage(*message);
  }
  absl::Status status = conn.FinishTasks();
  absl::MutexLock lock(&mu_);
  // The master ends the stream right after JobComplete, however it likes.
  if (job_complete_) return absl::OkStatus();
  // When the ack reader broke the session, its reason is the real one.
  if (!results_status_.ok()) return results_status_;
  if (status.ok()) {
    return absl::UnavailableError(
        "the master closed the task stream without JobComplete");
  }
  return status;
}

void WorkerRuntime::HandleMessage(v1::TaskBatch& message) {
  switch (message.kind_case()) {
    case v1::TaskBatch::kTasks:
      AddLeased(*message.mutable_tasks());
      return;
    case v1::TaskBatch::kDrained:
      // Nothing pending, or the master holds back (its sink or journal is
      // behind): either way more may come.
      LOG(INFO) << "the master has no task for us now; holding "
                << ledger_.held() << " tasks, waiting for more";
      return;
    case v1::TaskBatch::kComplete:
      CompleteJob(message.complete());
      return;
    case v1::TaskBatch::kCancel: {
      const auto& leases = message.cancel().leases();
      const size_t held = ledger_.Cancel({leases.begin(), leases.end()});
      LOG(INFO) << "master cancelled " << leases.size() << " leases (" << held
                << " held here): " << message.cancel().reason();
      Wake();
      return;
    }
    default:
      LOG(WARNING) << "ignoring unexpected message of kind "
                   << message.kind_case() << " on the task stream";
  }
}

void WorkerRuntime::AddLeased(v1::LeasedTasks& leased) {
  if (leased.has_lease_duration()) {
    const absl::Duration lease = FromProto(leased.lease_duration());
    if (lease > absl::ZeroDuration()) writer_.ShortenLease(lease);
  }
  auto* tasks = leased.mutable_tasks();
  VLOG(1) << "leased " << tasks->size() << " tasks";
  ledger_.Add({std::make_move_iterator(tasks->begin()),
               std::make_move_iterator(tasks->end())},
              book_.job());
}

void WorkerRuntime::CompleteJob(const v1::JobComplete& complete) {
  const size_t dropped = ledger_.DropQueued();
  LOG(INFO) << "job complete: " << complete.done() << " done, "
            << complete.dead() << " dead; dropped " << dropped
            << " queued tasks, finishing " << ledger_.held();
  {
    absl::MutexLock lock(&mu_);
    job_complete_ = true;
  }
  writer_.StopCredit();
  Wake();
}

absl::Status WorkerRuntime::FinishJob(MasterConnection& conn) {
  {
    absl::MutexLock lock(&mu_);
    while (!shutdown_ && !results_ended_ &&
           !(ledger_.held() == 0 && book_.AllAcked())) {
      wake_cv_.Wait(&mu_);
    }
    if (shutdown_) return ShutdownRequested();
    if (results_ended_) {
      return absl::UnavailableError(
          absl::StrCat("the results stream ended before every outcome was "
                       "acked: ",
                       results_status_.ToString()));
    }
    closing_ = true;
  }
  conn.CloseResults();
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&results_ended_),
                            options_.close_timeout)) {
    LOG(WARNING) << "the master did not end the results stream within "
                 << options_.close_timeout << "; cancelling it";
    conn.Cancel();
  }
  return absl::OkStatus();
}

absl::Status WorkerRuntime::EndSession(MasterConnection& conn,
                                       absl::Status status) {
  writer_.Detach();
  {
    absl::MutexLock lock(&mu_);
    conn_ = nullptr;
  }
  if (!status.ok()) {
    // Also ends the ack reader, so that the caller can join it.
    conn.Cancel();
    LOG(INFO) << "disconnected from master " << options_.master << ": "
              << status;
  }
  return status;
}

void WorkerRuntime::AckLoop(std::shared_ptr<MasterConnection> conn,
                            uint64_t stream) {
  absl::Status broken;
  while (std::optional<v1::ResultAck> ack = conn->ReadAck()) {
    broken = book_.OnAck(stream, *ack);
    if (!broken.ok()) break;
    Wake();
  }
  if (!broken.ok()) conn->Cancel();
  absl::Status status = conn->FinishResults();
  EndResults(*conn, broken.ok() ? std::move(status) : std::move(broken));
}

void WorkerRuntime::EndResults(MasterConnection& conn, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (!closing_) {
    // Without its results stream the session is useless: break the task
    // stream too, and the connect loop reconnects both.
    if (status.ok()) {
      status = absl::UnavailableError("the master closed the results stream");
    }
    conn.Cancel();
  }
  results_ended_ = true;
  results_status_ = std::move(status);
  wake_cv_.SignalAll();
}

void WorkerRuntime::Wake() {
  writer_.Wake();
  absl::MutexLock lock(&mu_);
  wake_cv_.SignalAll();
}

bool WorkerRuntime::ShuttingDown() const {
  absl::MutexLock lock(&mu_);
  return shutdown_;
}

}  // namespace distributo::worker
