#include "discovery/mdns_browser.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "discovery/mdns_socket.h"
#include "glog/logging.h"

namespace distributo::discovery {
namespace {

// After the first listen, rounds asking for what answers lacked: an SRV
// learned in one round may need its A record in the next.
constexpr int kFollowUpRounds = 2;
// Records kept from one browse: far more than a LAN's masters need, few
// enough that a host flooding replies costs us little.
constexpr size_t kMaxRecords = 2048;

bool IsType(const DnsRecord& record, RecordType type) {
  return record.type == static_cast<uint16_t>(type);
}

// Sends one query holding `questions` out of every interface.
void Ask(MdnsSocket& socket, const std::vector<NetworkInterface>& interfaces,
         std::vector<DnsQuestion> questions) {
  DnsMessage query;
  query.questions = std::move(questions);
  absl::StatusOr<std::string> wire = SerializeDnsMessage(query);
  if (!wire.ok()) {
    LOG(ERROR) << "mDNS: cannot encode a query: " << wire.status();
    return;
  }
  for (const NetworkInterface& interface : interfaces) {
    if (absl::Status status = socket.SendMulticast(*wire, interface);
        !status.ok()) {
      VLOG(1) << status;
    }
  }
}

// Appends the records of every reply received until `deadline`.
void Collect(MdnsSocket& socket, absl::Time deadline,
             std::vector<DnsRecord>& records) {
  while (absl::Now() < deadline) {
    std::optional<Datagram> datagram = socket.Receive(deadline);
    if (!datagram.has_value()) continue;
    absl::StatusOr<DnsMessage> reply = ParseDnsMessage(datagram->bytes);
    if (!reply.ok() || !reply->response) {
      VLOG(1) << "mDNS: ignoring a datagram from "
              << AddressText(datagram->from.sin_addr) << ": " << reply.status();
      continue;
    }
    for (const DnsRecord* record : AllRecords(*reply)) {
      if (records.size() >= kMaxRecords) return;
      records.push_back(*record);
    }
  }
}

const DnsRecord* Find(const std::vector<DnsRecord>& records,
                      const DnsName& name, RecordType type) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (IsType(*it, type) && it->name == name) return &*it;
  }
  return nullptr;
}

// The questions that would complete what `records` says about `service`.
std::vector<DnsQuestion> MissingQuestions(const std::vector<DnsRecord>& records,
                                          const DnsName& service) {
  std::vector<DnsQuestion> questions;
  for (const DnsRecord& record : records) {
    if (!IsType(record, RecordType::kPtr) || record.name != service) continue;
    const DnsRecord* srv = Find(records, record.ptr, RecordType::kSrv);
    if (srv == nullptr) {
      questions.push_back(
          {record.ptr, static_cast<uint16_t>(RecordType::kSrv)});
    } else if (Find(records, srv->srv.target, RecordType::kA) == nullptr) {
      questions.push_back(
          {srv->srv.target, static_cast<uint16_t>(RecordType::kA)});
    }
    if (Find(records, record.ptr, RecordType::kTxt) == nullptr) {
      questions.push_back(
          {record.ptr, static_cast<uint16_t>(RecordType::kTxt)});
    }
  }
  return questions;
}

}  // namespace

MdnsBrowser::MdnsBrowser(std::string service_type)
    : service_type_(std::move(service_type)) {}

absl::StatusOr<std::vector<ServiceInstance>> MdnsBrowser::Browse(
    absl::Duration listen) const {
  absl::StatusOr<DnsName> service =
      DnsName::FromText(absl::StrCat(service_type_, ".local"));
  if (!service.ok()) return service.status();
  absl::StatusOr<std::unique_ptr<MdnsSocket>> socket =
      MdnsSocket::OpenQuerier();
  if (!socket.ok()) return socket.status();
  absl::StatusOr<std::vector<NetworkInterface>> interfaces =
      MulticastInterfaces();
  if (!interfaces.ok()) return interfaces.status();
  std::vector<DnsRecord> records;
  // Asked twice: one lost datagram must not hide a master.
  for (int i = 0; i < 2; ++i) {
    Ask(**socket, *interfaces,
        {{*service, static_cast<uint16_t>(RecordType::kPtr)}});
    Collect(**socket, absl::Now() + listen / 2, records);
  }
  for (int round = 0; round < kFollowUpRounds; ++round) {
    std::vector<DnsQuestion> missing = MissingQuestions(records, *service);
    if (missing.empty()) break;
    Ask(**socket, *interfaces, std::move(missing));
    Collect(**socket, absl::Now() + listen / 2, records);
  }
  return InstancesFromRecords(records, *service);
}

std::vector<ServiceInstance> InstancesFromRecords(
    const std::vector<DnsRecord>& records, const DnsName& service) {
  std::vector<ServiceInstance> instances;
  absl::flat_hash_set<std::string> seen;
  std::vector<const DnsRecord*> live;
  for (const DnsRecord& record : records) {
    if (record.ttl > 0) live.push_back(&record);
  }
  // Latest first, so that a goodbye (TTL 0) outranks what it withdraws.
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (!IsType(*it, RecordType::kPtr) || it->name != service) continue;
    const std::string key = absl::AsciiStrToLower(it->ptr.ToText());
    if (!seen.insert(key).second || it->ttl == 0) continue;
    const DnsRecord* srv = Find(records, it->ptr, RecordType::kSrv);
    if (srv == nullptr || srv->ttl == 0) continue;
    const DnsRecord* txt = Find(records, it->ptr, RecordType::kTxt);
    ServiceInstance instance{it->ptr, srv->srv, {}, {}};
    if (txt != nullptr) instance.txt = txt->txt;
    instance.addresses = AddressesOf(live, srv->srv.target);
    instances.push_back(std::move(instance));
  }
  std::reverse(instances.begin(), instances.end());
  return instances;
}

}  // namespace distributo::discovery
