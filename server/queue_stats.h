#ifndef DISTRIBUTO_SERVER_QUEUE_STATS_H_
#define DISTRIBUTO_SERVER_QUEUE_STATS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/histogram.h"

namespace distributo::server {

// A failed attempt or a dead task, for the status page.
struct FailureRecord {
  absl::Time time;
  std::string task_id;
  std::string worker;  // who reported it; empty for a lost lease
  std::string code;
  std::string message;
};

// One worker session as the status page shows it.
struct WorkerStatus {
  std::string session_id;
  std::string name;
  std::string peer;  // e.g. "ipv4:10.0.0.7:51234"
  uint32_t slots = 0;
  uint64_t in_flight = 0;  // leases held
  uint64_t done = 0;       // results accepted
  uint64_t failed = 0;     // failures reported
  bool connected = false;
  absl::Time last_seen;
};

// What TaskQueue records for observability beyond its counts: how long
// tasks wait and run, and the latest failures and dead tasks.
// Thread-compatible: TaskQueue calls it under its own lock.
class QueueStats {
 public:
  static constexpr size_t kRecentFailures = 20;
  static constexpr size_t kRecentDead = 100;

  void OnLease(absl::Duration waited) { schedule_to_start_.Observe(waited); }
  void OnOutcome(absl::Duration ran) { task_duration_.Observe(ran); }
  void OnFailure(FailureRecord failure);
  void OnDead(FailureRecord dead);

  const Histogram& schedule_to_start() const { return schedule_to_start_; }
  const Histogram& task_duration() const { return task_duration_; }
  // Newest first.
  std::vector<FailureRecord> recent_failures() const;
  std::vector<FailureRecord> recent_dead() const;

 private:
  Histogram schedule_to_start_;
  Histogram task_duration_;
  std::deque<FailureRecord> failures_;  // newest at the front
  std::deque<FailureRecord> dead_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_QUEUE_STATS_H_
