#include "server/queue_stats.h"

#include <utility>

namespace distributo::server {
namespace {

// Messages come from workers: keep enough to read, not whatever was sent.
constexpr size_t kMaxMessage = 1024;

void PushBounded(FailureRecord record, size_t limit,
                 std::deque<FailureRecord>& records) {
  if (record.message.size() > kMaxMessage) {
    record.message.resize(kMaxMessage);
    record.message += "...";
  }
  records.push_front(std::move(record));
  if (records.size() > limit) records.pop_back();
}

}  // namespace

void QueueStats::OnFailure(FailureRecord failure) {
  PushBounded(std::move(failure), kRecentFailures, failures_);
}

void QueueStats::OnDead(FailureRecord dead) {
  PushBounded(std::move(dead), kRecentDead, dead_);
}

std::vector<FailureRecord> QueueStats::recent_failures() const {
  return {failures_.begin(), failures_.end()};
}

std::vector<FailureRecord> QueueStats::recent_dead() const {
  return {dead_.begin(), dead_.end()};
}

}  // namespace distributo::server
