#ifndef DISTRIBUTO_DISCOVERY_MASTER_ADVERTISEMENT_H_
#define DISTRIBUTO_DISCOVERY_MASTER_ADVERTISEMENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/mdns_responder.h"

namespace distributo::discovery {

// How a master presents itself on the LAN. Plain data.
struct AdvertiseOptions {
  // The DNS-SD instance label; empty: "distributo-<hostname>-<port>".
  std::string instance;
  std::string service_type = "_distributo._tcp";
  // Goes into the TXT record as "cluster="; empty: none.
  std::string cluster;
  bool tls = false;
};

// Starts advertising a master that listens on `listen_address`:`port` over
// mDNS, with the TXT keys workers check: txtvers, proto, tls and cluster.
// Returns MdnsResponder::Start()'s errors.
absl::StatusOr<std::unique_ptr<MdnsResponder>> AdvertiseMaster(
    const AdvertiseOptions& options, absl::string_view listen_address,
    int port);

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MASTER_ADVERTISEMENT_H_
