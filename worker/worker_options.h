#ifndef DISTRIBUTO_WORKER_WORKER_OPTIONS_H_
#define DISTRIBUTO_WORKER_WORKER_OPTIONS_H_

#include <grpcpp/channel.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "rpc/tls_credentials.h"

namespace distributo::worker {

// How a WorkerRuntime connects and paces itself. Plain data.
struct WorkerOptions {
  // Where the master is: "HOST:PORT", "dns-sd:_distributo._tcp.DOMAIN",
  // "srv:NAME", "mdns" or "mdns:SERVICE_TYPE" (see
  // discovery::DiscoveryOptions). Ignored when `channel` is set.
  std::string master;
  // The DNS server for dns-sd: and srv:, "IP:PORT"; empty: the system's.
  std::string dns_server;
  // With discovery, only masters advertising this cluster; empty: any.
  std::string cluster;
  // TLS: `tls.ca` to check the master's certificate (the system's roots if
  // only a client certificate is given), `tls.cert` and `tls.key` to
  // present one. Empty: plaintext.
  TlsFiles tls;
  // The name the master's certificate must carry; empty: the host dialled
  // (for a discovered master, the host name it was published as).
  std::string tls_server_name;
  // A bearer token for a master started with --tokens; empty: none.
  std::string token;
  // A channel to use instead of dialing `master`, e.g. an in-process one.
  std::shared_ptr<grpc::Channel> channel;
  // Shown in the master's logs and status. Empty: "<hostname>/<pid>".
  std::string worker_name;
  std::string sdk_version = "distributo-cpp/0.1";
  // Tasks run at once (slot threads).
  uint32_t concurrency = 1;
  // Most tasks held (queued + running). 0: max(2 * max_batch_tasks,
  // concurrency), with max_batch_tasks from the master's SessionStart.
  // Outcomes waiting for their ack may fill as many again (TaskLedger).
  uint32_t prefetch = 0;
  // Reconnect backoff: starts at `reconnect_initial`, grows 1.6x per failed
  // attempt with +-20% jitter, capped at `reconnect_max`.
  absl::Duration reconnect_initial = absl::Seconds(1);
  absl::Duration reconnect_max = absl::Seconds(30);
  // Outcomes are sent once this many are pending, or once the oldest waited
  // `flush_linger`, or when no task is running.
  size_t flush_outcomes = 64;
  absl::Duration flush_linger = absl::Milliseconds(2);
  // HTTP/2 keepalive pings (0: off), so a dead master is noticed while idle.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // After JobComplete and the last ack, how long to wait for the master to
  // end the results stream before cancelling it.
  absl::Duration close_timeout = absl::Seconds(10);
};

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_WORKER_OPTIONS_H_
