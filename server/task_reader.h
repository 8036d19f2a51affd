#ifndef DISTRIBUTO_SERVER_TASK_READER_H_
#define DISTRIBUTO_SERVER_TASK_READER_H_

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/task.pb.h"
#include "rpc/payload_schema.h"

namespace distributo::server {

// Limits on tasks read from JSON lines.
struct TaskLimits {
  size_t max_id_bytes = 256;
  // Keeps every task small enough to travel alone in a batch.
  size_t max_task_bytes = (size_t{1} << 20) - 1024;
  // The type payloads must fit, if any (see FitPayload()); none: any JSON,
  // as a google.protobuf.Value. Borrowed.
  const PayloadSchema* schema = nullptr;
};

// Returns why a task breaks `limits` (or has no id or no payload), "" if it
// does not: the checks every way in for tasks makes.
std::string WhyTaskIsInvalid(const v1::Task& task, const TaskLimits& limits);

// Turns a task's JSON payload (a google.protobuf.Value) into the schema's
// task type; a payload of that type already must parse as it. Returns why
// it cannot, or "".
std::string FitPayload(const PayloadSchema& schema, v1::Task& task);

// Parses one JSON line {"id": "...", "payload": <JSON>, "labels": {...}} into
// a task whose payload is a google.protobuf.Value, or of the task type of
// the limits' schema. "id" and "labels" are optional; a task without an id
// gets "line-<line_number>". Returns InvalidArgument naming the line and
// what is wrong with it (with a schema, the field at fault).
absl::StatusOr<v1::Task> ParseTaskLine(absl::string_view line,
                                       size_t line_number,
                                       const TaskLimits& limits);

// Reads every task of a JSONL stream (blank lines are skipped), rejecting the
// whole input at the first bad line or repeated id. `source` names the input
// in error messages, e.g. "tasks.jsonl".
absl::StatusOr<std::vector<v1::Task>> ReadTasks(std::istream& input,
                                                absl::string_view source,
                                                const TaskLimits& limits);

// A JSONL tasks file, read twice: checked whole when opened (a bad line or a
// repeated id refuses it, as ReadTasks() does), then read chunk by chunk, so
// that a file of millions of tasks is never in memory whole (the check keeps
// 8 bytes per task, a hash of its id). Not thread-safe.
class TaskFile {
 public:
  // Returns NotFound if the file cannot be opened, InvalidArgument naming the
  // first bad line or repeated id, DataLoss if reading fails.
  static absl::StatusOr<std::unique_ptr<TaskFile>> Open(
      const std::string& path, const TaskLimits& limits);

  TaskFile(const TaskFile&) = delete;
  TaskFile& operator=(const TaskFile&) = delete;

  // The tasks in the file.
  size_t size() const { return size_; }

  // Returns the next `max_tasks` tasks at most; none once all were read.
  // DataLoss if the file no longer holds the tasks it held when checked.
  absl::StatusOr<std::vector<v1::Task>> Read(size_t max_tasks);

 private:
  TaskFile(std::string path, const TaskLimits& limits);
  absl::StatusOr<std::optional<v1::Task>> Next();
  void Rewind();
  // Refuses the first repeated id, given the hashes of all of them.
  absl::Status CheckRepeats(std::vector<uint64_t> hashes);

  const std::string path_;
  const TaskLimits limits_;
  std::ifstream input_;
  size_t line_number_ = 0;
  size_t size_ = 0;
  size_t read_ = 0;  // by Read()
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_READER_H_
