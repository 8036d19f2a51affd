#ifndef DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_
#define DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rpc/payload_schema.h"
#include "server/result_sink.h"

namespace distributo::server {

// Writes one JSON line per finished task:
//   {"id":"a","result":<JSON>,"attempts":1}
//   {"id":"b","error":{"code":"...","message":"..."},"attempts":5}
// Each batch is one write, flushed, and synced to disk when `sync` is set,
// so that a journal may record its Position() as durable. Standard output,
// pipes and devices cannot be rewound (nor synced): after a crash, results
// not yet marked handled appear there twice.
// Not thread-safe (ResultSink's contract serialises calls).
class JsonlResultSink final : public ResultSink {
 public:
  // Opens `path` for appending, or standard output for "-". Returns
  // FailedPrecondition with the system's reason if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonlResultSink>> Create(
      absl::string_view path, bool sync = false);
  ~JsonlResultSink() override;

  absl::Status Write(const std::vector<FinishedTask>& finished) override;
  uint64_t Position() const override { return position_; }
  // Truncates the file to `position`, dropping a torn last line and lines of
  // tasks that were not marked handled.
  absl::Status RewindTo(uint64_t position) override;

  // Prints results of the schema's result type by it (as JSON objects, not
  // as {"@type", "base64"}); borrowed, it must outlive the sink.
  void set_schema(const PayloadSchema* schema) { schema_ = schema; }

  // Formats one finished task as a JSON line, without the newline.
  static std::string FormatLine(const FinishedTask& task,
                                const PayloadSchema* schema = nullptr);

 private:
  JsonlResultSink(std::string path, std::FILE* file, bool owned,
                  bool rewindable, uint64_t position);
  // Cuts the file to `position` bytes.
  absl::Status Truncate(uint64_t position);

  const std::string path_;
  std::FILE* const file_;
  const bool owned_;       // false for standard output
  const bool rewindable_;  // a regular file: Position() and RewindTo() work
  bool sync_ = false;      // fdatasync() after each batch
  uint64_t position_;      // bytes in the file
  bool torn_ = false;      // a failed write's bytes may follow position_
  const PayloadSchema* schema_ = nullptr;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JSONL_RESULT_SINK_H_
