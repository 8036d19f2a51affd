#include "discovery/dns_message.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace distributo::discovery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

DnsName Name(const std::string& text) { return *DnsName::FromText(text); }

DnsRecord Srv(const std::string& name, uint16_t port, const std::string& host) {
  DnsRecord record;
  record.name = Name(name);
  record.type = static_cast<uint16_t>(RecordType::kSrv);
  record.ttl = 120;
  record.cache_flush = true;
  record.srv = {10, 5, port, Name(host)};
  return record;
}

TEST(DnsNameTest, FromTextKeepsEscapedDotsInsideALabel) {
  const DnsName name = Name("My\\.Master 1._distributo._tcp.local.");
  EXPECT_THAT(name.labels(),
              ElementsAre("My.Master 1", "_distributo", "_tcp", "local"));
  EXPECT_EQ(name.ToText(), "My\\.Master 1._distributo._tcp.local");
}

TEST(DnsNameTest, EqualityIgnoresAsciiCase) {
  EXPECT_EQ(Name("M1.Example.TEST"), Name("m1.example.test"));
  EXPECT_NE(Name("m1.example.test"), Name("m2.example.test"));
}

TEST(DnsNameTest, FromTextRejectsEmptyAndLongLabels) {
  EXPECT_EQ(DnsName::FromText("a..b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DnsName::FromText(std::string(64, 'x') + ".local").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DnsMessageTest, SerializeThenParseKeepsEveryField) {
  DnsMessage message;
  message.id = 0x1234;
  message.response = true;
  message.authoritative = true;
  message.questions.push_back(
      {Name("_distributo._tcp.local"), 12, /*unicast_response=*/true});
  DnsRecord ptr;
  ptr.name = Name("_distributo._tcp.local");
  ptr.type = static_cast<uint16_t>(RecordType::kPtr);
  ptr.ttl = 4500;
  ptr.ptr = Name("m 1._distributo._tcp.local");
  DnsRecord txt;
  txt.name = ptr.ptr;
  txt.type = static_cast<uint16_t>(RecordType::kTxt);
  txt.txt = {"txtvers=1", "cluster=blue"};
  DnsRecord a;
  a.name = Name("h.local");
  a.type = static_cast<uint16_t>(RecordType::kA);
  a.address = "10.1.2.3";
  DnsRecord aaaa = a;
  aaaa.type = static_cast<uint16_t>(RecordType::kAaaa);
  aaaa.address = "fe80::1";
  message.answers = {ptr, Srv("m 1._distributo._tcp.local", 4000, "h.local")};
  message.additional = {txt, a, aaaa};

  absl::StatusOr<std::string> wire = SerializeDnsMessage(message);
  ASSERT_TRUE(wire.ok()) << wire.status();
  absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(*wire);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, 0x1234);
  EXPECT_TRUE(parsed->response && parsed->authoritative);
  ASSERT_EQ(parsed->questions.size(), 1u);
  EXPECT_TRUE(parsed->questions[0].unicast_response);
  ASSERT_EQ(parsed->answers.size(), 2u);
  EXPECT_EQ(parsed->answers[0].ptr, Name("m 1._distributo._tcp.local"));
  EXPECT_EQ(parsed->answers[1].srv.port, 4000);
  EXPECT_EQ(parsed->answers[1].srv.priority, 10);
  EXPECT_EQ(parsed->answers[1].srv.weight, 5);
  EXPECT_EQ(parsed->answers[1].srv.target, Name("h.local"));
  EXPECT_TRUE(parsed->answers[1].cache_flush);
  EXPECT_EQ(parsed->answers[1].record_class, kClassIn);
  ASSERT_EQ(parsed->additional.size(), 3u);
  EXPECT_THAT(parsed->additional[0].txt,
              ElementsAre("txtvers=1", "cluster=blue"));
  EXPECT_EQ(parsed->additional[1].address, "10.1.2.3");
  EXPECT_EQ(parsed->additional[2].address, "fe80::1");
}

// A reply with a compressed name: the SRV target points back at the
// question's "example.test".
std::string CompressedReply() {
  std::string wire("\x00\x01\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00", 12);
  wire += std::string(
      "\x02m1\x07"
      "example\x04test\x00",
      17);  // at 12
  wire += std::string("\x00\x21\x00\x01", 4);
  wire += std::string("\xc0\x0c", 2);  // name: -> 12
  wire += std::string("\x00\x21\x00\x01\x00\x00\x00\x3c\x00\x0a", 10);
  wire += std::string("\x00\x01\x00\x02\x0f\xa0", 6);  // 1, 2, port 4000
  wire += std::string("\x01h\xc0\x0f", 4);             // h + -> "example"
  return wire;
}

TEST(DnsMessageTest, ParseFollowsCompressionPointers) {
  absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(CompressedReply());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->answers.size(), 1u);
  EXPECT_EQ(parsed->answers[0].name, Name("m1.example.test"));
  EXPECT_EQ(parsed->answers[0].srv.target, Name("h.example.test"));
  EXPECT_EQ(parsed->answers[0].srv.port, 4000);
}

TEST(DnsMessageTest, ParseOfEveryTruncationIsDataLossNotACrash) {
  const std::string wire = CompressedReply();
  for (size_t size = 0; size < wire.size(); ++size) {
    absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(wire.substr(0, size));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << size;
  }
}

TEST(DnsMessageTest, ParseRejectsAPointerLoop) {
  std::string wire("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  wire += std::string("\xc0\x0c\x00\x01\x00\x01", 6);  // points at itself
  absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(wire);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(parsed.status().message(), HasSubstr("pointer"));
}

TEST(DnsMessageTest, ParseRejectsAChainOfTooManyPointers) {
  // 100 pointers, each to the one before; the first to a one-label name.
  std::string wire("\x00\x01\x00\x00\x00\x64\x00\x00\x00\x00\x00\x00", 12);
  wire += std::string("\x01x\x00\x00\x01\x00\x01", 7);  // at 12
  for (int i = 0; i < 99; ++i) {
    const size_t previous = i == 0 ? 12 : wire.size() - 6;
    wire += static_cast<char>(0xc0 | (previous >> 8));
    wire += static_cast<char>(previous & 0xff);
    wire += std::string("\x00\x01\x00\x01", 4);
  }
  absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(wire);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(parsed.status().message(), HasSubstr("too many pointers"));
}

TEST(DnsMessageTest, ParseRejectsAnAddressOfTheWrongSize) {
  DnsRecord a;
  a.name = Name("h.local");
  a.type = static_cast<uint16_t>(RecordType::kA);
  a.address = "10.0.0.1";
  DnsMessage message;
  message.answers = {a};
  std::string wire = *SerializeDnsMessage(message);
  wire[wire.size() - 5] = 3;  // rdlength 4 -> 3, one byte left over
  absl::StatusOr<DnsMessage> parsed = ParseDnsMessage(wire);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
}

TEST(DnsMessageTest, SerializeRejectsABadAddress) {
  DnsRecord a;
  a.name = Name("h.local");
  a.type = static_cast<uint16_t>(RecordType::kA);
  a.address = "not-an-ip";
  DnsMessage message;
  message.answers = {a};
  EXPECT_EQ(SerializeDnsMessage(message).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace distributo::discovery
