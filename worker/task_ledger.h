#ifndef DISTRIBUTO_WORKER_TASK_LEDGER_H_
#define DISTRIBUTO_WORKER_TASK_LEDGER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"
#include "worker/task_context.h"

namespace distributo::worker {

// A leased task the worker holds, queued or running.
struct HeldTask {
  HeldTask(v1::Task t, uint64_t j) : task(std::move(t)), job(j) {}
  const v1::Task task;
  // OutcomeBook::job() when it was leased: its outcome is dropped if the
  // worker has moved to another job since.
  const uint64_t job;
  TaskContext context;
};

// Tracks the tasks the worker holds (queued or running) and the credit window
// that bounds them: held + credit outstanding <= window. Outcomes the master
// has not acked yet count against the window too beyond one window's worth,
// so that a master slow to ack (a busy journal) slows the leases down rather
// than letting outcomes pile up: held + outstanding + unacked <= 2 x window.
// Thread-safe: the task stream reader adds and cancels, slot threads take and
// finish, the sender reads leases and credit. Cancellation hooks run after
// mu_ is released, so a slow hook never holds up the slots.
class TaskLedger {
 public:
  // Queues newly leased tasks, of job `job` (see HeldTask), and counts them
  // against the credit outstanding.
  void Add(std::vector<v1::Task> tasks, uint64_t job = 0);

  // Blocks until a task is queued or the ledger is closed; returns up to
  // `max` queued tasks, now running. Returns nothing once closed.
  std::vector<std::shared_ptr<HeldTask>> Take(size_t max);

  // Forgets a running task whose outcome was produced: from now on its
  // outcome, until acked, is what counts against the window.
  void Finish(const HeldTask& held);

  // Drops the queued tasks among `leases` and cancels them all, running ones
  // included. Returns how many of them the worker held.
  size_t Cancel(const std::vector<v1::LeaseRef>& leases);

  // Drops every queued task; returns how many.
  size_t DropQueued();

  // Cancels every running task and drops the queued ones.
  void CancelAll();

  // Wakes Take() callers for good: they get nothing from now on.
  void Close();

  // Returns the leases of every held task, for lease extension.
  std::vector<v1::LeaseRef> HeldLeases() const;

  size_t held() const;
  size_t running() const;

  // Starts credit accounting for a new stream, on which the master knows of
  // no credit yet, with room for `window` held tasks.
  void StartCredit(uint32_t window);

  // Returns the credit to grant now (0: none), counting it as outstanding,
  // while `unacked_outcomes` wait for the master's ack (OutcomeBook).
  // Grants come in chunks of at least a quarter window, or whatever is free
  // when the queue ran dry, so that grants stay few but slots never starve.
  uint32_t TakeCreditToGrant(size_t unacked_outcomes);

  // Takes back credit from TakeCreditToGrant() that never reached the
  // master, e.g. because its stream broke.
  void ReturnCredit(uint32_t credit);

 private:
  using LeaseKey = std::pair<std::string, uint64_t>;

  // Forgets the queued tasks that match `predicate`.
  void DropQueuedIfLocked(const std::function<bool(const HeldTask&)>& predicate)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::CondVar queued_cv_;
  std::deque<std::shared_ptr<HeldTask>> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<LeaseKey, std::shared_ptr<HeldTask>> held_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint32_t window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_TASK_LEDGER_H_
