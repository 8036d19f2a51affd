#include "server/packed_task.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace distributo::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;

v1::Task MakeTask(const std::string& id, const std::string& type_url,
                  const std::string& value) {
  v1::Task task;
  task.set_id(id);
  task.mutable_payload()->set_type_url(type_url);
  task.mutable_payload()->set_value(value);
  return task;
}

void ExpectSameTask(const PackedTask& packed, const v1::Task& task) {
  EXPECT_EQ(packed.id(), task.id());
  EXPECT_EQ(packed.type_url(), task.payload().type_url());
  EXPECT_EQ(packed.payload_value(), task.payload().value());
  EXPECT_TRUE(MessageDifferencer::Equals(packed.ToTask(), task))
      << packed.ToTask().DebugString() << " vs " << task.DebugString();
}

TEST(PackedTaskTest, KeepsIdPayloadAndLabels) {
  v1::Task task = MakeTask("t-1", "type.example/Job", std::string("a\0b", 3));
  (*task.mutable_labels())["origin"] = "file";
  ExpectSameTask(PackedTask(task), task);
}

TEST(PackedTaskTest, TellsAnEmptyPayloadFromNone) {
  v1::Task bare;
  bare.set_id("bare");
  const PackedTask packed_bare(bare);
  ExpectSameTask(packed_bare, bare);
  EXPECT_FALSE(packed_bare.ToTask().has_payload());

  const v1::Task empty = MakeTask("empty", "", "");
  const PackedTask packed_empty(empty);
  ExpectSameTask(packed_empty, empty);
  EXPECT_TRUE(packed_empty.ToTask().has_payload());
}

TEST(PackedTaskTest, CopiesAreDeepAndIdOnlyDropsTheRest) {
  v1::Task task = MakeTask("t-2", "type.example/Job", "payload");
  (*task.mutable_labels())["k"] = "v";
  auto original = std::make_unique<PackedTask>(task);
  PackedTask copy = *original;
  const PackedTask id_only = original->IdOnly();
  original.reset();
  ExpectSameTask(copy, task);
  v1::Task just_id;
  just_id.set_id("t-2");
  ExpectSameTask(id_only, just_id);
}

TEST(PackedTaskTest, TasksOfOneTypeShareOneTypeUrl) {
  const PackedTask first(MakeTask("1", "type.example/Shared", "a"));
  const PackedTask second(MakeTask("2", "type.example/Shared", "b"));
  EXPECT_EQ(first.type_url().data(), second.type_url().data());
}

TEST(PackedTaskTest, PackedFromItsPartsIsTheTaskOfThoseParts) {
  const v1::Task task = MakeTask("t-4", "type.example/Parts", "value");
  const PackedTask from_parts("t-4", "type.example/Parts", "value");
  ExpectSameTask(from_parts, task);
  EXPECT_EQ(from_parts.type_url().data(), PackedTask(task).type_url().data());
}

TEST(PackedTaskTest, DropsTheFieldsALeaseStamps) {
  v1::Task task = MakeTask("t-5", "type.example/Job", "payload");
  (*task.mutable_labels())["k"] = "v";
  v1::Task leased = task;
  leased.set_attempt(3);
  leased.set_epoch(7);
  leased.mutable_lease_deadline()->set_seconds(1);
  ExpectSameTask(PackedTask(std::move(leased)), task);
}

TEST(PackedTaskTest, SerializesAsTheTaskItPacks) {
  v1::Task task = MakeTask("t-6", "type.example/Job", "payload");
  (*task.mutable_labels())["k"] = "v";
  std::string bytes = "old bytes, replaced";
  PackedTask(task).SerializeTo(&bytes);
  v1::Task parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, task)) << parsed.DebugString();
}

TEST(PackedTaskTest, PackTasksKeepsTheirOrder) {
  std::vector<v1::Task> tasks = {MakeTask("a", "type.example/Job", "1"),
                                 MakeTask("b", "type.example/Job", "2")};
  const std::vector<PackedTask> packed = PackTasks(std::move(tasks));
  ASSERT_EQ(packed.size(), 2u);
  ExpectSameTask(packed[0], MakeTask("a", "type.example/Job", "1"));
  ExpectSameTask(packed[1], MakeTask("b", "type.example/Job", "2"));
}

TEST(PackedTaskTest, AMovedFromTaskIsEmpty) {
  PackedTask from(MakeTask("t-3", "type.example/Job", "payload"));
  const PackedTask to = std::move(from);
  EXPECT_EQ(to.id(), "t-3");
  EXPECT_EQ(from.id(), "");
  EXPECT_EQ(from.type_url(), "");
  EXPECT_EQ(from.payload_value(), "");
}

}  // namespace
}  // namespace distributo::server
