#ifndef DISTRIBUTO_SDK_SRC_CALLBACK_RESULT_SINK_H_
#define DISTRIBUTO_SDK_SRC_CALLBACK_RESULT_SINK_H_

#include <functional>
#include <utility>
#include <vector>

#include "distributo/distributor_core.h"
#include "server/result_sink.h"

namespace distributo::internal {

// Hands finished tasks to the SDK's typed callback as serialized messages.
// Called one batch at a time (ResultSink's contract), so the callback is too.
class CallbackResultSink final : public server::ResultSink {
 public:
  using Callback = std::function<void(std::vector<RawFinishedTask>)>;

  explicit CallbackResultSink(Callback callback)
      : callback_(std::move(callback)) {}

  absl::Status Write(
      const std::vector<server::FinishedTask>& finished) override;

 private:
  const Callback callback_;
};

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_SRC_CALLBACK_RESULT_SINK_H_
