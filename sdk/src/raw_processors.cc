#include "sdk/src/raw_processors.h"

#include <utility>

#include "sdk/src/type_url.h"

namespace distributo::internal {
namespace {

// Codes that say the task itself is at fault: retrying cannot help.
bool IsRetryable(absl::StatusCode code) {
  return code != absl::StatusCode::kInvalidArgument &&
         code != absl::StatusCode::kFailedPrecondition &&
         code != absl::StatusCode::kUnimplemented &&
         code != absl::StatusCode::kPermissionDenied;
}

}  // namespace

v1::Outcome ToOutcome(absl::StatusOr<std::string> result,
                      const std::string& result_type_url) {
  v1::Outcome outcome;
  if (result.ok()) {
    outcome.mutable_result()->set_type_url(result_type_url);
    outcome.mutable_result()->set_value(*std::move(result));
    return outcome;
  }
  v1::Failure* failure = outcome.mutable_failure();
  failure->set_code(absl::StatusCodeToString(result.status().code()));
  failure->set_message(std::string(result.status().message()));
  failure->set_retryable(IsRetryable(result.status().code()));
  return outcome;
}

RawBatchProcessor::RawBatchProcessor(const WorkerCoreOptions& options)
    : task_type_url_(TypeUrl(options.task_type)),
      result_type_url_(TypeUrl(options.result_type)),
      process_(options.process_batch) {}

std::vector<std::string> RawBatchProcessor::AcceptedTypes() const {
  return {task_type_url_};
}

std::vector<v1::Outcome> RawBatchProcessor::ProcessBatch(
    absl::Span<const v1::Task> tasks, absl::Span<worker::TaskContext* const>) {
  std::vector<std::string> payloads;
  payloads.reserve(tasks.size());
  for (const v1::Task& task : tasks) payloads.push_back(task.payload().value());
  std::vector<absl::StatusOr<std::string>> results = process_(payloads);
  // Outcomes match tasks by position; extra ones have no task and are
  // dropped, missing ones become "no result" failures in the runtime.
  std::vector<v1::Outcome> outcomes;
  for (size_t i = 0; i < results.size() && i < tasks.size(); ++i) {
    v1::Outcome& outcome = outcomes.emplace_back(
        ToOutcome(std::move(results[i]), result_type_url_));
    outcome.mutable_lease()->set_task_id(tasks[i].id());
  }
  return outcomes;
}

RawTaskProcessor::RawTaskProcessor(const WorkerCoreOptions& options)
    : task_type_url_(TypeUrl(options.task_type)),
      result_type_url_(TypeUrl(options.result_type)),
      process_(options.process_one) {}

std::vector<std::string> RawTaskProcessor::AcceptedTypes() const {
  return {task_type_url_};
}

v1::Outcome RawTaskProcessor::Process(const v1::Task& task,
                                      worker::TaskContext&) {
  return ToOutcome(process_(task.payload().value()), result_type_url_);
}

}  // namespace distributo::internal
