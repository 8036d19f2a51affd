// distributo-worker: runs a command for each task leased from a master.
//
//   distributo-worker --master=HOST:PORT --exec='CMD' [--exec_mode=per_task]
//   distributo-worker --master=mdns --cluster=render --exec='CMD'
//
// Exits 0 once the master reports the job complete and every outcome is
// acked, 2 on a usage error, 1 on any other error, 128+N after signal N.

#include <signal.h>
#include <string.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "rpc/client_flags.h"
#include "rpc/logging.h"
#include "rpc/mutex_mode.h"
#include "rpc/progress_printer.h"
#include "rpc/schema_flags.h"
#include "rpc/stop_signals.h"
#include "worker/exec_lines_processor.h"
#include "worker/exec_task_processor.h"
#include "worker/worker_options.h"
#include "worker/worker_runtime.h"

ABSL_FLAG(std::string, master, "",
          "Where the master is: HOST:PORT; dns-sd:_distributo._tcp.DOMAIN "
          "(a DNS-SD browse); srv:NAME (an SRV record, as Kubernetes "
          "publishes); mdns or mdns:SERVICE_TYPE (the LAN, like Bonjour).");
ABSL_FLAG(std::string, dns_server, "",
          "DNS server for dns-sd: and srv:, IP:PORT (default: the system's "
          "resolvers).");
ABSL_FLAG(std::string, cluster, "",
          "With discovery, use only masters advertising this cluster "
          "(default: any master).");
ABSL_FLAG(std::string, exec, "",
          "Shell command run for each task (/bin/sh -c): the task's JSON "
          "payload on stdin, the result JSON on stdout.");
ABSL_FLAG(std::string, exec_mode, "per_task",
          "per_task: one process per task. lines: one long-lived process "
          "per slot, one JSON line in and one JSON line out per task.");
ABSL_FLAG(int32_t, concurrency, 1, "Tasks run at once.");
ABSL_FLAG(std::string, name, "",
          "Worker name for the master's logs (default: HOSTNAME/PID).");
ABSL_FLAG(int32_t, prefetch, 0,
          "Most tasks held, queued and running (default: max(2 * the "
          "master's batch size, --concurrency)); outcomes waiting for the "
          "master's ack may fill as many again.");
ABSL_FLAG(absl::Duration, progress_interval, absl::Seconds(5),
          "How often to print a progress line when stderr is not a terminal "
          "(on one, the line is redrawn in place).");
ABSL_FLAG(absl::Duration, reconnect_initial, absl::Seconds(1),
          "First delay before reconnecting to the master.");
ABSL_FLAG(absl::Duration, reconnect_max, absl::Seconds(30),
          "Longest delay between reconnection attempts.");

