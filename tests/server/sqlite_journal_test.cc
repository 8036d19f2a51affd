#include "server/sqlite_journal.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "tests/server/journal_files.h"

namespace distributo::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;

FinishedTask Done(const std::string& id, const std::string& result,
                  uint32_t attempts) {
  FinishedTask finished;
  finished.task = PackedTask(MakeTask(id, "payload"));
  google::protobuf::StringValue value;
  value.set_value(result);
  finished.result.PackFrom(value);
  finished.attempts = attempts;
  return finished;
}

FinishedTask Dead(const std::string& id, const std::string& code,
                  uint32_t attempts) {
  FinishedTask finished;
  finished.task = PackedTask(MakeTask(id, "payload"));
  finished.dead = true;
  finished.failure.emplace().set_code(code);
  finished.failure->set_message("stderr of " + id);
  finished.attempts = attempts;
  return finished;
}

class SqliteJournalTest : public JournalFileTest {};

TEST_F(SqliteJournalTest, RecoverOnNewFileStartsGenerationOneEmpty) {
  const JournalState state = Restart();
  EXPECT_EQ(state.generation, 1u);
  EXPECT_FALSE(state.sink_position.has_value());
  EXPECT_EQ(state.task_count, 0u);
  EXPECT_TRUE(state.finished.empty());
}

TEST_F(SqliteJournalTest, RecoverAfterEachReopenIncrementsGeneration) {
  for (uint64_t expected = 1; expected <= 3; ++expected) {
    EXPECT_EQ(Restart().generation, expected);
  }
}

TEST_F(SqliteJournalTest, RecoverKeepsTheJobIdAcrossRestarts) {
  const std::string first = Restart().job_id;
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(Restart().job_id, first);
  std::filesystem::remove(path());
  EXPECT_NE(Restart().job_id, first) << "a new journal is a new job";
}

// "id:seq" of each task, in order.
std::string Refs(const std::vector<TaskRef>& refs) {
  std::string out;
  for (const TaskRef& ref : refs) {
    absl::StrAppend(&out, out.empty() ? "" : ",", ref.id, ":", ref.seq);
  }
  return out;
}

TEST_F(SqliteJournalTest, AppendReturnsTheTaskCountAndTheTasksItAdded) {
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  std::vector<TaskRef> added;
  EXPECT_EQ(journal->AppendTasks(PackTasks(MakeTasks({"a", "b"})), &added)
                .value_or(0),
            2u);
  EXPECT_EQ(Refs(added), "a:1,b:2");
  added.clear();
  // Known, new, and new again within the call: only the first copy counts.
  EXPECT_EQ(journal
                ->AppendTasks(PackTasks({MakeTask("b", "p"), MakeTask("c", "p"),
                                         MakeTask("c", "again")}),
                              &added)
                .value_or(0),
            3u);
  EXPECT_EQ(Refs(added), "c:3");
}

TEST_F(SqliteJournalTest, AppendOfManyTasksAddsTheNewOnesInOrder) {
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  std::vector<std::string> known;
  for (int i = 0; i < 150; i += 3) known.push_back(absl::StrCat("t", i));
  ASSERT_TRUE(journal->AppendTasks(PackTasks(MakeTasks(known)), nullptr).ok());
  // More than one INSERT's rows, known ids among them, and one id twice.
  std::vector<v1::Task> tasks;
  std::string expected;
  uint64_t seq = known.size();
  for (int i = 0; i < 150; ++i) {
    tasks.push_back(MakeTask(absl::StrCat("t", i), "p"));
    // A second copy among one statement's rows, and one among the last.
    if (i == 10 || i == 149) tasks.push_back(MakeTask("t1", "again"));
    if (i % 3 == 0) continue;
    absl::StrAppend(&expected, expected.empty() ? "" : ",", "t", i, ":", ++seq);
  }
  std::vector<TaskRef> added;
  EXPECT_EQ(
      journal->AppendTasks(PackTasks(std::move(tasks)), &added).value_or(0),
      150u);
  EXPECT_EQ(Refs(added), expected);
  absl::StatusOr<std::optional<JournaledTask>> first = journal->FindTask("t1");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_TRUE(
      MessageDifferencer::Equals((*first)->task.ToTask(), MakeTask("t1", "p")));
}

