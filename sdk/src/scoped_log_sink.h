#ifndef DISTRIBUTO_SDK_SRC_SCOPED_LOG_SINK_H_
#define DISTRIBUTO_SDK_SRC_SCOPED_LOG_SINK_H_

#include "glog/logging.h"

namespace distributo::internal {

// Routes glog's messages to a caller's sink while it exists (glog sinks are
// process-wide). A null sink does nothing. Not copyable.
class ScopedLogSink {
 public:
  explicit ScopedLogSink(google::LogSink* sink) : sink_(sink) {
    if (sink_ != nullptr) google::AddLogSink(sink_);
  }
  ~ScopedLogSink() {
    if (sink_ != nullptr) google::RemoveLogSink(sink_);
  }
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  google::LogSink* const sink_;
};

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_SRC_SCOPED_LOG_SINK_H_
