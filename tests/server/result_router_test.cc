#include "server/result_router.h"

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"
#include "server/commit_queue.h"
#include "server/result_sink.h"
#include "server/task_queue.h"
#include "tests/server/fake_journal.h"

namespace distributo::server {
namespace {

// Collects the ids it is given; its position is how many it holds. Fails
// every Write while told to. Not thread-safe.
class CollectingSink final : public ResultSink {
 public:
  absl::Status Write(const std::vector<FinishedTask>& finished) override {
    if (fail_writes_) return absl::UnavailableError("cannot write");
    for (const FinishedTask& task : finished) {
      written_.emplace_back(task.task.id());
    }
    return absl::OkStatus();
  }
  uint64_t Position() const override { return written_.size(); }

  void set_fail_writes(bool fail) { fail_writes_ = fail; }
  const std::vector<std::string>& written() const { return written_; }

 private:
  bool fail_writes_ = false;
  std::vector<std::string> written_;
};

class ResultRouterTest : public testing::Test {
 protected:
  using Ids = std::vector<std::string>;

  ResultRouterTest()
      : queue_(QueueOptions(), [] { return absl::FromUnixSeconds(1000); }),
        router_(&queue_, &journal_, &sink_) {}

  // Enqueues tasks with these ids and finishes them through a worker.
  // Returns them as the queue hands them over.
  std::vector<FinishedTask> Finish(const Ids& ids) {
    std::vector<v1::Task> tasks;
    for (const std::string& id : ids) {
      tasks.emplace_back().set_id(id);
    }
    EXPECT_TRUE(queue_.Enqueue(PackTasks(std::move(tasks))).ok());
    const std::string session = queue_.OpenSession(v1::WorkerHello());
    v1::LeasedTasks leased;
    EXPECT_EQ(queue_.Lease(session, ids.size(), &leased), ids.size());
    v1::ResultBatch batch;
    for (const v1::Task& task : leased.tasks()) {
      v1::Outcome* outcome = batch.add_outcomes();
      outcome->mutable_lease()->set_task_id(task.id());
      outcome->mutable_lease()->set_epoch(task.epoch());
      *outcome->mutable_result() = *JsonToAny("1");
    }
    std::vector<FinishedTask> finished;
    queue_.Submit(session, batch, &finished);
    EXPECT_EQ(finished.size(), ids.size());
    return finished;
  }

  static Ids IdsOf(const std::vector<FinishedTask>& tasks) {
    Ids ids;
    for (const FinishedTask& task : tasks) ids.emplace_back(task.task.id());
    return ids;
  }