TEST_F(SqliteJournalTest, RecoverCountsPendingTasksAndReadTasksPagesThem) {
  // Ids out of lexical order and two batches: the order must be enqueue order.
  const std::vector<v1::Task> tasks = {
      MakeTask("b", "one"), MakeTask("a", "two"), MakeTask("c", "three")};
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks({tasks[0], tasks[1]}), nullptr).ok());
    ASSERT_TRUE(journal->AppendTasks(PackTasks({tasks[2]}), nullptr).ok());
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.task_count, 3u);
  EXPECT_TRUE(state.finished.empty()) << "pending tasks stay on disk";
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<std::vector<JournaledTask>> page =
      journal->ReadTasks(0, 3, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_EQ((*page)[i].seq, i + 1);
    EXPECT_FALSE((*page)[i].finished);
    EXPECT_TRUE(MessageDifferencer::Equals((*page)[i].task.ToTask(), tasks[i]))
        << (*page)[i].task.ToTask().DebugString();
  }
}

TEST_F(SqliteJournalTest, ReadTasksStopsAtTheLimitAndAtUpToSeq) {
  std::vector<PackedTask> tasks;
  for (int i = 0; i < 25'000; ++i) tasks.emplace_back(absl::StrCat("t", i));
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  // More than a transaction's chunk: every task, in order.
  ASSERT_EQ(journal->AppendTasks(tasks, nullptr).value_or(0), 25'000u);
  absl::StatusOr<std::vector<JournaledTask>> first =
      journal->ReadTasks(0, 25'000, 5);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 5u);
  EXPECT_EQ(first->back().task.id(), "t4");
  absl::StatusOr<std::vector<JournaledTask>> last =
      journal->ReadTasks(24'990, 24'995, 100);
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_EQ(last->size(), 5u);
  EXPECT_EQ(last->front().seq, 24'991u);
  EXPECT_EQ(last->back().task.id(), "t24994");
}

TEST_F(SqliteJournalTest, AppendOfJournaledIdKeepsFirstCopy) {
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("x", "first")}), nullptr).ok());
  EXPECT_EQ(journal->AppendTasks(PackTasks({MakeTask("x", "second")}), nullptr)
                .value_or(0),
            1u);
  absl::StatusOr<std::optional<JournaledTask>> found = journal->FindTask("x");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->seq, 1u);
  EXPECT_TRUE(MessageDifferencer::Equals((*found)->task.ToTask(),
                                         MakeTask("x", "first")));
}

TEST_F(SqliteJournalTest, FindTaskTellsFinishedFromUnknown) {
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("d", "p")}), nullptr).ok());
  ASSERT_TRUE(journal->CommitOutcomes({Done("d", "r", 1)}).ok());
  absl::StatusOr<std::optional<JournaledTask>> done = journal->FindTask("d");
  ASSERT_TRUE(done.ok() && done->has_value()) << done.status();
  EXPECT_TRUE((*done)->finished);
  EXPECT_EQ((*done)->task.id(), "d");
  EXPECT_FALSE((*done)->task.ToTask().has_payload()) << "finished: only the id";
  absl::StatusOr<std::optional<JournaledTask>> unknown =
      journal->FindTask("nope");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(SqliteJournalTest, OutcomesAndMarksFindTasksBySeqOrById) {
  FinishedTask second = Done("b", "r", 1);
  second.seq = 2;
  FinishedTask third = Done("c", "r", 1);  // seq 0: found by id
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks(MakeTasks({"a", "b", "c"})), nullptr)
            .ok());
    ASSERT_TRUE(
        journal->CommitOutcomes({second, third, Done("x", "r", 1)}).ok())
        << "an id never journaled is left out";
    ASSERT_TRUE(journal->MarkHandled({RefOf(second), {"y"}}, 5).ok());
    // A seq past the last task is a bug: the call fails whole.
    FinishedTask beyond = Done("a", "r", 1);
    beyond.seq = 4;
    EXPECT_EQ(journal->CommitOutcomes({beyond}).code(),
              absl::StatusCode::kInternal);
    EXPECT_EQ(journal->MarkHandled({{"a", 4}}, 6).code(),
              absl::StatusCode::kInternal);
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.sink_position, 5u);
  EXPECT_EQ(state.handled_done, 1u) << "b";
  ASSERT_EQ(state.finished.size(), 1u);
  EXPECT_EQ(state.finished[0].task.id(), "c");
  EXPECT_EQ(state.finished[0].seq, 3u);
  EXPECT_FALSE(state.finished[0].handled);
}

