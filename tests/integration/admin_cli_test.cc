// The `distributo` command line against a real master: a service-mode
// master fed by `distributo enqueue`, watched by `status` and ended by
// `drain`.
#include <signal.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

using AdminCliTest = JobFixture;

TEST_F(AdminCliTest, EnqueueStatusAndDrainRunAServiceMaster) {
  WriteTasks(50);
  StartMaster({"--tasks="});  // no tasks file: service mode
  std::string out;
  ASSERT_EQ(Cli({"enqueue", Path("tasks.jsonl")}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "50 tasks: 50 added, 0 already known"))
      << out;
  ASSERT_EQ(Cli({"enqueue", Path("tasks.jsonl")}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "0 added, 50 already known")) << out;
  ChildProcess* worker = StartWorker("lines", 2);
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() == 50; }, kJobTimeout));
  ASSERT_EQ(Cli({"status", "--json"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"done\":\"50\"")) << out;
  ASSERT_EQ(Cli({"status"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "worker-0")) << out;
  ASSERT_EQ(Cli({"ready"}, &out), 0) << out;
  ASSERT_EQ(Cli({"drain"}, &out), 0) << out;
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(absl::Seconds(10)), 128 + SIGTERM);
}

TEST_F(AdminCliTest, CancelEndsARunningTaskAndItsWorkerStopsIt) {
  // t0 and t3 would run for a minute; t1 and t2 finish at once.
  WriteTasks(4, [](int i) { return i % 3 == 0 ? ", \"sleep\": 60" : ""; });
  StartMaster();
  ChildProcess* worker = StartWorker("lines", 2);
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() == 2; }, kJobTimeout));
  ChildProcess watcher({DISTRIBUTO_CLI_BIN, "status", "--watch",
                        absl::StrCat("--master=127.0.0.1:", port_)},
                       Path("watch.log"));
  std::string out;
  ASSERT_EQ(Cli({"cancel", "t0", "--reason=not needed"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "cancelled t0 (worker-0 was told")) << out;
  EXPECT_EQ(Cli({"cancel", "t1"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "task t1 is already finished")) << out;
  EXPECT_EQ(Cli({"cancel", "nope"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "no task nope")) << out;
  ASSERT_EQ(Cli({"dead", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "t0\tcancelled\t1 attempts\tnot needed"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "1 dead tasks")) << out;
  ASSERT_EQ(Cli({"cancel", "t3"}, &out), 0) << out;
  EXPECT_EQ(WaitForMaster(), 1) << "dead tasks make the exit status 1";
  // The watch ends with the job, its last line saying so.
  EXPECT_EQ(watcher.WaitForExit(absl::Seconds(10)), 0)
      << ReadFile(watcher.log_path());
  EXPECT_TRUE(absl::StrContains(ReadFile(watcher.log_path()),
                                "complete: 4/4 finished (2 done, 2 dead)"))
      << ReadFile(watcher.log_path());
  // Long before the minute: the worker killed both commands.
  EXPECT_EQ(worker->WaitForExit(absl::Seconds(20)), 0)
      << ReadFile(worker->log_path());
  EXPECT_TRUE(absl::StrContains(ReadFile(worker->log_path()),
                                "master cancelled 1 leases"));
  const ResultsLedger ledger = ReadLedger();
  ExpectEachResultOnce(ledger);
  const auto& error =
      ledger.lines.at("t0").struct_value().fields().at("error").struct_value();
  EXPECT_EQ(error.fields().at("code").string_value(), "cancelled");
  EXPECT_EQ(error.fields().at("message").string_value(), "not needed");
}

TEST_F(AdminCliTest, RedriveRunsDeadTasksAgainAfterTheCauseIsFixed) {
  // t3 and t7 fail until the file exists: dead after their one attempt.
  const std::string fixed = Path("fixed");
  WriteTasks(10, [&](int i) {
    return i % 4 == 3 ? absl::StrCat(", \"fail_until\": \"", fixed, "\"")
                      : std::string();
  });
  const std::vector<std::string> flags = {"--tasks=", "--max_attempts=1"};
  StartMaster(flags);
  std::string out;
  ASSERT_EQ(Cli({"enqueue", Path("tasks.jsonl")}, &out), 0) << out;
  StartWorker("lines", 2);
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() == 10; }, kJobTimeout));
  ASSERT_EQ(Cli({"dead", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "2 dead tasks")) << out;

  std::ofstream(fixed).put('\n');
  EXPECT_EQ(Cli({"dead", "redrive", "t3", "nope", "t1"}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "nope: no such task")) << out;
  EXPECT_TRUE(absl::StrContains(out, "t1: not dead")) << out;
  EXPECT_TRUE(absl::StrContains(out, "redrove 1 dead tasks")) << out;
  EXPECT_TRUE(absl::StrContains(out, "2 of the 3 tasks were not redriven"))
      << out;
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() == 11; }, kJobTimeout));
  // A restart keeps what was redriven, and the dead task left.
  master_->Signal(SIGKILL);
  ASSERT_EQ(master_->WaitForExit(absl::Seconds(10)), 128 + SIGKILL);
  StartMaster(flags);
  ASSERT_EQ(Cli({"dead", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "t7\t")) << out;
  EXPECT_TRUE(absl::StrContains(out, "1 dead tasks")) << out;
  ASSERT_EQ(Cli({"dead", "redrive"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "redrove 1 dead tasks")) << out;
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() == 12; }, kJobTimeout));
  ASSERT_EQ(Cli({"dead", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "0 dead tasks")) << out;
  ASSERT_EQ(Cli({"drain"}, &out), 0) << out;
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());

  // Each redriven task has its dead line, then its result: the last wins.
  const ResultsLedger ledger = ReadLedger();
  EXPECT_EQ(ledger.lost, 0);
  EXPECT_EQ(ledger.torn, 0);
  EXPECT_EQ(ledger.twice, 2);
  EXPECT_EQ(ledger.times_written.at("t3"), 2);
  EXPECT_EQ(ledger.times_written.at("t7"), 2);
  for (const auto& [id, line] : ledger.lines) {
    EXPECT_TRUE(line.struct_value().fields().contains("result")) << id;
  }
}

