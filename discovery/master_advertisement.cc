#include "discovery/master_advertisement.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "discovery/dns_name.h"
#include "discovery/service_instance.h"

namespace distributo::discovery {
namespace {

// Returns "distributo-<hostname>-<port>" as a valid host label: letters,
// digits and '-' only, at most 63 bytes.
std::string HostLabel(int port) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "host");
  }
  std::string label = absl::StrCat("distributo-", host);
  for (char& c : label) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  const std::string suffix = absl::StrCat("-", port);
  label.resize(std::min(label.size(), DnsName::kMaxLabel - suffix.size()));
  return label + suffix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MdnsResponder>> AdvertiseMaster(
    const AdvertiseOptions& options, absl::string_view listen_address,
    int port) {
  MdnsService service;
  service.host_label = HostLabel(port);
  service.instance =
      options.instance.empty() ? service.host_label : options.instance;
  service.service_type = options.service_type;
  service.port = static_cast<uint16_t>(port);
  service.txt = {absl::StrCat(kTxtVersionKey, "=1"),
                 absl::StrCat(kProtocolKey, "=", kProtocolValue),
                 absl::StrCat(kTlsKey, "=", options.tls ? "1" : "0")};
  if (!options.cluster.empty()) {
    service.txt.push_back(absl::StrCat(kClusterKey, "=", options.cluster));
  }
  return MdnsResponder::Start(service, listen_address);
}

}  // namespace distributo::discovery
