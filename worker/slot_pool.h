#ifndef DISTRIBUTO_WORKER_SLOT_POOL_H_
#define DISTRIBUTO_WORKER_SLOT_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "worker/batch_processor.h"
#include "worker/outcome_book.h"
#include "worker/task_ledger.h"
#include "worker/task_processor.h"

namespace distributo::worker {

// Runs the processor on slot threads: each slot takes tasks from the ledger
// (one, or up to a batch for a BatchProcessor), runs them, and hands the
// outcomes to the book; outcomes of cancelled tasks are dropped.
// Thread contract: Start() and Join() from the owning thread, once each;
// the rest is thread-safe. The processors, ledger and book must outlive it.
class SlotPool {
 public:
  struct Stats {
    uint64_t succeeded = 0;
    uint64_t failed = 0;
    uint64_t cancelled = 0;
  };

  // Exactly one of `task_processor` and `batch_processor` is non-null.
  // `on_finished` runs on a slot thread after each run's outcomes are in
  // the book and its tasks left the ledger.
  SlotPool(TaskProcessor* task_processor, BatchProcessor* batch_processor,
           TaskLedger& ledger, OutcomeBook& book,
           std::function<void()> on_finished);
  ~SlotPool();

  // Starts `slots` threads.
  void Start(size_t slots);
  // Waits for the slot threads, which end once the ledger is closed.
  void Join();

  // Sets how many tasks a BatchProcessor gets at most.
  void set_batch_size(size_t batch_size) { batch_size_ = batch_size; }

  Stats stats() const;

 private:
  void SlotLoop();
  void RunBatch(const std::vector<std::shared_ptr<HeldTask>>& held);
  // Records the outcome of `held`, unless it was cancelled, and forgets it.
  void Complete(HeldTask& held, v1::Outcome outcome);
  void CountDropped(const v1::Task& task);

  TaskProcessor* const task_processor_;
  BatchProcessor* const batch_processor_;
  TaskLedger& ledger_;
  OutcomeBook& book_;
  const std::function<void()> on_finished_;
  std::atomic<size_t> batch_size_{1};
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_SLOT_POOL_H_
