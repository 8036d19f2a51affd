#ifndef DISTRIBUTO_SERVER_TASK_QUEUE_H_
#define DISTRIBUTO_SERVER_TASK_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"
#include "server/journal.h"
#include "server/lease_writer.h"
#include "server/queue_options.h"
#include "server/queue_stats.h"
#include "server/task_record.h"

namespace distributo::server {

// A snapshot of the queue's counters.
struct QueueCounts {
  uint64_t total = 0;  // ever enqueued
  uint64_t pending = 0;
  uint64_t leased = 0;
  uint64_t backoff = 0;
  uint64_t done = 0;
  uint64_t dead = 0;
  uint64_t unhandled = 0;       // finished, not yet marked handled
  uint64_t failures = 0;        // failed attempts so far
  uint64_t sessions = 0;        // connected worker sessions
  uint64_t leases = 0;          // leases granted
  uint64_t duplicates = 0;      // outcomes for tasks already finished
  uint64_t lease_expiries = 0;  // leases that ran out
  uint64_t requeues = 0;        // lost leases whose task went back to pending
  uint64_t in_memory = 0;       // tasks held in memory; the rest are on disk
  bool complete = false;
};

// Returns the tasks finished per second over `elapsed`, counting only those
// past the `finished_before` finished when it began: a resumed job's
// earlier runs do not make it look faster.
double FinishedPerSecond(const QueueCounts& counts, uint64_t finished_before,
                         absl::Duration elapsed);

// Returns InvalidArgument if a task has an empty id.
absl::Status CheckIds(const std::vector<PackedTask>& tasks);

// A dead task and why, as ListDead() returns it.
struct DeadTask {
  std::string task_id;
  std::string code;
  std::string message;  // empty for one restored after it was handled
  uint32_t attempts = 0;
  uint64_t last_epoch = 0;  // of its last lease in this run; 0: none
};

// A snapshot of the queue for observability.
struct QueueStatus {
  QueueCounts counts;
  std::vector<WorkerStatus> workers;
  Histogram schedule_to_start;  // pending until leased
  Histogram task_duration;      // leased until its outcome was accepted
  std::vector<FailureRecord> recent_failures;  // newest first
  std::vector<FailureRecord> recent_dead;      // newest first
};

// The lease state machine of DESIGN.md §3: pending, leased (epoch, holder,
// deadline), backoff, done, dead. Every call works on a whole batch under one
// lock. Time comes from the injected clock; nothing happens on its own: the
// owner calls Tick() periodically to expire leases and release retries.
//
// Without TaskPages, every task lives in memory. With them (a journal), the
// tasks live in the journal and the queue holds only a window of the pending
// ones, paged in as workers lease, with the leased ones and the finished ones
// not yet handled; the journal answers for the rest (late outcomes, cancels).
// Its memory does not grow with the queue.
//
// Thread-safe. The change listener is called without the lock held, after any
// call that made tasks leasable or completed the job.
class TaskQueue {
 public:
  using Clock = std::function<absl::Time()>;

  TaskQueue(QueueOptions options, Clock clock, TaskPages* pages = nullptr);

  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Sets the function called when tasks become leasable or the job
  // completes, with a session id when only that session's stream may have
  // more to do (it handed in outcomes: a suspect it ran alone, or the tasks
  // it held before taking one, are done), or "" for every stream. With
  // thousands of workers, waking them all for each batch of outcomes would
  // cost each batch thousands of wake-ups.
  using ChangeListener = std::function<void(absl::string_view session_id)>;
  void SetChangeListener(ChangeListener listener);

  const QueueOptions& options() const { return options_; }

  // Returns true if the queue's tasks live in a journal (TaskPages).
  bool paged() const { return pages_ != nullptr; }

  // Adds to a queue that is not paged() the tasks whose ids it does not
  // know yet, the first of an id repeated in `tasks`; returns how many, and
  // appends their ids to `added_ids` if given. Returns InvalidArgument
  // (adding nothing) for an empty id.
  absl::StatusOr<size_t> Enqueue(std::vector<PackedTask> tasks,
                                 std::vector<std::string>* added_ids = nullptr);

