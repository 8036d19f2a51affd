#ifndef DISTRIBUTO_BENCH_BENCH_SERVERS_H_
#define DISTRIBUTO_BENCH_BENCH_SERVERS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/report.h"

namespace distributo::bench {

// The name of the benchmark's job, which its journal keeps.
inline constexpr char kJob[] = "distributo-bench";

// What a benchmark's server process cost and saw.
struct ServerReport {
  double cpu_seconds = 0;  // user + system, over the process's life
  int64_t peak_rss_mb = 0;
  uint64_t handled = 0;     // results that reached the sink
  uint64_t duplicates = 0;  // results handled a second time (must be 0)

  std::string Serialize() const;
  static absl::StatusOr<ServerReport> Parse(absl::string_view text);
};

struct ServerOptions {
  uint64_t tasks = 100'000;
  // Sessions to wait for before the first task goes out.
  int workers = 1;
  size_t batch_size = 100;
  // The master's journal: empty keeps the queue in memory.
  std::string journal_path;
  // Tasks enqueued per second, one at a time; 0: as fast as workers take
  // them, in chunks, as a job's task source is read.
  double rate = 0;
  // Every task enqueued at once, in chunks of 10,000, as distributo-master
  // reads a --tasks file (a journal then pages most of them back in).
  bool preload = false;
  std::string port_file;  // gets the port once serving
  absl::Duration timeout = absl::Minutes(10);
};

// Serves the raw baseline (RawDistributor) until every task is acked.
absl::StatusOr<ServerReport> ServeRaw(const ServerOptions& options);

// Serves the real master (server::Master, fed by a TaskFeeder as a job is,
// results to a sink that counts them) until the job is complete.
absl::StatusOr<ServerReport> ServeMaster(const ServerOptions& options);

// Enqueues `tasks` tasks into a master with no worker; reports its RSS
// before and after.
absl::StatusOr<Report> HoldPending(const ServerOptions& options);

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_BENCH_SERVERS_H_
