#include "worker/exec_lines_processor.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/test_tasks.h"

namespace distributo::worker {
namespace {

using ::testing::HasSubstr;

// Answers each line with the pid of the shell, to tell processes apart.
constexpr absl::string_view kPidServer =
    R"(while read -r line; do echo "{\"pid\": $$}"; done)";

TEST(ExecLinesProcessorTest, ProcessWithCatEchoesEachPayload) {
  ExecLinesProcessor processor("cat");
  v1::Outcome first = ProcessTask(processor, JsonTask("a", R"({"n":1})"));
  v1::Outcome second = ProcessTask(processor, JsonTask("b", R"([2,"two"])"));
  EXPECT_EQ(ResultJson(first), R"({"n":1})");
  EXPECT_EQ(ResultJson(second), R"([2,"two"])");
}

TEST(ExecLinesProcessorTest, ProcessReusesTheSameProcess) {
  ExecLinesProcessor processor(kPidServer);
  const std::string first =
      ResultJson(ProcessTask(processor, JsonTask("a", "1")));
  const std::string second =
      ResultJson(ProcessTask(processor, JsonTask("b", "2")));
  EXPECT_THAT(first, HasSubstr("pid"));
  EXPECT_EQ(first, second);
}

TEST(ExecLinesProcessorTest, ProcessAfterExitReturnsProcessExitedThenRestarts) {
  // Answers one task, then exits.
  ExecLinesProcessor processor(R"(read -r line; echo "{\"pid\": $$}")");
  const std::string first =
      ResultJson(ProcessTask(processor, JsonTask("a", "1")));
  v1::Outcome lost = ProcessTask(processor, JsonTask("b", "2"));
  const std::string third =
      ResultJson(ProcessTask(processor, JsonTask("c", "3")));
  ASSERT_THAT(lost, IsFailure("process_exited"));
  EXPECT_TRUE(lost.failure().retryable());
  EXPECT_THAT(first, HasSubstr("pid"));
  EXPECT_THAT(third, HasSubstr("pid"));
  EXPECT_NE(first, third);
}

TEST(ExecLinesProcessorTest, ProcessDyingMidTaskReportsStatusAndStderr) {
  ExecLinesProcessor processor("read -r line; echo dying >&2; exit 5");
  v1::Outcome outcome = ProcessTask(processor, JsonTask("a", "1"));
  ASSERT_THAT(outcome, IsFailure("process_exited"));
  EXPECT_THAT(outcome.failure().message(), HasSubstr("exit_status_5"));
  EXPECT_THAT(outcome.failure().message(), HasSubstr("dying"));
}

TEST(ExecLinesProcessorTest, ProcessWithNonJsonLineReturnsBadOutputAndKeeps) {
  ExecLinesProcessor processor(
      R"(while read -r line; do echo "nope $$"; done)");
  EXPECT_THAT(ProcessTask(processor, JsonTask("a", "1")),
              IsFailure("bad_output"));
  EXPECT_THAT(ProcessTask(processor, JsonTask("b", "2")),
              IsFailure("bad_output"));
}

TEST(ExecLinesProcessorTest, ProcessCancelledKillsTheProcess) {
  ExecLinesProcessor processor("read -r line; sleep 60");
  v1::Outcome outcome = ProcessCancelledTask(processor, JsonTask("a", "1"));
  ASSERT_THAT(outcome, IsFailure("process_exited"));
  EXPECT_THAT(outcome.failure().message(), HasSubstr("signal_9"));
}

TEST(ExecLinesProcessorTest, ProcessWithLargeLineDoesNotBlock) {
  ExecLinesProcessor processor("cat");
  const std::string big(4 << 20, 'y');
  v1::Outcome outcome =
      ProcessTask(processor, JsonTask("a", "\"" + big + "\""));
  EXPECT_EQ(ResultJson(outcome).size(), big.size() + 2);
}

}  // namespace
}  // namespace distributo::worker
