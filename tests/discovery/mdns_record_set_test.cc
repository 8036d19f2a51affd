#include "discovery/mdns_record_set.h"

#include <string>

#include "discovery/mdns_browser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace distributo::discovery {
namespace {

using ::testing::ElementsAre;

DnsName Name(const std::string& text) { return *DnsName::FromText(text); }

MdnsRecordSet Records() {
  MdnsService service;
  service.instance = "Render Farm 1";
  service.service_type = "_distributo._tcp";
  service.host_label = "distributo-h-4000";
  service.port = 4000;
  service.txt = {"txtvers=1", "cluster=blue"};
  return *MdnsRecordSet::Create(service);
}

DnsMessage Query(const std::string& name, RecordType type) {
  DnsMessage query;
  query.id = 77;
  query.questions.push_back({Name(name), static_cast<uint16_t>(type)});
  return query;
}

const DnsRecord* Find(const std::vector<DnsRecord>& records, RecordType type) {
  for (const DnsRecord& record : records) {
    if (record.type == static_cast<uint16_t>(type)) return &record;
  }
  return nullptr;
}

TEST(MdnsRecordSetTest, PtrQueryGetsTheInstanceAndWhatResolvesIt) {
  std::optional<DnsMessage> reply =
      Records().Reply(Query("_distributo._tcp.local", RecordType::kPtr),
                      "10.0.0.5", /*legacy=*/false);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->response);
  EXPECT_EQ(reply->id, 0);
  ASSERT_EQ(reply->answers.size(), 1u);
  EXPECT_EQ(reply->answers[0].ptr,
            Name("Render Farm 1._distributo._tcp.local"));
  const DnsRecord* srv = Find(reply->additional, RecordType::kSrv);
  ASSERT_NE(srv, nullptr);
  EXPECT_EQ(srv->srv.port, 4000);
  EXPECT_EQ(srv->srv.target, Name("distributo-h-4000.local"));
  EXPECT_TRUE(srv->cache_flush);
  const DnsRecord* a = Find(reply->additional, RecordType::kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->address, "10.0.0.5");
  const DnsRecord* txt = Find(reply->additional, RecordType::kTxt);
  ASSERT_NE(txt, nullptr);
  EXPECT_THAT(txt->txt, ElementsAre("txtvers=1", "cluster=blue"));
}

TEST(MdnsRecordSetTest, LegacyReplyEchoesTheQueryWithShortTtls) {
  std::optional<DnsMessage> reply = Records().Reply(
      Query("Render Farm 1._distributo._tcp.local", RecordType::kSrv),
      "10.0.0.5", /*legacy=*/true);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->id, 77);
  ASSERT_EQ(reply->questions.size(), 1u);
  ASSERT_EQ(reply->answers.size(), 1u);
  EXPECT_LE(reply->answers[0].ttl, 10u);
  EXPECT_FALSE(reply->answers[0].cache_flush);
}

TEST(MdnsRecordSetTest, LegacyReplyEchoesOnlyTheQuestionsItAnswers) {
  DnsMessage query = Query("_distributo._tcp.local", RecordType::kPtr);
  for (int i = 0; i < 50; ++i) {
    query.questions.push_back(
        {Name("padding.local"), static_cast<uint16_t>(RecordType::kA)});
  }
  std::optional<DnsMessage> reply =
      Records().Reply(query, "10.0.0.5", /*legacy=*/true);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->questions.size(), 1u);
  EXPECT_EQ(reply->questions[0].name, Name("_distributo._tcp.local"));
}

TEST(MdnsRecordSetTest, QueriesForOtherNamesOrResponsesGetNoReply) {
  EXPECT_FALSE(
      Records()
          .Reply(Query("_http._tcp.local", RecordType::kPtr), "10.0.0.5", false)
          .has_value());
  DnsMessage response = Query("_distributo._tcp.local", RecordType::kPtr);
  response.response = true;
  EXPECT_FALSE(Records().Reply(response, "10.0.0.5", false).has_value());
}

TEST(MdnsRecordSetTest, ServiceEnumerationListsTheType) {
  std::optional<DnsMessage> reply =
      Records().Reply(Query("_services._dns-sd._udp.local", RecordType::kPtr),
                      "10.0.0.5", false);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->answers.size(), 1u);
  EXPECT_EQ(reply->answers[0].ptr, Name("_distributo._tcp.local"));
}

TEST(MdnsRecordSetTest, BrowserReadsTheAnnouncementBack) {
  const DnsMessage announcement = Records().Announcement("10.0.0.5", false);
  std::vector<ServiceInstance> instances = InstancesFromRecords(
      announcement.answers, Name("_distributo._tcp.local"));
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].srv.port, 4000);
  EXPECT_THAT(instances[0].addresses, ElementsAre("10.0.0.5"));
  EXPECT_THAT(instances[0].txt, ElementsAre("txtvers=1", "cluster=blue"));
}

TEST(MdnsRecordSetTest, GoodbyeWithdrawsTheInstance) {
  std::vector<DnsRecord> records =
      Records().Announcement("10.0.0.5", false).answers;
  for (const DnsRecord& record :
       Records().Announcement("10.0.0.5", /*goodbye=*/true).answers) {
    EXPECT_EQ(record.ttl, 0u);
    records.push_back(record);
  }
  EXPECT_TRUE(
      InstancesFromRecords(records, Name("_distributo._tcp.local")).empty());
}

}  // namespace
}  // namespace distributo::discovery
