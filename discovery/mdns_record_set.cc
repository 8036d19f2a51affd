#include "discovery/mdns_record_set.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace distributo::discovery {
namespace {

// RFC 6762 10: host-name-based records live 120 s, the others 75 minutes.
constexpr uint32_t kHostTtl = 120;
constexpr uint32_t kServiceTtl = 4500;
constexpr uint32_t kLegacyMaxTtl = 10;

DnsRecord Record(const DnsName& name, RecordType type, uint32_t ttl,
                 bool unique) {
  DnsRecord record;
  record.name = name;
  record.type = static_cast<uint16_t>(type);
  record.ttl = ttl;
  // Unique records (ours alone) carry cache-flush; shared PTRs do not.
  record.cache_flush = unique;
  return record;
}

bool Asks(const DnsQuestion& question, const DnsName& name, RecordType type) {
  return question.name == name &&
         (question.type == static_cast<uint16_t>(type) ||
          question.type == static_cast<uint16_t>(RecordType::kAny));
}

void AddOnce(DnsRecord record, std::vector<DnsRecord>& records) {
  const bool present =
      std::any_of(records.begin(), records.end(), [&](const DnsRecord& r) {
        return r.name == record.name && r.type == record.type;
      });
  if (!present) records.push_back(std::move(record));
}

void MakeLegacy(std::vector<DnsRecord>& records) {
  for (DnsRecord& record : records) {
    record.ttl = std::min(record.ttl, kLegacyMaxTtl);
    record.cache_flush = false;
  }
}

}  // namespace

absl::StatusOr<MdnsRecordSet> MdnsRecordSet::Create(
    const MdnsService& service) {
  MdnsRecordSet set;
  absl::StatusOr<DnsName> enumeration =
      DnsName::FromText("_services._dns-sd._udp.local");
  absl::StatusOr<DnsName> type =
      DnsName::FromText(absl::StrCat(service.service_type, ".local"));
  if (!type.ok()) return type.status();
  absl::StatusOr<DnsName> instance = type->Prepend(service.instance);
  absl::StatusOr<DnsName> host =
      DnsName::FromLabels({service.host_label, "local"});
  for (const absl::Status& status :
       {enumeration.status(), instance.status(), host.status()}) {
    if (!status.ok()) return status;
  }
  set.enumeration_ = *std::move(enumeration);
  set.service_ = *std::move(type);
  set.instance_ = *std::move(instance);
  set.host_ = *std::move(host);
  set.port_ = service.port;
  set.txt_ = service.txt;
  return set;
}

DnsRecord MdnsRecordSet::ServicePtr() const {
  DnsRecord record = Record(service_, RecordType::kPtr, kServiceTtl, false);
  record.ptr = instance_;
  return record;
}

DnsRecord MdnsRecordSet::EnumerationPtr() const {
  DnsRecord record = Record(enumeration_, RecordType::kPtr, kServiceTtl, false);
  record.ptr = service_;
  return record;
}

DnsRecord MdnsRecordSet::Srv() const {
  DnsRecord record = Record(instance_, RecordType::kSrv, kHostTtl, true);
  record.srv = {0, 0, port_, host_};
  return record;
}

DnsRecord MdnsRecordSet::Txt() const {
  DnsRecord record = Record(instance_, RecordType::kTxt, kServiceTtl, true);
  record.txt = txt_;
  return record;
}

DnsRecord MdnsRecordSet::HostAddress(absl::string_view address) const {
  DnsRecord record = Record(host_, RecordType::kA, kHostTtl, true);
  record.address = std::string(address);
  return record;
}

DnsMessage MdnsRecordSet::Announcement(absl::string_view address,
                                       bool goodbye) const {
  DnsMessage message;
  message.response = true;
  message.authoritative = true;
  message.answers = {ServicePtr(), EnumerationPtr(), Srv(), Txt(),
                     HostAddress(address)};
  if (goodbye) {
    for (DnsRecord& record : message.answers) record.ttl = 0;
  }
  return message;
}

void MdnsRecordSet::AnswerQuestion(const DnsQuestion& question,
                                   absl::string_view address,
                                   std::vector<DnsRecord>& answers,
                                   std::vector<DnsRecord>& additional) const {
  if (Asks(question, enumeration_, RecordType::kPtr)) {
    AddOnce(EnumerationPtr(), answers);
  }
  // RFC 6763 12: with a PTR, send what resolving the instance needs.
  if (Asks(question, service_, RecordType::kPtr)) {
    AddOnce(ServicePtr(), answers);
    AddOnce(Srv(), additional);
    AddOnce(Txt(), additional);
    AddOnce(HostAddress(address), additional);
  }
  if (Asks(question, instance_, RecordType::kSrv)) {
    AddOnce(Srv(), answers);
    AddOnce(HostAddress(address), additional);
  }
  if (Asks(question, instance_, RecordType::kTxt)) AddOnce(Txt(), answers);
  if (Asks(question, host_, RecordType::kA)) {
    AddOnce(HostAddress(address), answers);
  }
}

std::optional<DnsMessage> MdnsRecordSet::Reply(const DnsMessage& query,
                                               absl::string_view address,
                                               bool legacy) const {
  if (query.response) return std::nullopt;
  DnsMessage reply;
  reply.response = true;
  reply.authoritative = true;
  std::vector<DnsQuestion> answered;
  for (const DnsQuestion& question : query.questions) {
    const size_t before = reply.answers.size();
    AnswerQuestion(question, address, reply.answers, reply.additional);
    if (reply.answers.size() > before) answered.push_back(question);
  }
  if (reply.answers.empty()) return std::nullopt;
  if (legacy) {
    // Only what we answered: echoing every question would let a large
    // query buy a larger reply.
    reply.id = query.id;
    reply.questions = std::move(answered);
    MakeLegacy(reply.answers);
    MakeLegacy(reply.additional);
  }
  return reply;
}

}  // namespace distributo::discovery
