#include "worker/exec_task_processor.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/test_tasks.h"

namespace distributo::worker {
namespace {

using ::testing::HasSubstr;

v1::Outcome RunCommand(absl::string_view command, const v1::Task& task) {
  ExecTaskProcessor processor(command);
  return ProcessTask(processor, task);
}

TEST(ExecTaskProcessorTest, ProcessWithCatReturnsPayloadAsResult) {
  v1::Outcome outcome = RunCommand("cat", JsonTask("a", R"({"word":"hello"})"));
  ASSERT_TRUE(outcome.has_result()) << outcome.DebugString();
  EXPECT_EQ(ResultJson(outcome), R"({"word":"hello"})");
}

TEST(ExecTaskProcessorTest, AcceptedTypesIsJsonValue) {
  ExecTaskProcessor processor("cat");
  EXPECT_THAT(processor.AcceptedTypes(),
              ::testing::ElementsAre(std::string(kJsonValueTypeUrl)));
}

TEST(ExecTaskProcessorTest, ProcessWithNonZeroExitReturnsStatusAndStderr) {
  v1::Outcome outcome =
      RunCommand("cat >/dev/null; echo oops >&2; exit 3", JsonTask("a", "1"));
  ASSERT_THAT(outcome, IsFailure("exit_status_3"));
  EXPECT_THAT(outcome.failure().message(), HasSubstr("oops"));
  EXPECT_TRUE(outcome.failure().retryable());
}

TEST(ExecTaskProcessorTest, ProcessKilledBySignalReturnsSignalCode) {
  EXPECT_THAT(RunCommand("kill -9 $$", JsonTask("a", "1")),
              IsFailure("signal_9"));
}

TEST(ExecTaskProcessorTest, ProcessWithNonJsonOutputReturnsBadOutput) {
  v1::Outcome outcome = RunCommand("echo not json", JsonTask("a", "1"));
  ASSERT_THAT(outcome, IsFailure("bad_output"));
  EXPECT_TRUE(outcome.failure().retryable());
}

TEST(ExecTaskProcessorTest, ProcessWithEmptyOutputReturnsBadOutput) {
  EXPECT_THAT(RunCommand("true", JsonTask("a", "1")), IsFailure("bad_output"));
}

TEST(ExecTaskProcessorTest, ProcessSetsTaskIdAndAttemptInEnvironment) {
  v1::Task task = JsonTask("task-7", "null");
  task.set_attempt(3);
  // An array, because JSON objects come back with their keys in any order.
  v1::Outcome outcome = RunCommand(
      R"(printf '["%s",%s]' "$DISTRIBUTO_TASK_ID" "$DISTRIBUTO_ATTEMPT")",
      task);
  ASSERT_TRUE(outcome.has_result()) << outcome.DebugString();
  EXPECT_EQ(ResultJson(outcome), R"(["task-7",3])");
}

TEST(ExecTaskProcessorTest, ProcessWithLargePayloadThroughCatDoesNotBlock) {
  // Larger than any pipe buffer: needs reading while writing.
  const std::string big(4 << 20, 'x');
  v1::Outcome outcome = RunCommand("cat", JsonTask("a", "\"" + big + "\""));
  ASSERT_TRUE(outcome.has_result());
  EXPECT_EQ(ResultJson(outcome).size(), big.size() + 2);
}

TEST(ExecTaskProcessorTest, ProcessIgnoringStdinStillReturnsResult) {
  const std::string big(1 << 20, 'x');
  v1::Outcome outcome =
      RunCommand("echo '{}'", JsonTask("a", "\"" + big + "\""));
  ASSERT_TRUE(outcome.has_result()) << outcome.DebugString();
  EXPECT_EQ(ResultJson(outcome), "{}");
}

TEST(ExecTaskProcessorTest, ProcessCancelledKillsTheCommand) {
  ExecTaskProcessor processor("sleep 60; echo 1");
  EXPECT_THAT(ProcessCancelledTask(processor, JsonTask("a", "1")),
              IsFailure("signal_9"));
}

TEST(ExecTaskProcessorTest, ProcessWithNonJsonPayloadFailsForGood) {
  v1::Task task = JsonTask("a", "1");
  task.mutable_payload()->set_type_url("type.googleapis.com/other.Type");
  v1::Outcome outcome = RunCommand("cat", task);
  ASSERT_THAT(outcome, IsFailure("bad_payload"));
  EXPECT_FALSE(outcome.failure().retryable());
}

}  // namespace
}  // namespace distributo::worker
