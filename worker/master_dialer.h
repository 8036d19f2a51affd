#ifndef DISTRIBUTO_WORKER_MASTER_DIALER_H_
#define DISTRIBUTO_WORKER_MASTER_DIALER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/master_locator.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "worker/master_connection.h"
#include "worker/worker_options.h"

namespace distributo::worker {

// Reaches the master: finds it (a static address, DNS-SD, SRV or mDNS),
// introduces the worker with a WorkerHello and opens MasterConnections,
// resuming the previous session when there is one. While connected it
// stays on its channel; once not, it looks the master up again and tries
// each endpoint found, best first, so a dead master fails over to the next.
// Thread-compatible: only the runtime's connect loop uses it.
class MasterDialer {
 public:
  // Uses `options.channel` if set, else finds `options.master`.
  // `accepted_types` goes into every hello. Returns InvalidArgument for a
  // malformed `options.master` or DNS server, and the TLS files' errors
  // (see WorkerCredentials()).
  static absl::StatusOr<std::unique_ptr<MasterDialer>> Create(
      const WorkerOptions& options, std::vector<std::string> accepted_types);

  // Opens a session, resuming `resume_session_id` unless it is empty; starts
  // a new session instead when the master no longer knows that one. Returns
  // the lookup's errors (MasterLocator::Locate()) or
  // MasterConnection::Open()'s, from the last endpoint tried.
  absl::StatusOr<std::unique_ptr<MasterConnection>> Open(
      absl::string_view resume_session_id);

  // Returns true if the channel is connected, so that a failed attempt came
  // from the master itself rather than from the network.
  bool Connected();

  // Waits until the channel connects or `deadline` passes; returns whether
  // it connected.
  bool WaitForConnected(absl::Time deadline);

  // What the worker looks for, for logs: the --master form.
  std::string Describe() const;

 private:
  MasterDialer(const WorkerOptions& options, v1::WorkerHello hello,
               std::unique_ptr<discovery::MasterLocator> locator,
               std::shared_ptr<grpc::ChannelCredentials> credentials);

  // Opens a session on the current channel.
  absl::StatusOr<std::unique_ptr<MasterConnection>> OpenSession(
      absl::string_view resume_session_id);
  // Makes `endpoint` the current channel, keeping it if it already is.
  void UseEndpoint(const discovery::MasterEndpoint& endpoint);

  const WorkerOptions& options_;  // the runtime's, which outlives this
  // Every field but resume_session_id, which changes per attempt.
  const v1::WorkerHello hello_;
  // Null when the options bring their own channel.
  const std::unique_ptr<discovery::MasterLocator> locator_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string target_;  // what channel_ dials
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Distributor::Stub> stub_;
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_MASTER_DIALER_H_