TEST_F(AdminCliTest, OnlyAnOperatorsTokenOpensTheAdminService) {
  WriteTasks(10);
  std::ofstream(Path("workers")) << "s3cret-token-of-alice alice\n";
  std::ofstream(Path("operators")) << "s3cret-token-of-oscar oscar\n";
  StartMaster({"--tokens=" + Path("workers"),
               "--operator_tokens=" + Path("operators")});
  std::string out;
  EXPECT_NE(Cli({"status"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "this master needs a token")) << out;
  EXPECT_NE(Cli({"drain", "--token=s3cret-token-of-alice"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "does not open the admin service")) << out;
  ASSERT_EQ(Cli({"status", "--token=s3cret-token-of-oscar"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "10")) << out;
  EXPECT_FALSE(master_->WaitForExit(absl::ZeroDuration()).has_value())
      << "a worker's token drained the master";
}

TEST_F(AdminCliTest, WorkerTokensWithoutOperatorOnesCloseTheAdminService) {
  WriteTasks(10);
  std::ofstream(Path("workers")) << "s3cret-token-of-alice alice\n";
  StartMaster({"--tokens=" + Path("workers")});
  std::string out;
  EXPECT_NE(Cli({"status", "--token=s3cret-token-of-alice"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "has no operator tokens")) << out;
}

TEST_F(AdminCliTest, ATokenOfBothAWorkerAndAnOperatorIsRefusedAtStart) {
  WriteTasks(1);
  std::ofstream(Path("workers")) << "s3cret-token-shared alice\n";
  std::ofstream(Path("operators")) << "s3cret-token-shared oscar\n";
  ChildProcess master(
      {DISTRIBUTO_MASTER_BIN, "--port=0", "--tasks=" + Path("tasks.jsonl"),
       "--tokens=" + Path("workers"), "--operator_tokens=" + Path("operators")},
      Path("refused.log"));
  EXPECT_EQ(master.WaitForExit(absl::Seconds(30)), 2);
  EXPECT_TRUE(absl::StrContains(ReadFile(Path("refused.log")),
                                "operator oscar's token is a worker's token"))
      << ReadFile(Path("refused.log"));
}

TEST_F(AdminCliTest, AJobMasterTakesNoTasksAndAGoneOneIsNamed) {
  WriteTasks(5);
  StartMaster();
  std::string out;
  EXPECT_EQ(Cli({"enqueue", Path("tasks.jsonl")}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "takes no more tasks")) << out;
  std::ofstream(Path("no_ids.jsonl")) << "{\"id\": \"a\", \"payload\": 1}\n"
                                      << "{\"payload\": 2}\n";
  EXPECT_EQ(Cli({"enqueue", Path("no_ids.jsonl")}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "no_ids.jsonl:2: no \"id\"")) << out;
  master_->Signal(SIGKILL);
  ASSERT_TRUE(master_->WaitForExit(absl::Seconds(10)).has_value());
  EXPECT_EQ(Cli({"status"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "cannot reach the master at 127.0.0.1:"))
      << out;
  EXPECT_EQ(Cli({"frobnicate"}, &out), 2);
}

}  // namespace
}  // namespace distributo::testing
