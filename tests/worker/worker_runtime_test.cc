#include "worker/worker_runtime.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/fake_master.h"
#include "tests/worker/test_tasks.h"
#include "worker/exec_task_processor.h"

namespace distributo::worker {
namespace {

using ::testing::ElementsAre;

WorkerOptions Options(const FakeMaster& master) {
  WorkerOptions options;
  options.master = master.address();
  options.worker_name = "test-worker";
  options.concurrency = 2;
  options.reconnect_initial = absl::Milliseconds(10);
  options.reconnect_max = absl::Milliseconds(50);
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

// How a worker run ended.
struct RunResult {
  absl::Status status;
  WorkerStats stats;
};

// Runs a worker with `processor` against `master` until Run() returns.
template <typename Processor>
RunResult RunWorker(const FakeMaster& master,
                    std::unique_ptr<Processor> processor) {
  auto runtime = WorkerRuntime::Create(Options(master), std::move(processor));
  if (!runtime.ok()) return {runtime.status(), {}};
  absl::Status status = RunWithTimeout(**runtime);
  return {std::move(status), (*runtime)->stats()};
}

// Runs a worker whose command echoes each payload as the result.
RunResult RunCatWorker(const FakeMaster& master) {
  return RunWorker(master, std::make_unique<ExecTaskProcessor>("cat"));
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
  FakeMaster master(JsonTasks(5), {});
  const RunResult run = RunCatWorker(master);
  EXPECT_TRUE(run.status.ok()) << run.status;
  const auto outcomes = master.outcomes();
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(ResultJson(outcomes.at("t3")), R"({"n":3})");
  EXPECT_EQ(outcomes.at("t3").lease().epoch(), 1u);
  EXPECT_EQ(run.stats.succeeded, 5u);
  EXPECT_EQ(run.stats.accepted, 5u);
}

TEST(WorkerRuntimeTest, RunIntroducesTheWorkerInTheHello) {
  FakeMaster master(JsonTasks(1), {});
  ASSERT_TRUE(RunCatWorker(master).status.ok());
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
  FakeMaster::Options master_options;
  master_options.break_results_streams = 1;
  FakeMaster master(JsonTasks(4), master_options);
  EXPECT_TRUE(RunCatWorker(master).status.ok());
  EXPECT_EQ(master.outcomes().size(), 4u);
  const std::vector<v1::WorkerHello> hellos = master.hellos();
  ASSERT_GE(hellos.size(), 2u);
  EXPECT_EQ(hellos[1].resume_session_id(), "session-1");
}

TEST(WorkerRuntimeTest, RunWhenMasterForgotTheSessionStartsANewOne) {
  FakeMaster::Options master_options;
  master_options.break_results_streams = 1;
  master_options.forget_sessions = true;
  FakeMaster master(JsonTasks(4), master_options);
  EXPECT_TRUE(RunCatWorker(master).status.ok());
  EXPECT_EQ(master.outcomes().size(), 4u);
  const std::vector<v1::WorkerHello> hellos = master.hellos();
  ASSERT_GE(hellos.size(), 3u);
  EXPECT_EQ(hellos[1].resume_session_id(), "session-1");
  EXPECT_TRUE(hellos[2].resume_session_id().empty());
}

TEST(WorkerRuntimeTest, RunWhileTheMasterAcksSlowlyHoldsAtMostTwoWindows) {
  FakeMaster::Options master_options;
  master_options.ack_delay = absl::Milliseconds(5);
  FakeMaster master(JsonTasks(100), master_options);
  WorkerOptions options = Options(master);
  options.prefetch = 4;
  auto runtime = WorkerRuntime::Create(
      options, std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  ASSERT_TRUE(RunWithTimeout(**runtime).ok());
  EXPECT_EQ(master.outcomes().size(), 100u);
  // Held tasks and credit fill one window; outcomes waiting for their ack
  // may fill one more, and no further: leases slow down with the acks.
  EXPECT_LE(master.max_unacked_leases(), 2 * 4);
}

TEST(WorkerRuntimeTest, RunWithBatchProcessorFailsTasksLeftWithoutOutcome) {
  FakeMaster::Options master_options;
  master_options.max_batch_tasks = 3;
  FakeMaster master(JsonTasks(3), master_options);
  EXPECT_TRUE(RunWorker(master, std::make_unique<SkippingBatchProcessor>())
                  .status.ok());
  const auto outcomes = master.outcomes();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_THAT(outcomes.at("t1"), IsFailure("no_result"));
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

TEST(WorkerRuntimeTest, ShutdownWhileOpeningTheSessionReturnsCancelled) {
  // Shutdown() comes while the worker waits for its SessionStart, when it
  // has no session to cancel yet.
  WorkerRuntime* worker = nullptr;
  FakeMaster::Options master_options;
  master_options.before_session_start = [&worker] { worker->Shutdown(); };
  FakeMaster master(JsonTasks(4), master_options);
  auto runtime = WorkerRuntime::Create(
      Options(master), std::make_unique<ExecTaskProcessor>("cat"));
  ASSERT_TRUE(runtime.ok());
  worker = runtime->get();
  EXPECT_EQ(RunWithTimeout(**runtime).code(), absl::StatusCode::kCancelled);
}

TEST(WorkerRuntimeTest, CreateWithoutMasterIsInvalid) {
  auto runtime = WorkerRuntime::Create(
      WorkerOptions(), std::make_unique<ExecTaskProcessor>("cat"));
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WorkerRuntimeTest, CreateWithoutProcessorIsInvalid) {
  FakeMaster master({}, {});
  auto runtime =
      WorkerRuntime::Create(Options(master), std::unique_ptr<TaskProcessor>());
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace distributo::worker
