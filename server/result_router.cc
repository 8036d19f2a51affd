#include "server/result_router.h"

#include <utility>

#include "glog/logging.h"

namespace distributo::server {

ResultRouter::ResultRouter(TaskQueue* queue, Journal* journal, ResultSink* sink)
    : queue_(queue), journal_(journal), sink_(sink) {}

absl::Status ResultRouter::Commit(const std::vector<FinishedTask>& finished) {
  if (finished.empty()) return absl::OkStatus();
  return journal_->CommitOutcomes(finished);
}

void ResultRouter::Deliver(std::vector<FinishedTask> finished) {
  if (finished.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status status = sink_->Write(finished); !status.ok()) {
      LOG(ERROR) << "Result sink dropped " << finished.size()
                 << " results: " << status;
    }
    for (const FinishedTask& task : finished) {
      if (task.dead) {
        LOG(WARNING) << "Task " << task.task.id() << " is dead after "
                     << task.attempts << " attempts: " << task.failure.code()
                     << ": " << task.failure.message();
      }
    }
    if (absl::Status status = journal_->MarkHandled(finished); !status.ok()) {
      LOG(ERROR) << "Journal could not mark results handled: " << status;
    }
  }
  queue_->MarkHandled(finished.size());
}

}  // namespace distributo::server
