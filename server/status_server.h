#ifndef DISTRIBUTO_SERVER_STATUS_SERVER_H_
#define DISTRIBUTO_SERVER_STATUS_SERVER_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/master.h"
#include "server/status_json.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace distributo::server {

// The master's HTTP port: /metrics (Prometheus text), /healthz (the
// process is up), /readyz (200 while the master serves, 503 otherwise),
// /api/status (JSON) and the live status page at /. HTTPS when the master
// has a certificate; /metrics and /api/status take the admin service's
// tokens (an operator's, as "Authorization: Bearer TOKEN").
// Thread-safe: it serves on threads of its own and samples the finished
// count every second for the throughput chart (the last 10 minutes).
class StatusServer {
 public:
  // Serves `master` (borrowed; must outlive this) on `address`:`port`, 0
  // picking a free port. Returns Unavailable if it cannot bind.
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(
      Master* master, absl::string_view address, int port);
  // Stops serving.
  ~StatusServer();

  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  int port() const { return port_; }

 private:
  StatusServer(Master* master, std::unique_ptr<httplib::Server> http);

  // Answers 401 or 403 (returning true) unless the request needs no token
  // or carries an operator's, as the admin service asks.
  bool Refused(const httplib::Request& request,
               httplib::Response& response) const;
  void AddRoutes();
  void Sample();
  std::vector<ThroughputSample> Throughput();

  Master* const master_;
  const std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::thread serving_;
  std::thread sampling_;
  absl::Notification stop_;
  absl::Notification listen_ended_;
  absl::Mutex mu_;
  std::deque<ThroughputSample> samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_STATUS_SERVER_H_
