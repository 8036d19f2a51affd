#include "server/task_queue.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

class TaskQueueTest : public testing::Test {
 protected:
  TaskQueueTest() : queue_(Options(), [this] { return now_; }) {}

  static QueueOptions Options() {
    QueueOptions options;
    options.lease_duration = absl::Seconds(30);
    options.requeue_grace = absl::Seconds(5);
    options.max_attempts = 3;
    options.max_worker_deaths = 2;
    options.retry_backoff = absl::Seconds(1);
    options.retry_jitter = 0;
    options.max_batch_tasks = 10;
    options.max_result_bytes = 64;
    return options;
  }

  static v1::Task MakeTask(const std::string& id, int payload_bytes = 1) {
    v1::Task task;
    task.set_id(id);
    google::protobuf::Value value;
    value.set_string_value(std::string(payload_bytes, 'x'));
    task.mutable_payload()->PackFrom(value);
    return task;
  }

  // Starts this run as start `generation` of a journal that held nothing.
  void StartGeneration(uint64_t generation) {
    JournalState state;
    state.generation = generation;
    std::vector<FinishedTask> unhandled;
    queue_.Restore(state, &unhandled);
    EXPECT_TRUE(unhandled.empty());
  }

  void EnqueueIds(int count) {
    std::vector<v1::Task> tasks;
    for (int i = 0; i < count; ++i) tasks.push_back(MakeTask(absl::StrCat(i)));
    ASSERT_TRUE(queue_.Enqueue(PackTasks(std::move(tasks))).ok());
  }

  std::string Open(const std::string& name = "w") {
    v1::WorkerHello hello;
    hello.set_worker_name(name);
    return queue_.OpenSession(hello);
  }

  std::vector<v1::Task> LeaseAll(const std::string& session, size_t max) {
    v1::LeasedTasks batch;
    queue_.Lease(session, max, &batch);
    return {batch.tasks().begin(), batch.tasks().end()};
  }

  static v1::Outcome Result(const v1::Task& task, const std::string& json) {
    v1::Outcome outcome;
    outcome.mutable_lease()->set_task_id(task.id());
    outcome.mutable_lease()->set_epoch(task.epoch());
    *outcome.mutable_result() = *JsonToAny(json);
    return outcome;
  }

  static v1::Outcome Failure(const v1::Task& task, bool retryable = true) {
    v1::Outcome outcome;
    outcome.mutable_lease()->set_task_id(task.id());
    outcome.mutable_lease()->set_epoch(task.epoch());
    outcome.mutable_failure()->set_code("boom");
    outcome.mutable_failure()->set_retryable(retryable);
    return outcome;
  }

  // Submits one outcome and returns its verdict.
  v1::Verdict Submit(const std::string& session, const v1::Outcome& outcome) {
    v1::ResultBatch batch;
    *batch.add_outcomes() = outcome;
    v1::ResultAck ack = queue_.Submit(session, batch, &finished_);
    return ack.outcomes(0).verdict();
  }

  v1::Verdict Extend(const std::string& session, const v1::Task& task) {
    v1::ResultBatch batch;
    batch.add_extensions()->set_task_id(task.id());
    batch.mutable_extensions(0)->set_epoch(task.epoch());
    return queue_.Submit(session, batch, &finished_).extensions(0).verdict();
  }

  void Advance(absl::Duration duration) {
    now_ += duration;
    queue_.Tick(&finished_);
  }

  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  TaskQueue queue_;
  std::vector<FinishedTask> finished_;
};

TEST(FinishedPerSecondTest, CountsOnlyWhatFinishedSinceItBegan) {
  QueueCounts counts;
  counts.done = 140;
  counts.dead = 10;
  EXPECT_DOUBLE_EQ(FinishedPerSecond(counts, 100, absl::Seconds(10)), 5);
  EXPECT_DOUBLE_EQ(FinishedPerSecond(counts, 150, absl::Seconds(10)), 0);
  EXPECT_DOUBLE_EQ(FinishedPerSecond(counts, 0, absl::ZeroDuration()), 0);
}

