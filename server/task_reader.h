#ifndef DISTRIBUTO_SERVER_TASK_READER_H_
#define DISTRIBUTO_SERVER_TASK_READER_H_

#include <cstddef>
#include <istream>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/task.pb.h"

namespace distributo::server {

// Limits on tasks read from JSON lines.
struct TaskLimits {
  size_t max_id_bytes = 256;
  // Keeps every task small enough to travel alone in a batch.
  size_t max_task_bytes = (size_t{1} << 20) - 1024;
};

// Parses one JSON line {"id": "...", "payload": <JSON>, "labels": {...}} into
// a task whose payload is a google.protobuf.Value. "id" and "labels" are
// optional; a task without an id gets "line-<line_number>". Returns
// InvalidArgument naming the line and what is wrong with it.
absl::StatusOr<v1::Task> ParseTaskLine(absl::string_view line,
                                       size_t line_number,
                                       const TaskLimits& limits);

// Reads every task of a JSONL stream (blank lines are skipped), rejecting the
// whole input at the first bad line or repeated id. `source` names the input
// in error messages, e.g. "tasks.jsonl".
absl::StatusOr<std::vector<v1::Task>> ReadTasks(std::istream& input,
                                                absl::string_view source,
                                                const TaskLimits& limits);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_READER_H_
