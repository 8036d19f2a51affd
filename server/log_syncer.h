#ifndef DISTRIBUTO_SERVER_LOG_SYNCER_H_
#define DISTRIBUTO_SERVER_LOG_SYNCER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace distributo::server {

// Makes commits that SQLite wrote to its write-ahead log without syncing it
// (synchronous=NORMAL) durable, by syncing the log itself, outside the
// connection's lock: so that one commit's sync does not hold up the next
// commit's writes (SqliteJournal's class comment).
//
// Syncs take turns and are shared: a sync covers every commit counted by
// Written() before it began, so a caller whose commit a finished sync
// covered returns without one.
//
// A failed sync is final: Linux reports a failed write-back once and then
// treats the lost pages as clean, so a later sync would succeed with the
// commits still missing from the disk. Every later Sync() and Check() fails
// too (DataLoss), until the journal is opened again, which reads what is
// really on disk.
class LogSyncer {
 public:
  // For the log at `path`, opened at the first sync.
  explicit LogSyncer(std::string path);
  ~LogSyncer();

  LogSyncer(const LogSyncer&) = delete;
  LogSyncer& operator=(const LogSyncer&) = delete;

  // Counts a commit that has been written; returns its number, for Sync().
  // Called right after the commit, under the connection's lock.
  uint64_t Written();
  // Returns once commit `commit` (a number from Written()) is on disk.
  // Unavailable if the log cannot be opened (a later sync may succeed).
  absl::Status Sync(uint64_t commit) ABSL_LOCKS_EXCLUDED(mu_);
  // DataLoss if a sync has failed, else OK.
  absl::Status Check() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& path() const { return path_; }

 private:
  // Opens the log if it is not open yet; returns its descriptor, or -1.
  int OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  std::atomic<uint64_t> written_{0};
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;  // commits known on disk
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_LOG_SYNCER_H_
