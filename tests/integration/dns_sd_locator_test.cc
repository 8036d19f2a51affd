// The DNS-SD and SRV locators against a real DNS server (dnsmasq).
#include "discovery/dns_sd_locator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "discovery/master_locator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/dnsmasq_server.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

constexpr const char* kService = kTestService;

class DnsSdLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DnsmasqServer::Available()) GTEST_SKIP() << "dnsmasq not installed";
    dir_ = FreshTestDir();
  }

  void StartDns(std::vector<std::vector<std::string>> groups) {
    std::vector<std::string> records;
    for (const auto& group : groups) {
      records.insert(records.end(), group.begin(), group.end());
    }
    dns_ = DnsmasqServer::Start(records, dir_ + "/dnsmasq.log");
    ASSERT_NE(dns_, nullptr);
  }

  absl::StatusOr<std::vector<discovery::MasterEndpoint>> Locate(
      const std::string& master, const std::string& cluster = "",
      const std::string& server = "") {
    discovery::DiscoveryOptions options;
    options.master = master;
    options.dns_server = server.empty() ? dns_->address() : server;
    options.cluster = cluster;
    options.dns_timeout = absl::Seconds(1);
    auto locator = discovery::MasterLocator::Create(options);
    if (!locator.ok()) return locator.status();
    return (*locator)->Locate();
  }

  std::string dir_;
  std::unique_ptr<DnsmasqServer> dns_;
};

TEST_F(DnsSdLocatorTest, BrowseListsLowerPriorityFirst) {
  StartDns({DnsSdRecords("m1", 5001, 20, "proto=distributo.v1"),
            DnsSdRecords("m2", 5002, 10, "txtvers=1")});
  auto endpoints = Locate(absl::StrCat("dns-sd:", kService));
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_THAT(
      *endpoints,
      ElementsAre(
          Field(&discovery::MasterEndpoint::target, "ipv4:127.0.0.1:5002"),
          Field(&discovery::MasterEndpoint::target, "ipv4:127.0.0.1:5001")));
  EXPECT_EQ((*endpoints)[0].host, "m2.example.test");
}

TEST_F(DnsSdLocatorTest, ClusterKeepsOnlyItsMasters) {
  StartDns({DnsSdRecords("m1", 5001, 10, "cluster=blue"),
            DnsSdRecords("m2", 5002, 20, "cluster=green")});
  auto green = Locate(absl::StrCat("dns-sd:", kService), "green");
  ASSERT_TRUE(green.ok()) << green.status();
  EXPECT_THAT(*green, ElementsAre(Field(&discovery::MasterEndpoint::target,
                                        "ipv4:127.0.0.1:5002")));
  auto red = Locate(absl::StrCat("dns-sd:", kService), "red");
  EXPECT_EQ(red.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(red.status().message(), HasSubstr("is in cluster blue, not red"));
}

TEST_F(DnsSdLocatorTest, OtherProtocolIsPassedOver) {
  StartDns({DnsSdRecords("m1", 5001, 10, "proto=distributo.v9")});
  auto endpoints = Locate(absl::StrCat("dns-sd:", kService));
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(endpoints.status().message(), HasSubstr("distributo.v9"));
}

TEST_F(DnsSdLocatorTest, SrvNameResolvesWithoutBrowsing) {
  StartDns(
      {{"--srv-host=_grpc._tcp.master.example.test,m.example.test,7000,"
        "0,0",
        "--host-record=m.example.test,127.0.0.1"}});
  auto endpoints = Locate("srv:_grpc._tcp.master.example.test");
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_THAT(*endpoints, ElementsAre(Field(&discovery::MasterEndpoint::target,
                                            "ipv4:127.0.0.1:7000")));
}

TEST_F(DnsSdLocatorTest, NxdomainIsNotFoundNamingTheQuery) {
  StartDns({DnsSdRecords("m1", 5001, 10, "txtvers=1")});
  auto endpoints = Locate("dns-sd:_distributo._tcp.nowhere.example.test");
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(endpoints.status().message(),
              HasSubstr("PTR _distributo._tcp.nowhere.example.test at "));
  EXPECT_THAT(endpoints.status().message(), HasSubstr("NXDOMAIN"));
}

TEST_F(DnsSdLocatorTest, TargetWithoutAddressIsNotFound) {
  StartDns({{absl::StrCat("--ptr-record=", kService, ",m1.", kService),
             absl::StrCat("--srv-host=m1.", kService,
                          ",ghost.example.test,"
                          "5001,0,0")}});
  auto endpoints = Locate(absl::StrCat("dns-sd:", kService));
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(endpoints.status().message(), HasSubstr("has no address"));
}

TEST_F(DnsSdLocatorTest, MalformedRecordIsDataLoss) {
  // An SRV record of 2 bytes: too short for its fields.
  StartDns({{"--dns-rr=bad.example.test,33,0001"}});
  auto endpoints = Locate("srv:bad.example.test");
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(endpoints.status().message(), HasSubstr("malformed DNS message"));
}

TEST_F(DnsSdLocatorTest, DeadServerIsUnavailable) {
  auto endpoints = Locate("srv:m.example.test", "",
                          absl::StrCat("127.0.0.1:", FreeUdpPort()));
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(endpoints.status().message(), HasSubstr("SRV m.example.test"));
}

TEST_F(DnsSdLocatorTest, SilentServerTimesOut) {
  // Bound but never read: queries go unanswered.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto endpoints = Locate("srv:m.example.test", "",
                          absl::StrCat("127.0.0.1:", ntohs(address.sin_port)));
  close(fd);
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace distributo::testing
