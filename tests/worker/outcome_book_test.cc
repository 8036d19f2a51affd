#include "worker/outcome_book.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/worker/test_tasks.h"

namespace distributo::worker {
namespace {

v1::Outcome Done(absl::string_view id) {
  auto result = JsonToResult("1");
  v1::Outcome outcome = ResultOutcome(*result);
  outcome.mutable_lease()->set_task_id(std::string(id));
  outcome.mutable_lease()->set_epoch(1);
  return outcome;
}

v1::ResultAck Ack(const v1::ResultBatch& batch) {
  v1::ResultAck ack;
  ack.set_batch_id(batch.batch_id());
  for (const v1::Outcome& outcome : batch.outcomes()) {
    v1::ItemVerdict* verdict = ack.add_outcomes();
    verdict->set_task_id(outcome.lease().task_id());
    verdict->set_verdict(v1::VERDICT_ACCEPTED);
  }
  return ack;
}

constexpr size_t kBig = 1 << 20;

TEST(OutcomeBookTest, OnAckForgetsTheBatch) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  book.Add(Done("a"));
  auto batch = book.NextBatch(stream, 64, kBig, {});
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(book.AllAcked());
  EXPECT_TRUE(book.OnAck(stream, Ack(*batch)).ok());
  EXPECT_TRUE(book.AllAcked());
  EXPECT_EQ(book.stats().accepted, 1u);
}

TEST(OutcomeBookTest, UnackedCountsPendingAndSentUntilTheirAck) {
  OutcomeBook book;
  uint64_t stream = book.StartStream();
  for (const char* id : {"a", "b", "c"}) book.Add(Done(id));
  auto first = book.NextBatch(stream, 2, kBig, {});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(book.unacked(), 3u);
  ASSERT_TRUE(book.OnAck(stream, Ack(*first)).ok());
  EXPECT_EQ(book.unacked(), 1u);
  ASSERT_TRUE(book.NextBatch(stream, 2, kBig, {}).has_value());
  stream = book.StartStream();  // the unacked one is pending again
  EXPECT_EQ(book.unacked(), 1u);
  ASSERT_TRUE(book.NextBatch(stream, 2, kBig, {}).has_value());
  EXPECT_EQ(book.DropAll(), 1u);
  EXPECT_EQ(book.unacked(), 0u);
}

TEST(OutcomeBookTest, DropAllForgetsEverythingAndRefusesTheOldJob) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  const uint64_t old_job = book.job();
  EXPECT_TRUE(book.Add(Done("sent"), old_job));
  ASSERT_TRUE(book.NextBatch(stream, 64, kBig, {}).has_value());
  EXPECT_TRUE(book.Add(Done("pending"), old_job));
  EXPECT_EQ(book.DropAll(), 2u);
  EXPECT_TRUE(book.AllAcked());
  // An outcome of the old job made after the drop is refused too.
  EXPECT_FALSE(book.Add(Done("late"), old_job));
  EXPECT_TRUE(book.Add(Done("new"), book.job()));
  auto batch = book.NextBatch(book.StartStream(), 64, kBig, {});
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->outcomes_size(), 1);
  EXPECT_EQ(batch->outcomes(0).lease().task_id(), "new");
}

TEST(OutcomeBookTest, NextBatchHonoursMaxOutcomes) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  for (const char* id : {"a", "b", "c"}) book.Add(Done(id));
  auto first = book.NextBatch(stream, 2, kBig, {});
  auto second = book.NextBatch(stream, 2, kBig, {});
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->outcomes_size(), 2);
  EXPECT_EQ(second->outcomes_size(), 1);
  EXPECT_LT(first->batch_id(), second->batch_id());
  EXPECT_FALSE(book.NextBatch(stream, 2, kBig, {}).has_value());
}

TEST(OutcomeBookTest, NextBatchHonoursMaxBytesButSendsAtLeastOne) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  book.Add(Done("a"));
  book.Add(Done("b"));
  auto batch = book.NextBatch(stream, 64, 1, {});
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->outcomes_size(), 1);
}

TEST(OutcomeBookTest, StartStreamResubmitsUnackedInOrder) {
  OutcomeBook book;
  uint64_t stream = book.StartStream();
  book.Add(Done("a"));
  book.NextBatch(stream, 64, kBig, {});
  book.Add(Done("b"));
  stream = book.StartStream();
  auto batch = book.NextBatch(stream, 64, kBig, {});
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->outcomes_size(), 2);
  EXPECT_EQ(batch->outcomes(0).lease().task_id(), "a");
  EXPECT_EQ(batch->outcomes(1).lease().task_id(), "b");
}

TEST(OutcomeBookTest, NextBatchForOldStreamReturnsNothing) {
  OutcomeBook book;
  const uint64_t old_stream = book.StartStream();
  book.StartStream();
  book.Add(Done("a"));
  EXPECT_FALSE(book.NextBatch(old_stream, 64, kBig, {}).has_value());
}

TEST(OutcomeBookTest, OnAckForUnknownBatchFails) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  v1::ResultAck ack;
  ack.set_batch_id(42);
  EXPECT_EQ(book.OnAck(stream, ack).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(OutcomeBookTest, OnAckWithRefusedVerdictStillForgets) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  book.Add(Done("a"));
  auto batch = book.NextBatch(stream, 64, kBig, {});
  v1::ResultAck ack = Ack(*batch);
  ack.mutable_outcomes(0)->set_verdict(v1::VERDICT_NOT_YOURS);
  EXPECT_TRUE(book.OnAck(stream, ack).ok());
  EXPECT_TRUE(book.AllAcked());
  EXPECT_EQ(book.stats().refused, 1u);
}

TEST(OutcomeBookTest, AddWithOversizedResultBecomesFailure) {
  OutcomeBook book;
  book.SetMaxResultBytes(4);
  const uint64_t stream = book.StartStream();
  v1::Outcome outcome = Done("a");
  *outcome.mutable_result() = *JsonToResult("\"far too long\"");
  book.Add(outcome);
  auto batch = book.NextBatch(stream, 64, kBig, {});
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->outcomes(0).failure().code(), "result_too_large");
  EXPECT_EQ(batch->outcomes(0).lease().task_id(), "a");
}

TEST(OutcomeBookTest, NextBatchWithOnlyExtensionsIsSent) {
  OutcomeBook book;
  const uint64_t stream = book.StartStream();
  auto batch = book.NextBatch(stream, 64, kBig, {Lease("a")});
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->extensions_size(), 1);
  EXPECT_FALSE(book.AllAcked());  // its ack is still due
}

}  // namespace
}  // namespace distributo::worker
