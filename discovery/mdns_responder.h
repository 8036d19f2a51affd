#ifndef DISTRIBUTO_DISCOVERY_MDNS_RESPONDER_H_
#define DISTRIBUTO_DISCOVERY_MDNS_RESPONDER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/mdns_record_set.h"
#include "discovery/mdns_socket.h"

namespace distributo::discovery {

// Advertises one service on the LAN over mDNS, like Bonjour or Avahi:
// announces it on every interface at start (twice, a second apart),
// answers queries for it (multicast, or unicast to legacy queriers), and
// sends a goodbye when destroyed. The A record is the address of the
// interface a query arrived on; a service that listens on one address
// only is announced with it, on the interfaces that reach it (loopback for
// 127.x). Only queries sent to the mDNS group are answered. Shares port 5353
// with other responders. Names are not probed for conflicts (RFC 6762 8): the
// default instance name holds the host name and port, which no other master
// shares. Thread-safe: all work happens on its own thread.
class MdnsResponder {
 public:
  // `listen_address` is the IPv4 address the service is bound to; empty,
  // "0.0.0.0" or "::" mean every interface. Returns InvalidArgument for
  // bad names, Unavailable if the mDNS port cannot be opened.
  static absl::StatusOr<std::unique_ptr<MdnsResponder>> Start(
      const MdnsService& service, absl::string_view listen_address);
  // Sends the goodbye and stops.
  ~MdnsResponder();

  MdnsResponder(const MdnsResponder&) = delete;
  MdnsResponder& operator=(const MdnsResponder&) = delete;

  // The full instance name, e.g. "distributo-h-4000._distributo._tcp.local".
  std::string instance_name() const {
    return records_.instance_name().ToText();
  }

 private:
  MdnsResponder(MdnsRecordSet records, std::string listen_address,
                std::unique_ptr<MdnsSocket> socket, int wake_read,
                int wake_write);

  void Run();
  // Sends every record out of every interface; TTL 0 for a goodbye.
  void Announce(bool goodbye);
  void Answer(const Datagram& datagram);
  // The interfaces it announces and answers on: all of them, or those where
  // `listen_address_` can be reached.
  std::vector<NetworkInterface> ServedInterfaces() const;
  // The A record to give on `interface`.
  std::string AddressFor(const NetworkInterface& interface) const;

  const MdnsRecordSet records_;
  const std::string listen_address_;  // empty: per interface
  const std::unique_ptr<MdnsSocket> socket_;
  // A pipe: the destructor writes to it to wake the thread.
  const int wake_read_;
  const int wake_write_;
  std::thread thread_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MDNS_RESPONDER_H_
