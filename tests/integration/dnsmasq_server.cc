#include "tests/integration/dnsmasq_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace distributo::testing {
namespace {

constexpr char kDnsmasq[] = "/usr/sbin/dnsmasq";

std::vector<std::string> DnsmasqArgv(int port,
                                     const std::vector<std::string>& records) {
  // Not under timeout(1): the SIGKILL that ends a ChildProcess would reach
  // only timeout and leave dnsmasq running.
  std::vector<std::string> argv = {
      kDnsmasq,
      "--no-daemon",
      "--log-facility=-",
      absl::StrCat("--port=", port),
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--no-negcache",
      "--pid-file=",
      absl::StrCat("--local=/", DnsmasqServer::kZone, "/"),
      "--local-ttl=1"};
  argv.insert(argv.end(), records.begin(), records.end());
  return argv;
}

}  // namespace

bool DnsmasqServer::Available() { return access(kDnsmasq, X_OK) == 0; }

std::unique_ptr<DnsmasqServer> DnsmasqServer::Start(
    const std::vector<std::string>& records, const std::string& log_path) {
  // The port can be taken between FreeUdpPort() and dnsmasq's bind: retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreeUdpPort();
    auto process =
        std::make_unique<ChildProcess>(DnsmasqArgv(port, records), log_path);
    bool exited = false;
    const bool started = WaitUntil(
        [&] {
          exited = process->WaitForExit(absl::ZeroDuration()).has_value();
          return exited || absl::StrContains(ReadFile(log_path), "started");
        },
        absl::Seconds(10));
    if (started && !exited) {
      return std::unique_ptr<DnsmasqServer>(
          new DnsmasqServer(std::move(process), port));
    }
  }
  ADD_FAILURE() << "dnsmasq did not start: " << ReadFile(log_path);
  return nullptr;
}

std::string DnsmasqServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::vector<std::string> DnsSdRecords(const std::string& name, int port,
                                      int priority, const std::string& txt) {
  const std::string instance = absl::StrCat(name, ".", kTestService);
  const std::string host = absl::StrCat(name, ".", DnsmasqServer::kZone);
  return {absl::StrCat("--ptr-record=", kTestService, ",", instance),
          absl::StrCat("--srv-host=", instance, ",", host, ",", port, ",",
                       priority, ",0"),
          absl::StrCat("--txt-record=", instance, ",", txt),
          absl::StrCat("--host-record=", host, ",127.0.0.1")};
}

int FreeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace distributo::testing