namespace distributo::worker {
namespace {

constexpr int kUsageError = 2;

// Everything the command line decides.
struct Options {
  WorkerOptions worker;
  std::string exec;
  std::string exec_mode;
  std::shared_ptr<const PayloadSchema> schema;  // none: JSON values
};

// Sets how to find and reach the master: discovery, TLS and the token.
void ConnectionFromFlags(WorkerOptions& worker) {
  worker.master = absl::GetFlag(FLAGS_master);
  worker.dns_server = absl::GetFlag(FLAGS_dns_server);
  worker.cluster = absl::GetFlag(FLAGS_cluster);
  const ClientSecurity security = ClientSecurityFromFlags();
  worker.tls = security.tls;
  worker.tls_server_name = security.tls_server_name;
  worker.token = security.token;
}

// Returns the options from the parsed flags; InvalidArgument on misuse.
absl::StatusOr<Options> OptionsFromFlags() {
  Options options;
  ConnectionFromFlags(options.worker);
  options.exec = absl::GetFlag(FLAGS_exec);
  options.exec_mode = absl::GetFlag(FLAGS_exec_mode);
  options.worker.worker_name = absl::GetFlag(FLAGS_name);
  options.worker.reconnect_initial = absl::GetFlag(FLAGS_reconnect_initial);
  options.worker.reconnect_max = absl::GetFlag(FLAGS_reconnect_max);
  const int32_t concurrency = absl::GetFlag(FLAGS_concurrency);
  const int32_t prefetch = absl::GetFlag(FLAGS_prefetch);
  if (options.worker.master.empty()) {
    return absl::InvalidArgumentError(
        "--master is required: HOST:PORT, dns-sd:SERVICE.DOMAIN, srv:NAME "
        "or mdns");
  }
  if (options.exec.empty()) {
    return absl::InvalidArgumentError("--exec=COMMAND is required");
  }
  if (options.exec_mode != "per_task" && options.exec_mode != "lines") {
    return absl::InvalidArgumentError(
        absl::StrCat("--exec_mode must be per_task or lines, not \"",
                     options.exec_mode, "\""));
  }
  if (concurrency < 1 || prefetch < 0) {
    return absl::InvalidArgumentError(
        "--concurrency must be at least 1 and --prefetch at least 0");
  }
  options.worker.concurrency = static_cast<uint32_t>(concurrency);
  options.worker.prefetch = static_cast<uint32_t>(prefetch);
  auto schema = SchemaFromFlags();
  if (!schema.ok()) return schema.status();
  options.schema = *std::move(schema);
  return options;
}

absl::StatusOr<std::unique_ptr<WorkerRuntime>> MakeRuntime(
    const Options& options) {
  if (options.exec_mode == "lines") {
    return WorkerRuntime::Create(
        options.worker,
        std::make_unique<ExecLinesProcessor>(options.exec, options.schema));
  }
  return WorkerRuntime::Create(
      options.worker,
      std::make_unique<ExecTaskProcessor>(options.exec, options.schema));
}

// What the signal thread shares with Main(). The thread is detached and may
// run until the process exits, so it co-owns this state.
struct StopState {
  std::shared_ptr<WorkerRuntime> runtime;
  std::atomic<int> signal{0};  // the first stop signal received; 0: none
};

// Shuts the runtime down on the first stop signal and exits on the second.
void StartSignalThread(sigset_t signals, std::shared_ptr<StopState> stop) {
  HandleStopSignals(signals, [stop = std::move(stop)](int signal) {
    stop->signal = signal;
    LOG(INFO) << "received " << strsignal(signal)
              << "; shutting down (again to exit at once)";
    stop->runtime->Shutdown();
  });
}

// Returns the worker's progress line: what it did, and how fast.
std::string ProgressLine(const WorkerStats& stats, absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const uint64_t finished = stats.succeeded + stats.failed;
  return absl::StrFormat(
      "worker: %d done | %d failed | %.1f tasks/s | %d accepted, %d refused "
      "| %d sessions",
      stats.succeeded, stats.failed, seconds > 0 ? finished / seconds : 0,
      stats.accepted, stats.refused, stats.sessions);
}

// Runs the worker to its end, logs a summary, and returns the exit code.
int RunToEnd(const StopState& stop, const Options& options) {
  LOG(INFO) << "distributo-worker: master " << options.worker.master
            << ", exec (" << options.exec_mode << "): " << options.exec
            << ", concurrency " << options.worker.concurrency;
  const absl::Time start = absl::Now();
  ProgressPrinter progress(stderr, absl::GetFlag(FLAGS_progress_interval),
                           [&stop](absl::Duration elapsed, bool) {
                             return ProgressLine(stop.runtime->stats(),
                                                 elapsed);
                           });
  const absl::Status status = stop.runtime->Run();
  progress.Stop();
  const WorkerStats stats = stop.runtime->stats();
  LOG(INFO) << absl::StrFormat(
      "summary: %d tasks done, %d failed, %d cancelled; %d outcomes "
      "accepted, %d refused; %d sessions; %.2f s",
      stats.succeeded, stats.failed, stats.cancelled, stats.accepted,
      stats.refused, stats.sessions,
      absl::ToDoubleSeconds(absl::Now() - start));
  if (status.ok()) return 0;
  const int signal = stop.signal.load();
  if (signal != 0 && status.code() == absl::StatusCode::kCancelled) {
    return 128 + signal;
  }
  LOG(ERROR) << "distributo-worker: " << status;
  return 1;
}

// Parses the command line; InvalidArgument on misuse.
absl::StatusOr<Options> ParseArgs(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs a command for each task leased from a Distributo master.\n"
      "  distributo-worker --master=HOST:PORT|dns-sd:NAME|srv:NAME|mdns "
      "--exec='CMD' "
      "[--exec_mode=per_task|lines] [--concurrency=N]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", args[1], "\""));
  }
  return OptionsFromFlags();
}

int Main(int argc, char** argv) {
  // A command that exits early must not kill us with SIGPIPE; writes to it
  // fail with EPIPE instead. Children get the default back.
  signal(SIGPIPE, SIG_IGN);
  TurnOffMutexDeadlockDetection();
  const sigset_t stop_signals = BlockStopSignals();
  absl::StatusOr<Options> options = ParseArgs(argc, argv);
  if (absl::Status status = InitLogging(argv[0]); !status.ok()) {
    LOG(WARNING) << status;
  }
  if (!options.ok()) {
    std::fprintf(stderr, "distributo-worker: %s (see --help)\n",
                 std::string(options.status().message()).c_str());
    return kUsageError;
  }
  absl::StatusOr<std::unique_ptr<WorkerRuntime>> runtime =
      MakeRuntime(*options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "distributo-worker: %s\n",
                 std::string(runtime.status().message()).c_str());
    return kUsageError;
  }
  auto stop = std::make_shared<StopState>();
  stop->runtime = *std::move(runtime);
  StartSignalThread(stop_signals, stop);
  return RunToEnd(*stop, *options);
}

}  // namespace
}  // namespace distributo::worker

int main(int argc, char** argv) { return distributo::worker::Main(argc, argv); }
