#ifndef DISTRIBUTO_DISCOVERY_MDNS_SOCKET_H_
#define DISTRIBUTO_DISCOVERY_MDNS_SOCKET_H_

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace distributo::discovery {

inline constexpr uint16_t kMdnsPort = 5353;

// An IPv4 interface that is up, loopback included: multicast works on `lo`
// once the sender picks it (notes/discovery.md), which is what lets tests
// run in a private network namespace.
struct NetworkInterface {
  int index = 0;
  std::string name;
  in_addr address = {};
  bool loopback = false;
};

// Returns the interfaces mDNS runs on; Unavailable if they cannot be listed.
absl::StatusOr<std::vector<NetworkInterface>> MulticastInterfaces();

// A received datagram and where it came from.
struct Datagram {
  std::string bytes;
  sockaddr_in from = {};
  int interface_index = 0;  // where it arrived; 0 if unknown
  bool to_group = false;    // sent to 224.0.0.251, not to us alone
};

// A UDP socket for mDNS (RFC 6762), IPv4 only. Thread-compatible.
class MdnsSocket {
 public:
  // A responder's socket: bound to port 5353 beside any other responder on
  // the host (SO_REUSEPORT, as Avahi does), joined to 224.0.0.251 on every
  // interface. Returns Unavailable if the port cannot be shared.
  static absl::StatusOr<std::unique_ptr<MdnsSocket>> OpenResponder();
  // A querier's socket on an ephemeral port: responders answer it with
  // unicast "legacy" replies (RFC 6762 6.7), in plain DNS format.
  static absl::StatusOr<std::unique_ptr<MdnsSocket>> OpenQuerier();
  ~MdnsSocket();

  MdnsSocket(const MdnsSocket&) = delete;
  MdnsSocket& operator=(const MdnsSocket&) = delete;

  // Sends to the mDNS group out of `interface`.
  absl::Status SendMulticast(absl::string_view bytes,
                             const NetworkInterface& interface);
  absl::Status SendTo(absl::string_view bytes, const sockaddr_in& to);

  // Waits until `deadline` for a datagram; nullopt when none came, or when
  // `wake_fd` (if not -1) became readable.
  std::optional<Datagram> Receive(absl::Time deadline, int wake_fd = -1);

 private:
  explicit MdnsSocket(int fd) : fd_(fd) {}

  const int fd_;
};

// Returns "A.B.C.D" for an IPv4 address.
std::string AddressText(in_addr address);

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MDNS_SOCKET_H_