TEST_F(SqliteJournalTest, RecoverKeepsTheLastOutcomeOfAnUnhandledTask) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks(MakeTasks({"a", "b"})), nullptr).ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("a", "first", 1)}).ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("a", "second", 2)}).ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("b", "kept", 1)}).ok());
    ASSERT_TRUE(journal->MarkHandled({{"b"}}, 1).ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("b", "late copy", 3)}).ok());
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.handled_done, 1u) << "b, whose late copy is ignored";
  ASSERT_EQ(state.finished.size(), 1u);
  google::protobuf::StringValue result;
  ASSERT_TRUE(state.finished[0].result.UnpackTo(&result));
  EXPECT_EQ(result.value(), "second");
  EXPECT_EQ(state.finished[0].attempts, 2u);
}

}  // namespace

// Makes the next commit of a journal's connection report an I/O error after
// it happened, as SQLite may when the WAL is written but a later step fails.
class SqliteJournalPeer {
 public:
  static void FailNextCommitAfterItHappens(SqliteJournal& journal) {
    absl::MutexLock lock(&journal.mu_);
    sqlite3_wal_hook(
        journal.db_,
        [](void*, sqlite3* db, const char*, int) {
          sqlite3_wal_hook(db, nullptr, nullptr);  // once
          return SQLITE_IOERR;
        },
        nullptr);
  }

  // Makes the journal sync the file at `path` as its log from now on.
  static void SyncLogAt(SqliteJournal& journal, const std::string& path) {
    absl::StatusOr<std::unique_ptr<LogSyncer>> log = LogSyncer::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    journal.log_ = *std::move(log);
  }

  static std::string LogPath(const SqliteJournal& journal) {
    return journal.log_->path();
  }
};

namespace {

TEST_F(SqliteJournalTest, ARoundCommittedButReportedFailedCountsInMemoryToo) {
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("a", "p")}), nullptr).ok());
  ASSERT_TRUE(journal->CommitOutcomes({Dead("a", "boom", 1)}).ok());
  SqliteJournalPeer::FailNextCommitAfterItHappens(*journal);
  const absl::Status redriven = journal->Redrive({"a"}).status();
  EXPECT_EQ(redriven.code(), absl::StatusCode::kUnavailable) << redriven;
  absl::StatusOr<std::optional<JournaledTask>> found = journal->FindTask("a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_FALSE((*found)->finished) << "the redrive is on disk";
  journal.reset();
  EXPECT_TRUE(Restart().finished.empty());
}

TEST_F(SqliteJournalTest,
       ACallThatWroteFailsIfItsLogCannotBeSyncedAndSoDoAllAfter) {
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("a", "p")}), nullptr).ok());
  // /dev/null cannot be synced (EINVAL), as a failing disk's file cannot.
  SqliteJournalPeer::SyncLogAt(*journal, "/dev/null");
  const absl::Status appended =
      journal->AppendTasks(PackTasks({MakeTask("b", "p")}), nullptr).status();
  EXPECT_EQ(appended.code(), absl::StatusCode::kDataLoss) << appended;
  EXPECT_NE(appended.message().find("restart the master"), std::string::npos)
      << appended;
  // Nothing after the failure may claim to be on disk, nor be written
  // (LogSyncerTest: however a later sync would go).
  EXPECT_EQ(journal->CommitOutcomes({Done("a", "r", 1)}).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(journal->MarkHandled({}, 0).code(), absl::StatusCode::kDataLoss);
  journal.reset();
  // Opened again, it holds what it wrote up to the failure (all of it here,
  // the machine being fine) and writes again.
  journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<std::optional<JournaledTask>> found = journal->FindTask("a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_FALSE((*found)->finished) << "its outcome came after the failure";
  std::vector<TaskRef> added;
  absl::StatusOr<uint64_t> total =
      journal->AppendTasks(PackTasks({MakeTask("b", "p")}), &added);
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(*total, 2u);
  EXPECT_TRUE(added.empty()) << "b reached the log before its sync failed";
  EXPECT_TRUE(journal->CommitOutcomes({Done("a", "r", 1)}).ok());
}

TEST_F(SqliteJournalTest, AJournalOpenedThroughASymbolicLinkSyncsTheLinkedLog) {
  const std::string target = path() + ".target";
  std::filesystem::create_symlink(target, path());
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  EXPECT_TRUE(std::filesystem::equivalent(SqliteJournalPeer::LogPath(*journal),
                                          target + "-wal"));
  EXPECT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("a", "p")}), nullptr).ok());
  journal.reset();
  EXPECT_EQ(Restart().task_count, 1u);
}

