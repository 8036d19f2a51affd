#include "bench/disk_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_task.h"

namespace distributo::bench {
namespace {

constexpr size_t kPageBytes = 4096;
// Pages the probe cycles through: a log that is rewritten from its start,
// as SQLite's is after a checkpoint, so the file's size (and its metadata)
// no longer changes.
constexpr int kPages = 256;

absl::Status SyncError(const std::string& file, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat("disk sync probe ", file, ": ",
                                             what, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<LatencyHistogram> TimeDiskSyncs(const std::string& path,
                                               int syncs) {
  const std::string file = path + "-sync-probe";
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return SyncError(file, "open");
  absl::Cleanup remove = [&] {
    close(fd);
    unlink(file.c_str());
  };
  const std::vector<char> page(kPageBytes, 'x');
  for (int i = 0; i < kPages; ++i) {
    if (pwrite(fd, page.data(), kPageBytes, i * kPageBytes) !=
        static_cast<ssize_t>(kPageBytes)) {
      return SyncError(file, "write");
    }
  }
  if (fsync(fd) != 0) return SyncError(file, "fsync");
  LatencyHistogram histogram;
  for (int i = 0; i < syncs; ++i) {
    if (pwrite(fd, page.data(), kPageBytes, (i % kPages) * kPageBytes) !=
        static_cast<ssize_t>(kPageBytes)) {
      return SyncError(file, "write");
    }
    const int64_t start = MonotonicNanos();
    if (fdatasync(fd) != 0) return SyncError(file, "fdatasync");
    histogram.Record(MonotonicNanos() - start);
  }
  return histogram;
}

}  // namespace distributo::bench
