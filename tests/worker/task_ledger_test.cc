#include "worker/task_ledger.h"

#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/worker/test_tasks.h"

namespace distributo::worker {
namespace {

std::vector<v1::Task> Tasks(int n) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(JsonTask(absl::StrCat("t", i), "1"));
  }
  return tasks;
}

v1::LeaseRef Lease(absl::string_view id, uint64_t epoch = 1) {
  v1::LeaseRef lease;
  lease.set_task_id(std::string(id));
  lease.set_epoch(epoch);
  return lease;
}

TEST(TaskLedgerTest, TakeCreditToGrantGrantsWholeWindowOnce) {
  TaskLedger ledger;
  ledger.StartCredit(8);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 8);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 0);
}

TEST(TaskLedgerTest, TakeCreditToGrantWaitsForQuarterWindowWhileQueued) {
  TaskLedger ledger;
  ledger.StartCredit(8);
  ledger.TakeCreditToGrant();
  ledger.Add(Tasks(8));
  auto first = ledger.Take(1);
  ledger.Finish(*first[0]);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 0);  // 1 free < 2, queue not empty
  auto second = ledger.Take(1);
  ledger.Finish(*second[0]);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 2);
}

TEST(TaskLedgerTest, TakeCreditToGrantWithEmptyQueueGrantsAnyFreeSlot) {
  TaskLedger ledger;
  ledger.StartCredit(8);
  ledger.TakeCreditToGrant();
  ledger.Add(Tasks(1));  // the master had only one task
  auto taken = ledger.Take(8);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 0);  // 7 still outstanding
  ledger.Finish(*taken[0]);
  EXPECT_EQ(ledger.TakeCreditToGrant(), 1);
}

TEST(TaskLedgerTest, StartCreditForgetsOutstandingButCountsHeld) {
  TaskLedger ledger;
  ledger.StartCredit(4);
  ledger.TakeCreditToGrant();
  ledger.Add(Tasks(3));
  ledger.StartCredit(4);  // a new stream: the master knows no credit
  EXPECT_EQ(ledger.TakeCreditToGrant(), 1);
}

TEST(TaskLedgerTest, CancelDropsQueuedAndCancelsRunning) {
  TaskLedger ledger;
  ledger.Add(Tasks(3));
  auto running = ledger.Take(1);  // t0
  EXPECT_EQ(ledger.Cancel({Lease("t0"), Lease("t1"), Lease("nope")}), 2u);
  EXPECT_TRUE(running[0]->context.cancelled());
  EXPECT_EQ(ledger.held(), 2u);  // t0 running, t2 queued
  auto next = ledger.Take(5);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]->task.id(), "t2");
}

TEST(TaskLedgerTest, CancelWithOtherEpochKeepsTask) {
  TaskLedger ledger;
  ledger.Add(Tasks(1));
  EXPECT_EQ(ledger.Cancel({Lease("t0", 2)}), 0u);
  EXPECT_EQ(ledger.held(), 1u);
}

TEST(TaskLedgerTest, HeldLeasesListsQueuedAndRunning) {
  TaskLedger ledger;
  ledger.Add(Tasks(2));
  ledger.Take(1);
  EXPECT_EQ(ledger.HeldLeases().size(), 2u);
  EXPECT_EQ(ledger.running(), 1u);
}

TEST(TaskLedgerTest, DropQueuedKeepsRunning) {
  TaskLedger ledger;
  ledger.Add(Tasks(3));
  ledger.Take(1);
  EXPECT_EQ(ledger.DropQueued(), 2u);
  EXPECT_EQ(ledger.held(), 1u);
}

TEST(TaskLedgerTest, CloseWakesBlockedTakeWithNothing) {
  TaskLedger ledger;
  absl::Notification returned;
  size_t taken = 99;
  std::thread slot([&] {
    taken = ledger.Take(1).size();
    returned.Notify();
  });
  ledger.Close();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(10)));
  slot.join();
  EXPECT_EQ(taken, 0u);
}

}  // namespace
}  // namespace distributo::worker
