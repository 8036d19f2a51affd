// distributo-bench: tasks per second through the master against the
// transport's limit, measured in the same run with the same processes.
//
//   distributo-bench --workers=4 --batch=100 --tasks=1000000 --journal=none
//
// runs the job twice: against a raw server that speaks distributo.v1 with no
// queue (RawDistributor), then against the real master (server::Master with
// a task feeder), each with `--workers` lean worker processes on loopback,
// and prints both, their ratio, latencies, and the master's CPU and RSS;
// one JSON object with --json. bench/run_matrix.sh runs the whole matrix.
//
// The same binary is each of those processes (--role=raw|master|worker).

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

ABSL_FLAG(std::string, role, "run",
          "run: the benchmark; raw, master, worker: one of its processes");
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
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(10), "For each job");
ABSL_FLAG(std::string, master, "", "--role=worker: the server's HOST:PORT");
ABSL_FLAG(std::string, port_file, "", "--role=raw|master: gets the port");
ABSL_FLAG(std::string, report, "", "--role=raw|master|worker: gets the report");

namespace distributo::bench {
namespace {

int RunRole(const std::string& role) {
  absl::StatusOr<std::string> report;
  if (role == "worker") {
    LeanWorkerOptions options;
    options.master = absl::GetFlag(FLAGS_master);
    options.window =
        absl::GetFlag(FLAGS_in_flight) * absl::GetFlag(FLAGS_batch);
    options.timeout = absl::GetFlag(FLAGS_timeout);
    absl::StatusOr<WorkerReport> worker = RunLeanWorker(options);
    report = worker.ok() ? absl::StatusOr<std::string>(worker->Serialize())
                         : worker.status();
  } else {
    ServerOptions options;
    options.tasks = absl::GetFlag(FLAGS_tasks);
    options.batch_size = absl::GetFlag(FLAGS_batch);
    const std::string journal = absl::GetFlag(FLAGS_journal);
    options.journal_path = journal == "none" ? "" : journal;
    options.rate = absl::GetFlag(FLAGS_rate);
    options.port_file = absl::GetFlag(FLAGS_port_file);
    options.timeout = absl::GetFlag(FLAGS_timeout);
    absl::StatusOr<ServerReport> server =
        role == "raw" ? ServeRaw(options) : ServeMaster(options);
    report = server.ok() ? absl::StatusOr<std::string>(server->Serialize())
                         : server.status();
  }
  if (!report.ok()) {
    LOG(ERROR) << "distributo-bench --role=" << role << ": " << report.status();
    return 1;
  }
  return WriteFileAtomically(absl::GetFlag(FLAGS_report), *report).ok() ? 0 : 1;
}

int RunBenchmark() {
  RunOptions options;
  options.workers = absl::GetFlag(FLAGS_workers);
  options.batch_size = absl::GetFlag(FLAGS_batch);
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.tasks = absl::GetFlag(FLAGS_tasks);
  options.journal = absl::GetFlag(FLAGS_journal);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  absl::StatusOr<RunResult> result = RunBoth(options);
  if (!result.ok()) {
    std::fprintf(stderr, "distributo-bench: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", (absl::GetFlag(FLAGS_json) ? ToJson(options, *result)
                                                 : ToTable(options, *result))
                          .c_str());
  return 0;
}

}  // namespace
}  // namespace distributo::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "run") return distributo::bench::RunBenchmark();
  if (role == "raw" || role == "master" || role == "worker") {
    return distributo::bench::RunRole(role);
  }
  std::fprintf(stderr, "distributo-bench: unknown --role=%s\n", role.c_str());
  return 2;
}
