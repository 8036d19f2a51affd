// Opening a journal written by a master of layout version 1, which kept each
// task's state, attempts, outcome and handled mark in the task's row.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "server/sqlite_journal.h"
#include "tests/server/journal_files.h"

namespace distributo::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;

// Version 1's tables, as its master made them.
constexpr char kVersion1Schema[] = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;
CREATE TABLE tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  task BLOB NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome BLOB,
  handled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO meta VALUES ('schema', 1), ('job', 'test job'),
  ('job_id', 'job-1'), ('generation', 3), ('sink_position', 42);
)sql";

// A SQL literal of a message's bytes.
std::string Blob(const google::protobuf::MessageLite& message) {
  return absl::StrCat("X'", absl::BytesToHexString(message.SerializeAsString()),
                      "'");
}

std::string ResultBlob(const std::string& value) {
  google::protobuf::StringValue result;
  result.set_value(value);
  google::protobuf::Any any;
  any.PackFrom(result);
  return Blob(any);
}

std::string FailureBlob(const std::string& code) {
  v1::Failure failure;
  failure.set_code(code);
  return Blob(failure);
}

// The version 1 row of a task: state 0 unfinished, 1 done, 2 dead.
std::string Row(int seq, const std::string& id, int state, int attempts,
                const std::string& outcome, bool handled) {
  return absl::StrCat("INSERT INTO tasks VALUES (", seq, ", '", id, "', ",
                      Blob(MakeTask(id, "p")), ", ", state, ", ", attempts,
                      ", ", outcome, ", ", handled ? 1 : 0, ");");
}

class SqliteJournalMigrationTest : public JournalFileTest {
 protected:
  // Writes a version 1 journal of five tasks: a unfinished, b done, c done
  // and handled, d dead, e dead and handled.
  void MakeVersion1Journal(const std::string& outcome_of_b) {
    MakeDatabase(path(),
                 absl::StrCat(kVersion1Schema, Row(1, "a", 0, 0, "NULL", false),
                              Row(2, "b", 1, 2, outcome_of_b, false),
                              Row(3, "c", 1, 1, ResultBlob("rc"), true),
                              Row(4, "d", 2, 3, FailureBlob("x"), false),
                              Row(5, "e", 2, 4, FailureBlob("y"), true)));
  }
};

TEST_F(SqliteJournalMigrationTest, Version1JournalResumesAsItWas) {
  MakeVersion1Journal(ResultBlob("rb"));
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<JournalState> state = journal->Recover("test job");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->generation, 4u);
  EXPECT_EQ(state->job_id, "job-1");
  EXPECT_EQ(state->sink_position, 42u);
  EXPECT_EQ(state->task_count, 5u);
  EXPECT_EQ(state->handled_done, 1u) << "c";
  ASSERT_EQ(state->finished.size(), 3u);
  const StoredTask& b = state->finished[0];
  EXPECT_EQ(b.task.id(), "b");
  EXPECT_EQ(b.state, TaskState::kDone);
  EXPECT_EQ(b.attempts, 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(b.task, MakeTask("b", "p")));
  google::protobuf::StringValue result;
  ASSERT_TRUE(b.result.UnpackTo(&result));
  EXPECT_EQ(result.value(), "rb");
  EXPECT_EQ(state->finished[1].task.id(), "d");
  EXPECT_EQ(state->finished[1].failure.code(), "x");
  EXPECT_FALSE(state->finished[1].handled);
  EXPECT_EQ(state->finished[2].task.id(), "e");
  EXPECT_EQ(state->finished[2].attempts, 4u);
  EXPECT_TRUE(state->finished[2].handled);

  absl::StatusOr<std::vector<JournaledTask>> page =
      journal->ReadTasks(0, 5, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 5u);
  EXPECT_FALSE((*page)[0].finished);
  EXPECT_TRUE(
      MessageDifferencer::Equals((*page)[0].task.ToTask(), MakeTask("a", "p")));
  for (size_t i = 1; i < page->size(); ++i) EXPECT_TRUE((*page)[i].finished);
  journal.reset();
  EXPECT_EQ(RunSql(path(), "SELECT value FROM meta WHERE key = 'schema'"), "2");
  EXPECT_EQ(RunSql(path(),
                   "SELECT group_concat(name) FROM pragma_table_info('tasks')"),
            "seq,id,task");
  EXPECT_EQ(RunSql(path(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(RunSql(path(), "SELECT count(*) FROM rounds"), "1");
}

TEST_F(SqliteJournalMigrationTest, AMigratedJournalGoesOnAsAnyOther) {
  MakeVersion1Journal(ResultBlob("rb"));
  {
    std::unique_ptr<SqliteJournal> journal = OpenRecovered();
    ASSERT_NE(journal, nullptr);
    std::vector<TaskRef> added;
    ASSERT_TRUE(
        journal->AppendTasks(PackTasks({MakeTask("f", "p")}), &added).ok());
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0].seq, 6u);
    FinishedTask a;
    a.task = PackedTask(MakeTask("a", "p"));
    a.result.PackFrom(google::protobuf::StringValue());
    a.attempts = 1;
    ASSERT_TRUE(journal->CommitOutcomes({a}).ok());
    ASSERT_TRUE(journal->MarkHandled({{"b"}}, 50).ok());
  }
  const JournalState state = Restart();
  EXPECT_EQ(state.task_count, 6u);
  EXPECT_EQ(state.handled_done, 2u) << "c and b";
  ASSERT_EQ(state.finished.size(), 3u);
  EXPECT_EQ(state.finished[0].task.id(), "a");
  EXPECT_EQ(state.finished[1].task.id(), "d");
  EXPECT_EQ(state.finished[2].task.id(), "e");
}

TEST_F(SqliteJournalMigrationTest,
       UnparsableOutcomeIsDataLossAndKeepsVersion1) {
  MakeVersion1Journal("X'ff'");
  EXPECT_EQ(SqliteJournal::Open(path()).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RunSql(path(), "SELECT value FROM meta WHERE key = 'schema'"), "1");
  EXPECT_EQ(RunSql(path(), "SELECT count(*) FROM tasks WHERE state = 1"), "2");
}

}  // namespace
}  // namespace distributo::server
