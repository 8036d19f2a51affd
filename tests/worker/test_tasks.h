#ifndef DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_
#define DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "worker/json_payload.h"
#include "worker/task_context.h"
#include "worker/task_processor.h"

namespace distributo::worker {

// Returns a leased task whose payload is the JSON `json`.
inline v1::Task JsonTask(absl::string_view id, absl::string_view json,
                         uint64_t epoch = 1) {
  v1::Task task;
  task.set_id(std::string(id));
  task.set_attempt(1);
  task.set_epoch(epoch);
  auto payload = JsonToResult(json);
  CHECK(payload.ok()) << payload.status();
  *task.mutable_payload() = *payload;
  return task;
}

// Returns tasks "t0" ... "t<n-1>"; task "tI" has the payload {"n":I}.
inline std::vector<v1::Task> JsonTasks(int n) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(
        JsonTask(absl::StrCat("t", i), absl::StrCat(R"({"n":)", i, "}")));
  }
  return tasks;
}

// Returns the lease of task `id` at `epoch`.
inline v1::LeaseRef Lease(absl::string_view id, uint64_t epoch = 1) {
  v1::LeaseRef lease;
  lease.set_task_id(std::string(id));
  lease.set_epoch(epoch);
  return lease;
}

// Returns the JSON text of an outcome's result, or "" if it has none.
inline std::string ResultJson(const v1::Outcome& outcome) {
  if (!outcome.has_result()) return "";
  auto json = PayloadToJson(outcome.result());
  return json.ok() ? *json : "";
}

// Runs `processor` on `task` with a context of its own.
inline v1::Outcome ProcessTask(TaskProcessor& processor, const v1::Task& task) {
  TaskContext context;
  return processor.Process(task, context);
}

// Runs `processor` on `task` cancelled before it starts, so that the
// processor's cancel hook fires as soon as it is set.
inline v1::Outcome ProcessCancelledTask(TaskProcessor& processor,
                                        const v1::Task& task) {
  TaskContext context;
  context.Cancel();
  return processor.Process(task, context);
}

// Matches an outcome that is a failure with this code.
MATCHER_P(IsFailure, code, absl::StrCat("is a failure with code ", code)) {
  return arg.has_failure() && arg.failure().code() == code;
}

}  // namespace distributo::worker

#endif  // DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_
