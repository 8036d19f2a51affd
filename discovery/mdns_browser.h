#ifndef DISTRIBUTO_DISCOVERY_MDNS_BROWSER_H_
#define DISTRIBUTO_DISCOVERY_MDNS_BROWSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/dns_message.h"
#include "discovery/service_instance.h"

namespace distributo::discovery {

// Finds the instances of a service type on the LAN with one-shot mDNS
// queries (RFC 6762 5.1, legacy unicast): asks for the type's PTR records
// on every interface, collects the answers for a while, then asks for the
// SRV, TXT and A records the answers lacked. Works beside Avahi and
// Bonjour. Stateless; thread-safe.
class MdnsBrowser {
 public:
  // `service_type` like "_distributo._tcp" (".local" is added).
  explicit MdnsBrowser(std::string service_type);

  // Browses for `listen` (and as long again for missing records). Returns
  // the instances found, possibly none, each with its SRV record, TXT and
  // addresses (instances without SRV are left out); Unavailable if no
  // mDNS socket can be used; InvalidArgument for a bad service type.
  absl::StatusOr<std::vector<ServiceInstance>> Browse(
      absl::Duration listen) const;

 private:
  const std::string service_type_;
};

// Builds the instances of `service` from the records mDNS replies carried.
// Exposed for tests.
std::vector<ServiceInstance> InstancesFromRecords(
    const std::vector<DnsRecord>& records, const DnsName& service);

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MDNS_BROWSER_H_
