// The syllables example end to end on the C++ SDK: a real syllables-master
// and real syllables-worker processes on 127.0.0.1, over words from the
// system dictionary, with a ledger of what came back.

#include <signal.h>

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
#include "syllable_counter.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

using examples::syllables::CountSyllables;

constexpr char kDictionary[] = "/usr/share/dict/words";
constexpr absl::Duration kJobTimeout = absl::Seconds(120);

class SyllablesJobTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir(); }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // Copies the first `count` words of the dictionary into words.txt. The
  // master numbers tasks "1", "2", ... in file order.
  void WriteWords(size_t count) {
    std::ifstream dictionary(kDictionary);
    ASSERT_TRUE(dictionary) << kDictionary << " (package wamerican) is needed";
    std::ofstream words(Path("words.txt"));
    for (std::string word;
         words_.size() < count && std::getline(dictionary, word);) {
      if (absl::StripAsciiWhitespace(word).empty()) continue;
      words << word << "\n";
      words_.push_back(word);
    }
    ASSERT_EQ(words_.size(), count) << "the dictionary is too short";
  }

  void StartMaster() {
    master_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            DISTRIBUTO_SYLLABLES_MASTER_BIN, "--port=0",
            "--port_file=" + Path("port"), "--words=" + Path("words.txt"),
            "--results=" + Path("results.jsonl"), "--batch_size=100"},
        Path("master.log"));
    ASSERT_TRUE(WaitUntil([&] { return !ReadFile(Path("port")).empty(); },
                          absl::Seconds(30)))
        << ReadFile(Path("master.log"));
    ASSERT_TRUE(absl::SimpleAtoi(
        absl::StripAsciiWhitespace(ReadFile(Path("port"))), &port_));
  }

  ChildProcess* StartWorker() {
    const int index = static_cast<int>(workers_.size());
    workers_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{DISTRIBUTO_SYLLABLES_WORKER_BIN,
                                 absl::StrCat("--master=127.0.0.1:", port_),
                                 "--concurrency=1"},
        Path(absl::StrCat("worker-", index, ".log"))));
    return workers_.back().get();
  }

  size_t ResultLines() {
    const std::string text = ReadFile(Path("results.jsonl"));
    return std::count(text.begin(), text.end(), '\n');
  }

  // Returns the ledger of results.jsonl, whose ids are "1", "2", ... in the
  // order of words.txt, and checks each line's word and count.
  ResultsLedger ReadLedger() {
    std::vector<std::string> ids;
    for (size_t i = 1; i <= words_.size(); ++i) ids.push_back(absl::StrCat(i));
    ResultsLedger ledger = ReadResultsLedger(Path("results.jsonl"), ids);
    for (size_t i = 1; i <= words_.size(); ++i) {
      const auto line = ledger.lines.find(absl::StrCat(i));
      if (line == ledger.lines.end()) continue;
      const std::string& word = words_[i - 1];
      const auto& fields = line->second.struct_value().fields();
      EXPECT_EQ(fields.at("word").string_value(), word) << "word " << i;
      EXPECT_EQ(Field(line->second, "syllables"), CountSyllables(word))
          << "word " << i << ": " << word;
    }
    return ledger;
  }

  // Waits for the master, then for every worker still running, to exit 0.
  void ExpectAllExitCleanly() {
    EXPECT_EQ(master_->WaitForExit(kJobTimeout), 0)
        << ReadFile(Path("master.log"));
    for (auto& worker : workers_) {
      if (worker->WaitForExit(absl::ZeroDuration()) == 128 + SIGKILL) continue;
      EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
          << ReadFile(worker->log_path());
    }
  }

  std::string dir_;
  int port_ = 0;
  std::vector<std::string> words_;
  std::unique_ptr<ChildProcess> master_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

TEST_F(SyllablesJobTest, EveryWordIsCountedOnceAndCorrectly) {
  WriteWords(20'000);
  StartMaster();
  for (int i = 0; i < 3; ++i) StartWorker();
  ExpectAllExitCleanly();
  ExpectEachResultOnce(ReadLedger());
}

TEST_F(SyllablesJobTest,
       KillNineOfAWorkerMidJobLosesNothingAndHandlesNoneTwice) {
  WriteWords(100'000);
  StartMaster();
  ChildProcess* victim = StartWorker();
  for (int i = 0; i < 3; ++i) StartWorker();
  // Every worker holds a window of leased words while the job runs, so the
  // victim dies holding some.
  ASSERT_TRUE(
      WaitUntil([&] { return ResultLines() >= 5'000; }, absl::Seconds(60)));
  victim->Signal(SIGKILL);
  ASSERT_EQ(victim->WaitForExit(absl::Seconds(10)), 128 + SIGKILL)
      << "the victim ended before it was killed";
  ExpectAllExitCleanly();
  const ResultsLedger ledger = ReadLedger();
  ExpectEachResultOnce(ledger);
  EXPECT_GT(ledger.released, 0) << "the victim's leases were never re-leased";
}

}  // namespace
}  // namespace distributo::testing
