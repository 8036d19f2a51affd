// End-to-end jobs: a real distributo-master on 127.0.0.1:0 and real
// distributo-worker processes running a real command, with a ledger that
// counts what was lost, handled twice or unexpected.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

using JobTest = JobFixture;

TEST_F(JobTest, TenThousandTasksOverFourWorkersEachResultOnceAndCorrect) {
  WriteTasks(10'000);
  StartMaster({"--batch_size=100"});
  for (int i = 0; i < 4; ++i) StartWorker("lines", 2);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  EXPECT_NE(ReadFile(master_->log_path()).find("10000 done, 0 dead"),
            std::string::npos)
      << ReadFile(master_->log_path());
}

TEST_F(JobTest, TasksFromAPipeAreReadOnceAndAllRun) {
  WriteTasks(500);
  const std::string fifo = Path("tasks.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // A pipe cannot be read twice, as a tasks file is: the master holds it.
  std::thread writer(
      [&] { std::ofstream(fifo) << ReadFile(Path("tasks.jsonl")); });
  StartMaster({"--tasks=" + fifo, "--journal=" + Path("pipe.journal")});
  // A master that never opened the pipe would leave the writer waiting.
  const int release = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  writer.join();
  close(release);
  ASSERT_FALSE(HasFatalFailure());
  StartWorker("lines", 2);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
}

TEST_F(JobTest, LogDirGetsEachBinarysLogsAsWellAsStderr) {
  WriteTasks(5);
  const std::string logs = Path("logs");
  StartMaster({"--log_dir=" + logs});
  ChildProcess* worker = StartWorker("lines", 1, {"--log_dir=" + logs});
  EXPECT_EQ(WaitForMaster(), 0);
  EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0);
  // glog links <program>.INFO to the newest INFO file.
  const std::string master_log = ReadFile(logs + "/distributo-master.INFO");
  EXPECT_NE(master_log.find("opened session"), std::string::npos) << logs;
  EXPECT_NE(ReadFile(logs + "/distributo-worker.INFO").find("job complete"),
            std::string::npos);
  EXPECT_NE(ReadFile(master_->log_path()).find("opened session"),
            std::string::npos)
      << "stderr gets the logs too";
}

TEST_F(JobTest, KillNineOfAWorkerMidBatchLosesNothingAndWritesNothingTwice) {
  WriteTasks(2'000, [](int) { return ", \"sleep\": 0.004"; });
  StartMaster({"--batch_size=50"});
  ChildProcess* victim = StartWorker("lines", 2);
  for (int i = 0; i < 3; ++i) StartWorker("lines", 2);
  ASSERT_TRUE(
      WaitUntil([&] { return ResultLines() >= 300; }, absl::Seconds(60)));
  victim->Signal(SIGKILL);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  const ResultsLedger ledger = ReadLedger();
  ExpectEveryResultOnceAndCorrect(ledger);
  EXPECT_GT(ledger.released, 0) << "the victim's leases were never re-leased";
}

TEST_F(JobTest, FailingTasksAreRetriedAndPersistentFailuresEndDead) {
  WriteTasks(60, [](int i) {
    return i % 10 == 0   ? ", \"fail\": \"always\""
           : i % 10 == 1 ? ", \"fail\": \"first\""
                         : "";
  });
  StartMaster({"--max_attempts=3", "--retry_backoff=20ms"});
  for (int i = 0; i < 2; ++i) StartWorker("per_task", 2);
  EXPECT_EQ(WaitForMaster(), 1) << "a job with dead tasks exits 1";
  const ResultsLedger ledger = ReadLedger();
  EXPECT_EQ(ledger.lost, 0);
  EXPECT_EQ(ledger.twice, 0);
  for (int i = 0; i < 60; ++i) {
    const auto& fields =
        ledger.lines.at(absl::StrCat("t", i)).struct_value().fields();
    if (i % 10 == 0) {
      ASSERT_TRUE(fields.contains("error")) << i;
      const auto& error = fields.at("error").struct_value().fields();
      EXPECT_EQ(error.at("code").string_value(), "exit_status_1");
      EXPECT_NE(error.at("message").string_value().find("failed on attempt 3"),
                std::string::npos);
      EXPECT_EQ(fields.at("attempts").number_value(), 3);
    } else {
      ASSERT_TRUE(fields.contains("result")) << i;
      EXPECT_EQ(fields.at("attempts").number_value(), i % 10 == 1 ? 2 : 1);
    }
  }
  EXPECT_NE(ReadFile(master_->log_path()).find("54 done, 6 dead"),
            std::string::npos)
      << ReadFile(master_->log_path());
}

TEST_F(JobTest, HungWorkerLosesItsLeasesAndItsLateResultsAreNotWrittenTwice) {
  WriteTasks(400, [](int) { return ", \"sleep\": 0.02"; });
  StartMaster({"--lease_timeout=1s", "--batch_size=20"});
  ChildProcess* hung = StartWorker("lines", 1);
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() >= 5; }, absl::Seconds(60)));
  hung->Signal(SIGSTOP);
  const size_t at_stop = ResultLines();
  const absl::Time stopped_at = absl::Now();
  StartWorker("lines", 4);
  // Resume the hung worker once its leases have surely expired and the job
  // is still running, so its late results reach a live master.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return absl::Now() - stopped_at > absl::Seconds(2) &&
               ResultLines() >= at_stop + 40;
      },
      absl::Seconds(60)));
  ASSERT_LT(ResultLines(), 400u) << "the job ended before the worker resumed";
  hung->Signal(SIGCONT);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  const ResultsLedger ledger = ReadLedger();
  ExpectEveryResultOnceAndCorrect(ledger);
  EXPECT_GT(ledger.released, 0)
      << "the hung worker's leases were never re-leased";
  // Its late results reached the master and were refused as duplicates.
  ASSERT_EQ(hung->WaitForExit(absl::Seconds(30)), 0);
  EXPECT_GT(RefusedOutcomes(ReadFile(hung->log_path())), 0)
      << ReadFile(hung->log_path());
}

