#ifndef DISTRIBUTO_SDK_SRC_RAW_PROCESSORS_H_
#define DISTRIBUTO_SDK_SRC_RAW_PROCESSORS_H_

#include <string>
#include <vector>

#include "distributo/worker_core.h"
#include "worker/batch_processor.h"
#include "worker/task_processor.h"

namespace distributo::internal {

// Turns a typed process function's answer into an outcome: the serialized
// result packed as `result_type_url`, or a failure carrying the status.
// Failures are retryable unless the code says trying again cannot help.
v1::Outcome ToOutcome(absl::StatusOr<std::string> result,
                      const std::string& result_type_url);

// Runs WorkerCoreOptions::process_batch on the payload bytes of a batch.
// Thread-safe if the function is.
class RawBatchProcessor final : public worker::BatchProcessor {
 public:
  explicit RawBatchProcessor(const WorkerCoreOptions& options);

  std::vector<std::string> AcceptedTypes() const override;
  std::vector<v1::Outcome> ProcessBatch(
      absl::Span<const v1::Task> tasks,
      absl::Span<worker::TaskContext* const> contexts) override;

 private:
  const std::string task_type_url_;
  const std::string result_type_url_;
  const decltype(WorkerCoreOptions::process_batch) process_;
};

// Runs WorkerCoreOptions::process_one on one task's payload bytes.
// Thread-safe if the function is.
class RawTaskProcessor final : public worker::TaskProcessor {
 public:
  explicit RawTaskProcessor(const WorkerCoreOptions& options);

  std::vector<std::string> AcceptedTypes() const override;
  v1::Outcome Process(const v1::Task& task,
                      worker::TaskContext& context) override;

 private:
  const std::string task_type_url_;
  const std::string result_type_url_;
  const decltype(WorkerCoreOptions::process_one) process_;
};

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_SRC_RAW_PROCESSORS_H_
