#include "worker/exec_task_processor.h"

#include <sys/wait.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "worker/json_payload.h"
#include "worker/subprocess.h"

namespace distributo::worker {
namespace {

// Turns a finished child's wait status and output into an outcome.
v1::Outcome OutcomeOf(int wait_status, Subprocess& process,
                      const PayloadSchema* schema) {
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return FailureOutcome(WaitStatusCode(wait_status), process.StderrTail(),
                          /*retryable=*/true);
  }
  auto result = JsonToResult(process.TakeStdout(), schema);
  if (!result.ok()) {
    return FailureOutcome(
        "bad_output",
        absl::StrCat(result.status().message(), "\n", process.StderrTail()),
        /*retryable=*/true);
  }
  return ResultOutcome(*std::move(result));
}

}  // namespace

ExecTaskProcessor::ExecTaskProcessor(
    absl::string_view command, std::shared_ptr<const PayloadSchema> schema)
    : command_(command), schema_(std::move(schema)) {}

std::vector<std::string> ExecTaskProcessor::AcceptedTypes() const {
  return {AcceptedPayloadType(schema_.get())};
}

v1::Outcome ExecTaskProcessor::Process(const v1::Task& task,
                                       TaskContext& context) {
  auto json = PayloadToJson(task.payload(), schema_.get());
  if (!json.ok()) {
    return FailureOutcome("bad_payload", json.status().message(),
                          /*retryable=*/false);
  }
  auto process = Subprocess::Start(
      command_, {{"DISTRIBUTO_TASK_ID", task.id()},
                 {"DISTRIBUTO_ATTEMPT", absl::StrCat(task.attempt())}});
  if (!process.ok()) {
    return FailureOutcome("spawn_failed", process.status().message(),
                          /*retryable=*/true);
  }
  Subprocess& child = **process;
  absl::Status pumped =
      PumpCancellable(child, context, absl::StrCat(*json, "\n"),
                      /*close_stdin=*/true, /*until_line=*/false);
  absl::StatusOr<int> wait_status = child.Wait();
  if (!pumped.ok()) {
    return FailureOutcome("bad_output", pumped.message(), /*retryable=*/true);
  }
  if (!wait_status.ok()) {
    return FailureOutcome("wait_failed", wait_status.status().message(),
                          /*retryable=*/true);
  }
  VLOG(1) << "task " << task.id() << ": " << WaitStatusCode(*wait_status);
  return OutcomeOf(*wait_status, child, schema_.get());
}

}  // namespace distributo::worker
