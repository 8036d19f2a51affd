// Rows of the fault table (notes/reliability.md, docs/faults.md) that need a
// job of real processes and are not tested elsewhere: a slow worker that
// extends its leases (row 4) and a task that kills every worker that runs
// it (row 14). Each counts, with the shared ledger, what was lost and what
// was written twice.
#include <signal.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

using FaultTableTest = JobFixture;

TEST_F(FaultTableTest, ASlowWorkerThatExtendsItsLeasesKeepsThem) {
  // Each task runs three leases long; the worker extends every third of one.
  WriteTasks(8, [](int) { return ", \"sleep\": 3"; });
  StartMaster({"--lease_timeout=1s"});
  StartWorker("per_task", 8);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  const ResultsLedger ledger = ReadLedger();
  ExpectEveryResultOnceAndCorrect(ledger);
  EXPECT_EQ(ledger.released, 0) << "a task was leased again while it ran";
  EXPECT_EQ(ReadFile(master_->log_path()).find("leases expired"),
            std::string::npos)
      << ReadFile(master_->log_path());
}

TEST_F(FaultTableTest, ATaskThatKillsItsWorkersEndsDeadAsPoisonTheRestDone) {
  WriteTasks(40, [](int i) {
    return i == 7 ? std::string(", \"poison\": true") : "";
  });
  StartMaster({"--max_worker_deaths=3", "--lease_timeout=2s"});
  // A supervisor's job: a worker killed by the poison is replaced, a bounded
  // number of times.
  ChildProcess* worker = StartWorker("lines", 1);
  int deaths = 0;
  while (!master_->WaitForExit(absl::ZeroDuration()).has_value() &&
         deaths < 10) {
    const std::optional<int> code =
        worker->WaitForExit(absl::Milliseconds(100));
    if (!code.has_value()) continue;
    if (*code == 0) break;  // the job is complete
    ASSERT_EQ(*code, 128 + SIGKILL) << ReadFile(worker->log_path());
    ++deaths;
    worker = StartWorker("lines", 1);
  }
  EXPECT_EQ(deaths, 3) << "each lease of the poison task killed its worker";
  EXPECT_EQ(WaitForMaster(), 1) << "a dead task makes the job exit 1";
  const ResultsLedger ledger = ReadLedger();
  EXPECT_EQ(ledger.lost, 0);
  EXPECT_EQ(ledger.twice, 0);
  EXPECT_EQ(ledger.unexpected, 0);
  EXPECT_EQ(ledger.torn, 0);
  ASSERT_TRUE(ledger.lines.contains("t7"));
  EXPECT_NE(ReadFile(Path("results.jsonl")).find("worker_lost"),
            std::string::npos)
      << "the poison task's line says why it is dead";
  EXPECT_NE(ReadFile(master_->log_path()).find("39 done, 1 dead"),
            std::string::npos)
      << ReadFile(master_->log_path());
}

}  // namespace
}  // namespace distributo::testing
