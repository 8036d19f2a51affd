#ifndef DISTRIBUTO_WORKER_MASTER_DIALER_H_
#define DISTRIBUTO_WORKER_MASTER_DIALER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "worker/master_connection.h"
#include "worker/worker_options.h"

namespace distributo::worker {

// Reaches the master over one channel: introduces the worker with a
// WorkerHello and opens MasterConnections, resuming the previous session
// when there is one.
// Thread-compatible: only the runtime's connect loop uses it.
class MasterDialer {
 public:
  // Uses `options.channel` if set, else dials `options.master`.
  // `accepted_types` goes into every hello.
  MasterDialer(const WorkerOptions& options,
               std::vector<std::string> accepted_types);

  // Opens a session, resuming `resume_session_id` unless it is empty; starts
  // a new session instead when the master no longer knows that one. Returns
  // MasterConnection::Open()'s errors.
  absl::StatusOr<std::unique_ptr<MasterConnection>> Open(
      absl::string_view resume_session_id);

  // Returns true if the channel is connected, so that a failed attempt came
  // from the master itself rather than from the network.
  bool Connected();

  // Waits until the channel connects or `deadline` passes; returns whether
  // it connected.
  bool WaitForConnected(absl::Time deadline);

 private:
  // Every field but resume_session_id, which changes per attempt.
  const v1::WorkerHello hello_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Distributor::Stub> stub_;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_MASTER_DIALER_H_
