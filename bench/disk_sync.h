#ifndef DISTRIBUTO_BENCH_DISK_SYNC_H_
#define DISTRIBUTO_BENCH_DISK_SYNC_H_

#include <string>

#include "absl/status/statusor.h"
#include "bench/latency_histogram.h"

namespace distributo::bench {

// Times `syncs` commits, back to back, of a bare file beside `path` (the
// journal's), each a 4 KiB page written in place and fdatasync()ed, as the
// journal commits a small transaction to its write-ahead log. A journaled
// master can lease or ack no sooner than its disk syncs, so this is the
// floor its latencies are read against, measured in the same run. The file
// is removed afterwards. Returns Unavailable if it cannot be written.
absl::StatusOr<LatencyHistogram> TimeDiskSyncs(const std::string& path,
                                               int syncs);

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_DISK_SYNC_H_