TEST_F(SqliteJournalTest, ReadingAFinishedTaskLeavesItsPayloadUnread) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenRecovered();
    ASSERT_NE(journal, nullptr);
    // Several pages: the payload lives in overflow pages of its own.
    ASSERT_TRUE(
        journal
            ->AppendTasks(PackTasks({MakeTask("big", std::string(20'000, 'x')),
                                     MakeTask("next", "p")}),
                          nullptr)
            .ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("big", "r", 1)}).ok());
    ASSERT_TRUE(journal->MarkHandled({{"big"}}, 1).ok());
  }
  const std::string pages =
      RunSql(path(),
             "SELECT group_concat(pageno) FROM dbstat "
             "WHERE name = 'tasks' AND pagetype = 'overflow'");
  ASSERT_FALSE(pages.empty());
  const int page_size = std::stoi(RunSql(path(), "PRAGMA page_size"));
  {
    // Garbage where the payload was: reading it would be SQLITE_CORRUPT.
    std::fstream file(path(), std::ios::in | std::ios::out | std::ios::binary);
    for (absl::string_view page : absl::StrSplit(pages, ',')) {
      file.seekp(static_cast<std::streamoff>(std::stoi(std::string(page)) - 1) *
                 page_size);
      file << std::string(page_size, '\xff');
    }
  }
  std::unique_ptr<SqliteJournal> journal = OpenRecovered();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<std::vector<JournaledTask>> read =
      journal->ReadTasks(0, 2, 10);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_TRUE((*read)[0].finished);
  EXPECT_EQ((*read)[1].task.id(), "next");
  EXPECT_FALSE((*read)[1].unreadable);
  EXPECT_TRUE(journal->FindTask("big").ok());
}

TEST_F(SqliteJournalTest, ATaskNamedTwiceInOneCommitEndsAsItsLastOutcome) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenRecovered();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks({MakeTask("a", "p")}), nullptr).ok());
    ASSERT_TRUE(
        journal->CommitOutcomes({Dead("a", "boom", 1), Done("a", "r", 2)})
            .ok());
    absl::StatusOr<std::optional<JournaledTask>> found = journal->FindTask("a");
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_TRUE((*found)->finished);
  }
  const JournalState state = Restart();
  ASSERT_EQ(state.finished.size(), 1u);
  EXPECT_EQ(state.finished[0].state, TaskState::kDone);
  EXPECT_EQ(state.finished[0].attempts, 2u);
}

TEST_F(SqliteJournalTest, RedriveMakesDeadTasksNewAgainAcrossRestarts) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenRecovered();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal
                    ->AppendTasks(
                        PackTasks(MakeTasks({"done", "dead", "gone"})), nullptr)
                    .ok());
    ASSERT_TRUE(journal
                    ->CommitOutcomes({Done("done", "r", 1),
                                      Dead("dead", "no_result", 3),
                                      Dead("gone", "no_result", 3)})
                    .ok());
    ASSERT_TRUE(journal->MarkHandled({{"dead"}, {"gone"}}, 7).ok());
    absl::StatusOr<std::vector<JournaledTask>> redriven =
        journal->Redrive({"done", "dead", "unknown"});
    ASSERT_TRUE(redriven.ok()) << redriven.status();
    ASSERT_EQ(redriven->size(), 1u) << "done stays done";
    EXPECT_EQ((*redriven)[0].seq, 2u);
    EXPECT_FALSE((*redriven)[0].finished);
    EXPECT_TRUE(MessageDifferencer::Equals((*redriven)[0].task.ToTask(),
                                           MakeTask("dead", "p")));
    absl::StatusOr<std::optional<JournaledTask>> found =
        journal->FindTask("dead");
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_FALSE((*found)->finished);
  }
  const JournalState state = Restart();
  ASSERT_EQ(state.finished.size(), 2u) << "done (unhandled) and gone, not dead";
  EXPECT_EQ(state.finished[0].task.id(), "done");
  const StoredTask& gone = state.finished[1];
  EXPECT_EQ(gone.task.id(), "gone");
  EXPECT_TRUE(gone.handled);
  EXPECT_EQ(gone.failure.code(), "no_result");
  EXPECT_EQ(gone.attempts, 3u);
}

