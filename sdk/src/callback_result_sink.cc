#include "sdk/src/callback_result_sink.h"

namespace distributo::internal {

absl::Status CallbackResultSink::Write(
    const std::vector<server::FinishedTask>& finished) {
  std::vector<RawFinishedTask> raw(finished.size());
  for (size_t i = 0; i < finished.size(); ++i) {
    const server::FinishedTask& task = finished[i];
    raw[i].id = std::string(task.task.id());
    raw[i].task = std::string(task.task.payload_value());
    raw[i].dead = task.dead;
    raw[i].result = task.result.value();
    raw[i].code = FailureOf(task).code();
    raw[i].message = FailureOf(task).message();
    raw[i].attempts = static_cast<int>(task.attempts);
  }
  callback_(std::move(raw));
  return absl::OkStatus();
}

}  // namespace distributo::internal
