#include "worker/worker_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "worker/json_payload.h"

namespace distributo::worker {
namespace {

constexpr absl::Duration kDefaultLease = absl::Seconds(60);
constexpr size_t kDefaultMaxMessageBytes = size_t{4} << 20;
// Room for the batch's own fields and framing below the master's limit.
constexpr size_t kBatchSlackBytes = size_t{64} << 10;

std::string DefaultWorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "worker", "/", getpid());
}

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

std::shared_ptr<grpc::Channel> MakeChannel(const WorkerOptions& options) {
  if (options.channel != nullptr) return options.channel;
  grpc::ChannelArguments args;
  // Task batches may reach the master's 4 MiB hard cap plus framing.
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (options.keepalive_time > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                absl::ToInt64Milliseconds(options.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                absl::ToInt64Milliseconds(options.keepalive_timeout));
  }
  // Keep the channel's own reconnect backoff within ours, or our retries
  // would fail fast while the channel still waits out a longer one.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_initial));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_initial));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_max));
  return grpc::CreateCustomChannel(options.master,
                                   grpc::InsecureChannelCredentials(), args);
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::Create(
    WorkerOptions options, std::unique_ptr<TaskProcessor> processor) {
  if (processor == nullptr) return absl::InvalidArgumentError("no processor");
  if (auto status = Validate(options); !status.ok()) return status;
  return std::unique_ptr<WorkerRuntime>(
      new WorkerRuntime(std::move(options), std::move(processor), nullptr));
}

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::Create(
    WorkerOptions options, std::unique_ptr<BatchProcessor> processor) {
  if (processor == nullptr) return absl::InvalidArgumentError("no processor");
  if (auto status = Validate(options); !status.ok()) return status;
  return std::unique_ptr<WorkerRuntime>(
      new WorkerRuntime(std::move(options), nullptr, std::move(processor)));
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
  return absl::OkStatus();
}

WorkerRuntime::WorkerRuntime(WorkerOptions options,
                             std::unique_ptr<TaskProcessor> task_processor,
                             std::unique_ptr<BatchProcessor> batch_processor)
    : options_(std::move(options)),
      task_processor_(std::move(task_processor)),
      batch_processor_(std::move(batch_processor)),
      channel_(MakeChannel(options_)),
      stub_(v1::Distributor::NewStub(channel_)),
      slots_(task_processor_.get(), batch_processor_.get(), ledger_, book_,
             [this] { Wake(); }),
      writer_({options_.flush_outcomes, options_.flush_linger}, ledger_,
              book_) {}

WorkerRuntime::~WorkerRuntime() = default;

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
    if (ShuttingDown()) return absl::CancelledError("shutdown requested");
    if (status.ok() || IsFatal(status)) return status;
    {
      absl::MutexLock lock(&mu_);
      if (job_complete_) return status;
    }
    const absl::Duration delay =
        absl::Trunc(backoff.NextDelay(), absl::Milliseconds(1));
    LOG(WARNING) << "master " << options_.master << ": " << status
                 << "; holding " << ledger_.held() << " tasks; retrying in "
                 << delay;
    WaitBeforeRetry(delay);
  }
}

void WorkerRuntime::WaitBeforeRetry(absl::Duration delay) {
  const absl::Time end = absl::Now() + delay;
  if (channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY) {
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
    if (channel_->WaitForConnected(absl::ToChronoTime(slice))) return;
  }
}

absl::Status WorkerRuntime::RunSession(Backoff& backoff) {
  absl::StatusOr<std::unique_ptr<MasterConnection>> opened = OpenConnection();
  if (!opened.ok()) return opened.status();
  backoff.Reset();
  std::shared_ptr<MasterConnection> conn = *std::move(opened);
  StartSession(conn);
  uint64_t stream;
  {
    absl::MutexLock lock(&mu_);
    stream = stream_;
  }
  std::thread acks([this, conn, stream] { AckLoop(conn, stream); });
  absl::Status status = ReadTaskLoop(*conn);
  if (status.ok()) status = FinishJob(*conn);
  status = EndSession(*conn, std::move(status));
  acks.join();
  return status;
}

