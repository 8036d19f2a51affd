#ifndef DISTRIBUTO_WORKER_BATCH_PROCESSOR_H_
#define DISTRIBUTO_WORKER_BATCH_PROCESSOR_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"
#include "worker/task_context.h"

namespace distributo::worker {

// Processes tasks a batch at a time (at most SessionStart.max_batch_tasks).
// The runtime calls ProcessBatch() concurrently from its slot threads (up to
// WorkerOptions::concurrency at once), so implementations must be
// thread-safe.
class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;

  // Returns the payload type URLs this processor accepts (empty: any type).
  virtual std::vector<std::string> AcceptedTypes() const = 0;

  // Runs one attempt at each of `tasks`; `contexts[i]` belongs to `tasks[i]`.
  // Returns outcomes in any order, each naming its task in
  // `lease.task_id` (the runtime fills in the epoch). A task left without an
  // outcome counts as a failed attempt with code "no_result"; outcomes for
  // unknown or repeated task ids are dropped with an error in the log.
  virtual std::vector<v1::Outcome> ProcessBatch(
      absl::Span<const v1::Task> tasks,
      absl::Span<TaskContext* const> contexts) = 0;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_BATCH_PROCESSOR_H_
