#ifndef DISTRIBUTO_DISCOVERY_MDNS_RECORD_SET_H_
#define DISTRIBUTO_DISCOVERY_MDNS_RECORD_SET_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/dns_message.h"

namespace distributo::discovery {

// What a master advertises over mDNS. Plain data.
struct MdnsService {
  // The instance label, e.g. "distributo-build7-4000"; any UTF-8.
  std::string instance;
  // e.g. "_distributo._tcp"; ".local" is added.
  std::string service_type;
  // The label of the host name the SRV record points to ("<label>.local").
  std::string host_label;
  uint16_t port = 0;
  std::vector<std::string> txt;  // "key=value"
};

// The records of one advertised service and the answers they give
// (RFC 6762, RFC 6763): PTR for the service type and for the DNS-SD
// service enumeration, SRV and TXT for the instance, A for its host. Pure
// logic, no sockets. Thread-compatible; immutable after Create().
class MdnsRecordSet {
 public:
  // Returns InvalidArgument for names that do not fit in DNS.
  static absl::StatusOr<MdnsRecordSet> Create(const MdnsService& service);

  // An unsolicited response carrying every record, with `address` as the
  // host's A record; TTL 0 for a goodbye.
  DnsMessage Announcement(absl::string_view address, bool goodbye) const;

  // Returns the response to `query`, or nullopt if it asks for none of our
  // records (or is itself a response). A `legacy` query (sent from a port
  // other than 5353) gets RFC 6762 6.7's form: its id and questions echoed,
  // TTLs of at most 10 s, no cache-flush bits.
  std::optional<DnsMessage> Reply(const DnsMessage& query,
                                  absl::string_view address, bool legacy) const;

  const DnsName& instance_name() const { return instance_; }

 private:
  MdnsRecordSet() = default;

  // Adds the records that answer `question`, and what helps resolve them
  // to `additional`.
  void AnswerQuestion(const DnsQuestion& question, absl::string_view address,
                      std::vector<DnsRecord>& answers,
                      std::vector<DnsRecord>& additional) const;

  DnsRecord ServicePtr() const;
  DnsRecord EnumerationPtr() const;
  DnsRecord Srv() const;
  DnsRecord Txt() const;
  DnsRecord HostAddress(absl::string_view address) const;

  DnsName enumeration_;  // _services._dns-sd._udp.local
  DnsName service_;      // _distributo._tcp.local
  DnsName instance_;     // <instance>._distributo._tcp.local
  DnsName host_;         // <host_label>.local
  uint16_t port_ = 0;
  std::vector<std::string> txt_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MDNS_RECORD_SET_H_
