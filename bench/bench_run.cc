#include "bench/bench_run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bench/disk_sync.h"
#include "bench/lean_worker.h"
#include "bench/report.h"
#include "server/sqlite_journal.h"
#include "tests/integration/child_process.h"

namespace distributo::bench {
namespace {

using testing::ChildProcess;
using testing::ProcStatus;
using testing::ReadFile;
using testing::WaitUntil;

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
// Beyond the job's own timeout, for a process to report and exit.
constexpr absl::Duration kExitGrace = absl::Seconds(30);
// Bare commits timed on a journal's disk after its job: under a second.
constexpr int kDiskSyncs = 2000;

std::string SelfPath() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

std::vector<std::string> CommonFlags(const RunOptions& options) {
  return {absl::StrCat("--workers=", options.workers),
          absl::StrCat("--batch=", options.batch_size),
          absl::StrCat("--in_flight=", options.in_flight),
          absl::StrCat("--tasks=", options.tasks),
          absl::StrCat("--journal=", options.journal),
          absl::StrCat("--rate=", options.rate),
          absl::StrCat("--preload=", options.preload ? "true" : "false"),
          absl::StrCat("--timeout=", absl::FormatDuration(options.timeout))};
}

// Starts this binary as `role`, its report going to `dir`/`name`.
std::unique_ptr<ChildProcess> StartRole(const RunOptions& options,
                                        const std::string& dir,
                                        const std::string& role,
                                        const std::string& name,
                                        std::vector<std::string> extra) {
  std::vector<std::string> argv = {SelfPath(), "--role=" + role,
                                   absl::StrCat("--report=", dir, "/", name)};
  for (std::string& flag : CommonFlags(options)) argv.push_back(flag);
  for (std::string& flag : extra) argv.push_back(std::move(flag));
  return std::make_unique<ChildProcess>(argv,
                                        absl::StrCat(dir, "/", name, ".log"));
}

// Waits for `process` to exit 0.
absl::Status AwaitSuccess(ChildProcess& process, absl::Duration timeout) {
  std::optional<int> code = process.WaitForExit(timeout);
  if (!code.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("a process did not end; see ", process.log_path()));
  }
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(
        "a process exited with ", *code, ":\n", ReadFile(process.log_path())));
  }
  return absl::OkStatus();
}

// Merges the workers' reports into `result`; returns the tasks they acked.
absl::StatusOr<uint64_t> MergeWorkers(const std::string& dir, int workers,
                                      JobResult* result) {
  int64_t first = std::numeric_limits<int64_t>::max(), last = 0;
  uint64_t tasks = 0;
  for (int i = 0; i < workers; ++i) {
    auto report =
        WorkerReport::Parse(ReadFile(absl::StrCat(dir, "/worker-", i)));
    if (!report.ok()) return report.status();
    if (report->tasks == 0) continue;
    first = std::min(first, report->first_lease_ns);
    last = std::max(last, report->last_ack_ns);
    tasks += report->tasks;
    result->enqueue_to_lease.Merge(report->enqueue_to_lease);
    result->lease_to_ack.Merge(report->lease_to_ack);
  }
  if (tasks == 0 || last <= first) {
    return absl::InternalError("the workers acked no task");
  }
  result->tasks_per_s = tasks * 1e9 / (last - first);
  return tasks;
}

// A server process of the benchmark's, serving.
struct Server {
  std::unique_ptr<ChildProcess> process;
  std::string master_flag;  // --master=ADDRESS, for its clients
};

// Starts this binary as the server `role` (its report in `dir`/server), and
// waits until it serves.
absl::StatusOr<Server> StartServer(const RunOptions& options,
                                   const std::string& dir,
                                   const std::string& role,
                                   std::vector<std::string> extra) {
  const std::string port_file = dir + "/port";
  extra.push_back("--port_file=" + port_file);
  Server server;
  server.process = StartRole(options, dir, role, "server", std::move(extra));
  if (!WaitUntil([&] { return !ReadFile(port_file).empty(); }, kStartTimeout)) {
    return absl::UnavailableError(
        absl::StrCat("the ", role, " server did not start:\n",
                     ReadFile(server.process->log_path())));
  }
  server.master_flag = absl::StrCat(
      "--master=127.0.0.1:", absl::StripAsciiWhitespace(ReadFile(port_file)));
  return server;
}

