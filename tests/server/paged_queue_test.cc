// TaskQueue paged from a real SqliteJournal (a file per test): pending tasks
// stay on disk until leased, the journal answers for the tasks the queue does
// not hold, and a restart resumes from what the file says.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"
#include "server/sqlite_journal.h"
#include "server/task_queue.h"

namespace distributo::server {
namespace {

// The queue's window (4,096 pending tasks, read 1,024 at a time) plus room for
// what the tests lease: a paged queue never holds much more.
constexpr uint64_t kMaxInMemory = 4096 + 1024 + 100;

constexpr uint64_t kGenerationOne = uint64_t{1} << 32;

v1::Task MakeTask(const std::string& id) {
  v1::Task task;
  task.set_id(id);
  *task.mutable_payload() = *JsonToAny(absl::StrCat("\"payload of ", id, "\""));
  return task;
}

std::vector<v1::Task> MakeTasks(int count, const std::string& prefix = "t") {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < count; ++i) {
    tasks.push_back(MakeTask(absl::StrCat(prefix, i)));
  }
  return tasks;
}

// The journal's pages, failing to read while told to, as a disk might.
class FlakyPages final : public TaskPages {
 public:
  void set_journal(TaskPages* journal) { journal_ = journal; }
  void set_failing(bool failing) { failing_ = failing; }

  absl::StatusOr<std::vector<JournaledTask>> ReadTasks(
      uint64_t after_seq, uint64_t up_to_seq, size_t max_tasks) override {
    if (failing_) return absl::UnavailableError("disk I/O error");
    return journal_->ReadTasks(after_seq, up_to_seq, max_tasks);
  }
  absl::StatusOr<std::optional<JournaledTask>> FindTask(
      absl::string_view task_id) override {
    return journal_->FindTask(task_id);
  }
  absl::StatusOr<uint64_t> AppendTasks(const std::vector<PackedTask>& tasks,
                                       std::vector<TaskRef>* added) override {
    return journal_->AppendTasks(tasks, added);
  }

