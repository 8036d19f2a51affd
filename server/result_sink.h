#ifndef DISTRIBUTO_SERVER_RESULT_SINK_H_
#define DISTRIBUTO_SERVER_RESULT_SINK_H_

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
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_SINK_H_