// Runs the job through `role`'s server (raw or master) in `dir`.
absl::StatusOr<JobResult> RunJob(const RunOptions& options,
                                 const std::string& dir,
                                 const std::string& role) {
  absl::StatusOr<Server> server = StartServer(options, dir, role, {});
  if (!server.ok()) return server.status();
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < options.workers; ++i) {
    workers.push_back(StartRole(options, dir, "worker",
                                absl::StrCat("worker-", i),
                                {server->master_flag}));
  }
  for (auto& worker : workers) {
    if (absl::Status s = AwaitSuccess(*worker, options.timeout + kExitGrace);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = AwaitSuccess(*server->process, kExitGrace); !s.ok()) {
    return s;
  }
  JobResult result;
  auto acked = MergeWorkers(dir, options.workers, &result);
  if (!acked.ok()) return acked.status();
  auto report = ServerReport::Parse(ReadFile(dir + "/server"));
  if (!report.ok()) return report.status();
  result.server = *report;
  if (report->handled != options.tasks || report->duplicates != 0 ||
      *acked < options.tasks) {
    return absl::InternalError(absl::StrFormat(
        "%s: %d tasks, %d handled, %d handled twice, %d acked", role,
        options.tasks, report->handled, report->duplicates, *acked));
  }
  return result;
}

// Makes a directory of its own for a run's files.
absl::StatusOr<std::string> MakeRunDirectory() {
  char pattern[] = "/tmp/distributo-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    return absl::UnavailableError("cannot make a directory in /tmp");
  }
  return std::string(pattern);
}

// Removes the journal a run made, with SQLite's side files.
void RemoveJournal(const RunOptions& options) {
  if (options.journal == "none") return;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(options.journal + suffix);
  }
}

absl::Status CheckJournalIsNew(const RunOptions& options) {
  if (options.journal != "none" && std::filesystem::exists(options.journal)) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.journal, " exists; the benchmark journals to a new file"));
  }
  return absl::OkStatus();
}