  // Tells a paged() queue that the journal holds `task_count` tasks: those
  // past the ones it knew are new, and pending. `tasks` were appended last
  // and `added` is what the journal added of them (TaskPages::AppendTasks):
  // the queue admits those at once, as a read of its next page would, while
  // every task before them is in memory and its window has room; it reads
  // the others from the journal later.
  void AddJournaled(uint64_t task_count, std::vector<PackedTask> tasks,
                    const std::vector<TaskRef>& added);

  // Loads what a journal kept, before anything else is enqueued: the
  // journal's unfinished tasks are pending (on disk), its finished ones
  // count as such. `state.generation` lifts this run's epochs above those of
  // every earlier run. Appends the finished tasks the sink never had to
  // `unhandled`, to be handed over again.
  void Restore(JournalState state, std::vector<FinishedTask>* unhandled);

  // Declares that no task will be enqueued any more (job mode): once every
  // task is finished and handled, the job is complete.
  void CloseSource();
  // Returns true once CloseSource() was called.
  bool source_closed();

  // Cancels a task for good: it ends dead with code "cancelled" and
  // `reason`, appended to `finished`. Returns the lease it had, if it was
  // leased, so that its worker can be told (and the session holding it);
  // NotFound for an unknown id, FailedPrecondition if already finished.
  struct Cancelled {
    std::string session_id;  // empty: it was not leased
    v1::LeaseRef lease;
    std::string worker_name;
  };
  absl::StatusOr<Cancelled> Cancel(absl::string_view task_id,
                                   absl::string_view reason,
                                   std::vector<FinishedTask>* finished);

  // Returns up to `limit` dead tasks from the `offset`th, in the order they
  // died (restored ones first).
  std::vector<DeadTask> ListDead(size_t offset, size_t limit);

  // What Redrive() is to do with `task_ids` (if empty, the first
  // `max_dead` dead tasks): the dead tasks whose outcome the sink has, to
  // redrive, and a verdict for every id, in order. Returns the journal's
  // error if it cannot tell.
  enum class RedriveVerdict { kRedriven, kUnknown, kNotDead, kNotYetHandled };
  struct RedrivePlan {
    std::vector<std::string> task_ids;
    std::vector<std::pair<std::string, RedriveVerdict>> verdicts;
  };
  absl::StatusOr<RedrivePlan> PlanRedrive(std::vector<std::string> task_ids,
                                          size_t max_dead);

  // Ends the redrive PlanRedrive() planned (until then the job cannot
  // complete): makes the tasks pending again, as new (no attempts, failures
  // or worker deaths counted; outcomes of their earlier leases are stale),
  // once the journal took them. A paged() queue takes them from `rows`, the
  // journal's copies; another kept them. A journal error leaves them dead.
  void Redrive(const std::vector<std::string>& task_ids,
               absl::StatusOr<std::vector<JournaledTask>> rows);

  // Opens a session for a worker known by `identity` (its token's name; ""
  // without tokens). Returns the new session id.
  std::string OpenSession(const v1::WorkerHello& hello,
                          absl::string_view peer = "",
                          absl::string_view identity = "");

  // Reconnects a disconnected session within its grace. Returns NotFound if
  // the session is unknown or its leases were already requeued,
  // PermissionDenied if it is another identity's.
  absl::Status ResumeSession(absl::string_view session_id,
                             absl::string_view identity = "");

  // Starts the requeue grace of a session whose stream broke or closed.
  void DisconnectSession(absl::string_view session_id);

  // Returns OK if `session_id` names a live or resumable session of
  // `identity`; NotFound if it names none, PermissionDenied if another
  // identity's: with tokens, a worker can hand in outcomes only as itself.
  absl::Status CheckSession(absl::string_view session_id,
                            absl::string_view identity = "");

