#include "discovery/mdns_responder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo::discovery {
namespace {

constexpr absl::Duration kAnnounceGap = absl::Seconds(1);
constexpr int kAnnouncements = 2;

bool ListensEverywhere(absl::string_view address) {
  return address.empty() || address == "0.0.0.0" || address == "::" ||
         address == "[::]";
}

void SendMessage(MdnsSocket& socket, const DnsMessage& message,
                 const NetworkInterface* interface, const sockaddr_in* to) {
  absl::StatusOr<std::string> wire = SerializeDnsMessage(message);
  if (!wire.ok()) {
    LOG(ERROR) << "mDNS: cannot encode a reply: " << wire.status();
    return;
  }
  const absl::Status status = interface != nullptr
                                  ? socket.SendMulticast(*wire, *interface)
                                  : socket.SendTo(*wire, *to);
  if (!status.ok()) VLOG(1) << status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MdnsResponder>> MdnsResponder::Start(
    const MdnsService& service, absl::string_view listen_address) {
  in_addr parsed;
  if (!ListensEverywhere(listen_address) &&
      inet_pton(AF_INET, std::string(listen_address).c_str(), &parsed) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mDNS advertises IPv4 addresses; \"", listen_address,
                     "\" is not one (listen on 0.0.0.0 or an IPv4 address)"));
  }
  absl::StatusOr<MdnsRecordSet> records = MdnsRecordSet::Create(service);
  if (!records.ok()) return records.status();
  absl::StatusOr<std::unique_ptr<MdnsSocket>> socket =
      MdnsSocket::OpenResponder();
  if (!socket.ok()) return socket.status();
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    return absl::UnavailableError(
        absl::StrCat("mDNS responder: pipe: ", std::strerror(errno)));
  }
  auto responder = std::unique_ptr<MdnsResponder>(new MdnsResponder(
      *std::move(records),
      ListensEverywhere(listen_address) ? "" : std::string(listen_address),
      *std::move(socket), wake[0], wake[1]));
  responder->thread_ = std::thread([r = responder.get()] { r->Run(); });
  return responder;
}

MdnsResponder::MdnsResponder(MdnsRecordSet records, std::string listen_address,
                             std::unique_ptr<MdnsSocket> socket, int wake_read,
                             int wake_write)
    : records_(std::move(records)),
      listen_address_(std::move(listen_address)),
      socket_(std::move(socket)),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

MdnsResponder::~MdnsResponder() {
  const char byte = 0;
  if (write(wake_write_, &byte, 1) != 1) {
    LOG(ERROR) << "mDNS responder: cannot wake its thread";
  }
  thread_.join();
  Announce(/*goodbye=*/true);
  close(wake_read_);
  close(wake_write_);
}

void MdnsResponder::Run() {
  LOG(INFO) << "mDNS: advertising " << instance_name();
  int announced = 0;
  absl::Time next_announcement = absl::Now();
  while (true) {
    if (announced < kAnnouncements && absl::Now() >= next_announcement) {
      Announce(/*goodbye=*/false);
      ++announced;
      next_announcement = absl::Now() + kAnnounceGap;
    }
    const absl::Time wake = announced < kAnnouncements
                                ? next_announcement
                                : absl::Now() + absl::Seconds(1);
    std::optional<Datagram> datagram = socket_->Receive(wake, wake_read_);
    char byte;
    pollfd stop = {wake_read_, POLLIN, 0};
    if (poll(&stop, 1, 0) > 0 && read(wake_read_, &byte, 1) >= 0) return;
    if (datagram.has_value()) Answer(*datagram);
  }
}

std::vector<NetworkInterface> MdnsResponder::ServedInterfaces() const {
  absl::StatusOr<std::vector<NetworkInterface>> all = MulticastInterfaces();
  if (!all.ok()) {
    LOG(WARNING) << "mDNS: " << all.status();
    return {};
  }
  if (listen_address_.empty()) return *std::move(all);
  // Announcing an address where it cannot be reached would send workers
  // elsewhere: a loopback master stays on loopback, and so on.
  const bool loopback = absl::StartsWith(listen_address_, "127.");
  std::vector<NetworkInterface> served;
  for (NetworkInterface& interface : *all) {
    if (loopback ? interface.loopback
                 : AddressText(interface.address) == listen_address_) {
      served.push_back(std::move(interface));
    }
  }
  return served;
}

void MdnsResponder::Announce(bool goodbye) {
  for (const NetworkInterface& interface : ServedInterfaces()) {
    SendMessage(*socket_, records_.Announcement(AddressFor(interface), goodbye),
                &interface, nullptr);
  }
}

void MdnsResponder::Answer(const Datagram& datagram) {
  // Only questions to the group: they cannot come from beyond the link
  // (routers keep 224.0.0.251 in), so no one far away can aim our replies.
  if (!datagram.to_group) return;
  const std::vector<NetworkInterface> served = ServedInterfaces();
  const auto interface = std::find_if(
      served.begin(), served.end(), [&](const NetworkInterface& i) {
        return i.index == datagram.interface_index;
      });
  if (interface == served.end()) return;
  absl::StatusOr<DnsMessage> query = ParseDnsMessage(datagram.bytes);
  if (!query.ok()) {
    // Any host on the LAN can send anything: note it and go on.
    VLOG(1) << "mDNS: ignoring a datagram from "
            << AddressText(datagram.from.sin_addr) << ": " << query.status();
    return;
  }
  const bool legacy = ntohs(datagram.from.sin_port) != kMdnsPort;
  std::optional<DnsMessage> reply =
      records_.Reply(*query, AddressFor(*interface), legacy);
  if (!reply.has_value()) return;
  const bool unicast =
      legacy ||
      std::any_of(query->questions.begin(), query->questions.end(),
                  [](const DnsQuestion& q) { return q.unicast_response; });
  SendMessage(*socket_, *reply, unicast ? nullptr : &*interface,
              &datagram.from);
}

std::string MdnsResponder::AddressFor(const NetworkInterface& interface) const {
  return listen_address_.empty() ? AddressText(interface.address)
                                 : listen_address_;
}

}  // namespace distributo::discovery