TEST_F(TaskQueueTest, StatusCountsWhatHappenedToEveryLease) {
  EnqueueIds(4);
  const std::string a = Open("alpha");
  const std::string b = Open("beta");
  now_ += absl::Seconds(2);
  std::vector<v1::Task> leased = LeaseAll(a, 3);
  ASSERT_EQ(leased.size(), 3u);
  now_ += absl::Milliseconds(300);
  EXPECT_EQ(Submit(a, Result(leased[0], "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(Submit(a, Failure(leased[1], /*retryable=*/false)),
            v1::VERDICT_ACCEPTED);
  EXPECT_EQ(Submit(a, Result(leased[0], "1")), v1::VERDICT_DUPLICATE);
  ASSERT_EQ(LeaseAll(b, 1).size(), 1u);
  Advance(absl::Seconds(31));  // both remaining leases expire, go back

  const QueueStatus status = queue_.Status();
  EXPECT_EQ(status.counts.leases, 4u);
  EXPECT_EQ(status.counts.duplicates, 1u);
  EXPECT_EQ(status.counts.lease_expiries, 2u);
  EXPECT_EQ(status.counts.requeues, 2u);
  EXPECT_EQ(status.counts.done, 1u);
  EXPECT_EQ(status.counts.dead, 1u);
  // Three leases waited 2 s, beta's 2.3 s; the two outcomes came 300 ms
  // after their lease.
  EXPECT_EQ(status.schedule_to_start.count(), 4u);
  EXPECT_NEAR(status.schedule_to_start.sum_seconds(), 8.3, 1e-6);
  EXPECT_EQ(status.task_duration.count(), 2u);
  EXPECT_NEAR(status.task_duration.sum_seconds(), 0.6, 1e-6);
  ASSERT_EQ(status.workers.size(), 2u);
  EXPECT_EQ(status.workers[0].name, "alpha");
  EXPECT_EQ(status.workers[0].done, 1u);
  EXPECT_EQ(status.workers[0].failed, 1u);
  EXPECT_EQ(status.workers[1].name, "beta");
  ASSERT_EQ(status.recent_failures.size(), 1u);
  EXPECT_EQ(status.recent_failures[0].worker, "alpha");
  EXPECT_EQ(status.recent_failures[0].code, "boom");
  ASSERT_EQ(status.recent_dead.size(), 1u);
  EXPECT_EQ(status.recent_dead[0].task_id, leased[1].id());
}

TEST_F(TaskQueueTest, CancelEndsATaskDeadAndNamesTheLeaseItHad) {
  EnqueueIds(2);
  const std::string session = Open("alpha");
  std::vector<v1::Task> leased = LeaseAll(session, 1);
  ASSERT_EQ(leased.size(), 1u);
  auto running = queue_.Cancel(leased[0].id(), "stop", &finished_);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->session_id, session);
  EXPECT_EQ(running->lease.epoch(), leased[0].epoch());
  auto queued = queue_.Cancel("1", "stop", &finished_);
  ASSERT_TRUE(queued.ok());
  EXPECT_TRUE(queued->session_id.empty());
  ASSERT_EQ(finished_.size(), 2u);
  EXPECT_TRUE(finished_[0].dead);
  EXPECT_EQ(FailureOf(finished_[0]).code(), "cancelled");
  EXPECT_EQ(queue_.Counts().dead, 2u);
  EXPECT_EQ(queue_.Counts().leased, 0u);
  EXPECT_EQ(queue_.Cancel("1", "again", &finished_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue_.Cancel("nope", "", &finished_).status().code(),
            absl::StatusCode::kNotFound);
  // The worker's late result is a duplicate, not a second outcome.
  EXPECT_EQ(Submit(session, Result(leased[0], "1")), v1::VERDICT_DUPLICATE);
}

TEST_F(TaskQueueTest, LeaseOnEmptyQueueReturnsNothing) {
  EXPECT_TRUE(LeaseAll(Open(), 5).empty());
}

TEST_F(TaskQueueTest, LeaseHandsOutOldestFirstWithEpochOneAndDeadline) {
  EnqueueIds(3);
  std::vector<v1::Task> tasks = LeaseAll(Open(), 2);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].id(), "0");
  EXPECT_EQ(tasks[1].id(), "1");
  EXPECT_EQ(tasks[0].epoch(), 1u);
  EXPECT_EQ(tasks[0].attempt(), 1u);
  EXPECT_EQ(tasks[0].lease_deadline().seconds(),
            absl::ToUnixSeconds(now_ + absl::Seconds(30)));
  EXPECT_EQ(queue_.Counts().leased, 2u);
  EXPECT_EQ(queue_.Counts().pending, 1u);
}

TEST_F(TaskQueueTest, LeaseNeverExceedsBatchSize) {
  EnqueueIds(25);
  EXPECT_EQ(LeaseAll(Open(), 1000).size(), 10u);
}

