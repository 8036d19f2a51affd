#include "bench/bench_servers.h"

#include <sys/resource.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_task.h"
#include "bench/raw_distributor.h"
#include "grpcpp/server_builder.h"
#include "rpc/atomic_file.h"
#include "server/master.h"
#include "server/sqlite_journal.h"
#include "server/task_feeder.h"

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
      uint64_t index;
      if (!absl::SimpleAtoi(task.task.id(), &index) || index >= seen_.size()) {
        return absl::InternalError("a result for an unknown task");
      }
      if (seen_[index]) ++duplicates_;
      seen_[index] = true;
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

// Mints the job's tasks as the feeder pulls them, stamped as they go: in
// chunks, or one at a time at a fixed rate.
server::TaskFeeder::Pull MintingSource(const ServerOptions& options) {
  auto next = std::make_shared<uint64_t>(0);
  const absl::Time start = absl::Now();
  return [next, start, tasks = options.tasks, rate = options.rate](size_t max) {
    std::vector<v1::Task> minted;
    if (rate > 0 && *next < tasks) {
      // A producer at `rate`: each task is enqueued when it is due.
      absl::SleepFor(start + absl::Seconds(*next / rate) - absl::Now());
      max = 1;
    }
    for (; minted.size() < max && *next < tasks; ++*next) {
      minted.push_back(MakeTask(*next));
    }
    return minted;
  };
}

void FillUsage(ServerReport* report) {
  rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  report->cpu_seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                        (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  report->peak_rss_mb = usage.ru_maxrss / 1024;
}

absl::StatusOr<std::unique_ptr<server::Journal>> OpenJournal(
    const std::string& path) {
  if (path.empty()) return std::make_unique<server::InMemoryJournal>();
  auto journal = server::SqliteJournal::Open(path);
  if (!journal.ok()) return journal.status();
  return std::unique_ptr<server::Journal>(*std::move(journal));
}

}  // namespace

std::string ServerReport::Serialize() const {
  return absl::StrCat("cpu_seconds ", cpu_seconds, "\npeak_rss_mb ",
                      peak_rss_mb, "\nhandled ", handled, "\nduplicates ",
                      duplicates, "\n");
}

absl::StatusOr<ServerReport> ServerReport::Parse(absl::string_view text) {
  ServerReport report;
  int fields = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    bool ok = false;
    if (kv.first == "cpu_seconds") {
      ok = absl::SimpleAtod(kv.second, &report.cpu_seconds);
    }
    if (kv.first == "peak_rss_mb") {
      ok = absl::SimpleAtoi(kv.second, &report.peak_rss_mb);
    }
    if (kv.first == "handled")
      ok = absl::SimpleAtoi(kv.second, &report.handled);
    if (kv.first == "duplicates") {
      ok = absl::SimpleAtoi(kv.second, &report.duplicates);
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad report line: ", line));
    }
    ++fields;
  }
  if (fields != 4)
    return absl::InvalidArgumentError("incomplete server report");
  return report;
}

absl::StatusOr<ServerReport> ServeRaw(const ServerOptions& options) {
  RawDistributor service(options.tasks, options.batch_size);
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
  report.handled = options.tasks;
  return report;
}

absl::StatusOr<ServerReport> ServeMaster(const ServerOptions& options) {
  server::MasterOptions master_options;
  master_options.max_workers = 0;
  master_options.job = "distributo-bench";
  master_options.queue.max_batch_tasks = options.batch_size;
  auto journal = OpenJournal(options.journal_path);
  if (!journal.ok()) return journal.status();
  auto sink = std::make_unique<CountingSink>(options.tasks);
  CountingSink* counts = sink.get();
  auto master = server::Master::Create(std::move(master_options),
                                       *std::move(journal), std::move(sink));
  if (!master.ok()) return master.status();
  const size_t low_water = server::TaskFeeder::LowWaterFor(options.batch_size);
  server::TaskFeeder feeder(master->get(), MintingSource(options), low_water,
                            low_water);
  if (absl::Status status = WriteFileAtomically(
          options.port_file, absl::StrCat((*master)->port(), "\n"));
      !status.ok()) {
    return status;
  }
  const bool complete = (*master)->queue().WaitForCompletion(options.timeout);
  (*master)->Shutdown(absl::Seconds(5));
  if (!complete) return absl::DeadlineExceededError("the job did not end");
  ServerReport report;
  FillUsage(&report);
  counts->Fill(&report);
  return report;
}

}  // namespace distributo::bench
