#include "server/lease_writer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/wire.h"
#include "tests/server/journal_files.h"

namespace distributo::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;

struct Lease {
  v1::Task task;
  uint32_t attempt = 1;
  uint64_t epoch = 1;
  absl::Time deadline = absl::FromUnixSeconds(1'800'000'000);
};

// Leases `leases` into both writers; expects the same TaskBatch from each.
void ExpectSameBatch(const std::vector<Lease>& leases,
                     absl::Duration duration = absl::Seconds(30)) {
  v1::TaskBatch expected;
  LeasedTasksWriter message(expected.mutable_tasks());
  WireLeaseWriter wire;
  for (const Lease& lease : leases) {
    const PackedTask packed(lease.task);
    message.Add(packed, lease.attempt, lease.epoch, lease.deadline);
    wire.Add(packed, lease.attempt, lease.epoch, lease.deadline);
  }
  message.End(duration);
  wire.End(duration);
  grpc::ByteBuffer bytes;
  wire.MoveTo(&bytes);
  // As long as protobuf would write it: no field twice, none left out.
  EXPECT_EQ(bytes.Length(), expected.ByteSizeLong());
  v1::TaskBatch parsed;
  ASSERT_TRUE(ParseWire(&bytes, &parsed));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, expected))
      << parsed.DebugString() << " vs " << expected.DebugString();
}

TEST(LeaseWriterTest, WritesWhatTheMessageHolds) {
  v1::Task bare;
  bare.set_id("c");
  ExpectSameBatch({{MakeTask("a", "x")},
                   {MakeTask("b", "work"), 3, 7},
                   {bare, 2, (uint64_t{5} << 32) + 1}});
}

TEST(LeaseWriterTest, KeepsAnEmptyPayloadApartFromNone) {
  v1::Task empty;
  empty.set_id("empty");
  empty.mutable_payload();
  ExpectSameBatch({{empty}});
}

TEST(LeaseWriterTest, LengthsOfSeveralBytes) {
  // Lengths past 127 take varints of two bytes or more, at every level.
  const std::string long_id(300, 'i');
  const std::string big_value(70'000, 'v');
  std::vector<Lease> many;
  for (int i = 0; i < 200; ++i) {
    many.push_back({MakeTask(absl::StrCat(long_id, i), big_value)});
  }
  ExpectSameBatch(many, absl::Hours(48));
}

TEST(LeaseWriterTest, DeadlinesBeforeAndAtTheEpochAndOnAWholeSecond) {
  const v1::Task task = MakeTask("a", "v");
  ExpectSameBatch(
      {{task, 1, 1, absl::UnixEpoch()},
       {task, 1, 1, absl::UnixEpoch() - absl::Milliseconds(1500)},
       {task, 1, 1, absl::FromUnixSeconds(1'800'000'000)},
       {task, 1, 1, absl::FromUnixNanos(1'800'000'000'000'000'001)},
       // Back to an earlier one: each task has its own, encoded or not.
       {task, 1, 1, absl::UnixEpoch()}},
      absl::Milliseconds(1));
}

TEST(LeaseWriterTest, EachBatchStartsAfresh) {
  WireLeaseWriter wire;
  for (const std::string id : {"first", "second"}) {
    const PackedTask task(MakeTask(id, "v"));
    wire.Add(task, 1, 1, absl::UnixEpoch());
    wire.End(absl::Seconds(1));
    grpc::ByteBuffer bytes;
    wire.MoveTo(&bytes);
    v1::TaskBatch parsed;
    ASSERT_TRUE(ParseWire(&bytes, &parsed));
    ASSERT_EQ(parsed.tasks().tasks_size(), 1);
    EXPECT_EQ(parsed.tasks().tasks(0).id(), id);
  }
}

}  // namespace
}  // namespace distributo::server