TEST_F(SqliteJournalTest, RecoverAfterCommitReturnsUnhandledOutcomes) {
  const FinishedTask done = Done("d", "42", 2);
  const FinishedTask dead = Dead("f", "exit_status_1", 3);
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal
            ->AppendTasks(PackTasks({done.task.ToTask(), MakeTask("p", "p"),
                                     dead.task.ToTask()}),
                          nullptr)
            .ok());
    ASSERT_TRUE(journal->CommitOutcomes({done, dead}).ok());
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.task_count, 3u);
  ASSERT_EQ(state.finished.size(), 2u);
  const StoredTask& stored_done = state.finished[0];
  EXPECT_EQ(stored_done.state, TaskState::kDone);
  EXPECT_FALSE(stored_done.handled);
  EXPECT_EQ(stored_done.attempts, 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(stored_done.task, done.task.ToTask()));
  EXPECT_TRUE(MessageDifferencer::Equals(stored_done.result, done.result));
  const StoredTask& stored_dead = state.finished[1];
  EXPECT_EQ(stored_dead.state, TaskState::kDead);
  EXPECT_FALSE(stored_dead.handled);
  EXPECT_EQ(stored_dead.attempts, 3u);
  EXPECT_TRUE(MessageDifferencer::Equals(stored_dead.failure, FailureOf(dead)));
}

TEST_F(SqliteJournalTest, RecoverAfterMarkHandledCountsDoneKeepsDeadIds) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks(MakeTasks({"h", "u", "g"})), nullptr)
            .ok());
    ASSERT_TRUE(journal
                    ->CommitOutcomes({Done("h", "r", 1), Done("u", "r", 1),
                                      Dead("g", "no", 1)})
                    .ok());
    ASSERT_TRUE(journal->MarkHandled({{"h"}, {"g"}}, 1234).ok());
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.sink_position, 1234u);
  EXPECT_EQ(state.handled_done, 1u) << "h is only counted";
  ASSERT_EQ(state.finished.size(), 2u);
  // The sink has the handled dead task's failure; the journal keeps its id.
  EXPECT_EQ(state.finished[0].task.id(), "u");
  EXPECT_FALSE(state.finished[0].handled);
  EXPECT_EQ(state.finished[0].state, TaskState::kDone);
  EXPECT_EQ(state.finished[1].task.id(), "g");
  EXPECT_TRUE(state.finished[1].handled);
  EXPECT_EQ(state.finished[1].state, TaskState::kDead);
  EXPECT_FALSE(state.finished[1].task.has_payload());
}

TEST_F(SqliteJournalTest, MarkHandledWithoutIdsRecordsSinkPosition) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal->MarkHandled({}, 7).ok());
    ASSERT_TRUE(journal->MarkHandled({}, 99).ok());
  }
  EXPECT_EQ(Restart().sink_position, 99u);
}

