#ifndef DISTRIBUTO_SERVER_RESULT_SINK_H_
#define DISTRIBUTO_SERVER_RESULT_SINK_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "server/task_record.h"

namespace distributo::server {

// Receives every finished task (done or dead) exactly once, in batches.
// Called from one thread at a time.
class ResultSink {
 public:
  virtual ~ResultSink() = default;

  // Takes a batch of finished tasks. Returns an error if they could not be
  // written; the master logs it.
  virtual absl::Status Write(const std::vector<FinishedTask>& finished) = 0;

  // Returns how far the sink has written, to be journaled with the handled
  // marks of what it wrote. A sink that cannot go back returns 0.
  virtual uint64_t Position() const { return 0; }

  // Drops what was written past `position`, the Position() a journal kept
  // with its last handled marks: the tasks behind it are unhandled and will
  // be written again, so each ends up in the sink once. Returns DataLoss if
  // the sink holds less than `position`. A sink that cannot go back ignores
  // it and gets those tasks twice (at-least-once).
  virtual absl::Status RewindTo(uint64_t /*position*/) {
    return absl::OkStatus();
  }
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_SINK_H_
