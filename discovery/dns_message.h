#ifndef DISTRIBUTO_DISCOVERY_DNS_MESSAGE_H_
#define DISTRIBUTO_DISCOVERY_DNS_MESSAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/dns_name.h"

namespace distributo::discovery {

// The record types DNS-SD uses.
enum class RecordType : uint16_t {
  kA = 1,
  kPtr = 12,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
  kAny = 255,
};

// Returns "A", "PTR", ... or "TYPE<n>".
std::string RecordTypeName(uint16_t type);

inline constexpr uint16_t kClassIn = 1;

struct DnsQuestion {
  DnsName name;
  uint16_t type = 0;
  // mDNS: the QU bit, the top bit of the class (a unicast reply is asked).
  bool unicast_response = false;
};

struct SrvData {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  DnsName target;
};

// One resource record. Which data field is meaningful follows `type`:
// `ptr` for PTR, `srv` for SRV, `txt` for TXT, `address` (text form, e.g.
// "10.0.0.1" or "fe80::1") for A and AAAA; other types keep only the header.
struct DnsRecord {
  DnsName name;
  uint16_t type = 0;
  uint16_t record_class = kClassIn;
  // mDNS: the top bit of the class in an answer (other records of this
  // name and type are stale).
  bool cache_flush = false;
  uint32_t ttl = 0;
  DnsName ptr;
  SrvData srv;
  std::vector<std::string> txt;
  std::string address;
};

struct DnsMessage {
  uint16_t id = 0;
  bool response = false;
  bool authoritative = false;
  bool truncated = false;
  bool recursion_desired = false;
  uint8_t rcode = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
};

// Parses a DNS message in wire format, as sent by a server or an mDNS
// responder. Compressed names are followed (pointers must point backwards,
// so a loop cannot hang the parser). Returns DataLoss, saying what is wrong
// and where, for anything malformed: a truncated header or record, a bad
// label or pointer, record data that does not fit its type.
absl::StatusOr<DnsMessage> ParseDnsMessage(absl::string_view wire);

// Encodes `message` without name compression. Returns InvalidArgument for a
// record that cannot be encoded (a bad address, a TXT string over 255 bytes,
// a message over 65535 bytes).
absl::StatusOr<std::string> SerializeDnsMessage(const DnsMessage& message);

// Returns all records of the message's three record sections.
std::vector<const DnsRecord*> AllRecords(const DnsMessage& message);

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_DNS_MESSAGE_H_
