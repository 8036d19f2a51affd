#include "discovery/master_locator.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace distributo::discovery {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<MasterLocator>> Make(
    const std::string& master, const std::string& dns = "") {
  DiscoveryOptions options;
  options.master = master;
  options.dns_server = dns;
  return MasterLocator::Create(options);
}

TEST(MasterLocatorTest, StaticAddressIsReturnedAsIs) {
  auto locator = Make("10.0.0.1:4000");
  ASSERT_TRUE(locator.ok()) << locator.status();
  auto endpoints = (*locator)->Locate();
  ASSERT_TRUE(endpoints.ok());
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ((*endpoints)[0].target, "10.0.0.1:4000");
}

TEST(MasterLocatorTest, EachFormDescribesWhatItLooksFor) {
  EXPECT_EQ((*Make("dns-sd:_distributo._tcp.example.com", "127.0.0.1:53"))
                ->Describe(),
            "dns-sd:_distributo._tcp.example.com via 127.0.0.1:53");
  EXPECT_EQ((*Make("srv:_grpc._tcp.m.default.svc.cluster.local"))->Describe(),
            "srv:_grpc._tcp.m.default.svc.cluster.local via system resolver");
  EXPECT_EQ((*Make("mdns"))->Describe(), "mdns:_distributo._tcp");
  EXPECT_EQ((*Make("mdns:_render._tcp.local."))->Describe(),
            "mdns:_render._tcp");
}

TEST(MasterLocatorTest, MalformedFormsAreInvalidArgument) {
  for (const char* bad :
       {"", "dns-sd:", "srv:", "mdns:render", "mdns:_a._tcp.extra"}) {
    EXPECT_EQ(Make(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_THAT(Make("dns-sd:").status().message(),
              HasSubstr("dns-sd:_distributo._tcp.example.com"));
}

TEST(MasterLocatorTest, BadDnsServerIsInvalidArgument) {
  auto locator = Make("srv:x.example.com", "not a server");
  EXPECT_EQ(locator.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(locator.status().message(), HasSubstr("IP:PORT"));
}

}  // namespace
}  // namespace distributo::discovery
