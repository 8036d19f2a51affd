#include "discovery/mdns_socket.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace distributo::discovery {
namespace {

constexpr char kMdnsGroup[] = "224.0.0.251";

absl::Status SocketError(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("mDNS socket: ", what, ": ", std::strerror(errno)));
}

in_addr GroupAddress() {
  in_addr group = {};
  inet_pton(AF_INET, kMdnsGroup, &group);
  return group;
}

absl::Status SetInt(int fd, int level, int option, int value,
                    absl::string_view name) {
  if (setsockopt(fd, level, option, &value, sizeof(value)) != 0) {
    return SocketError(name);
  }
  return absl::OkStatus();
}

// Options both kinds of socket need: RFC 6762 11 wants TTL 255, and
// replies from this host's own responders must loop back.
absl::Status SetMulticastOptions(int fd) {
  for (absl::Status status :
       {SetInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, "IP_MULTICAST_TTL"),
        SetInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1, "IP_MULTICAST_LOOP"),
        SetInt(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO")}) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> BoundSocket(uint16_t port, bool share) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket");
  absl::Status status = SetMulticastOptions(fd);
  if (status.ok() && share) {
    status = SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (status.ok()) {
      status = SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
    }
  }
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  if (status.ok() &&
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    status = SocketError(absl::StrCat("bind to port ", port));
  }
  if (!status.ok()) {
    close(fd);
    return status;
  }
  return fd;
}

// Fills in where `datagram` arrived from its IP_PKTINFO.
void ReadPacketInfo(const msghdr& header, Datagram& datagram) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&header), c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      datagram.interface_index = info.ipi_ifindex;
      datagram.to_group = info.ipi_addr.s_addr == GroupAddress().s_addr;
    }
  }
}

}  // namespace

std::string AddressText(in_addr address) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address, text, sizeof(text));
  return text;
}

absl::StatusOr<std::vector<NetworkInterface>> MulticastInterfaces() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return SocketError("getifaddrs");
  std::vector<NetworkInterface> interfaces;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET ||
        (entry->ifa_flags & IFF_UP) == 0) {
      continue;
    }
    NetworkInterface interface;
    interface.index = static_cast<int>(if_nametoindex(entry->ifa_name));
    interface.name = entry->ifa_name;
    interface.address =
        reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr;
    interface.loopback = (entry->ifa_flags & IFF_LOOPBACK) != 0;
    interfaces.push_back(std::move(interface));
  }
  freeifaddrs(list);
  return interfaces;
}

absl::StatusOr<std::unique_ptr<MdnsSocket>> MdnsSocket::OpenResponder() {
  absl::StatusOr<int> fd = BoundSocket(kMdnsPort, /*share=*/true);
  if (!fd.ok()) return fd.status();
  auto socket = std::unique_ptr<MdnsSocket>(new MdnsSocket(*fd));
  absl::StatusOr<std::vector<NetworkInterface>> interfaces =
      MulticastInterfaces();
  if (!interfaces.ok()) return interfaces.status();
  for (const NetworkInterface& interface : *interfaces) {
    ip_mreqn request = {};
    request.imr_multiaddr = GroupAddress();
    request.imr_address = interface.address;
    request.imr_ifindex = interface.index;
    // EADDRINUSE: a second address on an interface already joined.
    if (setsockopt(*fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request,
                   sizeof(request)) != 0 &&
        errno != EADDRINUSE) {
      return SocketError(
          absl::StrCat("join ", kMdnsGroup, " on ", interface.name));
    }
  }
  return socket;
}

absl::StatusOr<std::unique_ptr<MdnsSocket>> MdnsSocket::OpenQuerier() {
  absl::StatusOr<int> fd = BoundSocket(0, /*share=*/false);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<MdnsSocket>(new MdnsSocket(*fd));
}

MdnsSocket::~MdnsSocket() { close(fd_); }

absl::Status MdnsSocket::SendMulticast(absl::string_view bytes,
                                       const NetworkInterface& interface) {
  ip_mreqn source = {};
  source.imr_address = interface.address;
  source.imr_ifindex = interface.index;
  if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &source, sizeof(source)) !=
      0) {
    return SocketError(absl::StrCat("IP_MULTICAST_IF ", interface.name));
  }
  sockaddr_in group = {};
  group.sin_family = AF_INET;
  group.sin_port = htons(kMdnsPort);
  group.sin_addr = GroupAddress();
  return SendTo(bytes, group);
}

absl::Status MdnsSocket::SendTo(absl::string_view bytes,
                                const sockaddr_in& to) {
  if (sendto(fd_, bytes.data(), bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0) {
    return SocketError(absl::StrCat("send to ", AddressText(to.sin_addr), ":",
                                    ntohs(to.sin_port)));
  }
  return absl::OkStatus();
}

std::optional<Datagram> MdnsSocket::Receive(absl::Time deadline, int wake_fd) {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const absl::Duration left =
      std::max(deadline - absl::Now(), absl::ZeroDuration());
  const int ready = poll(fds, wake_fd >= 0 ? 2 : 1,
                         static_cast<int>(absl::ToInt64Milliseconds(left)));
  if (ready <= 0 || (fds[0].revents & POLLIN) == 0) return std::nullopt;
  Datagram datagram;
  char buffer[9000];  // RFC 6762 17: the largest mDNS message
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
  iovec io = {buffer, sizeof(buffer)};
  msghdr header = {};
  header.msg_name = &datagram.from;
  header.msg_namelen = sizeof(datagram.from);
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof(control);
  const ssize_t size = recvmsg(fd_, &header, 0);
  if (size < 0) return std::nullopt;
  datagram.bytes.assign(buffer, static_cast<size_t>(size));
  ReadPacketInfo(header, datagram);
  return datagram;
}

}  // namespace distributo::discovery
