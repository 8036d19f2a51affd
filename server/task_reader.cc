#include "server/task_reader.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
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

absl::Status SetId(const Value& id, size_t line_number, v1::Task* task) {
  if (!id.has_string_value() || id.string_value().empty()) {
    return LineError(line_number, "\"id\" must be a non-empty string");
  }
  task->set_id(id.string_value());
  return absl::OkStatus();
}

// Remembers where each id was first seen, to refuse a repeat.
class RepeatedIds {
 public:
  explicit RepeatedIds(absl::string_view source) : source_(source) {}

  absl::Status Check(const std::string& id, size_t line_number) {
    auto [it, inserted] = first_line_of_id_.emplace(id, line_number);
    if (inserted) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": line ", line_number, ": id \"", id,
                     "\" repeats line ", it->second));
  }

 private:
  const absl::string_view source_;
  absl::flat_hash_map<std::string, size_t> first_line_of_id_;
};

// Reads and parses the next line that is not blank; nullopt at the end.
absl::StatusOr<std::optional<v1::Task>> ReadTask(std::istream& input,
                                                 absl::string_view source,
                                                 const TaskLimits& limits,
                                                 size_t* line_number) {
  std::string line;
  while (std::getline(input, line)) {
    ++*line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto task = ParseTaskLine(line, *line_number, limits);
    if (!task.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", task.status().message()));
    }
    return std::optional<v1::Task>(*std::move(task));
  }
  if (input.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read ", source));
  }
  return std::nullopt;
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
  for (const auto& [key, value] : json->struct_value().fields()) {
    absl::Status status;
    if (key == "id") {
      status = SetId(value, line_number, &task);
    } else if (key == "payload") {
      task.mutable_payload()->PackFrom(value);
    } else if (key == "labels") {
      status = SetLabels(value, line_number, &task);
    } else {
      status = LineError(line_number,
                         absl::StrCat("unknown field \"", key,
                                      "\" (expected id, payload, labels)"));
    }
    if (!status.ok()) return status;
  }
  if (task.id().empty()) task.set_id(absl::StrCat("line-", line_number));
  if (limits.schema != nullptr && task.has_payload()) {
    if (std::string why = FitPayload(*limits.schema, task); !why.empty()) {
      return LineError(line_number, absl::StrCat("\"payload\" ", why));
    }
  }
  if (std::string why = WhyTaskIsInvalid(task, limits); !why.empty()) {
    return LineError(line_number, why);
  }
  return task;
}

std::string FitPayload(const PayloadSchema& schema, v1::Task& task) {
  Value json;
  if (task.payload().type_url() == kJsonValueTypeUrl &&
      task.payload().UnpackTo(&json)) {
    absl::StatusOr<google::protobuf::Any> typed =
        schema.TaskFromJson(PrintJsonValue(json));
    if (!typed.ok()) return std::string(typed.status().message());
    *task.mutable_payload() = *std::move(typed);
    return "";
  }
  if (task.payload().type_url() != schema.task_type_url()) {
    return absl::StrCat("is of type \"", task.payload().type_url(), "\", not ",
                        schema.task_type_url());
  }
  absl::StatusOr<std::string> parsed = schema.ToJson(task.payload());
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

std::string WhyTaskIsInvalid(const v1::Task& task, const TaskLimits& limits) {
  if (task.id().empty()) return "the task has no id";
  if (task.id().size() > limits.max_id_bytes) {
    return absl::StrCat("\"id\" is longer than ", limits.max_id_bytes,
                        " bytes");
  }
  if (!task.has_payload()) return "missing \"payload\"";
  if (task.ByteSizeLong() > limits.max_task_bytes) {
    return absl::StrCat("the task is larger than ", limits.max_task_bytes,
                        " bytes (", task.ByteSizeLong(), ")");
  }
  return "";
}

absl::StatusOr<std::vector<v1::Task>> ReadTasks(std::istream& input,
                                                absl::string_view source,
                                                const TaskLimits& limits) {
  std::vector<v1::Task> tasks;
  RepeatedIds repeats(source);
  size_t line_number = 0;
  while (true) {
    auto task = ReadTask(input, source, limits, &line_number);
    if (!task.ok()) return task.status();
    if (!task->has_value()) return tasks;
    if (absl::Status status = repeats.Check((*task)->id(), line_number);
        !status.ok()) {
      return status;
    }
    tasks.push_back(**std::move(task));
  }
}

absl::StatusOr<std::unique_ptr<TaskFile>> TaskFile::Open(
    const std::string& path, const TaskLimits& limits) {
  std::unique_ptr<TaskFile> file(new TaskFile(path, limits));
  if (!file->input_) {
    return absl::NotFoundError(absl::StrCat("cannot open tasks file ", path));
  }
  std::vector<uint64_t> hashes;
  while (true) {
    auto task = file->Next();
    if (!task.ok()) return task.status();
    if (!task->has_value()) break;
    hashes.push_back(absl::HashOf((*task)->id()));
  }
  file->size_ = hashes.size();
  if (absl::Status status = file->CheckRepeats(std::move(hashes));
      !status.ok()) {
    return status;
  }
  file->Rewind();
  return file;
}

TaskFile::TaskFile(std::string path, const TaskLimits& limits)
    : path_(std::move(path)), limits_(limits), input_(path_) {}

absl::StatusOr<std::vector<v1::Task>> TaskFile::Read(size_t max_tasks) {
  std::vector<v1::Task> tasks;
  while (tasks.size() < max_tasks) {
    auto task = Next();
    if (!task.ok()) return task.status();
    if (!task->has_value()) break;
    tasks.push_back(**std::move(task));
  }
  read_ += tasks.size();
  if (tasks.empty() && read_ != size_) {
    return absl::DataLossError(
        absl::StrCat(path_, " changed while it was read: ", size_,
                     " tasks when checked, ", read_, " when read again"));
  }
  return tasks;
}

absl::StatusOr<std::optional<v1::Task>> TaskFile::Next() {
  return ReadTask(input_, path_, limits_, &line_number_);
}

void TaskFile::Rewind() {
  input_.clear();
  input_.seekg(0);
  line_number_ = 0;
}

absl::Status TaskFile::CheckRepeats(std::vector<uint64_t> hashes) {
  std::sort(hashes.begin(), hashes.end());
  absl::flat_hash_set<uint64_t> suspects;
  for (size_t i = 1; i < hashes.size(); ++i) {
    if (hashes[i] == hashes[i - 1]) suspects.insert(hashes[i]);
  }
  if (suspects.empty()) return absl::OkStatus();
  // Equal hashes: the ids are compared for real, those only.
  Rewind();
  RepeatedIds repeats(path_);
  while (true) {
    auto task = Next();
    if (!task.ok()) return task.status();
    if (!task->has_value()) return absl::OkStatus();
    const std::string& id = (*task)->id();
    if (!suspects.contains(absl::HashOf(id))) continue;
    if (absl::Status status = repeats.Check(id, line_number_); !status.ok()) {
      return status;
    }
  }
}

}  // namespace distributo::server
