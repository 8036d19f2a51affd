#include "server/log_syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace distributo::server {

LogSyncer::LogSyncer(std::string path) : path_(std::move(path)) {}

LogSyncer::~LogSyncer() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

uint64_t LogSyncer::Written() {
  return written_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

absl::Status LogSyncer::Sync(uint64_t commit) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (synced_ >= commit) return absl::OkStatus();  // a sync took it along
  // Every commit counted by now is in the log: this sync covers them all.
  const uint64_t covered = written_.load(std::memory_order_acquire);
  const int fd = OpenLocked();
  if (fd < 0) {
    // Nothing is lost: the commits wait in the operating system for the
    // next sync (too many open files, say).
    return absl::UnavailableError(absl::StrCat(
        "cannot open the journal's log ", path_, ": ", std::strerror(errno)));
  }
  if (fdatasync(fd) != 0) {
    failure_ = absl::DataLossError(absl::StrCat(
        "cannot sync the journal's log ", path_, ": ", std::strerror(errno),
        "; what reached the disk since its last sync is unknown, so the "
        "journal takes no more writes: restart the master on it to go on "
        "from what is on disk"));
    return failure_;
  }
  synced_ = covered;
  return absl::OkStatus();
}

absl::Status LogSyncer::Check() {
  absl::MutexLock lock(&mu_);
  return failure_;
}

int LogSyncer::OpenLocked() {
  // Read-only serves: a sync flushes the file, whichever descriptor wrote.
  if (fd_ < 0) fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  return fd_;
}

}  // namespace distributo::server
