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
v1::Outcome OutcomeOf(int wait_status, Subprocess& process) {
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return FailureOutcome(WaitStatusCode(wait_status), process.StderrTail(),
                          /*retryable=*/true);
  }
  auto result = JsonToResult(process.TakeStdout());
  if (!result.ok()) {
    return FailureOutcome(
        "bad_output",
        absl::StrCat(result.status().message(), "\n", process.StderrTail()),
        /*retryable=*/true);
  }
  return ResultOutcome(*std::move(result));
}

}  // namespace

ExecTaskProcessor::ExecTaskProcessor(absl::string_view command)
    : command_(command) {}

std::vector<std::string> ExecTaskProcessor::AcceptedTypes() const {
  return {std::string(kJsonValueTypeUrl)};
}

v1::Outcome ExecTaskProcessor::Process(const v1::Task& task,
                                       TaskContext& context) {
  auto json = PayloadToJson(task.payload());
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
  return OutcomeOf(*wait_status, child);
}

}  // namespace distributo::worker
