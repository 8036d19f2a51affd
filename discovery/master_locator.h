#ifndef DISTRIBUTO_DISCOVERY_MASTER_LOCATOR_H_
#define DISTRIBUTO_DISCOVERY_MASTER_LOCATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/master_endpoint.h"

namespace distributo::discovery {

// How a worker finds its master. Plain data.
struct DiscoveryOptions {
  // One of:
  //   "HOST:PORT" (or any gRPC target)   a static address;
  //   "dns-sd:_distributo._tcp.DOMAIN"   a DNS-SD browse: PTR, SRV, TXT, A;
  //   "srv:NAME"                         a bare SRV name (Kubernetes);
  //   "mdns" or "mdns:SERVICE_TYPE"      multicast DNS on the LAN.
  std::string master;
  // The DNS server for dns-sd: and srv:, "IP:PORT"; empty: the system's.
  std::string dns_server;
  // Only masters whose TXT "cluster" key equals this; empty: any master.
  std::string cluster;
  absl::Duration dns_timeout = absl::Seconds(3);
  // How long one mDNS browse listens for answers.
  absl::Duration mdns_browse_time = absl::Seconds(1);
};

// Returns whether `master` is a discovery form (dns-sd:, srv:, mdns), not a
// static address.
bool IsDiscoveryForm(absl::string_view master);

// Turns a --master form into the endpoints to try, best first.
// Thread-compatible: the worker's connect loop alone uses it.
class MasterLocator {
 public:
  // Returns InvalidArgument for an empty or malformed form.
  static absl::StatusOr<std::unique_ptr<MasterLocator>> Create(
      const DiscoveryOptions& options);
  virtual ~MasterLocator() = default;

  // Looks the master up (again). Returns NotFound when no usable master is
  // published (with why each one found was passed over), DNS errors as
  // DnsClient::Query() gives them, Unavailable if mDNS cannot be used.
  virtual absl::StatusOr<std::vector<MasterEndpoint>> Locate() = 0;

  // What is looked up, for logs: e.g. "dns-sd:_distributo._tcp.example.com".
  virtual std::string Describe() const = 0;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MASTER_LOCATOR_H_
