#include "discovery/service_instance.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace distributo::discovery {
namespace {

using ::testing::HasSubstr;

ServiceInstance Instance(const std::string& name, uint16_t priority,
                         uint16_t weight, uint16_t port,
                         std::vector<std::string> txt = {}) {
  ServiceInstance instance;
  instance.name = *DnsName::FromText(name + "._distributo._tcp.local");
  instance.srv = {priority, weight, port, *DnsName::FromText(name + ".local")};
  instance.txt = std::move(txt);
  instance.addresses = {"10.0.0.1"};
  return instance;
}

TEST(ServiceInstanceTest, TxtValueIgnoresKeyCase) {
  const std::vector<std::string> txt = {"TxtVers=1", "cluster=blue", "flag"};
  EXPECT_EQ(TxtValue(txt, "txtvers"), "1");
  EXPECT_EQ(TxtValue(txt, "CLUSTER"), "blue");
  EXPECT_EQ(TxtValue(txt, "flag"), "");
  EXPECT_EQ(TxtValue(txt, "tls"), std::nullopt);
}

TEST(ServiceInstanceTest, LowerPriorityAlwaysComesFirst) {
  std::mt19937 random(7);
  for (int i = 0; i < 50; ++i) {
    std::vector<MasterEndpoint> endpoints = ToEndpoints(
        {Instance("b", 20, 100, 2), Instance("a", 10, 1, 1)}, random);
    ASSERT_EQ(endpoints.size(), 2u);
    EXPECT_EQ(endpoints[0].target, "ipv4:10.0.0.1:1");
  }
}

TEST(ServiceInstanceTest, WeightsShareTheFirstPlaceWithinAPriority) {
  std::mt19937 random(11);
  std::map<std::string, int> first;
  for (int i = 0; i < 4000; ++i) {
    first[ToEndpoints(
              {Instance("heavy", 10, 300, 1), Instance("light", 10, 100, 2)},
              random)[0]
              .target]++;
  }
  // 3:1 by weight; wide bounds, since the order is random.
  EXPECT_GT(first["ipv4:10.0.0.1:1"], 2700);
  EXPECT_LT(first["ipv4:10.0.0.1:1"], 3300);
}

TEST(ServiceInstanceTest, SelectMastersKeepsTheCluster) {
  std::mt19937 random(1);
  auto endpoints = SelectMasters(
      {Instance("a", 0, 0, 1, {"cluster=blue"}),
       Instance("b", 0, 0, 2, {"cluster=green"}), Instance("c", 0, 0, 3)},
      "green", "here", random);
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ((*endpoints)[0].target, "ipv4:10.0.0.1:2");
}

TEST(ServiceInstanceTest, SelectMastersWithoutClusterTakesAny) {
  std::mt19937 random(1);
  auto endpoints = SelectMasters({Instance("a", 0, 0, 1, {"cluster=blue"})}, "",
                                 "here", random);
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_EQ(endpoints->size(), 1u);
}

TEST(ServiceInstanceTest, SelectMastersSaysWhyEachWasPassedOver) {
  std::mt19937 random(1);
  ServiceInstance no_address = Instance("c", 0, 0, 3, {"cluster=red"});
  no_address.addresses.clear();
  auto endpoints = SelectMasters(
      {Instance("a", 0, 0, 1, {"cluster=blue"}),
       Instance("b", 0, 0, 2, {"proto=other.v2", "cluster=red"}), no_address},
      "red", "mdns:_distributo._tcp", random);
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(endpoints.status().message(),
              HasSubstr("is in cluster blue, not red"));
  EXPECT_THAT(endpoints.status().message(), HasSubstr("speaks other.v2"));
  EXPECT_THAT(endpoints.status().message(), HasSubstr("has no address"));
  EXPECT_THAT(endpoints.status().message(), HasSubstr("mdns:_distributo"));
}

}  // namespace
}  // namespace distributo::discovery
