#ifndef DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_
#define DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "distributo/v1/task.pb.h"
#include "glog/logging.h"
#include "worker/json_payload.h"

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

// Returns the JSON text of an outcome's result, or "" if it has none.
inline std::string ResultJson(const v1::Outcome& outcome) {
  if (!outcome.has_result()) return "";
  auto json = PayloadToJson(outcome.result());
  return json.ok() ? *json : "";
}

}  // namespace distributo::worker

#endif  // DISTRIBUTO_TESTS_WORKER_TEST_TASKS_H_
