#ifndef DISTRIBUTO_SERVER_ADMIN_SERVICE_H_
#define DISTRIBUTO_SERVER_ADMIN_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "distributo/v1/admin.grpc.pb.h"
#include "server/worker_tokens.h"

namespace distributo::server {

class Master;

// distributo.v1.Admin (proto/distributo/v1/admin.proto): enqueue, status
// and drain for operators. Thread-safe: gRPC's sync threads call it; the
// master does the locking.
class AdminService final : public v1::Admin::Service {
 public:
  static constexpr size_t kMaxTasksPerRequest = 10'000;

  // Borrows `master`, which owns this service, and the tokens, which its
  // options own. Calls must carry an operator's token once there are any
  // tokens (AuthenticateOperator()).
  AdminService(Master* master, const WorkerTokens* operator_tokens,
               const WorkerTokens* worker_tokens);

  // Marks the start of serving, with the tasks already finished then (in
  // earlier runs), so that the rate counts only this run's. Call before the
  // server starts.
  void Start(uint64_t finished_before);
  // Ends WatchStatus streams at once: the master is shutting down.
  void Stop() {
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
  }

  grpc::Status Enqueue(grpc::ServerContext* context,
                       const v1::EnqueueRequest* request,
                       v1::EnqueueResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status WatchStatus(
      grpc::ServerContext* context, const v1::WatchStatusRequest* request,
      grpc::ServerWriter<v1::WatchStatusResponse>* writer) override;
  grpc::Status CancelTask(grpc::ServerContext* context,
                          const v1::CancelTaskRequest* request,
                          v1::CancelTaskResponse* response) override;
  grpc::Status ListDead(grpc::ServerContext* context,
                        const v1::ListDeadRequest* request,
                        v1::ListDeadResponse* response) override;
  grpc::Status RedriveDead(grpc::ServerContext* context,
                           const v1::RedriveDeadRequest* request,
                           v1::RedriveDeadResponse* response) override;
  grpc::Status Drain(grpc::ServerContext* context,
                     const v1::DrainRequest* request,
                     v1::DrainResponse* response) override;

 private:
  // Returns OK if the call carries an operator's token, or needs none.
  grpc::Status Authorize(const grpc::ServerContext& context) const;
  void FillStatus(v1::GetStatusResponse& response);
  // Returns the tasks to add and fills in the verdicts of the others.
  std::vector<v1::Task> Sort(const v1::EnqueueRequest& request,
                             v1::EnqueueResponse& response);

  Master* const master_;
  const WorkerTokens* const operator_tokens_;
  const WorkerTokens* const worker_tokens_;
  // Set by Start() before the server starts, read-only after.
  absl::Time start_ = absl::Now();
  uint64_t finished_before_ = 0;
  absl::Notification stopping_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_ADMIN_SERVICE_H_