TEST_F(SqliteJournalTest, OpenOnGarbageFileReturnsFailedPreconditionUntouched) {
  const std::string garbage = "this is not an SQLite database\n";
  std::ofstream(path()) << garbage;
  // SQLITE_NOTADB maps to FailedPrecondition: not a journal of this version.
  EXPECT_EQ(SqliteJournal::Open(path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::stringstream text;
  text << std::ifstream(path()).rdbuf();
  EXPECT_EQ(text.str(), garbage);  // a failed call changes nothing on disk
}

TEST_F(SqliteJournalTest, OpenInMissingDirectoryReturnsUnavailable) {
  // SQLITE_CANTOPEN maps to Unavailable.
  EXPECT_EQ(SqliteJournal::Open(dir() + "/missing/journal.db").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(SqliteJournalTest, ReadsBeforeRecoverAreFailedPrecondition) {
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(
      journal->AppendTasks(PackTasks({MakeTask("a", "p")}), nullptr).ok());
  EXPECT_EQ(journal->ReadTasks(0, 1, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal->FindTask("a").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal->Redrive({"a"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(journal->Recover("test job").ok());
  EXPECT_TRUE(journal->FindTask("a").ok());
}

TEST_F(SqliteJournalTest, OpenWithOtherSchemaReturnsFailedPrecondition) {
  ASSERT_NE(OpenJournal(), nullptr);
  ASSERT_EQ(RunSql(path(),
                   "UPDATE meta SET value = 3 WHERE key = 'schema';"
                   "SELECT value FROM meta WHERE key = 'schema'"),
            "3");
  EXPECT_EQ(SqliteJournal::Open(path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteJournalTest, IntegrityCheckAfterMixedCallsIsOk) {
  {
    std::unique_ptr<SqliteJournal> journal = OpenJournal();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal->Recover("test job").ok());
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks(MakeTasks({"a", "b", "c"})), nullptr)
            .ok());
    ASSERT_TRUE(journal->CommitOutcomes({Done("a", "r", 1)}).ok());
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks({MakeTask("a", "again")}), nullptr)
            .ok());
    ASSERT_TRUE(journal->CommitOutcomes({Dead("b", "no_result", 4)}).ok());
    ASSERT_TRUE(journal->MarkHandled({{"a"}, {"b"}}, 10).ok());
    ASSERT_TRUE(journal->Recover("test job").ok());
  }
  EXPECT_EQ(RunSql(path(), "PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteJournalTest, ConcurrentAppendsAndCommitsAreAllRecovered) {
  constexpr int kThreads = 4;
  constexpr int kTasksPerThread = 25;
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&journal, t] {
      for (int i = 0; i < kTasksPerThread; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        EXPECT_TRUE(
            journal->AppendTasks(PackTasks({MakeTask(id, "p")}), nullptr).ok());
        EXPECT_TRUE(journal->CommitOutcomes({Done(id, "r", 1)}).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  journal.reset();
  const JournalState state = Restart();
  ASSERT_EQ(state.task_count, uint64_t{kThreads * kTasksPerThread});
  ASSERT_EQ(state.finished.size(), size_t{kThreads * kTasksPerThread});
  absl::flat_hash_set<std::string> ids;
  for (const StoredTask& stored : state.finished) {
    EXPECT_EQ(stored.state, TaskState::kDone) << stored.task.id();
    ids.insert(stored.task.id());
  }
  EXPECT_EQ(ids.size(), state.finished.size());
}

TEST_F(SqliteJournalTest, OpenOnForeignDatabaseReturnsFailedPrecondition) {
  MakeDatabase(path(), "CREATE TABLE photos(x); INSERT INTO photos VALUES (1)");
  EXPECT_EQ(SqliteJournal::Open(path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RunSql(path(), "SELECT group_concat(name) FROM sqlite_master"),
            "photos");
}

TEST_F(SqliteJournalTest, OpenWithOtherSchemaLeavesFileUnchanged) {
  MakeDatabase(path(),
               "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT "
               "NULL) WITHOUT ROWID; INSERT INTO meta VALUES ('schema', 3)");
  EXPECT_EQ(SqliteJournal::Open(path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RunSql(path(), "SELECT group_concat(name) FROM sqlite_master"),
            "meta");
  EXPECT_EQ(RunSql(path(), "PRAGMA journal_mode"), "delete");
}

TEST_F(SqliteJournalTest, RecoverForAnotherJobIsFailedPreconditionUntouched) {
  ASSERT_EQ(Restart().generation, 1u);
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  const absl::StatusOr<JournalState> other = journal->Recover("another job");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("test job"), std::string::npos)
      << other.status();
  journal.reset();
  EXPECT_EQ(Restart().generation, 2u) << "the refused start counted";
}

TEST_F(SqliteJournalTest, OpenWhileAnotherMasterHoldsItReturnsUnavailable) {
  std::unique_ptr<SqliteJournal> first = OpenJournal();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Recover("test job").ok());
  absl::StatusOr<std::unique_ptr<SqliteJournal>> second =
      SqliteJournal::Open(path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by another master"),
            std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace distributo::server
