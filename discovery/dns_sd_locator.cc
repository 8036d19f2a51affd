#include "discovery/dns_sd_locator.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo::discovery {
namespace {

// Returns the records of `type` in the answer section of `reply`.
std::vector<const DnsRecord*> Answers(const DnsMessage& reply,
                                      RecordType type) {
  std::vector<const DnsRecord*> records;
  for (const DnsRecord& record : reply.answers) {
    if (record.type == static_cast<uint16_t>(type)) records.push_back(&record);
  }
  return records;
}

}  // namespace

DnsSdLocator::DnsSdLocator(Mode mode, std::string name, std::string cluster,
                           std::unique_ptr<DnsClient> dns)
    : mode_(mode),
      name_(std::move(name)),
      cluster_(std::move(cluster)),
      dns_(std::move(dns)) {}

std::string DnsSdLocator::Describe() const {
  return absl::StrCat(mode_ == Mode::kBrowse ? "dns-sd:" : "srv:", name_,
                      " via ", dns_->server());
}

absl::StatusOr<std::vector<MasterEndpoint>> DnsSdLocator::Locate() {
  std::vector<std::string> srv_names = {name_};
  if (mode_ == Mode::kBrowse) {
    absl::StatusOr<std::vector<std::string>> browsed = Browse();
    if (!browsed.ok()) return browsed.status();
    srv_names = *std::move(browsed);
  }
  std::vector<ServiceInstance> instances;
  absl::Status first_error;
  for (const std::string& srv_name : srv_names) {
    absl::StatusOr<std::vector<ServiceInstance>> resolved =
        ResolveSrv(srv_name, mode_ == Mode::kBrowse);
    if (!resolved.ok()) {
      // One broken instance must not hide the others.
      if (srv_names.size() > 1) {
        LOG(WARNING) << "skipping " << srv_name << ": " << resolved.status();
      }
      if (first_error.ok()) first_error = resolved.status();
      continue;
    }
    for (ServiceInstance& instance : *resolved) {
      instances.push_back(std::move(instance));
    }
  }
  if (instances.empty() && !first_error.ok()) return first_error;
  return SelectMasters(std::move(instances), cluster_, Describe(), random_);
}

absl::StatusOr<std::vector<std::string>> DnsSdLocator::Browse() {
  absl::StatusOr<DnsMessage> reply = dns_->Query(name_, RecordType::kPtr);
  if (!reply.ok()) return reply.status();
  std::vector<std::string> names;
  for (const DnsRecord* record : Answers(*reply, RecordType::kPtr)) {
    // Absolute (a trailing dot), so no search domain is tried.
    names.push_back(absl::StrCat(record->ptr.ToText(), "."));
  }
  return names;
}

absl::StatusOr<std::vector<ServiceInstance>> DnsSdLocator::ResolveSrv(
    const std::string& name, bool with_txt) {
  absl::StatusOr<DnsMessage> reply = dns_->Query(name, RecordType::kSrv);
  if (!reply.ok()) return reply.status();
  std::vector<std::string> txt;
  if (with_txt) {
    // TXT is optional (RFC 6763 asks for one, but a missing one only
    // means no keys).
    absl::StatusOr<DnsMessage> txt_reply = dns_->Query(name, RecordType::kTxt);
    if (txt_reply.ok()) {
      for (const DnsRecord* record : Answers(*txt_reply, RecordType::kTxt)) {
        txt.insert(txt.end(), record->txt.begin(), record->txt.end());
      }
    }
  }
  std::vector<ServiceInstance> instances;
  for (const DnsRecord* record : Answers(*reply, RecordType::kSrv)) {
    // Target "." says the service is not offered here (RFC 2782).
    if (record->srv.target.labels().empty()) continue;
    instances.push_back(
        {record->name, record->srv, txt, ResolveTarget(*reply, record->srv)});
  }
  if (instances.empty()) {
    return absl::NotFoundError(
        absl::StrCat("SRV ", name, " at ", dns_->server(), ": no SRV record"));
  }
  return instances;
}

std::vector<std::string> DnsSdLocator::ResolveTarget(const DnsMessage& reply,
                                                     const SrvData& srv) {
  std::vector<std::string> addresses =
      AddressesOf(AllRecords(reply), srv.target);
  if (!addresses.empty()) return addresses;
  const std::string host = absl::StrCat(srv.target.ToText(), ".");
  for (RecordType type : {RecordType::kA, RecordType::kAaaa}) {
    absl::StatusOr<DnsMessage> found = dns_->Query(host, type);
    if (!found.ok()) {
      VLOG(1) << found.status();
      continue;
    }
    // Any name: the answer may follow a CNAME from the target.
    for (const DnsRecord* record : Answers(*found, type)) {
      addresses.push_back(record->address);
    }
  }
  return addresses;
}

}  // namespace distributo::discovery
