#include "server/admin_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rpc/status_util.h"
#include "server/master.h"
#include "server/packed_task.h"
#include "server/task_reader.h"

namespace distributo::server {
namespace {

grpc::Status Refuse(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

// Refuses a request of more than kMaxTasksPerRequest `items`.
grpc::Status CheckRequestSize(int count, absl::string_view items) {
  if (count <= static_cast<int>(AdminService::kMaxTasksPerRequest)) {
    return grpc::Status::OK;
  }
  return Refuse(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat(count, " ", items, " in one request; send at most ",
                   AdminService::kMaxTasksPerRequest));
}

v1::RedriveOutcome RedriveOutcomeOf(TaskQueue::RedriveVerdict verdict) {
  switch (verdict) {
    case TaskQueue::RedriveVerdict::kRedriven:
      return v1::REDRIVE_OUTCOME_REDRIVEN;
    case TaskQueue::RedriveVerdict::kUnknown:
      return v1::REDRIVE_OUTCOME_UNKNOWN;
    case TaskQueue::RedriveVerdict::kNotDead:
      return v1::REDRIVE_OUTCOME_NOT_DEAD;
    case TaskQueue::RedriveVerdict::kNotYetHandled:
      return v1::REDRIVE_OUTCOME_NOT_YET_HANDLED;
  }
  return v1::REDRIVE_OUTCOME_UNSPECIFIED;
}

}  // namespace

AdminService::AdminService(Master* master, const WorkerTokens* operator_tokens,
                           const WorkerTokens* worker_tokens)
    : master_(master),
      operator_tokens_(operator_tokens),
      worker_tokens_(worker_tokens) {}

grpc::Status AdminService::Authorize(const grpc::ServerContext& context) const {
  absl::StatusOr<std::string> name =
      AuthenticateOperator(*operator_tokens_, *worker_tokens_, context);
  return name.ok() ? grpc::Status::OK : ToGrpcStatus(name.status());
}

void AdminService::Start(uint64_t finished_before) {
  start_ = absl::Now();
  finished_before_ = finished_before;
}

std::vector<v1::Task> AdminService::Sort(const v1::EnqueueRequest& request,
                                         v1::EnqueueResponse& response) {
  std::vector<v1::Task> valid;
  absl::flat_hash_set<std::string> seen;
  const PayloadSchema* schema = master_->options().schema.get();
  for (v1::Task task : request.tasks()) {
    v1::EnqueueVerdict* verdict = response.add_verdicts();
    verdict->set_task_id(task.id());
    std::string why = WhyTaskIsInvalid(task, TaskLimits());
    if (why.empty() && schema != nullptr) {
      if (why = FitPayload(*schema, task); !why.empty()) {
        why = absl::StrCat("the payload ", why);
      }
    }
    if (why.empty() && !seen.insert(task.id()).second) {
      why = "the id is given twice in this request";
    }
    if (!why.empty()) {
      verdict->set_outcome(v1::ENQUEUE_OUTCOME_INVALID);
      verdict->set_message(why);
      continue;
    }
    verdict->set_outcome(v1::ENQUEUE_OUTCOME_ALREADY_KNOWN);
    valid.push_back(std::move(task));
  }
  return valid;
}

grpc::Status AdminService::Enqueue(grpc::ServerContext* context,
                                   const v1::EnqueueRequest* request,
                                   v1::EnqueueResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  if (grpc::Status size = CheckRequestSize(request->tasks_size(), "tasks");
      !size.ok()) {
    return size;
  }
  if (!master_->options().admin_enqueue || master_->queue().source_closed() ||
      master_->draining()) {
    return Refuse(grpc::StatusCode::FAILED_PRECONDITION,
                  "this master takes no more tasks: it runs the job of its "
                  "--tasks file, or drains; start one without --tasks");
  }
  std::vector<std::string> added_list;
  std::vector<PackedTask> tasks = PackTasks(Sort(*request, *response));
  absl::StatusOr<size_t> added = master_->Enqueue(&tasks, &added_list);
  if (!added.ok()) {
    response->Clear();
    return ToGrpcStatus(added.status());
  }
  const absl::flat_hash_set<std::string> added_ids(added_list.begin(),
                                                   added_list.end());
  for (v1::EnqueueVerdict& verdict : *response->mutable_verdicts()) {
    if (added_ids.contains(verdict.task_id()) &&
        verdict.outcome() == v1::ENQUEUE_OUTCOME_ALREADY_KNOWN) {
      verdict.set_outcome(v1::ENQUEUE_OUTCOME_ADDED);
    }
  }
  response->set_added(*added);
  VLOG(1) << "admin: enqueued " << *added << " of " << request->tasks_size()
          << " tasks";
  return grpc::Status::OK;
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context,
                                     const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  FillStatus(*response);
  return grpc::Status::OK;
}

grpc::Status AdminService::WatchStatus(
    grpc::ServerContext* context, const v1::WatchStatusRequest* request,
    grpc::ServerWriter<v1::WatchStatusResponse>* writer) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  const absl::Duration interval =
      request->interval_ms() == 0
          ? absl::Seconds(1)
          : std::clamp(absl::Milliseconds(request->interval_ms()),
                       absl::Milliseconds(100), absl::Seconds(60));
  // Ends with the job, the client, or the master's shutdown.
  // After a shutdown begins, one last message tells how it ended.
  bool stopping = false;
  while (!context->IsCancelled()) {
    v1::WatchStatusResponse update;
    FillStatus(*update.mutable_status());
    if (!writer->Write(update) || update.status().complete() || stopping) {
      break;
    }
    stopping = stopping_.WaitForNotificationWithTimeout(interval);
  }
  return grpc::Status::OK;
}

void AdminService::FillStatus(v1::GetStatusResponse& response) {
  const MasterStatus status = master_->Status();
  const QueueCounts& c = status.queue.counts;
  response.set_total(c.total);
  response.set_pending(c.pending);
  response.set_leased(c.leased);
  response.set_backoff(c.backoff);
  response.set_done(c.done);
  response.set_dead(c.dead);
  response.set_failed_attempts(c.failures);
  const uint64_t finished = c.done + c.dead;
  const double rate =
      FinishedPerSecond(c, finished_before_, absl::Now() - start_);
  response.set_tasks_per_second(rate);
  response.set_eta_seconds(rate > 0 ? (c.total - finished) / rate : 0);
  response.set_complete(c.complete);
  response.set_draining(status.draining);
  response.set_serving(status.serving);
  for (const WorkerStatus& worker : status.queue.workers) {
    if (!worker.connected) continue;
    v1::WorkerStatus* out = response.add_workers();
    out->set_name(worker.name);
    out->set_address(worker.peer);
    out->set_slots(worker.slots);
    out->set_in_flight(worker.in_flight);
    out->set_done(worker.done);
    out->set_failed(worker.failed);
  }
}

grpc::Status AdminService::CancelTask(grpc::ServerContext* context,
                                      const v1::CancelTaskRequest* request,
                                      v1::CancelTaskResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  const std::string reason = request->reason().empty()
                                 ? "cancelled by an operator"
                                 : request->reason();
  absl::StatusOr<Master::CancelOutcome> cancelled =
      master_->Cancel(request->task_id(), reason);
  if (!cancelled.ok()) return ToGrpcStatus(cancelled.status());
  LOG(INFO) << "admin: cancelled task " << request->task_id()
            << (cancelled->worker_name.empty()
                    ? ""
                    : absl::StrCat(", running on ", cancelled->worker_name))
            << ": " << reason;
  response->set_worker_name(cancelled->worker_name);
  response->set_worker_told(cancelled->worker_told);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListDead(grpc::ServerContext* context,
                                    const v1::ListDeadRequest* request,
                                    v1::ListDeadResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  constexpr size_t kMaxPage = 1000;
  size_t offset = 0;
  if (!request->page_token().empty() &&
      !absl::SimpleAtoi(request->page_token(), &offset)) {
    return Refuse(grpc::StatusCode::INVALID_ARGUMENT, "bad page_token");
  }
  const size_t size = request->page_size() == 0
                          ? kMaxPage
                          : std::min<size_t>(request->page_size(), kMaxPage);
  // One more than asked tells whether another page follows.
  std::vector<DeadTask> page = master_->queue().ListDead(offset, size + 1);
  if (page.size() > size) {
    response->set_next_page_token(absl::StrCat(offset + size));
    page.pop_back();
  }
  for (const DeadTask& dead : page) {
    v1::DeadTask* out = response->add_tasks();
    out->set_task_id(dead.task_id);
    out->set_code(dead.code);
    // Worker messages may be long; a page must stay well under 4 MiB.
    out->set_message(dead.message.substr(0, 1024));
    out->set_attempts(dead.attempts);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::RedriveDead(grpc::ServerContext* context,
                                       const v1::RedriveDeadRequest* request,
                                       v1::RedriveDeadResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  if (grpc::Status size = CheckRequestSize(request->task_ids_size(), "ids");
      !size.ok()) {
    return size;
  }
  absl::StatusOr<TaskQueue::RedrivePlan> plan =
      master_->Redrive({request->task_ids().begin(), request->task_ids().end()},
                       kMaxTasksPerRequest);
  if (!plan.ok()) return ToGrpcStatus(plan.status());
  for (const auto& [id, verdict] : plan->verdicts) {
    v1::RedriveVerdict* out = response->add_verdicts();
    out->set_task_id(id);
    out->set_outcome(RedriveOutcomeOf(verdict));
  }
  response->set_redriven(plan->task_ids.size());
  LOG(INFO) << "admin: redrove " << plan->task_ids.size() << " dead tasks";
  return grpc::Status::OK;
}

grpc::Status AdminService::Drain(grpc::ServerContext* context,
                                 const v1::DrainRequest*,
                                 v1::DrainResponse* response) {
  if (grpc::Status denied = Authorize(*context); !denied.ok()) return denied;
  LOG(INFO) << "admin: drain requested by " << context->peer();
  master_->Drain();
  response->set_leased(master_->queue().Counts().leased);
  return grpc::Status::OK;
}

}  // namespace distributo::server
