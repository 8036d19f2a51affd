#include "worker/task_ledger.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "glog/logging.h"

namespace distributo::worker {

void TaskLedger::Add(std::vector<v1::Task> tasks, uint64_t job) {
  absl::MutexLock lock(&mu_);
  outstanding_ -= std::min<uint64_t>(outstanding_, tasks.size());
  for (v1::Task& task : tasks) {
    auto held = std::make_shared<HeldTask>(std::move(task), job);
    LeaseKey key(held->task.id(), held->task.epoch());
    if (!held_.emplace(std::move(key), held).second) {
      // A restarted master can lease a task again under an epoch we still
      // hold; the attempt we have answers both.
      LOG(WARNING) << "task " << held->task.id() << " epoch "
                   << held->task.epoch() << " leased again; already held";
      continue;
    }
    queue_.push_back(std::move(held));
  }
  queued_cv_.SignalAll();
}

std::vector<std::shared_ptr<HeldTask>> TaskLedger::Take(size_t max) {
  absl::MutexLock lock(&mu_);
  while (queue_.empty() && !closed_) queued_cv_.Wait(&mu_);
  std::vector<std::shared_ptr<HeldTask>> taken;
  if (closed_) return taken;
  while (!queue_.empty() && taken.size() < max) {
    taken.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return taken;
}

void TaskLedger::Finish(const HeldTask& held) {
  absl::MutexLock lock(&mu_);
  held_.erase(LeaseKey(held.task.id(), held.task.epoch()));
}

size_t TaskLedger::Cancel(const std::vector<v1::LeaseRef>& leases) {
  std::vector<std::shared_ptr<HeldTask>> found;
  {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_set<const HeldTask*> cancelled;
    for (const v1::LeaseRef& lease : leases) {
      auto it = held_.find(LeaseKey(lease.task_id(), lease.epoch()));
      if (it == held_.end() || !cancelled.insert(it->second.get()).second) {
        continue;
      }
      found.push_back(it->second);
    }
    // Cancelled queued tasks never run: drop them now to free their credit.
    DropQueuedIfLocked(
        [&](const HeldTask& held) { return cancelled.contains(&held); });
  }
  for (const auto& held : found) held->context.Cancel();
  return found.size();
}

size_t TaskLedger::DropQueued() {
  absl::MutexLock lock(&mu_);
  const size_t dropped = queue_.size();
  DropQueuedIfLocked([](const HeldTask&) { return true; });
  return dropped;
}

void TaskLedger::CancelAll() {
  std::vector<std::shared_ptr<HeldTask>> running;
  {
    absl::MutexLock lock(&mu_);
    DropQueuedIfLocked([](const HeldTask&) { return true; });
    for (const auto& [key, held] : held_) running.push_back(held);
  }
  for (const auto& held : running) held->context.Cancel();
}

void TaskLedger::DropQueuedIfLocked(
    const std::function<bool(const HeldTask&)>& predicate) {
  auto keep = std::stable_partition(
      queue_.begin(), queue_.end(),
      [&](const std::shared_ptr<HeldTask>& held) { return !predicate(*held); });
  for (auto it = keep; it != queue_.end(); ++it) {
    VLOG(1) << "dropped queued task " << (*it)->task.id();
    held_.erase(LeaseKey((*it)->task.id(), (*it)->task.epoch()));
  }
  queue_.erase(keep, queue_.end());
}

void TaskLedger::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  queued_cv_.SignalAll();
}

std::vector<v1::LeaseRef> TaskLedger::HeldLeases() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::LeaseRef> leases;
  leases.reserve(held_.size());
  for (const auto& [key, held] : held_) {
    v1::LeaseRef& lease = leases.emplace_back();
    lease.set_task_id(key.first);
    lease.set_epoch(key.second);
  }
  return leases;
}

size_t TaskLedger::held() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

size_t TaskLedger::running() const {
  absl::MutexLock lock(&mu_);
  return held_.size() - queue_.size();
}

void TaskLedger::StartCredit(uint32_t window) {
  absl::MutexLock lock(&mu_);
  window_ = window;
  outstanding_ = 0;
}

uint32_t TaskLedger::TakeCreditToGrant(size_t unacked_outcomes) {
  absl::MutexLock lock(&mu_);
  // The first window of unacked outcomes is free, so that a master that
  // acks promptly never stalls the pipeline.
  const uint64_t unacked_beyond_window =
      unacked_outcomes - std::min<uint64_t>(unacked_outcomes, window_);
  const uint64_t used = held_.size() + outstanding_ + unacked_beyond_window;
  if (closed_ || used >= window_) return 0;
  const uint32_t free = window_ - static_cast<uint32_t>(used);
  const uint32_t chunk = std::max<uint32_t>(1, window_ / 4);
  if (free < chunk && !queue_.empty()) return 0;
  outstanding_ += free;
  return free;
}

void TaskLedger::ReturnCredit(uint32_t credit) {
  absl::MutexLock lock(&mu_);
  // Saturates: StartCredit() may have reset the count meanwhile.
  outstanding_ -= std::min<uint64_t>(outstanding_, credit);
}

}  // namespace distributo::worker
