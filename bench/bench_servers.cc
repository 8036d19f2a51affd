#include "bench/bench_servers.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_task.h"
#include "bench/raw_distributor.h"
#include "bench/report.h"
#include "grpcpp/server_builder.h"
#include "rpc/atomic_file.h"
#include "server/master.h"
#include "server/sqlite_journal.h"
#include "server/task_feeder.h"
#include "tests/integration/child_process.h"

namespace distributo::bench {
namespace {

// Counts the results handed to it, and those it had already had.
class CountingSink final : public server::ResultSink {
 public:
  explicit CountingSink(uint64_t tasks) : seen_(tasks, false) {}

  absl::Status Write(
      const std::vector<server::FinishedTask>& finished) override {
    absl::MutexLock lock(&mu_);
    for (const server::FinishedTask& task : finished) {
      const std::optional<uint64_t> index = TaskIndexOf(task.task.id());
      if (!index.has_value() || *index >= seen_.size()) {
        return absl::InternalError("a result for an unknown task");
      }
      if (seen_[*index]) ++duplicates_;
      seen_[*index] = true;
      ++handled_;
    }
    return absl::OkStatus();
  }

  void Fill(ServerReport* report) {
    absl::MutexLock lock(&mu_);
    report->handled = handled_;
    report->duplicates = duplicates_;
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> seen_ ABSL_GUARDED_BY(mu_);
  uint64_t handled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
};

// Mints the job's tasks as the feeder pulls them, each chunk stamped as it
// is made: in chunks, or one at a time at a fixed rate.
server::TaskFeeder::Pull MintingSource(const ServerOptions& options) {
  auto next = std::make_shared<uint64_t>(0);
  const absl::Time start = absl::Now();
  return [next, start, tasks = options.tasks, rate = options.rate](size_t max) {
    std::vector<server::PackedTask> minted;
    if (rate > 0 && *next < tasks) {
      // A producer at `rate`: each task is enqueued when it is due.
      absl::SleepFor(start + absl::Seconds(*next / rate) - absl::Now());
      max = 1;
    }
    minted.reserve(std::min<uint64_t>(max, tasks - *next));
    const int64_t now = MonotonicNanos();
    for (; minted.size() < max && *next < tasks; ++*next) {
      minted.push_back(MakeTask(*next, now));
    }
    return minted;
  };
}

// Enqueues the job's tasks in chunks, as distributo-master reads a --tasks
// file: one journal transaction each.
absl::Status EnqueueAll(const ServerOptions& options, server::Master& master) {
  constexpr uint64_t kChunk = 10'000;
  for (uint64_t next = 0; next < options.tasks;) {
    std::vector<server::PackedTask> chunk;
    const int64_t now = MonotonicNanos();
    for (; chunk.size() < kChunk && next < options.tasks; ++next) {
      chunk.push_back(MakeTask(next, now));
    }
    if (absl::StatusOr<size_t> added = master.Enqueue(&chunk); !added.ok()) {
      return added.status();
    }
  }
  return absl::OkStatus();
}

// Pulls nothing: the job's tasks are all enqueued already.
std::vector<server::PackedTask> NoMoreTasks(size_t) { return {}; }

void FillUsage(ServerReport* report) {
  rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  report->cpu_seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                        (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  report->peak_rss_mb = usage.ru_maxrss / 1024;
}

absl::StatusOr<std::unique_ptr<server::Master>> StartMaster(
    const ServerOptions& options, std::unique_ptr<server::ResultSink> sink) {
  server::MasterOptions master_options;
  master_options.max_workers = 0;
  master_options.job = kJob;
  master_options.queue.max_batch_tasks = options.batch_size;
  auto journal = server::OpenJournalAt(options.journal_path);
  if (!journal.ok()) return journal.status();
  return server::Master::Create(std::move(master_options), *std::move(journal),
                                std::move(sink));
}

}  // namespace

std::string ServerReport::Serialize() const {
  Report report;
  report.SetNumber("cpu_seconds", cpu_seconds);
  report.SetNumber("peak_rss_mb", peak_rss_mb);
  report.SetNumber("handled", handled);
  report.SetNumber("duplicates", duplicates);
  return report.Serialize();
}

absl::StatusOr<ServerReport> ServerReport::Parse(absl::string_view text) {
  absl::StatusOr<Report> report = Report::Parse(text);
  if (!report.ok()) return report.status();
  absl::StatusOr<double> cpu = report->Number("cpu_seconds");
  absl::StatusOr<double> rss = report->Number("peak_rss_mb");
  absl::StatusOr<double> handled = report->Number("handled");
  absl::StatusOr<double> duplicates = report->Number("duplicates");
  for (const absl::Status& status :
       {cpu.status(), rss.status(), handled.status(), duplicates.status()}) {
    if (!status.ok()) return status;
  }
  ServerReport parsed;
  parsed.cpu_seconds = *cpu;
  parsed.peak_rss_mb = *rss;
  parsed.handled = *handled;
  parsed.duplicates = *duplicates;
  return parsed;
}

absl::StatusOr<ServerReport> ServeRaw(const ServerOptions& options) {
  RawDistributor service(options.tasks, options.batch_size, options.workers);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError("cannot listen on 127.0.0.1");
  }
  if (absl::Status status =
          WriteFileAtomically(options.port_file, absl::StrCat(port, "\n"));
      !status.ok()) {
    return status;
  }
  const bool acked = service.AwaitAllAcked(options.timeout);
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  if (!acked) return absl::DeadlineExceededError("the raw job did not end");
  ServerReport report;
  FillUsage(&report);
  report.handled = service.acked();  // the raw server handles nothing
  return report;
}

absl::StatusOr<ServerReport> ServeMaster(const ServerOptions& options) {
  auto sink = std::make_unique<CountingSink>(options.tasks);
  CountingSink* counts = sink.get();
  auto master = StartMaster(options, std::move(sink));
  if (!master.ok()) return master.status();
  if (absl::Status status = WriteFileAtomically(
          options.port_file, absl::StrCat((*master)->port(), "\n"));
      !status.ok()) {
    return status;
  }
  // As the raw server, no task before every worker has its session (the
  // master has no event for that, so this looks every few milliseconds).
  if (!testing::WaitUntil(
          [&] {
            return (*master)->Status().streams.submit_results_open >=
                   static_cast<uint64_t>(options.workers);
          },
          options.timeout)) {
    return absl::DeadlineExceededError("the workers did not all connect");
  }
  // Preloaded, workers take tasks while the rest are still being enqueued,
  // as from a master reading a --tasks file.
  if (options.preload) {
    if (absl::Status status = EnqueueAll(options, **master); !status.ok()) {
      return status;
    }
  }
  const size_t low_water = server::TaskFeeder::LowWaterFor(options.batch_size);
  server::TaskFeeder feeder(master->get(),
                            options.preload
                                ? server::TaskFeeder::Pull(NoMoreTasks)
                                : MintingSource(options),
                            low_water, low_water);
  const bool complete = (*master)->queue().WaitForCompletion(options.timeout);
  (*master)->Shutdown(absl::Seconds(5));
  if (!complete) return absl::DeadlineExceededError("the job did not end");
  ServerReport report;
  FillUsage(&report);
  counts->Fill(&report);
  return report;
}

absl::StatusOr<Report> HoldPending(const ServerOptions& options) {
  auto master = StartMaster(options, std::make_unique<CountingSink>(0));
  if (!master.ok()) return master.status();
  const int64_t before_kb = testing::ProcStatus(getpid(), "VmRSS:");
  if (absl::Status status = EnqueueAll(options, **master); !status.ok()) {
    return status;
  }
  const int64_t after_kb = testing::ProcStatus(getpid(), "VmRSS:");
  (*master)->Shutdown(absl::ZeroDuration());
  Report report;
  report.SetNumber("pending", options.tasks);
  report.SetNumber("rss_before_kb", before_kb);
  report.SetNumber("rss_after_kb", after_kb);
  return report;
}

}  // namespace distributo::bench
