// SerializeDnsMessage: the encoding half of dns_message.h.
#include <arpa/inet.h>

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "discovery/dns_message.h"

namespace distributo::discovery {
namespace {

constexpr uint16_t kTopBit = 0x8000;

void PutU16(uint16_t value, std::string& out) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

void PutU32(uint32_t value, std::string& out) {
  PutU16(value >> 16, out);
  PutU16(value & 0xffff, out);
}

void PutName(const DnsName& name, std::string& out) {
  for (const std::string& label : name.labels()) {
    out += static_cast<char>(label.size());
    out += label;
  }
  out += '\0';
}

absl::Status PutTxt(const std::vector<std::string>& strings, std::string& out) {
  for (const std::string& text : strings) {
    if (text.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("TXT string of ", text.size(), " bytes (at most 255)"));
    }
    out += static_cast<char>(text.size());
    out += text;
  }
  // An empty TXT record holds one empty string (RFC 6763 6.1).
  if (strings.empty()) out += '\0';
  return absl::OkStatus();
}

absl::Status PutAddress(const std::string& text, int family, std::string& out) {
  unsigned char bytes[16];
  if (inet_pton(family, text.c_str(), bytes) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an IPv", family == AF_INET ? 4 : 6, " address: \"", text, "\""));
  }
  out.append(reinterpret_cast<const char*>(bytes), family == AF_INET ? 4 : 16);
  return absl::OkStatus();
}

absl::Status PutRecordData(const DnsRecord& record, std::string& out) {
  switch (static_cast<RecordType>(record.type)) {
    case RecordType::kPtr:
      PutName(record.ptr, out);
      return absl::OkStatus();
    case RecordType::kSrv:
      PutU16(record.srv.priority, out);
      PutU16(record.srv.weight, out);
      PutU16(record.srv.port, out);
      PutName(record.srv.target, out);
      return absl::OkStatus();
    case RecordType::kTxt:
      return PutTxt(record.txt, out);
    case RecordType::kA:
      return PutAddress(record.address, AF_INET, out);
    case RecordType::kAaaa:
      return PutAddress(record.address, AF_INET6, out);
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot encode a ", RecordTypeName(record.type), " record"));
  }
}

absl::Status PutRecord(const DnsRecord& record, std::string& out) {
  PutName(record.name, out);
  PutU16(record.type, out);
  PutU16(record.record_class | (record.cache_flush ? kTopBit : 0), out);
  PutU32(record.ttl, out);
  std::string data;
  if (absl::Status status = PutRecordData(record, data); !status.ok()) {
    return status;
  }
  PutU16(static_cast<uint16_t>(data.size()), out);
  out += data;
  return absl::OkStatus();
}

uint16_t EncodeFlags(const DnsMessage& message) {
  return (message.response ? kTopBit : 0) |
         (message.authoritative ? 0x0400 : 0) |
         (message.truncated ? 0x0200 : 0) |
         (message.recursion_desired ? 0x0100 : 0) | (message.rcode & 0x0f);
}

}  // namespace

absl::StatusOr<std::string> SerializeDnsMessage(const DnsMessage& message) {
  std::string out;
  PutU16(message.id, out);
  PutU16(EncodeFlags(message), out);
  PutU16(message.questions.size(), out);
  PutU16(message.answers.size(), out);
  PutU16(message.authority.size(), out);
  PutU16(message.additional.size(), out);
  for (const DnsQuestion& question : message.questions) {
    PutName(question.name, out);
    PutU16(question.type, out);
    PutU16(kClassIn | (question.unicast_response ? kTopBit : 0), out);
  }
  for (const DnsRecord* record : AllRecords(message)) {
    if (absl::Status status = PutRecord(*record, out); !status.ok()) {
      return status;
    }
  }
  if (out.size() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError("DNS message over 65535 bytes");
  }
  return out;
}

}  // namespace distributo::discovery
