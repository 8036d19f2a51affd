#include "discovery/mdns_locator.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace distributo::discovery {

absl::StatusOr<std::unique_ptr<MasterLocator>> MdnsLocator::Create(
    absl::string_view service_type, const DiscoveryOptions& options) {
  absl::ConsumeSuffix(&service_type, ".");
  absl::ConsumeSuffix(&service_type, ".local");
  if (absl::StatusOr<DnsName> name = DnsName::FromText(service_type);
      !name.ok() || name->labels().size() != 2 ||
      !absl::StartsWith(name->labels()[0], "_")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--master=mdns:", service_type,
                     ": expected a service type like _distributo._tcp"));
  }
  return std::unique_ptr<MasterLocator>(
      new MdnsLocator(std::string(service_type), options));
}

MdnsLocator::MdnsLocator(std::string service_type,
                         const DiscoveryOptions& options)
    : service_type_(std::move(service_type)),
      cluster_(options.cluster),
      listen_(options.mdns_browse_time),
      browser_(service_type_) {}

std::string MdnsLocator::Describe() const {
  return absl::StrCat(
      "mdns:", service_type_,
      cluster_.empty() ? "" : absl::StrCat(" cluster ", cluster_));
}

absl::StatusOr<std::vector<MasterEndpoint>> MdnsLocator::Locate() {
  absl::StatusOr<std::vector<ServiceInstance>> instances =
      browser_.Browse(listen_);
  if (!instances.ok()) return instances.status();
  return SelectMasters(*std::move(instances), cluster_, Describe(), random_);
}

}  // namespace distributo::discovery
