// The workers in other languages (examples/python-worker, node-worker)
// against a real distributo-master: every word counted once and right, also
// across a kill -9 of the master.
#include <signal.h>

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "syllable_counter.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

// How to start a worker of one language; the flags are added after.
struct Language {
  std::string name;
  std::vector<std::string> command;
};

// Names the parameter in test logs.
void PrintTo(const Language& language, std::ostream* out) {
  *out << language.name;
}

class LanguageWorkerTest : public JobFixture,
                           public ::testing::WithParamInterface<Language> {
 protected:
  // Writes a task {"word": W} per word of the system dictionary, up to
  // `count`, with ids "w<i>".
  void WriteWordTasks(int count) {
    std::ifstream words("/usr/share/dict/words");
    std::ofstream tasks(Path("tasks.jsonl"));
    std::string word;
    for (int i = 0; i < count && std::getline(words, word); ++i) {
      google::protobuf::Value payload;
      (*payload.mutable_struct_value()->mutable_fields())["word"]
          .set_string_value(word);
      std::string json;
      ASSERT_TRUE(
          google::protobuf::util::MessageToJsonString(payload, &json).ok());
      tasks << "{\"id\": \"w" << i << "\", \"payload\": " << json << "}\n";
      expected_ids_.push_back(absl::StrCat("w", i));
    }
  }

  ChildProcess* StartLanguageWorker(int index) {
    std::vector<std::string> argv = GetParam().command;
    argv.push_back("--concurrency=2");
    argv.push_back(absl::StrCat("--master=127.0.0.1:", port_));
    argv.push_back(absl::StrCat("--name=", GetParam().name, "-", index));
    workers_.push_back(std::make_unique<ChildProcess>(
        argv, Path(absl::StrCat(GetParam().name, "-", index, ".log"))));
    return workers_.back().get();
  }

  // Every result once, and the count the C++ port of the counter gives.
  void ExpectEveryWordCountedOnce() {
    const ResultsLedger ledger = ReadLedger();
    ExpectEachResultOnce(ledger);
    int wrong = 0;
    for (const auto& [id, line] : ledger.lines) {
      const auto& result = line.struct_value().fields().at("result");
      const std::string& word =
          result.struct_value().fields().at("word").string_value();
      if (Field(result, "syllables") !=
          examples::syllables::CountSyllables(word)) {
        ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0);
  }
};

TEST_P(LanguageWorkerTest, TwoWorkersCountEveryWordOnceAndExitZero) {
  WriteWordTasks(3000);
  StartMaster({"--batch_size=50"});
  StartLanguageWorker(0);
  StartLanguageWorker(1);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
  ExpectEveryWordCountedOnce();
}

TEST_P(LanguageWorkerTest, KillNineOfTheMasterIsRiddenOutWithNothingLost) {
  WriteWordTasks(20'000);
  StartMaster({"--batch_size=20"});
  StartLanguageWorker(0);
  StartLanguageWorker(1);
  ASSERT_TRUE(
      WaitUntil([&] { return ResultLines() >= 2'000; }, absl::Seconds(60)));
  master_->Signal(SIGKILL);
  ASSERT_TRUE(master_->WaitForExit(absl::Seconds(10)).has_value());
  StartMaster({"--batch_size=20"});  // same port, same journal
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
    EXPECT_NE(ReadFile(worker->log_path()).find("forgot session"),
              std::string::npos)
        << "the worker did not reconnect to the restarted master";
  }
  ExpectEveryWordCountedOnce();
}

using LargeResultsTest = JobFixture;

// Results of 300 kB: a batch of 100 would be 30 MB, far over the master's
// 4 MiB message limit, so the worker must split its batches by bytes.
TEST_F(LargeResultsTest, PythonWorkerSplitsItsBatchesByBytes) {
  WriteTasks(40);
  StartMaster();
  workers_.push_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{
          "/usr/bin/env",
          absl::StrCat("PYTHONPATH=", DISTRIBUTO_PYTHON_WORKER_GEN, ":",
                       DISTRIBUTO_PYTHON_WORKER_DIR),
          "/usr/bin/python3", DISTRIBUTO_BIG_RESULTS_WORKER,
          absl::StrCat("--master=127.0.0.1:", port_)},
      Path("big.log")));
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(workers_[0]->log_path());
  EXPECT_EQ(workers_[0]->WaitForExit(absl::Seconds(30)), 0);
  const ResultsLedger ledger = ReadLedger();
  ExpectEachResultOnce(ledger);
  for (const auto& [id, line] : ledger.lines) {
    EXPECT_EQ(line.struct_value()
                  .fields()
                  .at("result")
                  .struct_value()
                  .fields()
                  .at("blob")
                  .string_value()
                  .size(),
              300'000u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Workers, LanguageWorkerTest,
    ::testing::Values(
        Language{"python",
                 {"/usr/bin/env",
                  absl::StrCat("PYTHONPATH=", DISTRIBUTO_PYTHON_WORKER_GEN),
                  "/usr/bin/python3", DISTRIBUTO_PYTHON_WORKER}},
        Language{"node", {"/usr/bin/env", "node", DISTRIBUTO_NODE_WORKER}}),
    [](const ::testing::TestParamInfo<Language>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace distributo::testing
