#include "discovery/dns_message.h"

#include <arpa/inet.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace distributo::discovery {
namespace {

constexpr uint16_t kTopBit = 0x8000;
constexpr uint8_t kPointerBits = 0xc0;
constexpr size_t kHeaderSize = 12;
// Real names need a handful of pointer hops; more is an attack on our time.
constexpr int kMaxPointerHops = 64;

absl::Status Malformed(size_t offset, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("byte ", offset, ": ", what));
}

// Reads big-endian fields and names from a message, bounds-checked.
class WireReader {
 public:
  explicit WireReader(absl::string_view wire) : wire_(wire) {}

  size_t offset() const { return offset_; }

  absl::StatusOr<uint16_t> U16() {
    if (wire_.size() - offset_ < 2) return Malformed(offset_, "truncated");
    const auto* p = reinterpret_cast<const uint8_t*>(wire_.data() + offset_);
    offset_ += 2;
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
  }

  absl::StatusOr<uint32_t> U32() {
    absl::StatusOr<uint16_t> high = U16();
    if (!high.ok()) return high.status();
    absl::StatusOr<uint16_t> low = U16();
    if (!low.ok()) return low.status();
    return static_cast<uint32_t>(*high) << 16 | *low;
  }

  absl::StatusOr<absl::string_view> Bytes(size_t count) {
    if (wire_.size() - offset_ < count) {
      return Malformed(offset_, "truncated");
    }
    absl::string_view bytes = wire_.substr(offset_, count);
    offset_ += count;
    return bytes;
  }

  // Reads a possibly compressed name starting at the current offset.
  absl::StatusOr<DnsName> Name() {
    std::vector<std::string> labels;
    size_t wire_size = 1;
    size_t at = offset_;
    bool jumped = false;
    int hops = 0;
    while (true) {
      if (at >= wire_.size()) return Malformed(at, "name runs past the end");
      const uint8_t length = static_cast<uint8_t>(wire_[at]);
      if ((length & kPointerBits) == kPointerBits) {
        if (at + 1 >= wire_.size()) return Malformed(at, "truncated pointer");
        const size_t target =
            (length & ~kPointerBits) << 8 | static_cast<uint8_t>(wire_[at + 1]);
        // Only backward pointers: every jump moves earlier, so no loop.
        if (target >= at) return Malformed(at, "name pointer not backwards");
        if (++hops > kMaxPointerHops) return Malformed(at, "too many pointers");
        if (!jumped) offset_ = at + 2;
        jumped = true;
        at = target;
        continue;
      }
      if ((length & kPointerBits) != 0) return Malformed(at, "bad label type");
      if (length == 0) break;
      wire_size += 1 + length;
      if (wire_size > DnsName::kMaxWire) return Malformed(at, "name too long");
      if (at + 1 + length > wire_.size())
        return Malformed(at, "truncated label");
      labels.emplace_back(wire_.substr(at + 1, length));
      at += 1 + length;
    }
    if (!jumped) offset_ = at + 1;
    absl::StatusOr<DnsName> name = DnsName::FromLabels(std::move(labels));
    if (!name.ok()) return Malformed(offset_, name.status().message());
    return name;
  }

  void Seek(size_t offset) { offset_ = offset; }

 private:
  absl::string_view wire_;
  size_t offset_ = 0;
};

absl::Status ParseTxt(absl::string_view data, std::vector<std::string>& out) {
  size_t at = 0;
  while (at < data.size()) {
    const size_t length = static_cast<uint8_t>(data[at]);
    if (at + 1 + length > data.size()) {
      return absl::DataLossError("TXT string runs past its record");
    }
    out.emplace_back(data.substr(at + 1, length));
    at += 1 + length;
  }
  return absl::OkStatus();
}

absl::Status ParseAddress(absl::string_view data, int family,
                          std::string& out) {
  const size_t size = family == AF_INET ? 4 : 16;
  if (data.size() != size) {
    return absl::DataLossError(
        absl::StrCat("address of ", data.size(), " bytes, expected ", size));
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, data.data(), text, sizeof(text));
  out = text;
  return absl::OkStatus();
}

absl::Status ParseSrv(WireReader& reader, size_t end, SrvData& srv) {
  for (uint16_t* field : {&srv.priority, &srv.weight, &srv.port}) {
    absl::StatusOr<uint16_t> value = reader.U16();
    if (!value.ok()) return value.status();
    *field = *value;
  }
  absl::StatusOr<DnsName> target = reader.Name();
  if (!target.ok()) return target.status();
  srv.target = *std::move(target);
  return reader.offset() <= end
             ? absl::OkStatus()
             : absl::DataLossError("SRV target runs past its record");
}