TEST_F(JobTest, SigtermDrainsExitsZeroAndARestartFinishesTheJob) {
  WriteTasks(3'000, [](int) { return ", \"sleep\": 0.002"; });
  StartMaster({"--drain_timeout=30s"});
  for (int i = 0; i < 2; ++i) StartWorker("lines", 2);
  ASSERT_TRUE(
      WaitUntil([&] { return ResultLines() >= 300; }, absl::Seconds(60)));
  master_->Signal(SIGTERM);
  EXPECT_EQ(master_->WaitForExit(absl::Seconds(60)), 0)
      << ReadFile(master_->log_path());
  const std::string log = ReadFile(master_->log_path());
  EXPECT_NE(log.find("draining: no new leases"), std::string::npos) << log;
  EXPECT_NE(log.find("0 still leased"), std::string::npos)
      << "the workers handed in every task they held:\n"
      << log;
  ASSERT_LT(ResultLines(), 3'000u) << "the job ended before the signal";
  StartMaster();  // The same journal: the job resumes.
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
}

TEST_F(JobTest, AnotherJobOnTheSameResultsIsRefusedItsJournal) {
  WriteTasks(10);
  StartMaster();
  master_->Signal(SIGTERM);  // Drains at once: no worker holds anything.
  ASSERT_EQ(master_->WaitForExit(absl::Seconds(30)), 0);
  {
    std::ofstream other(Path("other.jsonl"));
    other << "{\"id\": \"t0\", \"payload\": {\"n\": 100}}\n";
  }
  ChildProcess second(
      {DISTRIBUTO_MASTER_BIN, "--port=0", "--tasks=" + Path("other.jsonl"),
       "--results=" + Path("results.jsonl")},
      Path("second.log"));
  EXPECT_EQ(second.WaitForExit(absl::Seconds(30)), 2);
  EXPECT_NE(ReadFile(Path("second.log")).find("belongs to another job"),
            std::string::npos)
      << ReadFile(Path("second.log"));
}

TEST_F(JobTest, MalformedTaskLineIsRejectedBeforeAnythingIsServed) {
  {
    std::ofstream file(Path("tasks.jsonl"));
    file << "{\"id\": \"a\", \"payload\": 1}\n"
         << "{\"id\": \"b\", \"payload\": 2}\n"
         << "{\"id\": \"c\", \"payload\": }\n";
  }
  ChildProcess master(
      {DISTRIBUTO_MASTER_BIN, "--port=0", "--port_file=" + Path("port"),
       "--tasks=" + Path("tasks.jsonl")},
      Path("master.log"));
  EXPECT_EQ(master.WaitForExit(absl::Seconds(30)), 2);
  EXPECT_NE(
      ReadFile(Path("master.log")).find("tasks.jsonl: line 3: not valid JSON"),
      std::string::npos)
      << ReadFile(Path("master.log"));
  EXPECT_EQ(ReadFile(Path("port")), "") << "the master must not have served";
}

}  // namespace
}  // namespace distributo::testing
