#include "worker/slot_pool.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "glog/logging.h"
#include "worker/json_payload.h"

namespace distributo::worker {

SlotPool::SlotPool(TaskProcessor* task_processor,
                   BatchProcessor* batch_processor, TaskLedger& ledger,
                   OutcomeBook& book, std::function<void()> on_finished)
    : task_processor_(task_processor),
      batch_processor_(batch_processor),
      ledger_(ledger),
      book_(book),
      on_finished_(std::move(on_finished)) {
  CHECK((task_processor_ == nullptr) != (batch_processor_ == nullptr))
      << "exactly one processor is required";
}

SlotPool::~SlotPool() { Join(); }

void SlotPool::Start(size_t slots) {
  for (size_t i = 0; i < slots; ++i)
    threads_.emplace_back([this] { SlotLoop(); });
}

void SlotPool::Join() {
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void SlotPool::SlotLoop() {
  while (true) {
    std::vector<std::shared_ptr<HeldTask>> held =
        ledger_.Take(task_processor_ != nullptr ? 1 : batch_size_.load());
    if (held.empty()) return;
    if (task_processor_ != nullptr) {
      HeldTask& one = *held.front();
      Complete(one, task_processor_->Process(one.task, one.context));
    } else {
      RunBatch(held);
    }
    on_finished_();
  }
}

void SlotPool::RunBatch(const std::vector<std::shared_ptr<HeldTask>>& held) {
  std::vector<v1::Task> tasks;
  std::vector<TaskContext*> contexts;
  for (const auto& one : held) {
    tasks.push_back(one->task);
    contexts.push_back(&one->context);
  }
  std::vector<v1::Outcome> outcomes =
      batch_processor_->ProcessBatch(tasks, contexts);
  absl::flat_hash_map<std::string, v1::Outcome> by_id;
  for (v1::Outcome& outcome : outcomes) {
    const std::string id = outcome.lease().task_id();
    if (!by_id.emplace(id, std::move(outcome)).second) {
      LOG(ERROR) << "batch processor returned task " << id << " twice";
    }
  }
  for (const auto& one : held) {
    auto it = by_id.find(one->task.id());
    if (it == by_id.end()) {
      Complete(*one, v1::Outcome());
      continue;
    }
    Complete(*one, std::move(it->second));
    by_id.erase(it);
  }
  for (const auto& [id, outcome] : by_id) {
    LOG(ERROR) << "batch processor returned unknown task " << id;
  }
}

void SlotPool::Complete(HeldTask& held, v1::Outcome outcome) {
  const v1::Task& task = held.task;
  if (held.context.cancelled()) {
    CountDropped(task);
  } else {
    if (!outcome.has_result() && !outcome.has_failure()) {
      outcome = FailureOutcome("no_result", "no result", /*retryable=*/true);
    }
    outcome.mutable_lease()->set_task_id(task.id());
    outcome.mutable_lease()->set_epoch(task.epoch());
    VLOG(1) << "task " << task.id() << " attempt " << task.attempt() << ": "
            << (outcome.has_result() ? "ok" : outcome.failure().code());
    const bool succeeded = outcome.has_result();
    // The book refuses it if the worker moved to another job meanwhile.
    if (book_.Add(std::move(outcome), held.job)) {
      absl::MutexLock lock(&mu_);
      ++(succeeded ? stats_.succeeded : stats_.failed);
    } else {
      CountDropped(task);
    }
  }
  ledger_.Finish(held);
}

void SlotPool::CountDropped(const v1::Task& task) {
  VLOG(1) << "task " << task.id() << ": cancelled, outcome dropped";
  absl::MutexLock lock(&mu_);
  ++stats_.cancelled;
}

SlotPool::Stats SlotPool::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace distributo::worker
