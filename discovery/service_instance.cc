#include "discovery/service_instance.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace distributo::discovery {
namespace {

// Takes instances of one priority in RFC 2782's weighted random order:
// each pick is weighted by `weight`, zero weights (placed first) keep a
// small chance.
std::vector<ServiceInstance> WeightedOrder(std::vector<ServiceInstance> group,
                                           absl::BitGenRef random) {
  std::stable_partition(
      group.begin(), group.end(),
      [](const ServiceInstance& i) { return i.srv.weight == 0; });
  std::vector<ServiceInstance> ordered;
  while (!group.empty()) {
    uint64_t total = 0;
    for (const ServiceInstance& instance : group) total += instance.srv.weight;
    const uint64_t pick =
        absl::Uniform<uint64_t>(absl::IntervalClosed, random, 0, total);
    uint64_t running = 0;
    auto chosen = group.begin();
    for (; chosen != group.end(); ++chosen) {
      running += chosen->srv.weight;
      if (running >= pick) break;
    }
    if (chosen == group.end()) --chosen;
    ordered.push_back(std::move(*chosen));
    group.erase(chosen);
  }
  return ordered;
}

std::string IpTarget(const std::string& address, uint16_t port) {
  return absl::StrContains(address, ':')
             ? absl::StrCat("ipv6:[", address, "]:", port)
             : absl::StrCat("ipv4:", address, ":", port);
}

}  // namespace

std::optional<std::string> TxtValue(const std::vector<std::string>& txt,
                                    absl::string_view key) {
  for (absl::string_view entry : txt) {
    const size_t equals = entry.find('=');
    if (!absl::EqualsIgnoreCase(entry.substr(0, equals), key)) continue;
    if (equals == absl::string_view::npos) return "";
    return std::string(entry.substr(equals + 1));
  }
  return std::nullopt;
}

std::string WhyUnsuitable(const ServiceInstance& instance,
                          absl::string_view cluster) {
  const std::optional<std::string> protocol =
      TxtValue(instance.txt, kProtocolKey);
  if (protocol.has_value() && *protocol != kProtocolValue) {
    return absl::StrCat("speaks ", *protocol, ", not ", kProtocolValue);
  }
  if (cluster.empty()) return "";
  const std::string theirs = TxtValue(instance.txt, kClusterKey).value_or("");
  if (theirs == cluster) return "";
  return theirs.empty()
             ? absl::StrCat("has no cluster, not ", cluster)
             : absl::StrCat("is in cluster ", theirs, ", not ", cluster);
}

absl::StatusOr<std::vector<MasterEndpoint>> SelectMasters(
    std::vector<ServiceInstance> instances, absl::string_view cluster,
    absl::string_view where, absl::BitGenRef random) {
  std::vector<ServiceInstance> suitable;
  std::vector<std::string> passed_over;
  for (ServiceInstance& instance : instances) {
    const std::string why = WhyUnsuitable(instance, cluster);
    if (!why.empty()) {
      passed_over.push_back(absl::StrCat(instance.name.ToText(), " ", why));
    } else if (instance.addresses.empty()) {
      passed_over.push_back(absl::StrCat(instance.name.ToText(), " (",
                                         instance.srv.target.ToText(),
                                         ") has no address"));
    } else {
      suitable.push_back(std::move(instance));
    }
  }
  if (suitable.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no usable master at ", where,
        passed_over.empty()
            ? ": none published"
            : absl::StrCat(": ", absl::StrJoin(passed_over, "; "))));
  }
  return ToEndpoints(std::move(suitable), random);
}

std::vector<MasterEndpoint> ToEndpoints(std::vector<ServiceInstance> instances,
                                        absl::BitGenRef random) {
  std::stable_sort(instances.begin(), instances.end(),
                   [](const ServiceInstance& a, const ServiceInstance& b) {
                     return a.srv.priority < b.srv.priority;
                   });
  std::vector<MasterEndpoint> endpoints;
  for (auto first = instances.begin(); first != instances.end();) {
    auto last =
        std::find_if(first, instances.end(), [&](const ServiceInstance& i) {
          return i.srv.priority != first->srv.priority;
        });
    std::vector<ServiceInstance> group(std::make_move_iterator(first),
                                       std::make_move_iterator(last));
    for (const ServiceInstance& instance :
         WeightedOrder(std::move(group), random)) {
      const std::string host = instance.srv.target.ToText();
      for (const std::string& address : instance.addresses) {
        endpoints.push_back({IpTarget(address, instance.srv.port), host,
                             absl::StrCat(instance.name.ToText(), " -> ", host,
                                          ":", instance.srv.port, " (priority ",
                                          instance.srv.priority, ", weight ",
                                          instance.srv.weight, ")")});
      }
    }
    first = last;
  }
  return endpoints;
}

std::vector<std::string> AddressesOf(
    const std::vector<const DnsRecord*>& records, const DnsName& host) {
  std::vector<std::string> addresses;
  for (const DnsRecord* record : records) {
    const bool address_type =
        record->type == static_cast<uint16_t>(RecordType::kA) ||
        record->type == static_cast<uint16_t>(RecordType::kAaaa);
    if (address_type && record->name == host &&
        std::find(addresses.begin(), addresses.end(), record->address) ==
            addresses.end()) {
      addresses.push_back(record->address);
    }
  }
  return addresses;
}

}  // namespace distributo::discovery