  TaskQueue queue_;
  FakeJournal journal_;
  CollectingSink sink_;
  ResultRouter router_;
};

TEST_F(ResultRouterTest, CommitAndDeliverWhenAllWorksMarksEachTaskOnce) {
  std::vector<FinishedTask> finished = Finish({"a", "b"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &finished).ok());
  EXPECT_EQ(IdsOf(finished), (Ids{"a", "b"}));
  router_.Deliver(std::move(finished));
  EXPECT_EQ(journal_.committed(), (Ids{"a", "b"}));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b"}));
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b"}));
  EXPECT_EQ(journal_.positions(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
  EXPECT_TRUE(router_.healthy());
  router_.RetryBacklog();  // Nothing waits: nothing to do.
  EXPECT_TRUE(router_.healthy());
}

TEST_F(ResultRouterTest, CommitWhenJournalFailsReturnsItsErrorAndKeepsTasks) {
  std::vector<FinishedTask> finished = Finish({"a", "b"});
  journal_.set_fail_commits(true);
  EXPECT_EQ(router_.ApplyAndCommit(nullptr, &finished).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(finished.empty());
  EXPECT_FALSE(router_.healthy());
  router_.RetryBacklog();
  EXPECT_FALSE(router_.healthy());
  EXPECT_TRUE(journal_.committed().empty());
  EXPECT_TRUE(sink_.written().empty());
  EXPECT_EQ(queue_.Counts().unhandled, 2u);
  EXPECT_EQ(router_.outages(), 1u) << "one outage, however many retries";
}

TEST_F(ResultRouterTest, ApplyFinishingNothingWhileBacklogFailsIsRefused) {
  std::vector<FinishedTask> finished = Finish({"a"});
  journal_.set_fail_commits(true);
  ASSERT_FALSE(router_.ApplyAndCommit(nullptr, &finished).ok());
  // A batch whose verdicts finish nothing (say a duplicate of "a") must not
  // be acked while "a" is not on disk.
  bool applied = false;
  std::vector<FinishedTask> none;
  EXPECT_FALSE(
      router_.ApplyAndCommit([&](auto*) { applied = true; }, &none).ok());
  EXPECT_TRUE(applied);
  journal_.set_fail_commits(false);
  EXPECT_TRUE(router_.ApplyAndCommit([](auto*) {}, &none).ok());
  EXPECT_EQ(IdsOf(none), (Ids{"a"})) << "the backlog comes back to deliver";
}

TEST_F(ResultRouterTest, CallsDuringACommitShareTheNextRound) {
  const std::vector<FinishedTask> b = Finish({"b"});
  const std::vector<FinishedTask> c = Finish({"c"});
  std::vector<FinishedTask> a = Finish({"a"});
  absl::Notification release;
  journal_.HoldNextCommitUntil(&release);
  std::thread leader(
      [&] { EXPECT_TRUE(router_.ApplyAndCommit(nullptr, &a).ok()); });
  journal_.holding().WaitForNotification();
  // Both apply while "a" is being committed, then wait for the next round.
  absl::BlockingCounter applied(2);
  std::vector<FinishedTask> out_b, out_c;
  auto follow = [&](const std::vector<FinishedTask>& mine,
                    std::vector<FinishedTask>* out) {
    EXPECT_TRUE(router_
                    .ApplyAndCommit(
                        [&](std::vector<FinishedTask>* finished) {
                          *finished = mine;
                          applied.DecrementCount();
                        },
                        out)
                    .ok());
  };
  std::thread first([&] { follow(b, &out_b); });
  std::thread second([&] { follow(c, &out_c); });
  applied.Wait();
  release.Notify();
  for (std::thread* thread : {&leader, &first, &second}) thread->join();
  const auto rounds = journal_.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0], (Ids{"a"}));
  EXPECT_EQ(rounds[1].size(), 2u) << "b and c share one commit";
  EXPECT_EQ(IdsOf(a), (Ids{"a"}));
  EXPECT_EQ(out_b.size() + out_c.size(), 2u) << "one of them delivers both";
}

TEST_F(ResultRouterTest, RetryBacklogAfterJournalRecoversDeliversOnceInOrder) {
  std::vector<FinishedTask> finished = Finish({"a", "b", "c"});
  journal_.set_fail_commits(true);
  ASSERT_FALSE(router_.ApplyAndCommit(nullptr, &finished).ok());
  journal_.set_fail_commits(false);
  router_.RetryBacklog();
  EXPECT_TRUE(router_.healthy());
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(journal_.committed(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
  router_.RetryBacklog();  // Nothing waits: nothing to do.
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(sink_.written().size(), 3u);
}

TEST_F(ResultRouterTest, CommitAfterAFailureTakesTheEarlierBatchFirst) {
  std::vector<FinishedTask> first = Finish({"a", "b"});
  journal_.set_fail_commits(true);
  ASSERT_FALSE(router_.ApplyAndCommit(nullptr, &first).ok());
  journal_.set_fail_commits(false);
  std::vector<FinishedTask> second = Finish({"c"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &second).ok());
  EXPECT_EQ(IdsOf(second), (Ids{"a", "b", "c"}));
  EXPECT_EQ(journal_.committed(), (Ids{"a", "b", "c"}));
  EXPECT_TRUE(router_.healthy());
  router_.Deliver(std::move(second));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
}

TEST_F(ResultRouterTest, MarkHandledFailureKeepsTasksUnhandledUntilRetry) {
  std::vector<FinishedTask> finished = Finish({"a", "b"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &finished).ok());
  journal_.set_fail_marks(true);
  router_.Deliver(std::move(finished));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b"}));
  EXPECT_FALSE(router_.healthy());
  EXPECT_EQ(queue_.Counts().unhandled, 2u);
  router_.RetryBacklog();
  EXPECT_FALSE(router_.healthy());
  EXPECT_EQ(queue_.Counts().unhandled, 2u);
  journal_.set_fail_marks(false);
  router_.RetryBacklog();
  EXPECT_TRUE(router_.healthy());
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b"}));
  EXPECT_EQ(journal_.positions(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b"}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
}

TEST_F(ResultRouterTest, DeliverWhileMarksFailMarksEveryTaskOnRecovery) {
  std::vector<FinishedTask> first = Finish({"a"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &first).ok());
  journal_.set_fail_marks(true);
  router_.Deliver(std::move(first));
  std::vector<FinishedTask> second = Finish({"b"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &second).ok());
  router_.Deliver(std::move(second));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b"}));
  EXPECT_EQ(queue_.Counts().unhandled, 2u);
  journal_.set_fail_marks(false);
  router_.RetryBacklog();
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b"}));
  EXPECT_EQ(journal_.positions(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
}

TEST_F(ResultRouterTest, SinkWriteFailureKeepsTasksForTheRetry) {
  std::vector<FinishedTask> finished = Finish({"a", "b"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &finished).ok());
  sink_.set_fail_writes(true);
  router_.Deliver(std::move(finished));
  EXPECT_TRUE(sink_.written().empty());
  EXPECT_TRUE(journal_.marked().empty());
  EXPECT_FALSE(router_.healthy());
  router_.RetryBacklog();
  EXPECT_FALSE(router_.healthy());
  EXPECT_EQ(queue_.Counts().unhandled, 2u);
  sink_.set_fail_writes(false);
  router_.RetryBacklog();
  EXPECT_TRUE(router_.healthy());
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(sink_.written(), (Ids{"a", "b"}));
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b"}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
}

TEST_F(ResultRouterTest, DeliverAfterAWriteFailureWritesTheEarlierTasksFirst) {
  std::vector<FinishedTask> first = Finish({"a", "b"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &first).ok());
  sink_.set_fail_writes(true);
  router_.Deliver(std::move(first));
  sink_.set_fail_writes(false);
  std::vector<FinishedTask> second = Finish({"c"});
  ASSERT_TRUE(router_.ApplyAndCommit(nullptr, &second).ok());
  router_.Deliver(std::move(second));
  EXPECT_TRUE(router_.healthy());
  EXPECT_EQ(sink_.written(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(journal_.marked(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(queue_.Counts().unhandled, 0u);
}

using CommitQueueTest = ResultRouterTest;

// Returns an apply that hands over `tasks` as finished.
ResultRouter::Apply Handing(std::vector<FinishedTask> tasks) {
  return [tasks = std::move(tasks)](std::vector<FinishedTask>* out) {
    out->insert(out->end(), tasks.begin(), tasks.end());
  };
}

TEST_F(CommitQueueTest, WorkAddedDuringACommitSharesTheNextOne) {
  absl::Notification release;
  journal_.HoldNextCommitUntil(&release);
  CommitQueue commits(&router_, CommitQueue::RunOn::kCommitThread);
  absl::BlockingCounter done(3);
  std::vector<absl::Status> statuses(3);
  auto record = [&](int i) {
    return [&, i](absl::Status status) {
      statuses[i] = std::move(status);
      done.DecrementCount();
    };
  };
  commits.Add(Handing(Finish({"a"})), record(0));
  journal_.holding().WaitForNotification();
  commits.Add(Handing(Finish({"b"})), record(1));
  commits.Add(Handing(Finish({"c"})), record(2));
  release.Notify();
  done.Wait();
  commits.Stop();  // Joins the thread, which delivers after the callbacks.
  for (const absl::Status& status : statuses) EXPECT_TRUE(status.ok());
  EXPECT_EQ(journal_.rounds(), (std::vector<Ids>{{"a"}, {"b", "c"}}));
  EXPECT_EQ(sink_.written(), (Ids{"a", "b", "c"}));
}

TEST_F(CommitQueueTest, FailedCommitReachesEveryCallerAndDeliversNothing) {
  journal_.set_fail_commits(true);
  CommitQueue commits(&router_, CommitQueue::RunOn::kCommitThread);
  absl::Notification done;
  absl::Status status;
  commits.Add(Handing(Finish({"a"})), [&](absl::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  commits.Stop();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(sink_.written().empty());
  EXPECT_FALSE(router_.healthy());
}

TEST_F(CommitQueueTest, OnTheCallersThreadAddReturnsOnceItsWorkIsCommitted) {
  CommitQueue commits(&router_, CommitQueue::RunOn::kCallerThread);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id done_on;
  absl::Status status = absl::UnknownError("not called");
  commits.Add(Handing(Finish({"a"})), [&](absl::Status s) {
    status = std::move(s);
    done_on = std::this_thread::get_id();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(done_on, caller);
  EXPECT_EQ(journal_.rounds(), (std::vector<Ids>{{"a"}}));
  commits.Stop();  // Joins the delivery thread once it has delivered.
  EXPECT_EQ(sink_.written(), (Ids{"a"}));
}

TEST_F(CommitQueueTest, StopWaitsForARoundOnACallersThreadAndDeliversIt) {
  absl::Notification release;
  journal_.HoldNextCommitUntil(&release);
  CommitQueue commits(&router_, CommitQueue::RunOn::kCallerThread);
  std::thread caller([&] {
    commits.Add(Handing(Finish({"a"})),
                [](absl::Status status) { EXPECT_TRUE(status.ok()); });
  });
  journal_.holding().WaitForNotification();
  absl::Notification stopped;
  std::thread stopper([&] {
    commits.Stop();
    stopped.Notify();
  });
  // A Stop() that returned now would leave the round's results undelivered.
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  release.Notify();
  caller.join();
  stopper.join();
  EXPECT_EQ(sink_.written(), (Ids{"a"}));
}

TEST_F(CommitQueueTest, AddAfterStopIsUnavailableAtOnce) {
  CommitQueue commits(&router_, CommitQueue::RunOn::kCommitThread);
  commits.Stop();
  absl::Status status;
  commits.Add(Handing({}), [&](absl::Status s) { status = std::move(s); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace distributo::server
