#ifndef DISTRIBUTO_SERVER_JOURNAL_H_
#define DISTRIBUTO_SERVER_JOURNAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/task.pb.h"
#include "server/random_id.h"
#include "server/task_record.h"

namespace distributo::server {

// What a journal holds when the master starts.
struct JournalState {
  // Counts the master's starts on this journal, this one included. Leases
  // granted in an earlier run have epochs below every epoch of this one.
  uint64_t generation = 0;
  // A random id given to the job when the journal was made (a new one per
  // run without a journal), sent to workers in SessionStart.job_id.
  std::string job_id;
  // The result sink's position recorded with the last handled marks;
  // nullopt for a new journal.
  std::optional<uint64_t> sink_position;
  // Tasks ever journaled: the seq of the last one (see TaskPages).
  uint64_t task_count = 0;
  // Finished tasks the master still needs in memory, in enqueue order: those
  // the sink never had, with their outcome, and the dead ones (with only
  // their id once handled), for ListDead(). Unfinished tasks stay on disk.
  std::vector<StoredTask> finished;
  // Done tasks the sink had, which are only counted.
  uint64_t handled_done = 0;
};

// A task as TaskPages reads it back.
struct JournaledTask {
  uint64_t seq = 0;  // its place in enqueue order: 1 for the first
  bool finished = false;
  bool unreadable = false;  // its row does not parse
  PackedTask task;          // only the id of a finished or unreadable task
};

// The tasks of a journal that keeps them on disk, so that the queue holds
// only a window of the pending ones, however long the queue: pending tasks
// are paged in as workers ask (docs/durability.md, "Memory"). A journal
// without pages keeps no tasks; the queue alone holds them.
class TaskPages {
 public:
  virtual ~TaskPages() = default;

  // Returns the tasks with after_seq < seq <= up_to_seq, the first
  // `max_tasks` of them, in order.
  virtual absl::StatusOr<std::vector<JournaledTask>> ReadTasks(
      uint64_t after_seq, uint64_t up_to_seq, size_t max_tasks) = 0;

  // Returns the task with this id, or nullopt if there is none.
  virtual absl::StatusOr<std::optional<JournaledTask>> FindTask(
      absl::string_view task_id) = 0;

  // Adds tasks; ids already journaled are left as they are. Appends the id
  // and seq of each task it added to `added` (when given), in the order of
  // `tasks`, and returns task_count (see JournalState).
  virtual absl::StatusOr<uint64_t> AppendTasks(
      const std::vector<PackedTask>& tasks, std::vector<TaskRef>* added) = 0;
};

// Where the master makes its state durable, batch by batch. The master calls
// it in the order of DESIGN.md §4: Recover() once, before serving; tasks
// appended before they are leased; outcomes committed before they are acked;
// handled marks after the result sink took them. Implementations are called
// from several threads.
class Journal {
 public:
  virtual ~Journal() = default;

  // Returns what earlier runs left and starts a new generation. `job` names
  // the job (its task source and result sink): a journal keeps the first
  // name it is given and refuses another with FailedPrecondition, so that a
  // different job never takes over its tasks and results.
  virtual absl::StatusOr<JournalState> Recover(absl::string_view job) = 0;

  // Records that these tasks finished, with their outcomes.
  virtual absl::Status CommitOutcomes(
      const std::vector<FinishedTask>& finished) = 0;

  // Records that the sink has these finished tasks and has written up to
  // `sink_position`, in one step, so that a restart can drop what the sink
  // wrote past it and hand over exactly the unhandled tasks again.
  virtual absl::Status MarkHandled(const std::vector<TaskRef>& tasks,
                                   uint64_t sink_position) = 0;

  // Makes these dead tasks unfinished again, as new: no attempts, no
  // outcome, not handled. Done tasks are left as they are; unfinished ones
  // (a repeated call, after one whose commit was reported as failed) are
  // reset the same way and returned too, which makes repeating safe. A
  // journal that pages() returns the tasks with their payloads; any other
  // returns none (the queue kept them).
  virtual absl::StatusOr<std::vector<JournaledTask>> Redrive(
      const std::vector<std::string>& task_ids) = 0;

  // Returns true if the journal survives the master (false: memory only).
  virtual bool durable() const = 0;

  // Returns the journal's tasks, if the queue may leave pending tasks to it.
  virtual TaskPages* pages() { return nullptr; }
};

// Keeps nothing: the master's memory is its only state (--journal=none), so a
// master that dies loses its queue. Thread-safe.
class InMemoryJournal final : public Journal {
 public:
  absl::StatusOr<JournalState> Recover(absl::string_view) override {
    JournalState state;
    absl::BitGen random;
    state.job_id = RandomHexId(random);
    return state;
  }
  absl::Status CommitOutcomes(const std::vector<FinishedTask>&) override {
    return absl::OkStatus();
  }
  absl::Status MarkHandled(const std::vector<TaskRef>&, uint64_t) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<JournaledTask>> Redrive(
      const std::vector<std::string>&) override {
    return std::vector<JournaledTask>();
  }
  bool durable() const override { return false; }
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JOURNAL_H_
