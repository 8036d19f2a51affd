#include "discovery/master_locator.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "discovery/dns_sd_locator.h"
#include "discovery/mdns_locator.h"

namespace distributo::discovery {
namespace {

constexpr absl::string_view kDnsSdPrefix = "dns-sd:";
constexpr absl::string_view kSrvPrefix = "srv:";
constexpr absl::string_view kMdns = "mdns";
constexpr absl::string_view kDefaultServiceType = "_distributo._tcp";

// A master at a fixed address: gRPC resolves and dials it.
class StaticLocator : public MasterLocator {
 public:
  explicit StaticLocator(std::string target) : target_(std::move(target)) {}

  absl::StatusOr<std::vector<MasterEndpoint>> Locate() override {
    return std::vector<MasterEndpoint>{{target_, "", "static address"}};
  }
  std::string Describe() const override { return target_; }

 private:
  const std::string target_;
};

absl::StatusOr<std::unique_ptr<MasterLocator>> MakeDnsSdLocator(
    DnsSdLocator::Mode mode, absl::string_view name,
    const DiscoveryOptions& options) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--master=", options.master, " names no service; e.g. ",
        mode == DnsSdLocator::Mode::kBrowse
            ? "dns-sd:_distributo._tcp.example.com"
            : "srv:_grpc._tcp.distributo.default.svc.cluster.local"));
  }
  absl::StatusOr<std::unique_ptr<DnsClient>> dns =
      DnsClient::Create(options.dns_server, options.dns_timeout);
  if (!dns.ok()) return dns.status();
  return std::make_unique<DnsSdLocator>(mode, std::string(name),
                                        options.cluster, *std::move(dns));
}

bool IsMdnsForm(absl::string_view master) {
  return master == kMdns || absl::StartsWith(master, absl::StrCat(kMdns, ":"));
}

}  // namespace

bool IsDiscoveryForm(absl::string_view master) {
  return absl::StartsWith(master, kDnsSdPrefix) ||
         absl::StartsWith(master, kSrvPrefix) || IsMdnsForm(master);
}

absl::StatusOr<std::unique_ptr<MasterLocator>> MasterLocator::Create(
    const DiscoveryOptions& options) {
  absl::string_view master = options.master;
  if (master.empty()) {
    return absl::InvalidArgumentError(
        "no master given: use HOST:PORT, dns-sd:SERVICE.DOMAIN, srv:NAME or "
        "mdns");
  }
  if (absl::ConsumePrefix(&master, kDnsSdPrefix)) {
    return MakeDnsSdLocator(DnsSdLocator::Mode::kBrowse, master, options);
  }
  if (absl::ConsumePrefix(&master, kSrvPrefix)) {
    return MakeDnsSdLocator(DnsSdLocator::Mode::kSrv, master, options);
  }
  if (IsMdnsForm(master)) {
    master.remove_prefix(kMdns.size());
    absl::ConsumePrefix(&master, ":");
    return MdnsLocator::Create(master.empty() ? kDefaultServiceType : master,
                               options);
  }
  return std::make_unique<StaticLocator>(std::string(master));
}

}  // namespace distributo::discovery