TEST_F(TaskQueueTest, LeaseNeverExceedsBatchBytesButSendsAtLeastOne) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 5; ++i)
    tasks.push_back(MakeTask(absl::StrCat(i), 400'000));
  ASSERT_TRUE(queue_.Enqueue(PackTasks(std::move(tasks))).ok());
  const std::string session = Open();
  EXPECT_EQ(LeaseAll(session, 10).size(), 2u);  // 2 x 400 kB <= 1 MiB
  EXPECT_EQ(LeaseAll(session, 10).size(), 2u);
  EXPECT_EQ(LeaseAll(session, 10).size(), 1u);
}

TEST_F(TaskQueueTest, LeaseSkipsPayloadTypesTheWorkerDoesNotAccept) {
  EnqueueIds(2);
  v1::WorkerHello hello;
  hello.add_accepted_types("type.googleapis.com/example.Other");
  const std::string picky = queue_.OpenSession(hello);
  EXPECT_TRUE(LeaseAll(picky, 10).empty());
  hello.add_accepted_types(std::string(kJsonValueTypeUrl));
  EXPECT_EQ(LeaseAll(queue_.OpenSession(hello), 10).size(), 2u);
}

TEST_F(TaskQueueTest, EnqueueAddsOnlyNewIdsAndRefusesAnEmptyOneAddingNothing) {
  EnqueueIds(1);
  EXPECT_EQ(
      queue_.Enqueue(PackTasks({MakeTask("y"), MakeTask("")})).status().code(),
      absl::StatusCode::kInvalidArgument);
  std::vector<std::string> added;
  const absl::StatusOr<size_t> count = queue_.Enqueue(
      PackTasks({MakeTask("a"), MakeTask("0"), MakeTask("b"), MakeTask("a")}),
      &added);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 2u) << "\"0\" is known and \"a\" repeated";
  EXPECT_EQ(added, std::vector<std::string>({"a", "b"}));
  EXPECT_EQ(queue_.Counts().total, 3u);
  EXPECT_EQ(queue_.Counts().pending, 3u);
  // Nothing of the refused batch stayed behind: "y" is new.
  EXPECT_EQ(queue_.Enqueue(PackTasks({MakeTask("y")})).value_or(0), 1u);
  EXPECT_EQ(LeaseAll(Open(), 10).size(), 4u);
}

TEST_F(TaskQueueTest, AKnownIdKeepsItsTaskAsItIs) {
  EnqueueIds(1);
  const std::string session = Open();
  ASSERT_EQ(LeaseAll(session, 1).size(), 1u);
  EXPECT_EQ(queue_.Enqueue(PackTasks({MakeTask("0", 100)})).value_or(1), 0u);
  EXPECT_EQ(queue_.Counts().leased, 1u);
  EXPECT_EQ(queue_.Counts().pending, 0u);
}

