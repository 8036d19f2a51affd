#include "worker/task_ledger.h"

#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/worker/test_tasks.h"

namespace distributo::worker {
namespace {

class TaskLedgerTest : public ::testing::Test {
 protected:
  // Grants a whole `window` of credit, on which the master leases `leased`
  // tasks.
  void LeaseOnFullGrant(uint32_t window, int leased) {
    ledger_.StartCredit(window);
    ASSERT_EQ(ledger_.TakeCreditToGrant(0), window);
    ledger_.Add(JsonTasks(leased));
  }

  // Runs one queued task to its end.
  void RunOne() {
    std::vector<std::shared_ptr<HeldTask>> taken = ledger_.Take(1);
    ASSERT_EQ(taken.size(), 1u);
    ledger_.Finish(*taken[0]);
  }

  TaskLedger ledger_;
};

TEST_F(TaskLedgerTest, TakeCreditToGrantGrantsWholeWindowOnce) {
  ledger_.StartCredit(8);
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 8);
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 0);
}

TEST_F(TaskLedgerTest, TakeCreditToGrantWaitsForQuarterWindowWhileQueued) {
  LeaseOnFullGrant(8, 8);
  RunOne();
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 0);  // 1 free < 2, queue not empty
  RunOne();
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 2);
}

TEST_F(TaskLedgerTest, TakeCreditToGrantWithEmptyQueueGrantsAnyFreeSlot) {
  LeaseOnFullGrant(8, 1);                      // the master had only one task
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 0);  // 7 still outstanding
  RunOne();
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 1);
}

TEST_F(TaskLedgerTest, TakeCreditToGrantIgnoresOneWindowOfUnackedOutcomes) {
  LeaseOnFullGrant(4, 4);
  for (int i = 0; i < 4; ++i) RunOne();
  EXPECT_EQ(ledger_.TakeCreditToGrant(/*unacked_outcomes=*/4), 4);
}

TEST_F(TaskLedgerTest, TakeCreditToGrantCountsUnackedOutcomesBeyondAWindow) {
  LeaseOnFullGrant(4, 4);
  for (int i = 0; i < 4; ++i) RunOne();
  EXPECT_EQ(ledger_.TakeCreditToGrant(/*unacked_outcomes=*/8), 0);
  EXPECT_EQ(ledger_.TakeCreditToGrant(/*unacked_outcomes=*/6), 2);
}

TEST_F(TaskLedgerTest, StartCreditForgetsOutstandingButCountsHeld) {
  LeaseOnFullGrant(4, 3);
  ledger_.StartCredit(4);  // a new stream: the master knows no credit
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 1);
}

TEST_F(TaskLedgerTest, ReturnCreditMakesUnsentCreditGrantableAgain) {
  ledger_.StartCredit(4);
  ledger_.ReturnCredit(ledger_.TakeCreditToGrant(0));
  EXPECT_EQ(ledger_.TakeCreditToGrant(0), 4);
}

TEST_F(TaskLedgerTest, CancelDropsQueuedAndCancelsRunning) {
  ledger_.Add(JsonTasks(3));
  auto running = ledger_.Take(1);  // t0
  EXPECT_EQ(ledger_.Cancel({Lease("t0"), Lease("t1"), Lease("nope")}), 2u);
  EXPECT_TRUE(running[0]->context.cancelled());
  EXPECT_EQ(ledger_.held(), 2u);  // t0 running, t2 queued
  auto next = ledger_.Take(5);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]->task.id(), "t2");
}

TEST_F(TaskLedgerTest, CancelWithOtherEpochKeepsTask) {
  ledger_.Add(JsonTasks(1));
  EXPECT_EQ(ledger_.Cancel({Lease("t0", 2)}), 0u);
  EXPECT_EQ(ledger_.held(), 1u);
}

TEST_F(TaskLedgerTest, HeldLeasesListsQueuedAndRunning) {
  ledger_.Add(JsonTasks(2));
  ledger_.Take(1);
  EXPECT_EQ(ledger_.HeldLeases().size(), 2u);
  EXPECT_EQ(ledger_.running(), 1u);
}

TEST_F(TaskLedgerTest, DropQueuedKeepsRunning) {
  ledger_.Add(JsonTasks(3));
  ledger_.Take(1);
  EXPECT_EQ(ledger_.DropQueued(), 2u);
  EXPECT_EQ(ledger_.held(), 1u);
}

TEST_F(TaskLedgerTest, CloseWakesBlockedTakeWithNothing) {
  absl::Notification returned;
  size_t taken = 99;
  std::thread slot([&] {
    taken = ledger_.Take(1).size();
    returned.Notify();
  });
  ledger_.Close();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(10)));
  slot.join();
  EXPECT_EQ(taken, 0u);
}

}  // namespace
}  // namespace distributo::worker
