#include "server/log_syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace distributo::server {

absl::StatusOr<std::unique_ptr<LogSyncer>> LogSyncer::Open(std::string path) {
  // Read-only serves: a sync flushes the file, whichever descriptor wrote.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open the journal's log ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<LogSyncer>(new LogSyncer(std::move(path), fd));
}

LogSyncer::LogSyncer(std::string path, int fd)
    : path_(std::move(path)), fd_(fd) {}

LogSyncer::~LogSyncer() { close(fd_); }

uint64_t LogSyncer::Written() {
  return written_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

absl::Status LogSyncer::Sync(uint64_t commit) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (synced_ >= commit) return absl::OkStatus();  // a sync took it along
  // Every commit counted by now is in the log: this sync covers them all.
  const uint64_t covered = written_.load(std::memory_order_acquire);
  if (fdatasync(fd_) != 0) {
    failure_ = absl::DataLossError(absl::StrCat(
        "cannot sync the journal's log ", path_, ": ", std::strerror(errno),
        "; what reached the disk since its last sync is unknown, so the "
        "journal takes no more writes: restart the master on it"));
    failed_.store(true, std::memory_order_release);
    return failure_;
  }
  synced_ = covered;
  return absl::OkStatus();
}

absl::Status LogSyncer::Check() {
  // Commits call it under the connection's lock: it must not wait for mu_,
  // which a running sync holds.
  if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&mu_);  // no sync runs once one has failed
  return failure_;
}

}  // namespace distributo::server
