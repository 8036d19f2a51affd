#ifndef DISTRIBUTO_SERVER_JOURNAL_H_
#define DISTRIBUTO_SERVER_JOURNAL_H_

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
  // Every task, in the order it was enqueued; finished and handled tasks
  // carry only their id.
  std::vector<StoredTask> tasks;
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

  // Adds tasks; ids already journaled are left as they are.
  virtual absl::Status AppendTasks(const std::vector<v1::Task>& tasks) = 0;

  // Records that these tasks finished, with their outcomes.
  virtual absl::Status CommitOutcomes(
      const std::vector<FinishedTask>& finished) = 0;

  // Records that the sink has these finished tasks and has written up to
  // `sink_position`, in one step, so that a restart can drop what the sink
  // wrote past it and hand over exactly the unhandled tasks again.
  virtual absl::Status MarkHandled(const std::vector<std::string>& task_ids,
                                   uint64_t sink_position) = 0;

  // Returns true if the journal survives the master (false: memory only).
  virtual bool durable() const = 0;
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
  absl::Status AppendTasks(const std::vector<v1::Task>&) override {
    return absl::OkStatus();
  }
  absl::Status CommitOutcomes(const std::vector<FinishedTask>&) override {
    return absl::OkStatus();
  }
  absl::Status MarkHandled(const std::vector<std::string>&, uint64_t) override {
    return absl::OkStatus();
  }
  bool durable() const override { return false; }
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JOURNAL_H_
