#include "server/jsonl_result_sink.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rpc/json_value.h"

namespace distributo::server {

absl::StatusOr<std::unique_ptr<JsonlResultSink>> JsonlResultSink::Create(
    absl::string_view path, bool sync) {
  if (path == "-") {
    return std::unique_ptr<JsonlResultSink>(new JsonlResultSink(
        "stdout", stdout, /*owned=*/false, /*sync=*/false, 0));
  }
  std::FILE* file = std::fopen(std::string(path).c_str(), "a");
  if (file == nullptr || std::fseek(file, 0, SEEK_END) != 0) {
    const std::string reason = std::strerror(errno);
    if (file != nullptr) std::fclose(file);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open results file ", path, ": ", reason));
  }
  const long size = std::ftell(file);
  return std::unique_ptr<JsonlResultSink>(
      new JsonlResultSink(std::string(path), file, /*owned=*/true, sync,
                          static_cast<uint64_t>(std::max(size, 0L))));
}

JsonlResultSink::JsonlResultSink(std::string path, std::FILE* file, bool owned,
                                 bool sync, uint64_t position)
    : path_(std::move(path)),
      file_(file),
      owned_(owned),
      sync_(sync),
      position_(position) {}

JsonlResultSink::~JsonlResultSink() {
  if (owned_) std::fclose(file_);
}

absl::Status JsonlResultSink::RewindTo(uint64_t position) {
  if (!owned_) return absl::OkStatus();
  if (position > position_) {
    return absl::DataLossError(absl::StrCat(
        "results file ", path_, " holds ", position_,
        " bytes but the journal recorded ", position,
        " as written: it was changed or truncated outside the master"));
  }
  return Truncate(position);
}

absl::Status JsonlResultSink::Truncate(uint64_t position) {
  if (ftruncate(fileno(file_), static_cast<off_t>(position)) != 0 ||
      std::fseek(file_, 0, SEEK_END) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot truncate results file ", path_, ": ", std::strerror(errno)));
  }
  position_ = position;
  return absl::OkStatus();
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
      std::fflush(file_) != 0 || (sync_ && fdatasync(fileno(file_)) != 0)) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "cannot write results to ", path_, ": ", std::strerror(errno)));
    // A part of the batch may be in the file: cut it off, so that the next
    // write starts at a line's beginning again.
    std::clearerr(file_);
    if (owned_) Truncate(position_).IgnoreError();
    return status;
  }
  position_ += chunk.size();
  return absl::OkStatus();
}

}  // namespace distributo::server