// Decodes the data of the types DNS-SD uses; skips others.
absl::Status ParseRecordData(WireReader& reader, size_t length,
                             DnsRecord& record) {
  const size_t start = reader.offset();
  absl::StatusOr<absl::string_view> data = reader.Bytes(length);
  if (!data.ok()) return data.status();
  absl::Status status;
  switch (static_cast<RecordType>(record.type)) {
    case RecordType::kPtr: {
      reader.Seek(start);
      absl::StatusOr<DnsName> ptr = reader.Name();
      status = ptr.status();
      if (ptr.ok()) record.ptr = *std::move(ptr);
      if (status.ok() && reader.offset() > start + length) {
        status = absl::DataLossError("PTR name runs past its record");
      }
      break;
    }
    case RecordType::kSrv:
      reader.Seek(start);
      status = ParseSrv(reader, start + length, record.srv);
      break;
    case RecordType::kTxt:
      status = ParseTxt(*data, record.txt);
      break;
    case RecordType::kA:
      status = ParseAddress(*data, AF_INET, record.address);
      break;
    case RecordType::kAaaa:
      status = ParseAddress(*data, AF_INET6, record.address);
      break;
    default:
      break;
  }
  reader.Seek(start + length);
  if (!status.ok()) {
    return Malformed(
        start, absl::StrCat(RecordTypeName(record.type), " ",
                            record.name.ToText(), ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<DnsRecord> ParseRecord(WireReader& reader) {
  DnsRecord record;
  absl::StatusOr<DnsName> name = reader.Name();
  if (!name.ok()) return name.status();
  record.name = *std::move(name);
  absl::StatusOr<uint16_t> type = reader.U16();
  absl::StatusOr<uint16_t> record_class = reader.U16();
  absl::StatusOr<uint32_t> ttl = reader.U32();
  absl::StatusOr<uint16_t> length = reader.U16();
  for (const absl::Status& status :
       {type.status(), record_class.status(), ttl.status(), length.status()}) {
    if (!status.ok()) return status;
  }
  record.type = *type;
  record.record_class = *record_class & ~kTopBit;
  record.cache_flush = (*record_class & kTopBit) != 0;
  record.ttl = *ttl;
  if (absl::Status status = ParseRecordData(reader, *length, record);
      !status.ok()) {
    return status;
  }
  return record;
}

absl::StatusOr<DnsQuestion> ParseQuestion(WireReader& reader) {
  DnsQuestion question;
  absl::StatusOr<DnsName> name = reader.Name();
  if (!name.ok()) return name.status();
  question.name = *std::move(name);
  absl::StatusOr<uint16_t> type = reader.U16();
  if (!type.ok()) return type.status();
  absl::StatusOr<uint16_t> question_class = reader.U16();
  if (!question_class.ok()) return question_class.status();
  question.type = *type;
  question.unicast_response = (*question_class & kTopBit) != 0;
  return question;
}

absl::Status ParseRecords(WireReader& reader, uint16_t count,
                          std::vector<DnsRecord>& out) {
  for (uint16_t i = 0; i < count; ++i) {
    absl::StatusOr<DnsRecord> record = ParseRecord(reader);
    if (!record.ok()) return record.status();
    out.push_back(*std::move(record));
  }
  return absl::OkStatus();
}

void DecodeFlags(uint16_t flags, DnsMessage& message) {
  message.response = (flags & kTopBit) != 0;
  message.authoritative = (flags & 0x0400) != 0;
  message.truncated = (flags & 0x0200) != 0;
  message.recursion_desired = (flags & 0x0100) != 0;
  message.rcode = flags & 0x000f;
}

absl::StatusOr<DnsMessage> ParseWire(absl::string_view wire) {
  if (wire.size() < kHeaderSize) return Malformed(0, "shorter than a header");
  WireReader reader(wire);
  uint16_t header[6];
  for (uint16_t& field : header) field = *reader.U16();
  DnsMessage message;
  message.id = header[0];
  DecodeFlags(header[1], message);
  for (uint16_t i = 0; i < header[2]; ++i) {
    absl::StatusOr<DnsQuestion> question = ParseQuestion(reader);
    if (!question.ok()) return question.status();
    message.questions.push_back(*std::move(question));
  }
  for (auto [count, section] : {std::pair{header[3], &message.answers},
                                std::pair{header[4], &message.authority},
                                std::pair{header[5], &message.additional}}) {
    if (absl::Status status = ParseRecords(reader, count, *section);
        !status.ok()) {
      return status;
    }
  }
  return message;
}

}  // namespace

std::string RecordTypeName(uint16_t type) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::kA:
      return "A";
    case RecordType::kPtr:
      return "PTR";
    case RecordType::kTxt:
      return "TXT";
    case RecordType::kAaaa:
      return "AAAA";
    case RecordType::kSrv:
      return "SRV";
    case RecordType::kAny:
      return "ANY";
  }
  return absl::StrCat("TYPE", type);
}

absl::StatusOr<DnsMessage> ParseDnsMessage(absl::string_view wire) {
  absl::StatusOr<DnsMessage> message = ParseWire(wire);
  if (!message.ok()) {
    return absl::DataLossError(
        absl::StrCat("malformed DNS message (", wire.size(),
                     " bytes): ", message.status().message()));
  }
  return message;
}

std::vector<const DnsRecord*> AllRecords(const DnsMessage& message) {
  std::vector<const DnsRecord*> records;
  for (const auto* section :
       {&message.answers, &message.authority, &message.additional}) {
    for (const DnsRecord& record : *section) records.push_back(&record);
  }
  return records;
}

}  // namespace distributo::discovery
