#ifndef DISTRIBUTO_SERVER_LOG_SYNCER_H_
#define DISTRIBUTO_SERVER_LOG_SYNCER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace distributo::server {

// Makes commits that SQLite wrote to its write-ahead log without syncing it
// (synchronous=NORMAL) durable, by syncing the log itself, outside the
// connection's lock: so that the next commit can write while the last one's
// sync runs (SqliteJournal's class comment).
//
// Syncs take turns and are shared: a sync covers every commit counted by
// Written() before it began, so a caller whose commit a finished sync
// covered returns without one.
//
// A failed sync is final: Linux reports a failed write-back once and then
// treats the lost pages as clean, so a later sync would succeed with the
// commits still missing from the disk. Every later Sync() and Check() fails
// too (DataLoss), until the journal is opened again.
//
// Thread-safe.
class LogSyncer {
 public:
  // Opens the log at `path`, which must exist: before the first write, so
  // that a failed write-back of any of them reaches this descriptor.
  static absl::StatusOr<std::unique_ptr<LogSyncer>> Open(std::string path);
  ~LogSyncer();

  LogSyncer(const LogSyncer&) = delete;
  LogSyncer& operator=(const LogSyncer&) = delete;

  // Counts a commit whose frames have been written; returns its number, for
  // Sync().
  uint64_t Written();
  // Returns once commit `commit` (a number from Written()) is on disk.
  absl::Status Sync(uint64_t commit) ABSL_LOCKS_EXCLUDED(mu_);
  // DataLoss if a sync has failed, else OK. Does not wait for a sync that
  // is running.
  absl::Status Check() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& path() const { return path_; }

 private:
  LogSyncer(std::string path, int fd);

  const std::string path_;
  const int fd_;
  std::atomic<uint64_t> written_{0};
  std::atomic<bool> failed_{false};           // set once failure_ is
  absl::Mutex mu_;                            // held through each sync
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;  // commits known on disk
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_LOG_SYNCER_H_