  // Leases up to `max_tasks` pending tasks (and never more than the batch
  // limits) to the session, adding them to `out` (and ending its batch if
  // there are any). Returns how many. A
  // task that lost a worker goes alone to a session holding nothing (a busy
  // one stops taking tasks until it holds nothing, one per such task), and
  // that session gets nothing more until it is done: if it kills that
  // worker too, the loss is its own (poison), not its batch-mates'. Leases
  // nothing while max_unhandled finished tasks wait to be handled.
  size_t Lease(absl::string_view session_id, size_t max_tasks,
               LeaseWriter* out);
  // The same into a message, as tests and the fuzzer read them.
  size_t Lease(absl::string_view session_id, size_t max_tasks,
               v1::LeasedTasks* out);

  // Applies a batch of outcomes and extensions from the session. Fills the
  // ack and appends the tasks that reached a terminal state to `finished`.
  v1::ResultAck Submit(absl::string_view session_id,
                       const v1::ResultBatch& batch,
                       std::vector<FinishedTask>* finished);
  // The same with `bad_results` from CheckResults(batch), computed earlier
  // on another thread (parsing costs per task), filling `ack`; the accepted
  // results are moved out of `batch`.
  void Submit(absl::string_view session_id, v1::ResultBatch* batch,
              const std::vector<std::string>& bad_results, v1::ResultAck* ack,
              std::vector<FinishedTask>* finished);

  // Returns, per outcome, why its result fails options_.check_result ("" if
  // it passes or is not a result). Thread-safe; takes no lock.
  std::vector<std::string> CheckResults(const v1::ResultBatch& batch) const;

  // Expires overdue leases, requeues the leases of sessions past their
  // grace, and releases retries that are due. Appends tasks that became dead
  // to `finished`.
  void Tick(std::vector<FinishedTask>* finished);

  // Gives every lease a full lease from now, and every disconnected session
  // a fresh grace: after a pause in which workers could not extend them
  // (the journal could not write), so that no task counts a worker death.
  void RenewLeases();

  // Records that these finished tasks reached the result handler. Tells the
  // change listener when that completes the job or lets leasing resume.
  void MarkHandled(const std::vector<TaskRef>& tasks);

  QueueCounts Counts();

  // Returns the counts with the workers, the wait and run histograms and
  // the latest failures and dead tasks: everything the status page shows.
  QueueStatus Status();

  // Waits until fewer than `count` tasks are pending or `timeout` passes.
  // Returns whether they are.
  bool WaitForPendingBelow(size_t count, absl::Duration timeout);

  // Returns true once the source is closed and every task is finished and
  // handled.
  bool IsComplete();

  // Waits until the job is complete or `timeout` passes. Returns whether it
  // is complete.
  bool WaitForCompletion(absl::Duration timeout);

 private:
  using PendingList = std::deque<TaskRecord*>;

  // A task found by id: held in memory (record), or only on disk; unknown
  // when neither is set.
  struct Lookup {
    // Of a record in memory.
    static Lookup Of(TaskRecord* record) {
      return {record, record->state == TaskState::kDone ||
                          record->state == TaskState::kDead};
    }

    TaskRecord* record = nullptr;
    bool finished = false;
  };

