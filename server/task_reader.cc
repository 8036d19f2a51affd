#include "server/task_reader.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

using google::protobuf::Value;

absl::Status LineError(size_t line_number, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line_number, ": ", what));
}

absl::Status SetLabels(const Value& labels, size_t line_number,
                       v1::Task* task) {
  if (!labels.has_struct_value()) {
    return LineError(line_number, "\"labels\" must be an object of strings");
  }
  for (const auto& [key, value] : labels.struct_value().fields()) {
    if (!value.has_string_value()) {
      return LineError(line_number,
                       absl::StrCat("label \"", key, "\" must be a string"));
    }
    (*task->mutable_labels())[key] = value.string_value();
  }
  return absl::OkStatus();
}

absl::Status SetId(const Value& id, size_t line_number,
                   const TaskLimits& limits, v1::Task* task) {
  if (!id.has_string_value() || id.string_value().empty()) {
    return LineError(line_number, "\"id\" must be a non-empty string");
  }
  if (id.string_value().size() > limits.max_id_bytes) {
    return LineError(line_number, absl::StrCat("\"id\" is longer than ",
                                               limits.max_id_bytes, " bytes"));
  }
  task->set_id(id.string_value());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Task> ParseTaskLine(absl::string_view line,
                                       size_t line_number,
                                       const TaskLimits& limits) {
  auto json = ParseJsonValue(line);
  if (!json.ok()) return LineError(line_number, json.status().message());
  if (!json->has_struct_value()) {
    return LineError(line_number, "a task must be a JSON object");
  }
  v1::Task task;
  bool has_payload = false;
  for (const auto& [key, value] : json->struct_value().fields()) {
    absl::Status status;
    if (key == "id") {
      status = SetId(value, line_number, limits, &task);
    } else if (key == "payload") {
      task.mutable_payload()->PackFrom(value);
      has_payload = true;
    } else if (key == "labels") {
      status = SetLabels(value, line_number, &task);
    } else {
      status = LineError(line_number,
                         absl::StrCat("unknown field \"", key,
                                      "\" (expected id, payload, labels)"));
    }
    if (!status.ok()) return status;
  }
  if (!has_payload) return LineError(line_number, "missing \"payload\"");
  if (task.id().empty()) task.set_id(absl::StrCat("line-", line_number));
  if (task.ByteSizeLong() > limits.max_task_bytes) {
    return LineError(line_number,
                     absl::StrCat("the task is larger than ",
                                  limits.max_task_bytes, " bytes"));
  }
  return task;
}

absl::StatusOr<std::vector<v1::Task>> ReadTasks(std::istream& input,
                                                absl::string_view source,
                                                const TaskLimits& limits) {
  std::vector<v1::Task> tasks;
  absl::flat_hash_map<std::string, size_t> first_line_of_id;
  std::string line;
  for (size_t line_number = 1; std::getline(input, line); ++line_number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto task = ParseTaskLine(line, line_number, limits);
    if (!task.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", task.status().message()));
    }
    auto [it, inserted] = first_line_of_id.emplace(task->id(), line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": line ", line_number, ": id \"", task->id(),
                       "\" repeats line ", it->second));
    }
    tasks.push_back(*std::move(task));
  }
  if (input.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read ", source));
  }
  return tasks;
}

}  // namespace distributo::server
