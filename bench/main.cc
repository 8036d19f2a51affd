// distributo-bench: tasks per second through the master against the
// transport's limit, measured in the same run with the same processes.
//
//   distributo-bench --workers=4 --batch=100 --tasks=1000000 --journal=none
//
// runs the job twice: against a raw server that speaks distributo.v1 with no
// queue (RawDistributor), then against the real master (server::Master with
// a task feeder), each with `--workers` lean worker processes on loopback,
// and prints both, their ratio, latencies, and the servers' CPU and RSS; one
// JSON object with --json. Instead:
//   --pending=N       the master's RSS holding N pending tasks (no worker);
//   --idle_streams=N  the master's RSS with N idle worker sessions, and how
//                     long each waits for its first batch once it asks.
// bench/run_matrix.sh runs the whole matrix and prints the tables.
//
// The same binary is each of those processes
// (--role=raw|master|worker|pending|swarm).

#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bench/bench_run.h"
#include "bench/bench_servers.h"
#include "bench/lean_worker.h"
#include "glog/logging.h"
#include "rpc/atomic_file.h"
#include "rpc/mutex_mode.h"
#include "server/sqlite_journal.h"
#include "tests/integration/child_process.h"

ABSL_FLAG(std::string, role, "run",
          "run: the benchmark; raw, master, worker, pending, swarm: one of "
          "its processes");
ABSL_FLAG(int, workers, 4, "Worker processes");
ABSL_FLAG(int, batch, 100, "Most tasks in one batch");
ABSL_FLAG(int, in_flight, 4,
          "Batches a worker may hold at once: its credit is in_flight x "
          "batch tasks");
ABSL_FLAG(uint64_t, tasks, 200'000, "Tasks in each job");
ABSL_FLAG(std::string, journal, "none",
          "none keeps the master's queue in memory; a PATH (a new file the "
          "benchmark creates and removes) journals it in SQLite");
ABSL_FLAG(double, rate, 0,
          "Tasks enqueued per second, one at a time (for latency at a "
          "moderate load); 0: as fast as the workers take them");
ABSL_FLAG(bool, preload, false,
          "Enqueue every task at once, as distributo-master reads a --tasks "
          "file, instead of as the workers drain them");
ABSL_FLAG(uint64_t, pending, 0,
          "Instead of a job: the master's RSS holding this many pending tasks");
ABSL_FLAG(int, idle_streams, 0,
          "Instead of a job: the master with this many idle worker sessions");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(10), "For each job");
ABSL_FLAG(std::string, master, "", "--role=worker|swarm: the server");
ABSL_FLAG(std::string, port_file, "", "--role=raw|master: gets the port");
ABSL_FLAG(std::string, ready_file, "",
          "--role=swarm: written once every session is open");
ABSL_FLAG(std::string, report, "", "For each --role but run: gets the report");

namespace distributo::bench {
namespace {

ServerOptions ServerOptionsFromFlags() {
  ServerOptions options;
  options.tasks = absl::GetFlag(FLAGS_tasks);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.batch_size = absl::GetFlag(FLAGS_batch);
  const std::string journal = absl::GetFlag(FLAGS_journal);
  options.journal_path = journal == "none" ? "" : journal;
  options.rate = absl::GetFlag(FLAGS_rate);
  options.preload = absl::GetFlag(FLAGS_preload);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  return options;
}

absl::StatusOr<std::string> RunWorker() {
  LeanWorkerOptions options;
  options.master = absl::GetFlag(FLAGS_master);
  options.window = absl::GetFlag(FLAGS_in_flight) * absl::GetFlag(FLAGS_batch);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  absl::StatusOr<WorkerReport> report = RunLeanWorker(options);
  if (!report.ok()) return report.status();
  return report->Serialize();
}

absl::StatusOr<std::string> RunSwarm() {
  SwarmOptions options;
  options.master = absl::GetFlag(FLAGS_master);
  options.streams = absl::GetFlag(FLAGS_idle_streams);
  options.ready_file = absl::GetFlag(FLAGS_ready_file);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  absl::StatusOr<Report> report = RunIdleSwarm(options);
  if (!report.ok()) return report.status();
  return report->Serialize();
}

absl::StatusOr<std::string> RunServer(const std::string& role) {
  const ServerOptions options = ServerOptionsFromFlags();
  if (role == "pending") {
    absl::StatusOr<Report> report = HoldPending(options);
    if (!report.ok()) return report.status();
    return report->Serialize();
  }
  absl::StatusOr<ServerReport> report =
      role == "raw" ? ServeRaw(options) : ServeMaster(options);
  if (!report.ok()) return report.status();
  return report->Serialize();
}

int RunRole(const std::string& role) {
  absl::StatusOr<std::string> report = role == "worker"  ? RunWorker()
                                       : role == "swarm" ? RunSwarm()
                                                         : RunServer(role);
  if (!report.ok()) {
    LOG(ERROR) << "distributo-bench --role=" << role << ": " << report.status();
    return 1;
  }
  return WriteFileAtomically(absl::GetFlag(FLAGS_report), *report).ok() ? 0 : 1;
}

RunOptions RunOptionsFromFlags() {
  RunOptions options;
  options.workers = absl::GetFlag(FLAGS_workers);
  options.batch_size = absl::GetFlag(FLAGS_batch);
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.tasks = absl::GetFlag(FLAGS_tasks);
  options.journal = absl::GetFlag(FLAGS_journal);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.preload = absl::GetFlag(FLAGS_preload);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  return options;
}

int RunBenchmark() {
  const RunOptions options = RunOptionsFromFlags();
  absl::StatusOr<std::string> output;
  if (absl::GetFlag(FLAGS_pending) > 0) {
    output = MeasurePending(options, absl::GetFlag(FLAGS_pending));
  } else if (absl::GetFlag(FLAGS_idle_streams) > 0) {
    output = MeasureIdleStreams(options, absl::GetFlag(FLAGS_idle_streams));
  } else if (absl::StatusOr<RunResult> result = RunBoth(options); result.ok()) {
    output = absl::GetFlag(FLAGS_json) ? ToJson(options, *result)
                                       : ToTable(options, *result);
  } else {
    output = result.status();
  }
  if (!output.ok()) {
    std::fprintf(stderr, "distributo-bench: %s\n",
                 std::string(output.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", output->c_str());
  return 0;
}

}  // namespace
}  // namespace distributo::bench

int main(int argc, char** argv) {
  distributo::server::TurnOffSqliteMemoryStatistics();  // as the master does
  distributo::TurnOffMutexDeadlockDetection();          // likewise
  // Before any thread starts: the swarm takes SIGUSR1 with sigtimedwait().
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &go, nullptr);
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  // Thousands of streams need thousands of descriptors, in every process.
  distributo::testing::RaiseFileLimit();
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "run") return distributo::bench::RunBenchmark();
  if (role == "raw" || role == "master" || role == "worker" ||
      role == "pending" || role == "swarm") {
    return distributo::bench::RunRole(role);
  }
  std::fprintf(stderr, "distributo-bench: unknown --role=%s\n", role.c_str());
  return 2;
}
