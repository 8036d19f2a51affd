#include "distributo/worker_core.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sdk/src/raw_processors.h"
#include "sdk/src/scoped_log_sink.h"
#include "worker/worker_runtime.h"

namespace distributo::internal {
namespace {

absl::Status Validate(const WorkerCoreOptions& options) {
  if (!options.process_batch == !options.process_one) {
    return absl::InvalidArgumentError(
        "set exactly one of process_tasks and process_task");
  }
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError("concurrency must be at least 1");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<worker::WorkerRuntime>> MakeRuntime(
    const WorkerCoreOptions& options) {
  worker::WorkerOptions runtime;
  runtime.master = options.master.empty()
                       ? absl::StrCat("mdns:", options.service_type)
                       : options.master;
  runtime.dns_server = options.dns_server;
  runtime.cluster = options.cluster;
  runtime.tls = {options.tls_cert, options.tls_key, options.tls_ca};
  runtime.token = options.token;
  runtime.worker_name = options.worker_name;
  runtime.concurrency = static_cast<uint32_t>(options.concurrency);
  runtime.reconnect_initial = options.reconnect_initial;
  runtime.reconnect_max = options.reconnect_max;
  if (options.process_batch) {
    return worker::WorkerRuntime::Create(
        runtime, std::make_unique<RawBatchProcessor>(options));
  }
  return worker::WorkerRuntime::Create(
      runtime, std::make_unique<RawTaskProcessor>(options));
}

}  // namespace

struct WorkerCore::State {
  std::unique_ptr<ScopedLogSink> log_sink;
  google::LogSink* sink_to_add = nullptr;
  std::unique_ptr<worker::WorkerRuntime> runtime;
  absl::Mutex mu;
  std::thread thread ABSL_GUARDED_BY(mu);
  bool started ABSL_GUARDED_BY(mu) = false;
  absl::Status result;  // written by `thread`, read after joining it
};

absl::StatusOr<std::unique_ptr<WorkerCore>> WorkerCore::Create(
    WorkerCoreOptions options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  auto runtime = MakeRuntime(options);
  if (!runtime.ok()) return runtime.status();
  auto state = std::make_unique<State>();
  state->runtime = *std::move(runtime);
  state->sink_to_add = options.log_sink;
  return std::unique_ptr<WorkerCore>(new WorkerCore(std::move(state)));
}

WorkerCore::WorkerCore(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

WorkerCore::~WorkerCore() {
  Shutdown();
  Wait().IgnoreError();  // The status was the caller's to ask for.
}

absl::Status WorkerCore::Start() {
  absl::MutexLock lock(&state_->mu);
  if (state_->started) return absl::FailedPreconditionError("already started");
  state_->started = true;
  state_->log_sink = std::make_unique<ScopedLogSink>(state_->sink_to_add);
  State* state = state_.get();
  state_->thread =
      std::thread([state] { state->result = state->runtime->Run(); });
  return absl::OkStatus();
}

absl::Status WorkerCore::Wait() {
  absl::MutexLock lock(&state_->mu);
  if (!state_->started) return absl::FailedPreconditionError("not started");
  if (state_->thread.joinable()) state_->thread.join();
  return state_->result;
}

void WorkerCore::Shutdown() { state_->runtime->Shutdown(); }

}  // namespace distributo::internal
