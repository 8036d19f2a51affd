#include "server/jsonl_result_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

// Flushes the directory holding `path` to disk; returns whether it could.
bool SyncDirectoryOf(absl::string_view path) {
  const std::string directory =
      std::filesystem::path(std::string(path)).parent_path().string();
  const int fd =
      open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  const bool synced = fsync(fd) == 0;
  close(fd);
  return synced;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JsonlResultSink>> JsonlResultSink::Create(
    absl::string_view path, bool sync) {
  if (path == "-") {
    return std::unique_ptr<JsonlResultSink>(new JsonlResultSink(
        "stdout", stdout, /*owned=*/false, /*rewindable=*/false, 0));
  }
  std::FILE* file = std::fopen(std::string(path).c_str(), "a");
  struct stat info = {};
  if (file == nullptr || fstat(fileno(file), &info) != 0) {
    const std::string reason = std::strerror(errno);
    if (file != nullptr) std::fclose(file);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open results file ", path, ": ", reason));
  }
  // A pipe or a device (/dev/null) can be neither synced nor cut back: it
  // gets results as standard output does.
  const bool regular = S_ISREG(info.st_mode);
  auto sink = std::unique_ptr<JsonlResultSink>(new JsonlResultSink(
      std::string(path), file, /*owned=*/true, /*rewindable=*/regular,
      regular ? static_cast<uint64_t>(info.st_size) : 0));
  sink->sync_ = regular && sync;
  // A file just created is durable only once its directory entry is.
  if (sink->sync_ && !SyncDirectoryOf(path)) {
    return absl::UnavailableError(
        absl::StrCat("cannot sync the directory of results file ", path, ": ",
                     std::strerror(errno)));
  }
  return sink;
}

JsonlResultSink::JsonlResultSink(std::string path, std::FILE* file, bool owned,
                                 bool rewindable, uint64_t position)
    : path_(std::move(path)),
      file_(file),
      owned_(owned),
      rewindable_(rewindable),
      position_(position) {}

JsonlResultSink::~JsonlResultSink() {
  if (owned_) std::fclose(file_);
}

absl::Status JsonlResultSink::RewindTo(uint64_t position) {
  if (!rewindable_) return absl::OkStatus();
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
  torn_ = false;
  return absl::OkStatus();
}

std::string JsonlResultSink::FormatLine(const FinishedTask& task,
                                        const PayloadSchema* schema) {
  std::string line = absl::StrCat("{\"id\":", JsonQuote(task.task.id()));
  if (task.dead) {
    absl::StrAppend(&line,
                    ",\"error\":{\"code\":", JsonQuote(FailureOf(task).code()),
                    ",\"message\":", JsonQuote(FailureOf(task).message()), "}");
  } else {
    absl::StatusOr<std::string> typed = absl::NotFoundError("no schema");
    if (schema != nullptr) typed = schema->ToJson(task.result);
    absl::StrAppend(
        &line, ",\"result\":", typed.ok() ? *typed : AnyToJson(task.result));
  }
  absl::StrAppend(&line, ",\"attempts\":", task.attempts, "}");
  return line;
}

absl::Status JsonlResultSink::Write(const std::vector<FinishedTask>& finished) {
  // A failed write left part of a batch that could not be cut off then:
  // nothing goes after it until it is, or Position() would lie.
  if (torn_) {
    if (absl::Status status = Truncate(position_); !status.ok()) return status;
  }
  std::string chunk;
  for (const FinishedTask& task : finished) {
    absl::StrAppend(&chunk, FormatLine(task, schema_), "\n");
  }
  // One write and one flush per batch keeps lines whole and the cost per
  // batch rather than per task.
  if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size() ||
      std::fflush(file_) != 0 || (sync_ && fdatasync(fileno(file_)) != 0)) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "cannot write results to ", path_, ": ", std::strerror(errno)));
    std::clearerr(file_);
    if (rewindable_) {
      torn_ = true;
      Truncate(position_).IgnoreError();  // Retried before the next write.
    }
    return status;
  }
  if (rewindable_) position_ += chunk.size();
  return absl::OkStatus();
}

}  // namespace distributo::server
