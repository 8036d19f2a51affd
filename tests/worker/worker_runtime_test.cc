#include "worker/worker_runtime.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/fake_master.h"
#include "tests/worker/test_tasks.h"
#include "worker/exec_task_processor.h"

namespace distributo::worker {
namespace {

using ::testing::ElementsAre;

std::vector<v1::Task> Tasks(int n) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(
        JsonTask(absl::StrCat("t", i), absl::StrCat(R"({"n":)", i, "}")));
  }
  return tasks;
}

WorkerOptions Options(const FakeMaster& master) {
  WorkerOptions options;
  options.master = master.address();
  options.worker_name = "test-worker";
  options.concurrency = 2;
  options.reconnect_initial = absl::Milliseconds(10);
  options.reconnect_max = absl::Milliseconds(50);
  return options;
}

FakeMaster::Options MasterOptions(uint32_t max_batch_tasks,
                                  int break_results_streams,
                                  bool forget_sessions) {
  FakeMaster::Options options;
  options.max_batch_tasks = max_batch_tasks;
  options.break_results_streams = break_results_streams;
  options.forget_sessions = forget_sessions;
  return options;
}

// Runs `runtime` to its end, or shuts it down after a generous timeout.
absl::Status RunWithTimeout(WorkerRuntime& runtime) {
  absl::Status status;
  absl::Notification done;
  std::thread thread([&] {
    status = runtime.Run();
    done.Notify();
  });
  const bool in_time = done.WaitForNotificationWithTimeout(absl::Seconds(30));
  if (!in_time) runtime.Shutdown();
  thread.join();
  EXPECT_TRUE(in_time) << "Run() did not end";
  return status;
}

// Answers every task of a batch with its payload, except "t1".
class SkippingBatchProcessor : public BatchProcessor {
 public:
  std::vector<std::string> AcceptedTypes() const override { return {}; }
  std::vector<v1::Outcome> ProcessBatch(
      absl::Span<const v1::Task> tasks,
      absl::Span<TaskContext* const> /*contexts*/) override {
    std::vector<v1::Outcome> outcomes;
    for (const v1::Task& task : tasks) {
      if (task.id() == "t1") continue;
      v1::Outcome& outcome =
          outcomes.emplace_back(ResultOutcome(task.payload()));
      outcome.mutable_lease()->set_task_id(task.id());
    }
    return outcomes;
  }
};

TEST(WorkerRuntimeTest, RunWithCatCompletesTheJob) {
  FakeMaster master(Tasks(5), {});
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  EXPECT_TRUE(RunWithTimeout(**runtime).ok());
  const auto outcomes = master.outcomes();
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(ResultJson(outcomes.at("t3")), R"({"n":3})");
  EXPECT_EQ(outcomes.at("t3").lease().epoch(), 1u);
  const WorkerStats stats = (*runtime)->stats();
  EXPECT_EQ(stats.succeeded, 5u);
  EXPECT_EQ(stats.accepted, 5u);
}

TEST(WorkerRuntimeTest, RunIntroducesTheWorkerInTheHello) {
  FakeMaster master(Tasks(1), {});
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok());
  ASSERT_TRUE(RunWithTimeout(**runtime).ok());
  const std::vector<v1::WorkerHello> hellos = master.hellos();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].worker_name(), "test-worker");
  EXPECT_EQ(hellos[0].slots(), 2u);
  EXPECT_EQ(hellos[0].sdk_version(), "distributo-cpp/0.1");
  EXPECT_THAT(hellos[0].accepted_types(),
              ElementsAre("type.googleapis.com/google.protobuf.Value"));
  EXPECT_TRUE(hellos[0].resume_session_id().empty());
}

TEST(WorkerRuntimeTest, RunAfterResultsStreamBreaksResumesAndResubmits) {
  FakeMaster master(Tasks(4), MasterOptions(2, 1, false));
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok());
  EXPECT_TRUE(RunWithTimeout(**runtime).ok());
  EXPECT_EQ(master.outcomes().size(), 4u);
  const std::vector<v1::WorkerHello> hellos = master.hellos();
  ASSERT_GE(hellos.size(), 2u);
  EXPECT_EQ(hellos[1].resume_session_id(), "session-1");
}

TEST(WorkerRuntimeTest, RunWhenMasterForgotTheSessionStartsANewOne) {
  FakeMaster master(Tasks(4), MasterOptions(2, 1, true));
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok());
  EXPECT_TRUE(RunWithTimeout(**runtime).ok());
  EXPECT_EQ(master.outcomes().size(), 4u);
  const std::vector<v1::WorkerHello> hellos = master.hellos();
  ASSERT_GE(hellos.size(), 3u);
  EXPECT_EQ(hellos[1].resume_session_id(), "session-1");
  EXPECT_TRUE(hellos[2].resume_session_id().empty());
}

TEST(WorkerRuntimeTest, RunWithBatchProcessorFailsTasksLeftWithoutOutcome) {
  FakeMaster master(Tasks(3), MasterOptions(3, 0, false));
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<SkippingBatchProcessor>());
  ASSERT_TRUE(runtime.ok());
  EXPECT_TRUE(RunWithTimeout(**runtime).ok());
  const auto outcomes = master.outcomes();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes.at("t1").failure().code(), "no_result");
  EXPECT_EQ(outcomes.at("t1").failure().message(), "no result");
  EXPECT_EQ(ResultJson(outcomes.at("t2")), R"({"n":2})");
}

TEST(WorkerRuntimeTest, ShutdownWhileMasterUnreachableReturnsCancelled) {
  WorkerOptions options;
  options.master = "127.0.0.1:1";
  auto runtime = WorkerRuntime::Create(
      options, std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok());
  absl::Status status;
  absl::Notification done;
  std::thread thread([&] {
    status = (*runtime)->Run();
    done.Notify();
  });
  (*runtime)->Shutdown();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  thread.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
}

TEST(WorkerRuntimeTest, CreateWithoutMasterIsInvalid) {
  auto runtime = WorkerRuntime::Create(
      WorkerOptions(), std::make_unique<ExecTaskProcessor>("cat"));
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace distributo::worker
