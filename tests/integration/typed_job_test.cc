// Typed tasks (--schema): a master that turns each JSONL payload into the
// schema's task message, workers given the same schema that hand their
// command JSON and turn its answer into the result message, and results
// written back as JSON. A payload that does not fit is refused with its
// line (or task) and the field at fault.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

const std::vector<std::string> kSchemaFlags = {
    "--schema=" DISTRIBUTO_SQUARES_SCHEMA,
    "--task_type=distributo.testing.SquareTask",
    "--result_type=distributo.testing.SquareResult"};

// Returns the `tasks done` of a distributo-worker's summary line; -1 if none.
int TasksDone(const std::string& log) {
  const size_t at = log.rfind("summary: ");
  int done = -1;
  if (at != std::string::npos) {
    std::sscanf(log.c_str() + at, "summary: %d tasks done", &done);
  }
  return done;
}

using TypedJobTest = JobFixture;

TEST_F(TypedJobTest, EveryTaskTravelsAsItsMessageAndEveryResultComesBack) {
  WriteTasks(200);
  StartMaster(kSchemaFlags);
  // Without the schema a worker takes JSON values only: it gets no task.
  ChildProcess* untyped = StartWorker("lines", 2);
  ChildProcess* typed = StartWorker("lines", 2, kSchemaFlags);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  ASSERT_EQ(typed->WaitForExit(absl::Seconds(30)), 0)
      << ReadFile(typed->log_path());
  ASSERT_EQ(untyped->WaitForExit(absl::Seconds(30)), 0)
      << ReadFile(untyped->log_path());
  EXPECT_EQ(TasksDone(ReadFile(typed->log_path())), 200);
  EXPECT_EQ(TasksDone(ReadFile(untyped->log_path())), 0);
}

TEST_F(TypedJobTest, ALineThatDoesNotFitStopsTheMasterNamingTheField) {
  WriteTasks(5, [](int i) { return i == 2 ? ", \"colour\": \"red\"" : ""; });
  std::vector<std::string> argv = {DISTRIBUTO_MASTER_BIN, "--port=0",
                                   "--tasks=" + Path("tasks.jsonl")};
  argv.insert(argv.end(), kSchemaFlags.begin(), kSchemaFlags.end());
  ChildProcess master(argv, Path("refused.log"));
  EXPECT_EQ(master.WaitForExit(absl::Seconds(30)), 2);
  const std::string log = ReadFile(Path("refused.log"));
  EXPECT_TRUE(absl::StrContains(log, "line 3")) << log;
  EXPECT_TRUE(absl::StrContains(log, "colour")) << log;
  EXPECT_TRUE(absl::StrContains(log, "distributo.testing.SquareTask")) << log;
}

TEST_F(TypedJobTest, EnqueueGivesAPayloadThatDoesNotFitItsReason) {
  std::ofstream(Path("mixed.jsonl"))
      << "{\"id\": \"good\", \"payload\": {\"n\": 4}}\n"
      << "{\"id\": \"bad\", \"payload\": {\"n\": \"four\"}}\n";
  std::vector<std::string> flags = kSchemaFlags;
  flags.push_back("--tasks=");  // service mode
  StartMaster(flags);
  std::string out;
  ASSERT_EQ(Cli({"enqueue", Path("mixed.jsonl")}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "1 added, 0 already known, 1 invalid"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "bad")) << out;
  EXPECT_TRUE(absl::StrContains(out, "does not fit")) << out;
  ASSERT_EQ(Cli({"drain"}, &out), 0) << out;
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
}

}  // namespace
}  // namespace distributo::testing
