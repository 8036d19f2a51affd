#ifndef DISTRIBUTO_SERVER_RESULT_ROUTER_H_
#define DISTRIBUTO_SERVER_RESULT_ROUTER_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/journal.h"
#include "server/result_sink.h"
#include "server/task_queue.h"

namespace distributo::server {

// Takes finished tasks from the queue to the journal and the result sink, in
// the order of DESIGN.md §4: Commit (before the ack), then Deliver (after).
// Thread-safe: deliveries are serialised so the sink sees one batch at a time.
class ResultRouter {
 public:
  // Borrows all three, which must outlive the router.
  ResultRouter(TaskQueue* queue, Journal* journal, ResultSink* sink);

  // Makes a batch's outcomes durable. Must succeed before they are acked.
  absl::Status Commit(const std::vector<FinishedTask>& finished);

  // Hands finished tasks to the sink and marks them handled.
  void Deliver(std::vector<FinishedTask> finished);

 private:
  TaskQueue* const queue_;
  Journal* const journal_;
  absl::Mutex mu_;
  ResultSink* const sink_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RESULT_ROUTER_H_
