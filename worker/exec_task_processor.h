#ifndef DISTRIBUTO_WORKER_EXEC_TASK_PROCESSOR_H_
#define DISTRIBUTO_WORKER_EXEC_TASK_PROCESSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "rpc/payload_schema.h"
#include "worker/task_processor.h"

namespace distributo::worker {

// Runs `/bin/sh -c COMMAND` once per task (`--exec_mode=per_task`): the
// payload as one JSON line on stdin, the result as JSON on stdout. The child
// sees DISTRIBUTO_TASK_ID and DISTRIBUTO_ATTEMPT in its environment.
//   exit 0, JSON stdout   -> result
//   exit N / signal N     -> failure "exit_status_N" / "signal_N" (retryable),
//                            message = the tail of stderr
//   exit 0, other stdout  -> failure "bad_output" (retryable)
//   payload not JSON      -> failure "bad_payload" (not retryable)
// Cancellation kills the child's process group.
// Thread-safe: every call owns its own child.
class ExecTaskProcessor : public TaskProcessor {
 public:
  // Without a schema, payloads and results are JSON values; with one, its
  // task and result messages, which the command sees as JSON all the same.
  explicit ExecTaskProcessor(
      absl::string_view command,
      std::shared_ptr<const PayloadSchema> schema = nullptr);

  std::vector<std::string> AcceptedTypes() const override;
  v1::Outcome Process(const v1::Task& task, TaskContext& context) override;

 private:
  const std::string command_;
  const std::shared_ptr<const PayloadSchema> schema_;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_EXEC_TASK_PROCESSOR_H_