 private:
  TaskPages* journal_ = nullptr;
  bool failing_ = false;
};

class PagedQueueTest : public testing::Test {
 protected:
  PagedQueueTest() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(testing::TempDir(), "/paged_queue_test_", info->name(),
                        "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Start();
  }
  ~PagedQueueTest() override {
    queue_.reset();
    journal_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string JournalPath() const { return dir_ + "/journal.db"; }

  // Starts a master's queue on the journal, as a restart does; returns the
  // finished tasks handed back.
  std::vector<FinishedTask> Start() {
    Stop();
    absl::StatusOr<std::unique_ptr<SqliteJournal>> journal =
        SqliteJournal::Open(JournalPath());
    EXPECT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
    absl::StatusOr<JournalState> state = journal_->Recover("test job");
    EXPECT_TRUE(state.ok()) << state.status();
    QueueOptions options;
    options.lease_duration = absl::Seconds(30);
    options.max_batch_tasks = 100;
    pages_.set_journal(journal_->pages());
    queue_ = std::make_unique<TaskQueue>(
        options, [this] { return now_; }, &pages_);
    std::vector<FinishedTask> unhandled;
    queue_->Restore(*std::move(state), &unhandled);
    return unhandled;
  }

  // Closes the queue and the journal, as a master that dies.
  void Stop() {
    queue_.reset();
    journal_.reset();  // one connection at a time holds the file
  }

  // Journals tasks and tells the queue; with `admit`, as Master::Enqueue()
  // does, giving it the tasks, else only the count, so that it reads them
  // back from the journal.
  void Append(std::vector<v1::Task> tasks, bool admit = false) {
    std::vector<PackedTask> packed = PackTasks(std::move(tasks));
    std::vector<TaskRef> added;
    absl::StatusOr<uint64_t> count = journal_->AppendTasks(packed, &added);
    ASSERT_TRUE(count.ok()) << count.status();
    if (admit) {
      queue_->AddJournaled(*count, std::move(packed), added);
    } else {
      queue_->AddJournaled(*count, {}, {});
    }
  }

  std::string Open(const std::vector<std::string>& types = {}) {
    v1::WorkerHello hello;
    hello.set_worker_name("w");
    for (const std::string& type : types) hello.add_accepted_types(type);
    return queue_->OpenSession(hello);
  }

  std::vector<v1::Task> Lease(const std::string& session, size_t max) {
    v1::LeasedTasks batch;
    queue_->Lease(session, max, &batch);
    return {batch.tasks().begin(), batch.tasks().end()};
  }

  v1::Verdict Submit(const std::string& session, const v1::Outcome& outcome) {
    v1::ResultBatch batch;
    *batch.add_outcomes() = outcome;
    return queue_->Submit(session, batch, &finished_).outcomes(0).verdict();
  }

  // Journals the finished tasks, then marks them handled, in the order the
  // result router keeps.
  void CommitAndHandle() {
    ASSERT_TRUE(journal_->CommitOutcomes(finished_).ok());
    std::vector<TaskRef> handled;
    for (const FinishedTask& task : finished_) handled.push_back(RefOf(task));
    ASSERT_TRUE(journal_->MarkHandled(handled, 0).ok());
    queue_->MarkHandled(handled);
    finished_.clear();
  }

  static v1::Outcome Result(const std::string& id, uint64_t epoch) {
    v1::Outcome outcome;
    outcome.mutable_lease()->set_task_id(id);
    outcome.mutable_lease()->set_epoch(epoch);
    *outcome.mutable_result() = *JsonToAny("1");
    return outcome;
  }

  static v1::Outcome Failure(const std::string& id, uint64_t epoch) {
    v1::Outcome outcome = Result(id, epoch);
    outcome.mutable_failure()->set_code("boom");
    outcome.mutable_failure()->set_retryable(true);
    return outcome;
  }

  std::string dir_;
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  FlakyPages pages_;
  std::unique_ptr<SqliteJournal> journal_;
  std::unique_ptr<TaskQueue> queue_;
  std::vector<FinishedTask> finished_;
};

TEST_F(PagedQueueTest, PendingTasksStayOnDiskUntilLeased) {
  Append(MakeTasks(20'000));
  QueueCounts counts = queue_->Counts();
  EXPECT_EQ(counts.total, 20'000u);
  EXPECT_EQ(counts.pending, 20'000u);
  EXPECT_EQ(counts.in_memory, 0u);
  std::vector<v1::Task> leased = Lease(Open(), 10);
  ASSERT_EQ(leased.size(), 10u);
  EXPECT_EQ(leased[0].id(), "t0");
  EXPECT_EQ(leased[9].id(), "t9");
  EXPECT_EQ(AnyToJson(leased[3].payload()), "\"payload of t3\"");
  counts = queue_->Counts();
  EXPECT_EQ(counts.pending, 19'990u);
  EXPECT_GE(counts.in_memory, 10u);
  EXPECT_LE(counts.in_memory, kMaxInMemory);
}

TEST_F(PagedQueueTest, AppendedTasksFillTheWindowWithoutAReadTheRestWait) {
  pages_.set_failing(true);  // so any read of a page would fail
  Append(MakeTasks(5'000), /*admit=*/true);
  EXPECT_EQ(queue_->Counts().in_memory, 4096u) << "the window, no more";
  const std::string session = Open();
  const std::vector<v1::Task> leased = Lease(session, 100);
  ASSERT_EQ(leased.size(), 100u);
  EXPECT_EQ(leased[0].id(), "t0");
  EXPECT_EQ(AnyToJson(leased[99].payload()), "\"payload of t99\"");
  pages_.set_failing(false);
  absl::flat_hash_set<std::string> ids;
  for (int round = 0; round < 60 && ids.size() < 4'900; ++round) {
    for (const v1::Task& task : Lease(session, 100)) ids.insert(task.id());
  }
  EXPECT_EQ(ids.size(), 4'900u) << "the rest is read from the journal";
  EXPECT_TRUE(ids.contains("t4999"));
}

TEST_F(PagedQueueTest, AnAdmittedTasksResultIsJournaledAsItsOwn) {
  Append({MakeTask("a"), MakeTask("b")}, /*admit=*/true);
  // b is journaled already, c repeats: only the first c is new, seq 3.
  v1::Task second_c = MakeTask("c");
  *second_c.mutable_payload() = *JsonToAny("\"another c\"");
  Append({MakeTask("b"), MakeTask("c"), second_c, MakeTask("d")},
         /*admit=*/true);
  const std::string session = Open();
  const std::vector<v1::Task> leased = Lease(session, 10);
  ASSERT_EQ(leased.size(), 4u) << "a b c d, each once";
  EXPECT_EQ(leased[2].id(), "c");
  EXPECT_EQ(AnyToJson(leased[2].payload()), "\"payload of c\"");
  ASSERT_EQ(Submit(session, Result("c", leased[2].epoch())),
            v1::VERDICT_ACCEPTED);
  ASSERT_TRUE(journal_->CommitOutcomes(finished_).ok());
  finished_.clear();
  const std::vector<FinishedTask> unhandled = Start();
  ASSERT_EQ(unhandled.size(), 1u);
  EXPECT_EQ(unhandled[0].task.id(), "c");
  EXPECT_EQ(unhandled[0].seq, 3u);
  const std::vector<v1::Task> again = Lease(Open(), 10);
  ASSERT_EQ(again.size(), 3u) << "a, b and d are still to do";
  EXPECT_EQ(again[2].id(), "d");
}

TEST_F(PagedQueueTest, AppendBehindTasksOnDiskWaitsForThemInOrder) {
  Append(MakeTasks(10'000));
  Append(MakeTasks(10, "late"), /*admit=*/true);
  EXPECT_EQ(queue_->Counts().in_memory, 0u);
  const std::vector<v1::Task> leased = Lease(Open(), 1);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].id(), "t0");
}

TEST_F(PagedQueueTest, AJobThroughTheWindowRunsEveryTaskOnceInFlatMemory) {
  constexpr int kTasks = 12'000;
  Append(MakeTasks(kTasks));
  queue_->CloseSource();
  const std::string session = Open();
  absl::flat_hash_set<std::string> done;
  for (int round = 0; round < kTasks / 100 + 10 && !queue_->IsComplete();
       ++round) {
    for (const v1::Task& task : Lease(session, 100)) {
      ASSERT_EQ(Submit(session, Result(task.id(), task.epoch())),
                v1::VERDICT_ACCEPTED);
      EXPECT_TRUE(done.insert(task.id()).second) << task.id() << " twice";
    }
    CommitAndHandle();
    ASSERT_LE(queue_->Counts().in_memory, kMaxInMemory) << "round " << round;
  }
  EXPECT_TRUE(queue_->IsComplete());
  EXPECT_EQ(done.size(), size_t{kTasks});
  EXPECT_EQ(queue_->Counts().in_memory, 0u);
}

TEST_F(PagedQueueTest, HandledTasksAreForgottenAndTheJournalAnswersForThem) {
  Append(MakeTasks(2));
  const std::string session = Open();
  std::vector<v1::Task> leased = Lease(session, 1);
  ASSERT_EQ(leased.size(), 1u);
  ASSERT_EQ(Submit(session, Result("t0", leased[0].epoch())),
            v1::VERDICT_ACCEPTED);
  CommitAndHandle();
  EXPECT_EQ(queue_->Counts().in_memory, 1u) << "only t1, pending";
  EXPECT_EQ(Submit(session, Result("t0", leased[0].epoch())),
            v1::VERDICT_DUPLICATE);
  v1::ResultBatch extension;
  extension.add_extensions()->set_task_id("t0");
  extension.mutable_extensions(0)->set_epoch(leased[0].epoch());
  EXPECT_EQ(
      queue_->Submit(session, extension, &finished_).extensions(0).verdict(),
      v1::VERDICT_STALE);
  EXPECT_EQ(queue_->Cancel("t0", "no", &finished_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Submit(session, Result("ghost", kGenerationOne + 1)),
            v1::VERDICT_NOT_YOURS);
  EXPECT_EQ(queue_->Cancel("ghost", "no", &finished_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(finished_.empty());
  EXPECT_EQ(queue_->Counts().duplicates, 1u);
}

TEST_F(PagedQueueTest, CancelOfATaskStillOnDiskEndsItDeadAndNeverLeasesIt) {
  Append(MakeTasks(3));
  absl::StatusOr<TaskQueue::Cancelled> cancelled =
      queue_->Cancel("t2", "not needed", &finished_);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_TRUE(cancelled->session_id.empty());
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_TRUE(finished_[0].dead);
  EXPECT_EQ(finished_[0].task.id(), "t2");
  EXPECT_EQ(queue_->Counts().pending, 2u);
  std::vector<v1::Task> leased = Lease(Open(), 10);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0].id(), "t0");
  EXPECT_EQ(leased[1].id(), "t1");
  EXPECT_EQ(queue_->Counts().pending, 0u);
  ASSERT_EQ(queue_->ListDead(0, 10).size(), 1u);
  EXPECT_EQ(queue_->ListDead(0, 10)[0].code, "cancelled");
}

TEST_F(PagedQueueTest, RedriveTakesADeadTaskBackFromTheJournalForGood) {
  Append(MakeTasks(3));
  ASSERT_TRUE(queue_->Cancel("t1", "by mistake", &finished_).ok());
  CommitAndHandle();
  EXPECT_EQ(queue_->Counts().in_memory, 0u) << "the journal answers for it";
  absl::StatusOr<TaskQueue::RedrivePlan> plan = queue_->PlanRedrive({}, 10);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->task_ids, std::vector<std::string>{"t1"});
  absl::StatusOr<std::vector<JournaledTask>> rows =
      journal_->Redrive(plan->task_ids);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  queue_->Redrive(plan->task_ids, *std::move(rows));
  EXPECT_EQ(queue_->Counts().pending, 3u);
  EXPECT_EQ(queue_->Counts().dead, 0u);

  // The journal says so too: after a restart it is pending, not dead.
  Start();
  EXPECT_EQ(queue_->Counts().pending, 3u);
  EXPECT_EQ(queue_->Counts().dead, 0u);
  EXPECT_TRUE(queue_->ListDead(0, 10).empty());
  const std::string session = Open();
  std::vector<v1::Task> leased = Lease(session, 10);
  ASSERT_EQ(leased.size(), 3u);
  EXPECT_EQ(leased[1].id(), "t1");
  EXPECT_EQ(leased[1].payload().SerializeAsString(),
            MakeTasks(3)[1].payload().SerializeAsString());
  for (const v1::Task& task : leased) {
    EXPECT_EQ(Submit(session, Result(task.id(), task.epoch())),
              v1::VERDICT_ACCEPTED);
  }
  CommitAndHandle();
  queue_->CloseSource();
  EXPECT_TRUE(queue_->IsComplete());
}

TEST_F(PagedQueueTest, ARedriveReportedFailedButCommittedEndsWhenPagedIn) {
  Append(MakeTasks(2));
  // Cancelled while on disk: loaded out of turn, past the paged tasks.
  ASSERT_TRUE(queue_->Cancel("t1", "", &finished_).ok());
  CommitAndHandle();
  absl::StatusOr<TaskQueue::RedrivePlan> plan = queue_->PlanRedrive({}, 10);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(journal_->Redrive(plan->task_ids).ok());
  // The commit happened, but the journal said it failed.
  queue_->Redrive(plan->task_ids, absl::UnavailableError("disk I/O error"));
  EXPECT_EQ(queue_->Counts().dead, 1u) << "dead, as far as the queue knows";
  queue_->CloseSource();
  EXPECT_FALSE(queue_->IsComplete());
  // The pager finds it pending on disk: the redrive happened after all.
  const std::string session = Open();
  const std::vector<v1::Task> leased = Lease(session, 10);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[1].id(), "t1");
  EXPECT_EQ(queue_->Counts().dead, 0u);
  for (const v1::Task& task : leased) {
    EXPECT_EQ(Submit(session, Result(task.id(), task.epoch())),
              v1::VERDICT_ACCEPTED);
  }
  CommitAndHandle();
  EXPECT_EQ(queue_->Counts().done, 2u);
  EXPECT_EQ(queue_->Counts().pending, 0u);
  EXPECT_TRUE(queue_->IsComplete());
}

TEST_F(PagedQueueTest, ASessionTakingOneTypeFindsItPastTheWindow) {
  Append(MakeTasks(6'000));
  v1::Task other = MakeTask("other");
  google::protobuf::StringValue text;
  text.set_value("a task of another type");
  other.mutable_payload()->PackFrom(text);
  Append({other});
  std::vector<v1::Task> leased = Lease(Open({other.payload().type_url()}), 10);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].id(), "other");
  EXPECT_EQ(queue_->Counts().pending, 6'000u);
}

TEST_F(PagedQueueTest, TasksOneSessionPagesInWakeEveryStreamAtTheNextSubmit) {
  Append(MakeTasks(3));
  std::vector<std::string> woken;
  queue_->SetChangeListener(
      [&](absl::string_view session) { woken.emplace_back(session); });
  const std::string session = Open();
  const std::vector<v1::Task> leased = Lease(session, 1);
  ASSERT_EQ(leased.size(), 1u);
  // The page-in brought the other two into memory: a stream that took only
  // their type, and has nothing to send, hears of them only now.
  ASSERT_EQ(Submit(session, Result(leased[0].id(), leased[0].epoch())),
            v1::VERDICT_ACCEPTED);
  EXPECT_EQ(woken, std::vector<std::string>({""}));
  woken.clear();
  const std::vector<v1::Task> next = Lease(session, 1);
  ASSERT_EQ(next.size(), 1u);
  ASSERT_EQ(Submit(session, Result(next[0].id(), next[0].epoch())),
            v1::VERDICT_ACCEPTED);
  EXPECT_EQ(woken, std::vector<std::string>({session}));
}

TEST_F(PagedQueueTest, AFailedPageInIsRetriedAtTheNextTick) {
  Append(MakeTasks(3));
  int changes = 0;
  queue_->SetChangeListener([&](absl::string_view) { ++changes; });
  const std::string session = Open();
  pages_.set_failing(true);
  EXPECT_TRUE(Lease(session, 10).empty());
  pages_.set_failing(false);
  queue_->Tick(&finished_);
  EXPECT_EQ(changes, 1) << "nothing else wakes the streams to lease again";
  EXPECT_EQ(Lease(session, 10).size(), 3u);
}

TEST_F(PagedQueueTest, ATaskWhoseRowDoesNotParseEndsDeadAndTheRestRun) {
  Append(MakeTasks(3));
  Stop();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(JournalPath().c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE tasks SET task = x'ffff' WHERE id = 't1'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Start();
  std::vector<v1::Task> leased = Lease(Open(), 10);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0].id(), "t0");
  EXPECT_EQ(leased[1].id(), "t2");
  queue_->Tick(&finished_);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(finished_[0].task.id(), "t1");
  EXPECT_TRUE(finished_[0].dead);
  EXPECT_EQ(FailureOf(finished_[0]).code(), "unreadable");
  EXPECT_EQ(queue_->Counts().pending, 0u);
}

TEST_F(PagedQueueTest, EnqueueIsRefusedBecauseTasksComeFromTheJournal) {
  EXPECT_EQ(queue_->Enqueue(PackTasks({MakeTask("x")})).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PagedQueueTest, RestartLeasesPendingTasksInOrderAboveTheNewBase) {
  Append({MakeTask("b"), MakeTask("a")});
  ASSERT_EQ(Lease(Open(), 1).size(), 1u);  // "b", lost with the master
  Start();
  EXPECT_EQ(queue_->Counts().pending, 2u);
  EXPECT_EQ(queue_->Counts().total, 2u);
  std::vector<v1::Task> leased = Lease(Open(), 10);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0].id(), "b");
  EXPECT_EQ(leased[1].id(), "a");
  EXPECT_GT(leased[0].epoch(), uint64_t{2} << 32);
  EXPECT_GT(leased[1].epoch(), uint64_t{2} << 32);
}

TEST_F(PagedQueueTest, RestartAcceptsAnEarlierRunsResultButNotItsFailure) {
  Append({MakeTask("a"), MakeTask("b")});
  std::vector<v1::Task> leased = Lease(Open(), 2);
  ASSERT_EQ(leased.size(), 2u);
  Start();
  const std::string session = Open();
  EXPECT_EQ(Submit(session, Failure("a", leased[0].epoch())),
            v1::VERDICT_STALE);
  EXPECT_EQ(Submit(session, Result("b", leased[1].epoch())),
            v1::VERDICT_ACCEPTED);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(finished_[0].task.id(), "b");
  EXPECT_EQ(queue_->Counts().pending, 1u);
  CommitAndHandle();
  EXPECT_EQ(Submit(session, Result("b", leased[1].epoch())),
            v1::VERDICT_DUPLICATE);
  leased = Lease(session, 10);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].id(), "a");
}

TEST_F(PagedQueueTest, ResultUnderAnEarlierRunsEpochForANewTaskIsNotYours) {
  Start();
  Append({MakeTask("n")});
  // Below this run's base: "n" did not exist then.
  EXPECT_EQ(Submit(Open(), Result("n", kGenerationOne + 1)),
            v1::VERDICT_NOT_YOURS);
  EXPECT_TRUE(finished_.empty());
}

TEST_F(PagedQueueTest, RestartHandsBackUnhandledFinishedTasksUntilMarked) {
  Append({MakeTask("d"), MakeTask("x"), MakeTask("p")});
  const std::string session = Open();
  std::vector<v1::Task> leased = Lease(session, 2);
  ASSERT_EQ(leased.size(), 2u);
  ASSERT_EQ(Submit(session, Result("d", leased[0].epoch())),
            v1::VERDICT_ACCEPTED);
  ASSERT_TRUE(queue_->Cancel("x", "no", &finished_).ok());
  ASSERT_TRUE(journal_->CommitOutcomes(finished_).ok());  // not handled
  finished_.clear();
  std::vector<FinishedTask> unhandled = Start();
  ASSERT_EQ(unhandled.size(), 2u);
  EXPECT_EQ(unhandled[0].task.id(), "d");
  EXPECT_EQ(AnyToJson(unhandled[0].result), "1");
  EXPECT_EQ(unhandled[1].task.id(), "x");
  EXPECT_TRUE(unhandled[1].dead);
  QueueCounts counts = queue_->Counts();
  EXPECT_EQ(counts.done, 1u);
  EXPECT_EQ(counts.dead, 1u);
  EXPECT_EQ(counts.pending, 1u);
  EXPECT_EQ(counts.unhandled, 2u);
  ASSERT_EQ(queue_->ListDead(0, 10).size(), 1u);
  queue_->MarkHandled({{"d"}, {"x"}});
  EXPECT_EQ(queue_->Counts().unhandled, 0u);
  leased = Lease(Open(), 10);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].id(), "p");
}

TEST_F(PagedQueueTest, RestartOnAFinishedJobCompletesOnceSourceClosed) {
  Append(MakeTasks(3));
  const std::string session = Open();
  for (const v1::Task& task : Lease(session, 10)) {
    ASSERT_EQ(Submit(session, Result(task.id(), task.epoch())),
              v1::VERDICT_ACCEPTED);
  }
  CommitAndHandle();
  EXPECT_TRUE(Start().empty());
  EXPECT_EQ(queue_->Counts().done, 3u);
  EXPECT_EQ(queue_->Counts().pending, 0u);
  EXPECT_FALSE(queue_->IsComplete());
  queue_->CloseSource();
  EXPECT_TRUE(queue_->IsComplete());
}

}  // namespace
}  // namespace distributo::server
