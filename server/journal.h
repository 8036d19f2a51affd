#ifndef DISTRIBUTO_SERVER_JOURNAL_H_
#define DISTRIBUTO_SERVER_JOURNAL_H_

#include <vector>

#include "absl/status/status.h"
#include "distributo/v1/task.pb.h"
#include "server/task_record.h"

namespace distributo::server {

// Where the master makes its state durable, batch by batch. The master calls
// it in the order of DESIGN.md §4: tasks appended before they are leased,
// outcomes committed before they are acked, handled marks after the result
// sink took them. Implementations are called from several threads.
class Journal {
 public:
  virtual ~Journal() = default;

  virtual absl::Status AppendTasks(const std::vector<v1::Task>& tasks) = 0;
  virtual absl::Status CommitOutcomes(
      const std::vector<FinishedTask>& finished) = 0;
  virtual absl::Status MarkHandled(
      const std::vector<FinishedTask>& finished) = 0;
};

// Keeps nothing: the master's memory is its only state (--journal=none), so a
// master that dies loses its queue. Thread-safe.
class InMemoryJournal final : public Journal {
 public:
  absl::Status AppendTasks(const std::vector<v1::Task>&) override {
    return absl::OkStatus();
  }
  absl::Status CommitOutcomes(const std::vector<FinishedTask>&) override {
    return absl::OkStatus();
  }
  absl::Status MarkHandled(const std::vector<FinishedTask>&) override {
    return absl::OkStatus();
  }
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JOURNAL_H_
