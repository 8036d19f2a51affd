#ifndef DISTRIBUTO_WORKER_TASK_PROCESSOR_H_
#define DISTRIBUTO_WORKER_TASK_PROCESSOR_H_

#include <string>
#include <vector>

#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"
#include "worker/task_context.h"

namespace distributo::worker {

// Processes one task at a time. The runtime calls Process() concurrently from
// its slot threads (up to WorkerOptions::concurrency at once), so
// implementations must be thread-safe.
class TaskProcessor {
 public:
  virtual ~TaskProcessor() = default;

  // Returns the payload type URLs this processor accepts (empty: any type).
  // Sent to the master in WorkerHello.accepted_types.
  virtual std::vector<std::string> AcceptedTypes() const = 0;

  // Runs one attempt at `task` and returns its outcome with `result` or
  // `failure` set; the runtime fills in `lease`. An outcome with neither
  // counts as a failed attempt with code "no_result". `context` reports
  // cancellation; the outcome of a cancelled task is dropped.
  virtual v1::Outcome Process(const v1::Task& task, TaskContext& context) = 0;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_TASK_PROCESSOR_H_