  bool CompleteLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether too many finished tasks wait to be handled to lease more.
  bool BackloggedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pending tasks, in memory and on disk.
  uint64_t PendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the next page of journaled tasks into memory. Returns whether it
  // read any.
  bool PageInLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Admits the rows AddJournaled() was given, while it may.
  void AdmitAppendedLocked(std::vector<JournaledTask> appended)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the tasks whose journal rows did not parse dead. Returns whether
  // there were any.
  bool EndUnreadableLocked(std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finds a task in memory, else in the journal: a pending task found there
  // is loaded, out of turn, as pending. Returns the journal's error.
  absl::StatusOr<Lookup> FindLocked(absl::string_view task_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  QueueCounts CountsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TaskRecord& AddRecordLocked(PackedTask&& task)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills a record with its task, as yet unleased; its epoch is the
  // caller's to set, under the lock.
  static void FillRecord(TaskRecord* record, PackedTask&& task);
  // Adds the record of a task read from the journal (pending, by default).
  TaskRecord& AddJournaledLocked(JournaledTask&& row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds a task read from the journal as pending since `now`: last in its
  // list, or, if its row does not parse, in none, to be ended dead at the
  // next Tick().
  TaskRecord& AdmitJournaledLocked(JournaledTask&& row, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes these tasks out of the dead ones; returns each one's last epoch.
  absl::flat_hash_map<std::string, uint64_t> TakeDeadLocked(
      const std::vector<std::string>& task_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Resets a redriven task to start again above `last_epoch`.
  void StartAgainLocked(TaskRecord& record, uint64_t last_epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the redrive of a task the journal has as pending although its
  // redrive failed: returns its last epoch, or nullopt if it is no such task.
  std::optional<uint64_t> TakeUnsureRedriveLocked(absl::string_view task_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the verdict of a redrive of `task_id`, which is not dead.
  absl::StatusOr<RedriveVerdict> NotDeadVerdictLocked(absl::string_view task_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreFinishedLocked(StoredTask stored,
                             std::vector<FinishedTask>* unhandled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls the listener (without mu_): for `session_id`, or "" for all.
  void NotifyChange(absl::string_view session_id = "");
  Session* FindSessionLocked(absl::string_view session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the session if it is `identity`'s; else CheckSession()'s error.
  absl::StatusOr<Session*> FindOwnSessionLocked(absl::string_view session_id,
                                                absl::string_view identity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts a record in its type's list, first or last, pending since `now`
  // (callers read the clock once for all the tasks they add).
  void MakePendingLocked(TaskRecord* record, bool front, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pops the next pending task the session takes, paging in more as needed.
  TaskRecord* NextPendingLocked(const Session& session, size_t byte_budget)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TaskRecord* PopPendingLocked(const Session& session, size_t byte_budget)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasPendingForLocked(const Session& session) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pops the first suspect the session takes, if any.
  TaskRecord* PopSuspectLocked(const Session& session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns whether a session that holds tasks is to drain them and then
  // run a suspect: one such session per suspect waiting, so that suspects
  // do not wait for a worker that never runs empty.
  bool ReserveForSuspectLocked(Session& session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnreserveLocked(Session& session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the list a pending task waits in.
  PendingList& WaitingListLocked(const TaskRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a pending or backoff task out of its waiting list.
  void StopWaitingLocked(TaskRecord* record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GrantLeaseLocked(TaskRecord* record, Session* session, absl::Time now,
                        LeaseWriter* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLeaseLocked(TaskRecord* record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the record of each outcome's task that is in memory, else null.
  std::vector<TaskRecord*> FindRecordsLocked(const Session* session,
                                             const v1::ResultBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets `verdict`. Returns true if `outcome` finished its task with its
  // result, which the caller then moves into the task's FinishedTask (the
  // last in `finished`), after the lock. `known` is the task's record if the
  // caller found it in memory, else null (looked up here).
  bool ApplyOutcomeLocked(Session* session, const v1::Outcome& outcome,
                          TaskRecord* known, absl::Time now,
                          v1::ItemVerdict* verdict,
                          std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the verdict of an outcome that must be dropped, or nullopt if it
  // applies to `*record`. `*record` comes in as ApplyOutcomeLocked()'s
  // `known`.
  std::optional<v1::ItemVerdict> RejectOutcomeLocked(const Session* session,
                                                     const v1::Outcome& outcome,
                                                     TaskRecord** record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns whether the task may have been leased under `epoch`, in this
  // run or an earlier one.
  bool MayHaveLeased(const TaskRecord& record, uint64_t epoch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns whether `epoch` is the task's active lease.
  static bool IsCurrentLease(const TaskRecord& record, uint64_t epoch);
  v1::ItemVerdict ApplyExtensionLocked(Session* session,
                                       const v1::LeaseRef& lease,
                                       absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finishes the task done; its FinishedTask, last in `finished`, is left
  // without a result for the caller to fill in.
  void SucceedLocked(TaskRecord* record, std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailLocked(TaskRecord* record, const v1::Failure& failure,
                  absl::Time now, std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoseLeaseLocked(TaskRecord* record, absl::string_view why,
                       std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(TaskRecord* record, TaskState state,
                    std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration BackoffLocked(int failures) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExpireLeasesLocked(absl::Time now, std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DropExpiredSessionsLocked(absl::Time now,
                                 std::vector<FinishedTask>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ReleaseRetriesLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A paged queue keeps at least this many pending tasks in memory while
  // more wait on disk, and reads them this many at a time: enough for a few
  // full batches between reads (a few MiB of small tasks).
  static constexpr uint64_t kPageWindow = 4096;
  static constexpr size_t kPageTasks = 1024;
  // How far the window may grow for a session that takes only some payload
  // types, looking for tasks of its types further on.
  static constexpr uint64_t kMaxPageWindow = 65536;

  const QueueOptions options_;
  const Clock clock_;
  TaskPages* const pages_;
  ChangeListener listener_;  // set before use, then read-only

  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  // Every task in memory, by id: a set of records is a map by id without a
  // second copy of each id as its key.
  absl::flat_hash_set<std::unique_ptr<TaskRecord>, RecordsById, RecordsById>
      tasks_ ABSL_GUARDED_BY(mu_);
  // Pending tasks by payload type URL, oldest first. Node-based and never
  // erased from, so that last_pending_ stays valid.
  absl::node_hash_map<std::string, PendingList> pending_ ABSL_GUARDED_BY(mu_);
  // The list WaitingListLocked() found last: tasks come in runs of one type.
  std::pair<const std::string, PendingList>* last_pending_
      ABSL_GUARDED_BY(mu_) = nullptr;
  // Pending tasks that lost a worker (suspects of killing it), any type:
  // each runs alone, on a session that holds nothing else (see Lease()).
  PendingList suspects_ ABSL_GUARDED_BY(mu_);
  // Sessions draining for a suspect (Session::reserved).
  size_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  // Dead tasks in the order they died.
  std::vector<DeadTask> dead_ ABSL_GUARDED_BY(mu_);
  // Those not yet marked handled, which cannot be redriven yet.
  absl::flat_hash_set<std::string> unhandled_dead_ ABSL_GUARDED_BY(mu_);
  // Redrives planned and not yet ended by Redrive().
  size_t redrives_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Dead tasks whose journal redrive failed, which the journal may have
  // taken all the same (paged only).
  absl::flat_hash_set<std::string> unsure_redrives_ ABSL_GUARDED_BY(mu_);
  // Failed tasks waiting for their retry time, earliest first.
  using RetryEntry = std::pair<absl::Time, TaskRecord*>;
  absl::btree_set<RetryEntry> retries_ ABSL_GUARDED_BY(mu_);
  absl::node_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  QueueCounts counts_ ABSL_GUARDED_BY(mu_);
  QueueStats stats_ ABSL_GUARDED_BY(mu_);
  // Set under mu_, read without it too: until the source closes the queue
  // cannot be complete, which streams ask at every turn (IsComplete()).
  std::atomic<bool> source_closed_ = false;
  // Every task's epoch starts here: generation << 32 (see Restore()).
  uint64_t epoch_base_ ABSL_GUARDED_BY(mu_) = 0;
  // Paged: the journal's tasks are numbered by seq from 1 to journaled_;
  // those up to paged_to_ were read in (and are in memory until handled).
  // ahead_ counts those past paged_to_ that are not pending on disk: found
  // finished at restart, or loaded out of turn by FindLocked().
  uint64_t journaled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t paged_to_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ahead_ ABSL_GUARDED_BY(mu_) = 0;
  // The last seq journaled by earlier runs, which may have leased them.
  uint64_t restored_to_ ABSL_GUARDED_BY(mu_) = 0;
  // Set when the journal could not be read: the next Tick() wakes the
  // streams to try again, since nothing else would.
  bool page_failed_ ABSL_GUARDED_BY(mu_) = false;
  // Something changed, with no notice to every stream yet, that streams
  // other than the one acting may care about (tasks paged in, or found on
  // disk; another session's lease ended): the next Submit() or Tick() wakes
  // them all.
  bool wake_all_ ABSL_GUARDED_BY(mu_) = false;
  // Paged in, but their rows do not parse: pending (never leased) until
  // the next Tick() ends them dead, since only it can hand them over.
  std::vector<std::string> unreadable_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_QUEUE_H_
