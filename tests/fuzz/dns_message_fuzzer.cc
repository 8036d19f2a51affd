// libFuzzer target: DNS messages as a DNS server or any host on the LAN may
// send them. Parsing must never crash or hang; what parses must survive a
// round trip, and the mDNS responder and browser must cope with it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "discovery/dns_message.h"
#include "discovery/mdns_browser.h"
#include "discovery/mdns_record_set.h"

namespace distributo::discovery {
namespace {

const MdnsRecordSet& Records() {
  static const MdnsRecordSet* records = [] {
    MdnsService service;
    service.instance = "fuzz";
    service.service_type = "_distributo._tcp";
    service.host_label = "fuzz-host";
    service.port = 4000;
    service.txt = {"txtvers=1"};
    return new MdnsRecordSet(*MdnsRecordSet::Create(service));
  }();
  return *records;
}

void CheckRoundTrip(const DnsMessage& message) {
  absl::StatusOr<std::string> wire = SerializeDnsMessage(message);
  // Some parsed records cannot be written back (types we do not encode).
  if (!wire.ok()) return;
  absl::StatusOr<DnsMessage> again = ParseDnsMessage(*wire);
  if (!again.ok() || again->answers.size() != message.answers.size() ||
      again->questions.size() != message.questions.size() ||
      again->additional.size() != message.additional.size()) {
    __builtin_trap();
  }
}

}  // namespace
}  // namespace distributo::discovery

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distributo::discovery;
  const absl::string_view wire(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<DnsMessage> message = ParseDnsMessage(wire);
  if (!message.ok()) return 0;
  CheckRoundTrip(*message);
  Records().Reply(*message, "10.0.0.1", /*legacy=*/size % 2 == 0);
  std::vector<DnsRecord> records;
  for (const DnsRecord* record : AllRecords(*message)) {
    records.push_back(*record);
  }
  InstancesFromRecords(records, *DnsName::FromText("_distributo._tcp.local"));
  return 0;
}
