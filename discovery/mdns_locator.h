#ifndef DISTRIBUTO_DISCOVERY_MDNS_LOCATOR_H_
#define DISTRIBUTO_DISCOVERY_MDNS_LOCATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/master_locator.h"
#include "discovery/mdns_browser.h"

namespace distributo::discovery {

// Finds masters on the LAN by browsing mDNS for their service type, keeping
// those of the wanted cluster. Thread-compatible.
class MdnsLocator : public MasterLocator {
 public:
  // `service_type` like "_distributo._tcp" (a trailing ".local" is
  // dropped). Returns InvalidArgument for a bad type.
  static absl::StatusOr<std::unique_ptr<MasterLocator>> Create(
      absl::string_view service_type, const DiscoveryOptions& options);

  absl::StatusOr<std::vector<MasterEndpoint>> Locate() override;
  std::string Describe() const override;

 private:
  MdnsLocator(std::string service_type, const DiscoveryOptions& options);

  const std::string service_type_;
  const std::string cluster_;
  const absl::Duration listen_;
  const MdnsBrowser browser_;
  absl::BitGen random_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MDNS_LOCATOR_H_