// Calls `run` with a new directory for the run's files, and a journal path
// that does not exist yet; afterwards removes the journal, and the directory
// unless the run failed (its logs are kept for a look).
template <typename Run>
auto InRunDirectory(const RunOptions& options, Run run)
    -> decltype(run(std::string())) {
  if (absl::Status status = CheckJournalIsNew(options); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::string> dir = MakeRunDirectory();
  if (!dir.ok()) return dir.status();
  auto result = run(*dir);
  RemoveJournal(options);
  if (!result.ok()) {
    std::fprintf(stderr, "distributo-bench: logs kept in %s\n", dir->c_str());
  } else {
    std::filesystem::remove_all(*dir);
  }
  return result;
}

absl::StatusOr<std::string> PendingJson(const RunOptions& options,
                                        const std::string& dir,
                                        uint64_t pending) {
  std::unique_ptr<ChildProcess> holder = StartRole(
      options, dir, "pending", "pending", {absl::StrCat("--tasks=", pending)});
  if (absl::Status s = AwaitSuccess(*holder, options.timeout + kExitGrace);
      !s.ok()) {
    return s;
  }
  auto report = Report::Parse(ReadFile(dir + "/pending"));
  if (!report.ok()) return report.status();
  auto before = report->Number("rss_before_kb");
  auto after = report->Number("rss_after_kb");
  if (!before.ok()) return before.status();
  if (!after.ok()) return after.status();
  return absl::StrFormat(
      "{\"pending\": %d, \"journal\": \"%s\", \"rss_before_mb\": %.1f, "
      "\"rss_after_mb\": %.1f, \"bytes_per_pending_task\": %.0f}",
      pending, options.journal == "none" ? "none" : "sqlite", *before / 1024,
      *after / 1024, (*after - *before) * 1024 / pending);
}

// The idle-streams measurement in `dir`: a master serving `streams` tasks,
// then a swarm of that many sessions, each taking one.
// Returns the idle-streams JSON object from the swarm's report and the
// master's RSS without and with the sessions.
absl::StatusOr<std::string> IdleStreamsObject(const Report& swarm, int streams,
                                              int64_t idle_kb,
                                              int64_t streams_kb) {
  std::string json = absl::StrFormat(
      "{\"idle_streams\": %d, \"master_rss_mb\": %.1f, "
      "\"master_rss_with_streams_mb\": %.1f, \"kb_per_stream\": %.1f",
      streams, idle_kb / 1024.0, streams_kb / 1024.0,
      (streams_kb - idle_kb) / double(streams));
  for (const char* key : {"open_ms", "first_batch_p50_ms", "first_batch_p99_ms",
                          "first_batch_max_ms"}) {
    absl::StatusOr<double> value = swarm.Number(key);
    if (!value.ok()) return value.status();
    absl::StrAppendFormat(&json, ", \"%s\": %.1f", key, *value);
  }
  return json + "}";
}

// The idle-streams measurement in `dir`: a master serving `streams` tasks,
// then a swarm of that many sessions, each taking one.
absl::StatusOr<std::string> IdleStreamsJson(const RunOptions& options,
                                            const std::string& dir,
                                            int streams) {
  absl::StatusOr<Server> master = StartServer(
      options, dir, "master",
      {absl::StrCat("--tasks=", streams), absl::StrCat("--workers=", streams)});
  if (!master.ok()) return master.status();
  const pid_t pid = master->process->pid();
  const int64_t idle_kb = ProcStatus(pid, "VmRSS:");
  const std::string ready_file = dir + "/ready";
  std::unique_ptr<ChildProcess> swarm =
      StartRole(options, dir, "swarm", "swarm",
                {master->master_flag, absl::StrCat("--idle_streams=", streams),
                 "--ready_file=" + ready_file});
  if (!WaitUntil([&] { return !ReadFile(ready_file).empty(); },
                 options.timeout)) {
    return absl::DeadlineExceededError("the swarm's sessions did not open:\n" +
                                       ReadFile(swarm->log_path()));
  }
  const int64_t streams_kb = ProcStatus(pid, "VmRSS:");
  swarm->Signal(SIGUSR1);
  for (ChildProcess* process : {swarm.get(), master->process.get()}) {
    if (absl::Status s = AwaitSuccess(*process, options.timeout + kExitGrace);
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<Report> report = Report::Parse(ReadFile(dir + "/swarm"));
  if (!report.ok()) return report.status();
  return IdleStreamsObject(*report, streams, idle_kb, streams_kb);
}

}  // namespace

absl::StatusOr<std::string> MeasureIdleStreams(const RunOptions& options,
                                               int streams) {
  return InRunDirectory(options, [&](const std::string& dir) {
    return IdleStreamsJson(options, dir, streams);
  });
}

absl::StatusOr<std::string> MeasurePending(const RunOptions& options,
                                           uint64_t pending) {
  return InRunDirectory(options, [&](const std::string& dir) {
    return PendingJson(options, dir, pending);
  });
}

// Returns how long Recover() takes on the journal of a finished job, as a
// restarted master would call it.
absl::StatusOr<absl::Duration> TimeRecover(const std::string& journal) {
  auto opened = server::SqliteJournal::Open(journal);
  if (!opened.ok()) return opened.status();
  const absl::Time start = absl::Now();
  if (auto state = (*opened)->Recover(kJob); !state.ok()) {
    return state.status();
  }
  return absl::Now() - start;
}

absl::StatusOr<RunResult> RunBoth(const RunOptions& options) {
  return InRunDirectory(
      options, [&](const std::string& dir) -> absl::StatusOr<RunResult> {
        RunResult result;
        for (const char* role : {"raw", "master"}) {
          const std::string job_dir = absl::StrCat(dir, "/", role);
          std::filesystem::create_directory(job_dir);
          absl::StatusOr<JobResult> job = RunJob(options, job_dir, role);
          if (!job.ok()) return job.status();
          (std::string(role) == "raw" ? result.raw : result.master) = *job;
        }
        if (options.journal == "none") return result;
        absl::StatusOr<absl::Duration> recover = TimeRecover(options.journal);
        if (!recover.ok()) return recover.status();
        result.recover = *recover;
        absl::StatusOr<LatencyHistogram> syncs =
            TimeDiskSyncs(options.journal, kDiskSyncs);
        if (!syncs.ok()) return syncs.status();
        result.disk_sync = *std::move(syncs);
        return result;
      });
}

namespace {

// The figures of one job, as JSON members named with `prefix`.
std::string JobJson(const std::string& prefix, const JobResult& job,
                    uint64_t tasks) {
  return absl::StrFormat(
      "\"%1$senqueue_to_lease_p50_us\": %2$.1f, "
      "\"%1$senqueue_to_lease_p99_us\": %3$.1f, "
      "\"%1$slease_to_result_p50_us\": %4$.1f, "
      "\"%1$slease_to_result_p99_us\": %5$.1f, "
      "\"%1$scpu_s_per_million\": %6$.2f, \"%1$speak_rss_mb\": %7$d",
      prefix, job.enqueue_to_lease.PercentileMicros(0.5),
      job.enqueue_to_lease.PercentileMicros(0.99),
      job.lease_to_ack.PercentileMicros(0.5),
      job.lease_to_ack.PercentileMicros(0.99),
      job.server.cpu_seconds * 1e6 / tasks, job.server.peak_rss_mb);
}

// The disk's syncs as JSON members, after a comma; none without a journal.
std::string DiskSyncJson(const RunResult& result) {
  if (!result.disk_sync.has_value()) return "";
  return absl::StrFormat(
      ", \"disk_sync_p50_us\": %.1f, \"disk_sync_p99_us\": %.1f",
      result.disk_sync->PercentileMicros(0.5),
      result.disk_sync->PercentileMicros(0.99));
}

}  // namespace

std::string ToJson(const RunOptions& options, const RunResult& result) {
  return absl::StrFormat(
      "{\"workers\": %d, \"batch\": %d, \"in_flight\": %d, \"tasks\": %d, "
      "\"journal\": \"%s\", \"rate\": %g, \"preload\": %s, "
      "\"tasks_per_s\": %.0f, "
      "\"raw_limit_per_s\": %.0f, \"ratio\": %.3f, "
      "\"p99_enqueue_to_lease_us\": %.1f, \"master_rss_mb\": %d, "
      "\"lost\": %d, \"duplicates\": %d, \"restart_recover_ms\": %.1f%s, %s, "
      "%s}",
      options.workers, options.batch_size, options.in_flight, options.tasks,
      options.journal == "none" ? "none" : "sqlite", options.rate,
      options.preload ? "true" : "false", result.master.tasks_per_s,
      result.raw.tasks_per_s,
      result.master.tasks_per_s / result.raw.tasks_per_s,
      result.master.enqueue_to_lease.PercentileMicros(0.99),
      result.master.server.peak_rss_mb,
      options.tasks - std::min(options.tasks, result.master.server.handled),
      result.master.server.duplicates,
      absl::ToDoubleMilliseconds(result.recover.value_or(absl::ZeroDuration())),
      DiskSyncJson(result), JobJson("master_", result.master, options.tasks),
      JobJson("raw_", result.raw, options.tasks));
}

std::string ToTable(const RunOptions& options, const RunResult& result) {
  std::string table = absl::StrFormat(
      "%d tasks%s, %d workers, batch %d, %d batches in flight, journal %s\n\n"
      "| server | tasks/s | ratio | enqueue to lease p50 / p99 us | lease to "
      "result p50 / p99 us | CPU s per 1M tasks | peak RSS MiB |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n",
      options.tasks, options.preload ? " (preloaded)" : "", options.workers,
      options.batch_size, options.in_flight, options.journal);
  for (const auto& [name, job] :
       {std::pair<const char*, const JobResult*>{"raw gRPC", &result.raw},
        {"master", &result.master}}) {
    absl::StrAppendFormat(
        &table,
        "| %s | %.0f | %.2f | %.0f / %.0f | %.0f / %.0f | %.2f | %d |\n", name,
        job->tasks_per_s, job->tasks_per_s / result.raw.tasks_per_s,
        job->enqueue_to_lease.PercentileMicros(0.5),
        job->enqueue_to_lease.PercentileMicros(0.99),
        job->lease_to_ack.PercentileMicros(0.5),
        job->lease_to_ack.PercentileMicros(0.99),
        job->server.cpu_seconds * 1e6 / options.tasks, job->server.peak_rss_mb);
  }
  if (result.recover.has_value()) {
    absl::StrAppendFormat(&table,
                          "\nA master restarted on the journal recovers it in "
                          "%.1f ms.\n",
                          absl::ToDoubleMilliseconds(*result.recover));
  }
  if (result.disk_sync.has_value()) {
    absl::StrAppendFormat(
        &table,
        "Its disk commits a 4 KiB page (write, fdatasync) in p50 %.0f / p99 "
        "%.0f us: the floor of a journaled lease or ack.\n",
        result.disk_sync->PercentileMicros(0.5),
        result.disk_sync->PercentileMicros(0.99));
  }
  return table;
}

}  // namespace distributo::bench
