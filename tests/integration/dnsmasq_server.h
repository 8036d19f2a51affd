#ifndef DISTRIBUTO_TESTS_INTEGRATION_DNSMASQ_SERVER_H_
#define DISTRIBUTO_TESTS_INTEGRATION_DNSMASQ_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/child_process.h"

namespace distributo::testing {

// A real DNS server for tests: dnsmasq in the foreground on 127.0.0.1 and a
// free port (not 53, not 5353), authoritative for example.test and serving
// only the records given (dnsmasq options such as "--srv-host=...").
// Stopped by its PID when destroyed. Thread-compatible.
class DnsmasqServer {
 public:
  static constexpr char kZone[] = "example.test";

  // Returns whether dnsmasq is installed; tests skip without it.
  static bool Available();

  // Starts dnsmasq and waits until it answers; fails the test (and returns
  // null) if it cannot.
  static std::unique_ptr<DnsmasqServer> Start(
      const std::vector<std::string>& records, const std::string& log_path);

  // "127.0.0.1:PORT", for --dns_server.
  std::string address() const;
  int port() const { return port_; }

 private:
  DnsmasqServer(std::unique_ptr<ChildProcess> process, int port)
      : process_(std::move(process)), port_(port) {}

  std::unique_ptr<ChildProcess> process_;
  int port_;
};

// The DNS-SD service type the tests publish under DnsmasqServer::kZone.
inline constexpr char kTestService[] = "_distributo._tcp.example.test";

// Returns dnsmasq options publishing a DNS-SD instance `name` of
// kTestService: PTR, SRV (target `name`.example.test on `port` with
// `priority`), TXT (`txt`, comma-separated strings) and the target's A,
// 127.0.0.1.
std::vector<std::string> DnsSdRecords(const std::string& name, int port,
                                      int priority, const std::string& txt);

// Returns a UDP port on 127.0.0.1 that was free a moment ago.
int FreeUdpPort();

}  // namespace distributo::testing

#endif  // DISTRIBUTO_TESTS_INTEGRATION_DNSMASQ_SERVER_H_
