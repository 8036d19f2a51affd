#ifndef DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_
#define DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/result_sink.h"

namespace distributo::server {

// Writes one JSON line per finished task:
//   {"id":"a","result":<JSON>,"attempts":1}
//   {"id":"b","error":{"code":"...","message":"..."},"attempts":5}
// Not thread-safe (ResultSink's contract serialises calls).
class JsonlResultSink final : public ResultSink {
 public:
  // Opens `path` for appending, or standard output for "-". Returns
  // FailedPrecondition with the system's reason if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonlResultSink>> Create(
      absl::string_view path);
  ~JsonlResultSink() override;

  absl::Status Write(const std::vector<FinishedTask>& finished) override;

  // Formats one finished task as a JSON line, without the newline.
  static std::string FormatLine(const FinishedTask& task);

 private:
  JsonlResultSink(std::FILE* file, bool owned) : file_(file), owned_(owned) {}

  std::FILE* file_;
  bool owned_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_
