#ifndef DISTRIBUTO_DISCOVERY_DNS_SD_LOCATOR_H_
#define DISTRIBUTO_DISCOVERY_DNS_SD_LOCATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "discovery/dns_client.h"
#include "discovery/master_locator.h"
#include "discovery/service_instance.h"

namespace distributo::discovery {

// Finds masters in unicast DNS: a DNS-SD browse (PTR for the service type,
// then SRV and TXT per instance) or a bare SRV name, then the SRV targets'
// A and AAAA records. Thread-compatible.
class DnsSdLocator : public MasterLocator {
 public:
  enum class Mode { kBrowse, kSrv };

  DnsSdLocator(Mode mode, std::string name, std::string cluster,
               std::unique_ptr<DnsClient> dns);

  absl::StatusOr<std::vector<MasterEndpoint>> Locate() override;
  std::string Describe() const override;

 private:
  // Returns the instance names the PTR records of name_ point to.
  absl::StatusOr<std::vector<std::string>> Browse();
  // Resolves one SRV name into an instance per SRV record, with TXT (for a
  // browsed instance) and addresses.
  absl::StatusOr<std::vector<ServiceInstance>> ResolveSrv(
      const std::string& name, bool with_txt);
  // Returns `srv`'s target addresses: from `reply` if it carries them, else
  // from A and AAAA queries.
  std::vector<std::string> ResolveTarget(const DnsMessage& reply,
                                         const SrvData& srv);

  const Mode mode_;
  const std::string name_;
  const std::string cluster_;
  const std::unique_ptr<DnsClient> dns_;
  absl::BitGen random_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_DNS_SD_LOCATOR_H_