TEST_F(TaskQueueTest, ResultIsAcceptedOnceAndLaterCopiesAreDuplicates) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  EXPECT_EQ(Submit(session, Result(task, "42")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(Submit(session, Result(task, "43")), v1::VERDICT_DUPLICATE);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(AnyToJson(finished_[0].result), "42");
  EXPECT_EQ(finished_[0].attempts, 1u);
  EXPECT_EQ(queue_.Counts().done, 1u);
}

TEST_F(TaskQueueTest, CopiesOfAResultInOneBatchAreDuplicatesOfTheFirst) {
  EnqueueIds(2);
  const std::string session = Open();
  const std::vector<v1::Task> tasks = LeaseAll(session, 2);
  ASSERT_EQ(tasks.size(), 2u);
  v1::ResultBatch batch;
  *batch.add_outcomes() = Result(tasks[0], "1");
  *batch.add_outcomes() = Result(tasks[1], "2");
  *batch.add_outcomes() = Result(tasks[0], "3");
  const v1::ResultAck ack = queue_.Submit(session, batch, &finished_);
  ASSERT_EQ(ack.outcomes_size(), 3);
  EXPECT_EQ(ack.outcomes(0).verdict(), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(ack.outcomes(1).verdict(), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(ack.outcomes(2).verdict(), v1::VERDICT_DUPLICATE);
  ASSERT_EQ(finished_.size(), 2u);
  EXPECT_EQ(AnyToJson(finished_[0].result), "1");
  EXPECT_EQ(queue_.Counts().done, 2u);
  EXPECT_EQ(queue_.Counts().duplicates, 1u);
}

TEST_F(TaskQueueTest, BadOutcomesGetTheirVerdictAndChangeNothing) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  v1::Task unknown = task;
  unknown.set_id("nope");
  v1::Task empty = task;
  empty.set_id("");
  v1::Task future = task;
  future.set_epoch(task.epoch() + 1);
  v1::Outcome no_kind = Result(task, "1");
  no_kind.clear_result();
  EXPECT_EQ(Submit(session, Result(unknown, "1")), v1::VERDICT_NOT_YOURS);
  EXPECT_EQ(Submit(session, Result(empty, "1")), v1::VERDICT_INVALID);
  EXPECT_EQ(Submit(session, Result(future, "1")), v1::VERDICT_NOT_YOURS);
  EXPECT_EQ(Submit(session, no_kind), v1::VERDICT_INVALID);
  EXPECT_EQ(Submit(Open("other"), Result(task, "1")), v1::VERDICT_NOT_YOURS);
  EXPECT_TRUE(finished_.empty());
  EXPECT_EQ(queue_.Counts().leased, 1u);
}

TEST_F(TaskQueueTest, OversizedResultIsRefusedAndCountsAsFailure) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  const std::string big = absl::StrCat("\"", std::string(100, 'y'), "\"");
  EXPECT_EQ(Submit(session, Result(task, big)), v1::VERDICT_TOO_LARGE);
  EXPECT_EQ(queue_.Counts().failures, 1u);
  EXPECT_EQ(queue_.Counts().backoff, 1u);
}

TEST_F(TaskQueueTest, RenewLeasesAfterAPauseKeepsOverdueLeasesHeld) {
  EnqueueIds(1);
  const std::string session = Open("w");
  const v1::Task task = LeaseAll(session, 1)[0];
  now_ += absl::Seconds(31);  // Past the lease, without a Tick.
  queue_.RenewLeases();
  Advance(absl::Seconds(29));
  EXPECT_EQ(queue_.Counts().leased, 1u);
  EXPECT_EQ(Extend(session, task), v1::VERDICT_ACCEPTED);
}

TEST_F(TaskQueueTest, ExpiredLeaseIsRequeuedWithANewEpoch) {
  EnqueueIds(1);
  const std::string first = Open("first");
  v1::Task old = LeaseAll(first, 1)[0];
  Advance(absl::Seconds(31));
  EXPECT_EQ(queue_.Counts().pending, 1u);
  const std::string second = Open("second");
  v1::Task fresh = LeaseAll(second, 1)[0];
  EXPECT_EQ(fresh.epoch(), 2u);
  EXPECT_EQ(Extend(first, old), v1::VERDICT_STALE);
  EXPECT_EQ(Submit(first, Failure(old)), v1::VERDICT_STALE);
  EXPECT_EQ(Submit(second, Result(fresh, "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(Submit(first, Result(old, "2")), v1::VERDICT_DUPLICATE);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(AnyToJson(finished_[0].result), "1");
}

TEST_F(TaskQueueTest, ResultOfOldEpochIsAcceptedWhileTaskIsNotDone) {
  EnqueueIds(1);
  const std::string first = Open("first");
  v1::Task old = LeaseAll(first, 1)[0];
  Advance(absl::Seconds(31));
  const std::string second = Open("second");
  v1::Task fresh = LeaseAll(second, 1)[0];
  EXPECT_EQ(Submit(first, Result(old, "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(Submit(second, Result(fresh, "2")), v1::VERDICT_DUPLICATE);
  EXPECT_EQ(queue_.Counts().leased, 0u);
  EXPECT_EQ(finished_.size(), 1u);
}

TEST_F(TaskQueueTest, ExtensionKeepsTheLeaseAlive) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  for (int i = 0; i < 5; ++i) {
    Advance(absl::Seconds(20));
    EXPECT_EQ(Extend(session, task), v1::VERDICT_ACCEPTED);
  }
  EXPECT_EQ(queue_.Counts().leased, 1u);
  EXPECT_EQ(Extend(Open("other"), task), v1::VERDICT_NOT_YOURS);
}

TEST_F(TaskQueueTest, FailuresAreRetriedWithBackoffThenDead) {
  EnqueueIds(1);
  const std::string session = Open();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::vector<v1::Task> tasks = LeaseAll(session, 1);
    ASSERT_EQ(tasks.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(tasks[0].attempt(), static_cast<uint32_t>(attempt));
    EXPECT_EQ(Submit(session, Failure(tasks[0])), v1::VERDICT_ACCEPTED);
    if (attempt == 3) break;
    // Backoff doubles: 1 s, then 2 s.
    const absl::Duration backoff = absl::Seconds(1 << (attempt - 1));
    Advance(backoff - absl::Milliseconds(1));
    EXPECT_TRUE(LeaseAll(session, 1).empty());
    Advance(absl::Milliseconds(1));
  }
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_TRUE(finished_[0].dead);
  EXPECT_EQ(FailureOf(finished_[0]).code(), "boom");
  EXPECT_EQ(finished_[0].attempts, 3u);
}

TEST_F(TaskQueueTest, NonRetryableFailureGoesStraightToTheDeadSet) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  EXPECT_EQ(Submit(session, Failure(task, /*retryable=*/false)),
            v1::VERDICT_ACCEPTED);
  EXPECT_EQ(queue_.Counts().dead, 1u);
}

TEST_F(TaskQueueTest, RedriveRunsAHandledDeadTaskAgainAsNew) {
  EnqueueIds(2);
  const std::string session = Open();
  std::vector<v1::Task> tasks = LeaseAll(session, 2);
  ASSERT_EQ(Submit(session, Failure(tasks[0], /*retryable=*/false)),
            v1::VERDICT_ACCEPTED);
  using Verdict = TaskQueue::RedriveVerdict;
  const std::vector<std::pair<std::string, Verdict>> not_yet = {
      {"0", Verdict::kNotYetHandled}};
  absl::StatusOr<TaskQueue::RedrivePlan> plan = queue_.PlanRedrive({}, 10);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->verdicts, not_yet) << "its dead outcome is on its way";
  EXPECT_TRUE(plan->task_ids.empty());
  queue_.MarkHandled({{"0"}});

  plan = queue_.PlanRedrive({"0", "1", "nope", "0"}, 10);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<std::pair<std::string, Verdict>> verdicts = {
      {"0", Verdict::kRedriven},
      {"1", Verdict::kNotDead},
      {"nope", Verdict::kUnknown},
      {"0", Verdict::kRedriven}};
  EXPECT_EQ(plan->verdicts, verdicts);
  EXPECT_EQ(plan->task_ids, std::vector<std::string>{"0"});
  queue_.Redrive(plan->task_ids, std::vector<JournaledTask>());
  EXPECT_EQ(queue_.Counts().dead, 0u);
  EXPECT_EQ(queue_.Counts().pending, 1u);
  EXPECT_TRUE(queue_.ListDead(0, 10).empty());

  finished_.clear();
  const std::vector<v1::Task> again = LeaseAll(session, 2);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id(), "0");
  EXPECT_EQ(again[0].attempt(), 1u) << "as new";
  EXPECT_GT(again[0].epoch(), tasks[0].epoch());
  EXPECT_EQ(again[0].payload().SerializeAsString(),
            tasks[0].payload().SerializeAsString());
  EXPECT_EQ(Submit(session, Failure(tasks[0])), v1::VERDICT_STALE)
      << "the dead lease's outcome does not count";
  EXPECT_EQ(Submit(session, Result(tasks[0], "0")), v1::VERDICT_STALE)
      << "nor a late result of the run that failed";
  EXPECT_EQ(Submit(session, Result(again[0], "1")), v1::VERDICT_ACCEPTED);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_FALSE(finished_[0].dead);
  EXPECT_EQ(queue_.Counts().done, 1u);
}

TEST_F(TaskQueueTest, DisconnectedSessionKeepsLeasesDuringGraceAndResumes) {
  EnqueueIds(2);
  const std::string session = Open();
  ASSERT_EQ(LeaseAll(session, 2).size(), 2u);
  queue_.DisconnectSession(session);
  Advance(absl::Seconds(4));
  EXPECT_TRUE(queue_.ResumeSession(session).ok());
  Advance(absl::Seconds(10));
  EXPECT_EQ(queue_.Counts().leased, 2u);
}

TEST_F(TaskQueueTest, ASessionIsItsIdentitysOnly) {
  const std::string session =
      queue_.OpenSession(v1::WorkerHello(), "", "alice");
  EXPECT_TRUE(queue_.CheckSession(session, "alice").ok());
  EXPECT_EQ(queue_.CheckSession(session, "bob").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(queue_.CheckSession(session).code(),
            absl::StatusCode::kPermissionDenied);
  queue_.DisconnectSession(session);
  EXPECT_EQ(queue_.ResumeSession(session, "bob").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(queue_.ResumeSession(session, "alice").ok());
}

TEST_F(TaskQueueTest, DisconnectedSessionLosesLeasesAfterGrace) {
  EnqueueIds(2);
  const std::string session = Open();
  ASSERT_EQ(LeaseAll(session, 2).size(), 2u);
  queue_.DisconnectSession(session);
  Advance(absl::Seconds(5));
  EXPECT_EQ(queue_.Counts().pending, 2u);
  EXPECT_EQ(queue_.ResumeSession(session).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(queue_.CheckSession(session).code(), absl::StatusCode::kNotFound);
}

TEST_F(TaskQueueTest, ATaskThatLostAWorkerRunsAlone) {
  EnqueueIds(3);
  const std::string first = Open();
  ASSERT_EQ(LeaseAll(first, 10).size(), 3u);
  queue_.DisconnectSession(first);
  Advance(absl::Seconds(6));  // past the grace: each lost a worker
  const std::string second = Open();
  std::vector<v1::Task> alone = LeaseAll(second, 10);
  ASSERT_EQ(alone.size(), 1u) << "a suspect goes alone";
  EXPECT_TRUE(LeaseAll(second, 10).empty()) << "and nothing joins it";
  EXPECT_TRUE(LeaseAll(Open(), 10).size() == 1u) << "another takes the next";
  ASSERT_EQ(Submit(second, Result(alone[0], "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(LeaseAll(second, 10).size(), 1u);
}

TEST_F(TaskQueueTest, ABusySessionDrainsToRunASuspectAlone) {
  EnqueueIds(4);
  const std::string busy = Open();
  std::vector<v1::Task> held = LeaseAll(busy, 1);
  ASSERT_EQ(held.size(), 1u);
  const std::string lost = Open();
  ASSERT_EQ(LeaseAll(lost, 1).size(), 1u);
  queue_.DisconnectSession(lost);
  Advance(absl::Seconds(6));  // its task is a suspect now
  EXPECT_TRUE(LeaseAll(busy, 10).empty()) << "it drains for the suspect";
  EXPECT_EQ(LeaseAll(Open("other"), 10).size(), 1u)
      << "a fresh session runs the suspect: it holds nothing";
  ASSERT_EQ(Submit(busy, Result(held[0], "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(LeaseAll(busy, 10).size(), 2u)
      << "no suspect left: it leases the rest";
}

TEST_F(TaskQueueTest, OnlyTheTaskThatKillsWorkersWhenAloneIsPoison) {
  EnqueueIds(3);  // one kills every worker that runs it; max 2 deaths here
  const std::string first = Open();
  ASSERT_EQ(LeaseAll(first, 10).size(), 3u);
  queue_.DisconnectSession(first);
  Advance(absl::Seconds(6));
  const std::string second = Open();
  std::vector<v1::Task> alone = LeaseAll(second, 10);
  ASSERT_EQ(alone.size(), 1u);
  const std::string poison = alone[0].id();
  queue_.DisconnectSession(second);
  Advance(absl::Seconds(6));
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(finished_[0].task.id(), poison);
  EXPECT_EQ(FailureOf(finished_[0]).code(), "worker_lost");
  EXPECT_EQ(queue_.Counts().pending, 2u) << "its batch-mates are not dead";
}

TEST_F(TaskQueueTest, TaskThatLosesItsWorkerTooOftenIsDeadAsPoison) {
  EnqueueIds(1);
  for (int death = 1; death <= 2; ++death) {
    const std::string session = Open();
    ASSERT_EQ(LeaseAll(session, 1).size(), 1u);
    queue_.DisconnectSession(session);
    Advance(absl::Seconds(6));
  }
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_TRUE(finished_[0].dead);
  EXPECT_EQ(FailureOf(finished_[0]).code(), "worker_lost");
  EXPECT_EQ(queue_.Counts().failures, 0u);
}

TEST_F(TaskQueueTest, JobCompletesOnlyWhenSourceClosedAndAllHandled) {
  EnqueueIds(1);
  const std::string session = Open();
  v1::Task task = LeaseAll(session, 1)[0];
  ASSERT_EQ(Submit(session, Result(task, "1")), v1::VERDICT_ACCEPTED);
  EXPECT_FALSE(queue_.IsComplete());
  queue_.CloseSource();
  EXPECT_FALSE(queue_.IsComplete());
  queue_.MarkHandled({{task.id()}});
  EXPECT_TRUE(queue_.IsComplete());
  EXPECT_TRUE(queue_.WaitForCompletion(absl::ZeroDuration()));
}

TEST_F(TaskQueueTest, ChangeListenerHearsEnqueueAndRequeue) {
  int changes = 0;
  queue_.SetChangeListener([&](absl::string_view) { ++changes; });
  EnqueueIds(1);
  EXPECT_EQ(changes, 1);
  ASSERT_EQ(LeaseAll(Open(), 1).size(), 1u);
  Advance(absl::Seconds(31));
  EXPECT_EQ(changes, 2);
}

TEST_F(TaskQueueTest, OutcomesWakeOnlyTheirSessionAndHandledMarksOnlyTheEnd) {
  std::vector<std::string> woken;
  queue_.SetChangeListener(
      [&](absl::string_view session) { woken.emplace_back(session); });
  EnqueueIds(2);
  queue_.CloseSource();
  const std::string session = Open();
  std::vector<v1::Task> tasks = LeaseAll(session, 2);
  ASSERT_EQ(tasks.size(), 2u);
  woken.clear();
  ASSERT_EQ(Submit(session, Result(tasks[0], "1")), v1::VERDICT_ACCEPTED);
  ASSERT_EQ(Submit(session, Result(tasks[1], "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(woken, std::vector<std::string>({session, session}));
  woken.clear();
  queue_.MarkHandled({{tasks[0].id()}});
  EXPECT_TRUE(woken.empty()) << "one handled mark completes nothing";
  queue_.MarkHandled({{tasks[1].id()}});
  EXPECT_EQ(woken, std::vector<std::string>({""})) << "the job's end wakes all";
}

TEST_F(TaskQueueTest, LeasesNothingWhileResultsWaitForTheSinkAndWakesAllAfter) {
  QueueOptions options = Options();
  options.max_unhandled = 2;
  TaskQueue queue(options, [this] { return now_; });
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(MakeTask(absl::StrCat(i)));
  ASSERT_TRUE(queue.Enqueue(PackTasks(std::move(tasks))).ok());
  const std::string session = queue.OpenSession(v1::WorkerHello());
  v1::LeasedTasks leased;
  ASSERT_EQ(queue.Lease(session, 2, &leased), 2u);
  v1::ResultBatch batch;
  for (const v1::Task& task : leased.tasks()) {
    *batch.add_outcomes() = Result(task, "1");
  }
  std::vector<FinishedTask> finished;
  queue.Submit(session, batch, &finished);
  ASSERT_EQ(finished.size(), 2u);
  std::vector<std::string> woken;
  queue.SetChangeListener(
      [&](absl::string_view woke) { woken.emplace_back(woke); });
  v1::LeasedTasks more;
  EXPECT_EQ(queue.Lease(session, 2, &more), 0u)
      << "two results wait for the sink: no more leases";
  queue.MarkHandled({{leased.tasks(0).id()}});
  EXPECT_EQ(woken, std::vector<std::string>({""}))
      << "every stream may lease again";
  EXPECT_EQ(queue.Lease(session, 2, &more), 2u);
}

TEST_F(TaskQueueTest, AResultUnderAnOldLeaseWakesTheStreamThatLostIt) {
  EnqueueIds(1);
  const std::string first = Open("first");
  const v1::Task old_lease = LeaseAll(first, 1)[0];
  Advance(absl::Seconds(31));  // expired: leased again, to another session
  const std::string second = Open("second");
  ASSERT_EQ(LeaseAll(second, 1).size(), 1u);
  std::vector<std::string> woken;
  queue_.SetChangeListener(
      [&](absl::string_view session) { woken.emplace_back(session); });
  ASSERT_EQ(Submit(first, Result(old_lease, "1")), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(woken, std::vector<std::string>({""}))
      << "the second session's lease ended: it may lease again";
}

TEST_F(TaskQueueTest, EnqueueAfterRestoreLeasesAboveTheGenerationBase) {
  StartGeneration(2);
  EnqueueIds(1);
  std::vector<v1::Task> tasks = LeaseAll(Open(), 1);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].epoch(), (uint64_t{2} << 32) + 1);
  EXPECT_EQ(tasks[0].attempt(), 1u);
}

TEST_F(TaskQueueTest, ResultUnderAnEarlierRunsEpochForANewTaskIsNotYours) {
  StartGeneration(1);
  ASSERT_TRUE(queue_.Enqueue(PackTasks({MakeTask("n")})).ok());
  const std::string session = Open();
  v1::Task n = MakeTask("n");
  n.set_epoch(1);  // below this run's base: "n" did not exist then
  EXPECT_EQ(Submit(session, Result(n, "1")), v1::VERDICT_NOT_YOURS);
  EXPECT_TRUE(finished_.empty());
  EXPECT_EQ(LeaseAll(session, 10).size(), 1u);
}

// One case per row of the verdict table in docs/protocol.md.
struct VerdictCase {
  std::string name;
  bool from_second_worker;  // else from the first, which lost its leases
  bool extension;           // else an outcome
  std::string task_id;
  uint64_t epoch;
  // "" for a failure, "none" for neither, "oversized" for a large result.
  std::string result_json;
  v1::Verdict expected;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const VerdictCase& c, std::ostream* os) { *os << c.name; }

class TaskQueueVerdictTest : public TaskQueueTest,
                             public testing::WithParamInterface<VerdictCase> {
 protected:
  // Task "2" is done; "0" and "1" were leased to the first worker under
  // epoch 1, failed there (to be retried), and are now leased to the second
  // under epoch 2. (Expired leases would make them suspects, leased one at a
  // time: see TaskQueueTest.ATaskThatLostAWorkerRunsAlone.)
  void SetUp() override {
    EnqueueIds(3);
    first_ = Open("first");
    std::vector<v1::Task> tasks = LeaseAll(first_, 3);
    ASSERT_EQ(Submit(first_, Result(tasks[2], "2")), v1::VERDICT_ACCEPTED);
    ASSERT_EQ(Submit(first_, Failure(tasks[0])), v1::VERDICT_ACCEPTED);
    ASSERT_EQ(Submit(first_, Failure(tasks[1])), v1::VERDICT_ACCEPTED);
    Advance(absl::Seconds(2));
    second_ = Open("second");
    ASSERT_EQ(LeaseAll(second_, 2).size(), 2u);
    finished_.clear();
  }

  v1::ResultBatch Batch(const VerdictCase& c) {
    v1::ResultBatch batch;
    v1::LeaseRef* lease = c.extension ? batch.add_extensions()
                                      : batch.add_outcomes()->mutable_lease();
    lease->set_task_id(c.task_id);
    lease->set_epoch(c.epoch);
    if (c.extension || c.result_json == "none") return batch;
    v1::Outcome* outcome = batch.mutable_outcomes(0);
    if (c.result_json.empty()) {
      outcome->mutable_failure()->set_code("boom");
      outcome->mutable_failure()->set_retryable(true);
    } else if (c.result_json == "oversized") {
      *outcome->mutable_result() =
          *JsonToAny(absl::StrCat("\"", std::string(100, 'x'), "\""));
    } else {
      *outcome->mutable_result() = *JsonToAny(c.result_json);
    }
    return batch;
  }

  std::string first_;
  std::string second_;
};

TEST_P(TaskQueueVerdictTest, SubmitGivesTheVerdictOfTheTable) {
  const VerdictCase& c = GetParam();
  const QueueCounts before = queue_.Counts();
  const v1::ResultAck ack = queue_.Submit(
      c.from_second_worker ? second_ : first_, Batch(c), &finished_);
  const v1::ItemVerdict& verdict =
      c.extension ? ack.extensions(0) : ack.outcomes(0);
  EXPECT_EQ(verdict.verdict(), c.expected) << verdict.message();
  EXPECT_EQ(verdict.task_id(), c.task_id);
  const QueueCounts after = queue_.Counts();
  if (c.expected == v1::VERDICT_ACCEPTED && !c.extension) {
    EXPECT_EQ(after.done, before.done + 1);
  } else if (c.expected == v1::VERDICT_TOO_LARGE) {
    EXPECT_EQ(after.failures, before.failures + 1);
  } else {
    EXPECT_EQ(after.done, before.done);
    EXPECT_EQ(after.leased, before.leased);
    EXPECT_EQ(after.failures, before.failures);
    EXPECT_TRUE(finished_.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    ProtocolTable, TaskQueueVerdictTest,
    testing::Values(VerdictCase{"EmptyTaskId", false, false, "", 1, "1",
                                v1::VERDICT_INVALID},
                    VerdictCase{"ZeroEpoch", false, false, "0", 0, "1",
                                v1::VERDICT_INVALID},
                    VerdictCase{"NeitherResultNorFailure", true, false, "0", 2,
                                "none", v1::VERDICT_INVALID},
                    VerdictCase{"UnknownTask", false, false, "nope", 1, "1",
                                v1::VERDICT_NOT_YOURS},
                    VerdictCase{"EpochNeverLeased", true, false, "0", 3, "1",
                                v1::VERDICT_NOT_YOURS},
                    VerdictCase{"LeasedToAnotherWorker", false, false, "0", 2,
                                "1", v1::VERDICT_NOT_YOURS},
                    VerdictCase{"ResultForFinishedTask", false, false, "2", 1,
                                "1", v1::VERDICT_DUPLICATE},
                    VerdictCase{"ResultUnderOldEpoch", false, false, "1", 1,
                                "1", v1::VERDICT_ACCEPTED},
                    VerdictCase{"FailureUnderLostLease", false, false, "0", 1,
                                "", v1::VERDICT_STALE},
                    VerdictCase{"OversizedResult", true, false, "0", 2,
                                "oversized", v1::VERDICT_TOO_LARGE},
                    VerdictCase{"ExtensionOfLostLease", false, true, "0", 1, "",
                                v1::VERDICT_STALE},
                    VerdictCase{"ExtensionOfAnotherWorkersLease", false, true,
                                "0", 2, "", v1::VERDICT_NOT_YOURS},
                    VerdictCase{"ExtensionOfUnknownTask", false, true, "nope",
                                1, "", v1::VERDICT_NOT_YOURS}),
    [](const testing::TestParamInfo<VerdictCase>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace distributo::server

namespace distributo::server {
namespace {

TEST(TaskQueueCheckTest, ResultRefusedByTheCheckIsInvalidAndChangesNothing) {
  QueueOptions options;
  options.check_result = [](const google::protobuf::Any& result) {
    return result.type_url() == kJsonValueTypeUrl
               ? absl::OkStatus()
               : absl::InvalidArgumentError("not the job's result type");
  };
  TaskQueue queue(options, [] { return absl::FromUnixSeconds(1); });
  v1::Task task;
  task.set_id("a");
  ASSERT_TRUE(queue.Enqueue(PackTasks({task})).ok());
  const std::string session = queue.OpenSession(v1::WorkerHello());
  v1::LeasedTasks leased;
  ASSERT_EQ(queue.Lease(session, 1, &leased), 1u);
  v1::ResultBatch batch;
  v1::Outcome* outcome = batch.add_outcomes();
  outcome->mutable_lease()->set_task_id("a");
  outcome->mutable_lease()->set_epoch(leased.tasks(0).epoch());
  outcome->mutable_result()->set_type_url("type.googleapis.com/other.Type");
  std::vector<FinishedTask> finished;
  v1::ResultAck ack = queue.Submit(session, batch, &finished);
  EXPECT_EQ(ack.outcomes(0).verdict(), v1::VERDICT_INVALID);
  EXPECT_EQ(ack.outcomes(0).message(), "not the job's result type");
  EXPECT_TRUE(finished.empty());
  *outcome->mutable_result() = *JsonToAny("1");
  EXPECT_EQ(queue.Submit(session, batch, &finished).outcomes(0).verdict(),
            v1::VERDICT_ACCEPTED);
}

}  // namespace
}  // namespace distributo::server
