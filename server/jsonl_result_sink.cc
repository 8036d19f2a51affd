#include "server/jsonl_result_sink.h"

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rpc/json_value.h"

namespace distributo::server {

absl::StatusOr<std::unique_ptr<JsonlResultSink>> JsonlResultSink::Create(
    absl::string_view path) {
  if (path == "-") {
    return std::unique_ptr<JsonlResultSink>(
        new JsonlResultSink(stdout, /*owned=*/false));
  }
  std::FILE* file = std::fopen(std::string(path).c_str(), "a");
  if (file == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open results file ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<JsonlResultSink>(
      new JsonlResultSink(file, /*owned=*/true));
}

JsonlResultSink::~JsonlResultSink() {
  if (owned_) std::fclose(file_);
}

std::string JsonlResultSink::FormatLine(const FinishedTask& task) {
  std::string line = absl::StrCat("{\"id\":", JsonQuote(task.task.id()));
  if (task.dead) {
    absl::StrAppend(&line,
                    ",\"error\":{\"code\":", JsonQuote(task.failure.code()),
                    ",\"message\":", JsonQuote(task.failure.message()), "}");
  } else {
    absl::StrAppend(&line, ",\"result\":", AnyToJson(task.result));
  }
  absl::StrAppend(&line, ",\"attempts\":", task.attempts, "}");
  return line;
}

absl::Status JsonlResultSink::Write(const std::vector<FinishedTask>& finished) {
  std::string chunk;
  for (const FinishedTask& task : finished) {
    absl::StrAppend(&chunk, FormatLine(task), "\n");
  }
  // One write and one flush per batch keeps lines whole and the cost per
  // batch rather than per task.
  if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size() ||
      std::fflush(file_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write results: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace distributo::server