absl::StatusOr<std::unique_ptr<MasterConnection>>
WorkerRuntime::OpenConnection() {
  if (ShuttingDown()) return absl::CancelledError("shutdown requested");
  v1::WorkerHello hello = MakeHello();
  auto conn = MasterConnection::Open(*stub_, hello);
  if (conn.status().code() == absl::StatusCode::kNotFound &&
      !hello.resume_session_id().empty()) {
    // The master forgot the session (restart, or past the requeue grace):
    // start afresh; outcomes of lost leases are still worth submitting.
    LOG(WARNING) << "master no longer knows session "
                 << hello.resume_session_id() << "; starting a new one";
    hello.clear_resume_session_id();
    conn = MasterConnection::Open(*stub_, hello);
  }
  return conn;
}

v1::WorkerHello WorkerRuntime::MakeHello() {
  v1::WorkerHello hello;
  hello.set_worker_name(options_.worker_name.empty() ? DefaultWorkerName()
                                                     : options_.worker_name);
  hello.set_slots(options_.concurrency);
  const std::vector<std::string> types =
      task_processor_ != nullptr ? task_processor_->AcceptedTypes()
                                 : batch_processor_->AcceptedTypes();
  for (const std::string& type : types) hello.add_accepted_types(type);
  hello.set_sdk_version(options_.sdk_version);
  // The window depends on SessionStart.max_batch_tasks, so it is granted in
  // a CreditGrant once the session starts.
  hello.set_initial_credit(0);
  absl::MutexLock lock(&mu_);
  hello.set_resume_session_id(session_id_);
  return hello;
}

void WorkerRuntime::StartSession(std::shared_ptr<MasterConnection> conn) {
  const v1::SessionStart& session = conn->session();
  const uint32_t batch = std::max<uint32_t>(1, session.max_batch_tasks());
  const uint32_t window = options_.prefetch > 0
                              ? options_.prefetch
                              : std::max(2 * batch, options_.concurrency);
  slots_.set_batch_size(batch);
  book_.SetMaxResultBytes(session.max_result_bytes());
  ledger_.StartCredit(window);
  const uint64_t stream = book_.StartStream();
  const size_t max_message = session.max_message_bytes() > 0
                                 ? session.max_message_bytes()
                                 : kDefaultMaxMessageBytes;
  absl::Duration lease = FromProto(session.lease_duration());
  if (lease <= absl::ZeroDuration()) lease = kDefaultLease;
  {
    absl::MutexLock lock(&mu_);
    conn_ = conn;
    stream_ = stream;
    session_id_ = session.session_id();
    results_ended_ = false;
    results_status_ = absl::OkStatus();
    closing_ = false;
    ++sessions_;
  }
  LOG(INFO) << (session.resumed() ? "resumed" : "started") << " session "
            << session.session_id() << " with master " << options_.master
            << ": lease " << lease << ", max_batch_tasks " << batch
            << ", window " << window << "; holding " << ledger_.held()
            << " tasks, " << book_.pending() << " outcomes to submit";
  writer_.Attach(std::move(conn), stream, session.session_id(),
                 std::max(max_message / 2, max_message - kBatchSlackBytes),
                 lease);
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
      LOG(INFO) << "no task pending on the master; holding " << ledger_.held()
                << " tasks, waiting for more";
      return;
    case v1::TaskBatch::kComplete: {
      const size_t dropped = ledger_.DropQueued();
      LOG(INFO) << "job complete: " << message.complete().done() << " done, "
                << message.complete().dead() << " dead; dropped " << dropped
                << " queued tasks, finishing " << ledger_.held();
      {
        absl::MutexLock lock(&mu_);
        job_complete_ = true;
      }
      writer_.StopCredit();
      Wake();
      return;
    }
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
               std::make_move_iterator(tasks->end())});
}

absl::Status WorkerRuntime::FinishJob(MasterConnection& conn) {
  {
    absl::MutexLock lock(&mu_);
    while (!shutdown_ && !results_ended_ &&
           !(ledger_.held() == 0 && book_.AllAcked())) {
      wake_cv_.Wait(&mu_);
    }
    if (shutdown_) return absl::CancelledError("shutdown requested");
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
  if (!broken.ok()) status = broken;
  absl::MutexLock lock(&mu_);
  if (!closing_) {
    // Without its results stream the session is useless: break the task
    // stream too, and the connect loop reconnects both.
    if (status.ok()) {
      status = absl::UnavailableError("the master closed the results stream");
    }
    conn->Cancel();
  }
  results_ended_ = true;
  results_status_ = status;
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
