// End-to-end jobs: a real distributo-master on 127.0.0.1:0 and real
// distributo-worker processes running a real command, with a ledger that
// counts what was lost, handled twice or unexpected.

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"
#include "tests/integration/child_process.h"

namespace distributo::testing {
namespace {

constexpr absl::Duration kJobTimeout = absl::Seconds(120);

// What the results file says about each task.
struct Ledger {
  absl::flat_hash_map<std::string, int> times_written;
  absl::flat_hash_map<std::string, google::protobuf::Value> lines;
  int lost = 0;
  int twice = 0;
  int unexpected = 0;
  int released = 0;  // tasks leased more than once
};

std::string TaskScriptCommand() {
  return absl::StrCat("python3 ", DISTRIBUTO_TEST_SCRIPT);
}

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(::testing::TempDir(), "/job_test_", info->name(), "_",
                        getpid());
    ASSERT_EQ(
        system(absl::StrCat("rm -rf '", dir_, "' && mkdir -p '", dir_, "'")
                   .c_str()),
        0);
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // Writes tasks {"n": i, ...extra} with ids "t<i>"; `extra(i)` adds fields.
  void WriteTasks(int count,
                  const std::function<std::string(int)>& extra = nullptr) {
    std::ofstream file(Path("tasks.jsonl"));
    for (int i = 0; i < count; ++i) {
      file << "{\"id\": \"t" << i << "\", \"payload\": {\"n\": " << i
           << (extra ? extra(i) : "") << "}}\n";
      expected_ids_.push_back(absl::StrCat("t", i));
    }
  }

