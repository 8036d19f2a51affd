#ifndef DISTRIBUTO_DISCOVERY_SERVICE_INSTANCE_H_
#define DISTRIBUTO_DISCOVERY_SERVICE_INSTANCE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/dns_message.h"
#include "discovery/master_endpoint.h"

namespace distributo::discovery {

// The TXT keys a master advertises (DESIGN §5).
inline constexpr absl::string_view kTxtVersionKey = "txtvers";
inline constexpr absl::string_view kProtocolKey = "proto";
inline constexpr absl::string_view kProtocolValue = "distributo.v1";
inline constexpr absl::string_view kTlsKey = "tls";
inline constexpr absl::string_view kClusterKey = "cluster";

// One DNS-SD service instance (or bare SRV record) as resolved: where it
// listens and what its TXT record says. Plain data.
struct ServiceInstance {
  DnsName name;  // the instance (or SRV) name
  SrvData srv;
  std::vector<std::string> txt;        // "key=value" strings
  std::vector<std::string> addresses;  // the SRV target's A/AAAA, as text
};

// Returns the value of `key` in DNS-SD TXT strings (RFC 6763 6.3: keys
// ignore case; a key without '=' has an empty value); nullopt if absent.
std::optional<std::string> TxtValue(const std::vector<std::string>& txt,
                                    absl::string_view key);

// Returns why `instance` is not a master this worker should use, or "" if
// it is: another protocol in its "proto" key, or, when `cluster` is not
// empty, a "cluster" key that differs.
std::string WhyUnsuitable(const ServiceInstance& instance,
                          absl::string_view cluster);

// Keeps the suitable instances (see WhyUnsuitable) and returns their
// endpoints, best first (ToEndpoints). Returns NotFound, naming `where` and
// why each instance was passed over, when none is left.
absl::StatusOr<std::vector<MasterEndpoint>> SelectMasters(
    std::vector<ServiceInstance> instances, absl::string_view cluster,
    absl::string_view where, absl::BitGenRef random);

// Orders instances as RFC 2782 says: lowest priority first, and within a
// priority a random order weighted by `weight`. Then returns an endpoint
// per address, in that order.
std::vector<MasterEndpoint> ToEndpoints(std::vector<ServiceInstance> instances,
                                        absl::BitGenRef random);

// Returns the distinct A and AAAA addresses among `records` for `host`.
std::vector<std::string> AddressesOf(
    const std::vector<const DnsRecord*>& records, const DnsName& host);

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_SERVICE_INSTANCE_H_
