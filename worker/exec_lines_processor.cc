#include "worker/exec_lines_processor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "worker/json_payload.h"

namespace distributo::worker {

ExecLinesProcessor::ExecLinesProcessor(
    absl::string_view command, std::shared_ptr<const PayloadSchema> schema)
    : command_(command), schema_(std::move(schema)) {}

std::vector<std::string> ExecLinesProcessor::AcceptedTypes() const {
  return {AcceptedPayloadType(schema_.get())};
}

v1::Outcome ExecLinesProcessor::Process(const v1::Task& task,
                                        TaskContext& context) {
  auto json = PayloadToJson(task.payload(), schema_.get());
  if (!json.ok()) {
    return FailureOutcome("bad_payload", json.status().message(),
                          /*retryable=*/false);
  }
  auto process = Acquire();
  if (!process.ok()) {
    return FailureOutcome("spawn_failed", process.status().message(),
                          /*retryable=*/true);
  }
  Exchanged exchanged = Exchange(**process, absl::StrCat(*json, "\n"), context);
  if (exchanged.reusable) Release(*std::move(process));
  return std::move(exchanged.outcome);
}

ExecLinesProcessor::Exchanged ExecLinesProcessor::Exchange(
    Subprocess& child, const std::string& line, TaskContext& context) {
  absl::Status pumped = PumpCancellable(child, context, line,
                                        /*close_stdin=*/false,
                                        /*until_line=*/true);
  if (!pumped.ok()) {
    absl::StatusOr<int> wait_status = child.Wait();
    const std::string how =
        wait_status.ok() ? WaitStatusCode(*wait_status) : "unknown status";
    LOG(WARNING) << "exec process " << child.pid() << " exited (" << how
                 << "); a new one will start for the next task";
    return {FailureOutcome("process_exited",
                           absl::StrCat(pumped.message(), " (", how, ")\n",
                                        child.StderrTail()),
                           /*retryable=*/true),
            /*reusable=*/false};
  }
  std::optional<std::string> answer = child.TakeLine();
  auto result = JsonToResult(answer.value_or(""), schema_.get());
  if (!result.ok()) {
    return {FailureOutcome("bad_output", result.status().message(),
                           /*retryable=*/true),
            /*reusable=*/true};
  }
  return {ResultOutcome(*std::move(result)), /*reusable=*/true};
}

absl::StatusOr<std::unique_ptr<Subprocess>> ExecLinesProcessor::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Subprocess> process = std::move(idle_.back());
      idle_.pop_back();
      return process;
    }
  }
  auto process = Subprocess::Start(command_, {});
  if (process.ok()) {
    LOG(INFO) << "started exec process " << (*process)->pid() << ": "
              << command_;
  }
  return process;
}

void ExecLinesProcessor::Release(std::unique_ptr<Subprocess> process) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(process));
}

}  // namespace distributo::worker
