#ifndef DISTRIBUTO_WORKER_EXEC_LINES_PROCESSOR_H_
#define DISTRIBUTO_WORKER_EXEC_LINES_PROCESSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rpc/payload_schema.h"
#include "worker/subprocess.h"
#include "worker/task_processor.h"

namespace distributo::worker {

// Keeps long-lived `/bin/sh -c COMMAND` processes speaking JSON lines
// (`--exec_mode=lines`): each task writes the payload as one JSON line to a
// process's stdin and reads one line back from its stdout, the result.
//   valid JSON line               -> result
//   other line                    -> failure "bad_output" (retryable)
//   process exits or closes stdout -> failure "process_exited" (retryable);
//                                    the process is replaced for the next task
// Cancellation kills the process working on the task.
// Thread-safe: each call borrows a process from a pool, so there are at most
// as many processes as concurrent calls (one per slot).
class ExecLinesProcessor : public TaskProcessor {
 public:
  // Without a schema, payloads and results are JSON values; with one, its
  // task and result messages, which the command sees as JSON all the same.
  explicit ExecLinesProcessor(
      absl::string_view command,
      std::shared_ptr<const PayloadSchema> schema = nullptr);

  std::vector<std::string> AcceptedTypes() const override;
  v1::Outcome Process(const v1::Task& task, TaskContext& context) override;

 private:
  // Returns an idle process, starting one if none is idle.
  absl::StatusOr<std::unique_ptr<Subprocess>> Acquire();
  void Release(std::unique_ptr<Subprocess> process);
  struct Exchanged {
    v1::Outcome outcome;
    // False when the process is gone and must not go back to the pool.
    bool reusable;
  };
  // Sends `line` to `child` and reads its answer.
  Exchanged Exchange(Subprocess& child, const std::string& line,
                     TaskContext& context);

  const std::string command_;
  const std::shared_ptr<const PayloadSchema> schema_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Subprocess>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_EXEC_LINES_PROCESSOR_H_