  void StartMaster(std::vector<std::string> extra_flags = {}) {
    std::vector<std::string> argv = {DISTRIBUTO_MASTER_BIN,
                                     "--port=0",
                                     "--port_file=" + Path("port"),
                                     "--tasks=" + Path("tasks.jsonl"),
                                     "--results=" + Path("results.jsonl"),
                                     "--reaper_interval=100ms",
                                     "--requeue_grace=500ms",
                                     "--progress_interval=1s"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    master_ = std::make_unique<ChildProcess>(argv, Path("master.log"));
    ASSERT_TRUE(WaitUntil([&] { return !ReadFile(Path("port")).empty(); },
                          absl::Seconds(30)))
        << ReadFile(Path("master.log"));
    ASSERT_TRUE(absl::SimpleAtoi(
        absl::StripAsciiWhitespace(ReadFile(Path("port"))), &port_));
  }

  ChildProcess* StartWorker(const std::string& mode, int concurrency,
                            std::vector<std::string> extra_flags = {}) {
    const int index = static_cast<int>(workers_.size());
    std::vector<std::string> argv = {
        DISTRIBUTO_WORKER_BIN,
        absl::StrCat("--master=127.0.0.1:", port_),
        "--exec=" + TaskScriptCommand(),
        "--exec_mode=" + mode,
        absl::StrCat("--concurrency=", concurrency),
        absl::StrCat("--name=worker-", index),
        "--reconnect_initial=100ms",
        "--reconnect_max=1s"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    workers_.push_back(std::make_unique<ChildProcess>(
        argv, Path(absl::StrCat("worker-", index, ".log"))));
    return workers_.back().get();
  }

  int WaitForMaster() {
    std::optional<int> code = master_->WaitForExit(kJobTimeout);
    EXPECT_TRUE(code.has_value()) << "the master did not finish in time";
    return code.value_or(-1);
  }

  size_t ResultLines() {
    const std::string text = ReadFile(Path("results.jsonl"));
    return std::count(text.begin(), text.end(), '\n');
  }

  Ledger ReadLedger() {
    Ledger ledger;
    for (absl::string_view line : absl::StrSplit(
             ReadFile(Path("results.jsonl")), '\n', absl::SkipEmpty())) {
      auto value = ParseJsonValue(line);
      EXPECT_TRUE(value.ok()) << "torn or bad line: " << line;
      if (!value.ok()) continue;
      const std::string id =
          value->struct_value().fields().at("id").string_value();
      ++ledger.times_written[id];
      ledger.released += Field(*value, "attempts") >= 2;
      ledger.lines[id] = *value;
    }
    absl::flat_hash_map<std::string, bool> expected;
    for (const std::string& id : expected_ids_) {
      expected[id] = true;
      if (!ledger.times_written.contains(id)) ++ledger.lost;
    }
    for (const auto& [id, times] : ledger.times_written) {
      if (times > 1) ++ledger.twice;
      if (!expected.contains(id)) ++ledger.unexpected;
    }
    return ledger;
  }

  static double Field(const google::protobuf::Value& line,
                      const std::string& name) {
    return line.struct_value().fields().at(name).number_value();
  }

  // Checks nothing was lost, written twice or unexpected, and every result
  // line is {"n": i, "square": i*i} for its id "t<i>".
  void ExpectEveryResultOnceAndCorrect(const Ledger& ledger) {
    EXPECT_EQ(ledger.lost, 0);
    EXPECT_EQ(ledger.twice, 0);
    EXPECT_EQ(ledger.unexpected, 0);
    for (const auto& [id, line] : ledger.lines) {
      const auto& fields = line.struct_value().fields();
      ASSERT_TRUE(fields.contains("result"))
          << id << ": " << PrintJsonValue(line);
      const double n = Field(fields.at("result"), "n");
      EXPECT_EQ(absl::StrCat("t", n), id);
      EXPECT_EQ(Field(fields.at("result"), "square"), n * n) << id;
    }
  }

  std::string dir_;
  int port_ = 0;
  std::vector<std::string> expected_ids_;
  std::unique_ptr<ChildProcess> master_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

TEST_F(JobTest, TenThousandTasksOverFourWorkersEachResultOnceAndCorrect) {
  WriteTasks(10'000);
  StartMaster({"--batch_size=100"});
  for (int i = 0; i < 4; ++i) StartWorker("lines", 2);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(Path("master.log"));
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  EXPECT_NE(ReadFile(Path("master.log")).find("10000 done, 0 dead"),
            std::string::npos)
      << ReadFile(Path("master.log"));
}

TEST_F(JobTest, KillNineOfAWorkerMidBatchLosesNothingAndWritesNothingTwice) {
  WriteTasks(2'000, [](int) { return ", \"sleep\": 0.004"; });
  StartMaster({"--batch_size=50"});
  ChildProcess* victim = StartWorker("lines", 2);
  for (int i = 0; i < 3; ++i) StartWorker("lines", 2);
  ASSERT_TRUE(
      WaitUntil([&] { return ResultLines() >= 300; }, absl::Seconds(60)));
  victim->Signal(SIGKILL);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(Path("master.log"));
  const Ledger ledger = ReadLedger();
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
  const Ledger ledger = ReadLedger();
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
  EXPECT_NE(ReadFile(Path("master.log")).find("54 done, 6 dead"),
            std::string::npos)
      << ReadFile(Path("master.log"));
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
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(Path("master.log"));
  const Ledger ledger = ReadLedger();
  ExpectEveryResultOnceAndCorrect(ledger);
  EXPECT_GT(ledger.released, 0)
      << "the hung worker's leases were never re-leased";
  // Its late results reached the master and were refused as duplicates.
  ASSERT_EQ(hung->WaitForExit(absl::Seconds(30)), 0);
  const std::string log = ReadFile(hung->log_path());
  int accepted = 0, refused = 0;
  const size_t at = log.find("outcomes accepted");
  ASSERT_NE(at, std::string::npos) << log;
  ASSERT_EQ(
      std::sscanf(log.c_str() + log.rfind(';', at) + 1,
                  " %d outcomes accepted, %d refused", &accepted, &refused),
      2)
      << log;
  EXPECT_GT(refused, 0) << log;
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
