#ifndef DISTRIBUTO_DISCOVERY_DNS_CLIENT_H_
#define DISTRIBUTO_DISCOVERY_DNS_CLIENT_H_

#include <ares.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/dns_message.h"

namespace distributo::discovery {

// Asks a unicast DNS server for records through c-ares: the system's
// resolvers (/etc/resolv.conf, with its search list) or one given server.
// Thread-compatible: a c-ares channel must not be used by two threads.
class DnsClient {
 public:
  // `server` is "IP:PORT" or "[IPv6]:PORT"; empty uses the system's.
  // `timeout` bounds each Query(). Returns InvalidArgument for a bad server
  // and Internal if c-ares cannot start.
  static absl::StatusOr<std::unique_ptr<DnsClient>> Create(
      absl::string_view server, absl::Duration timeout);
  ~DnsClient();

  DnsClient(const DnsClient&) = delete;
  DnsClient& operator=(const DnsClient&) = delete;

  // Looks up the `type` records of `name` (class IN), trying the search
  // domains for a relative name. Every error names the query and the
  // server: NotFound for NXDOMAIN or no records of that type, Unavailable
  // when the server refuses, fails or cannot be reached, DeadlineExceeded
  // when it does not answer in time, DataLoss for a malformed reply.
  absl::StatusOr<DnsMessage> Query(absl::string_view name, RecordType type);

  // Where queries go, for messages: the server given, or "system resolver".
  const std::string& server() const { return server_; }

 private:
  DnsClient(ares_channel channel, std::string server, absl::Duration timeout)
      : channel_(channel), server_(std::move(server)), timeout_(timeout) {}

  // Runs c-ares' sockets until `done` is set or `deadline` passes.
  void Drive(const bool& done, absl::Time deadline);

  const ares_channel channel_;
  const std::string server_;
  const absl::Duration timeout_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_DNS_CLIENT_H_
