#include "tests/server/journal_files.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"

namespace distributo::server {

v1::Task MakeTask(const std::string& id, const std::string& payload) {
  v1::Task task;
  task.set_id(id);
  google::protobuf::StringValue value;
  value.set_value(payload);
  task.mutable_payload()->PackFrom(value);
  (*task.mutable_labels())["origin"] = absl::StrCat("label-", id);
  return task;
}

std::vector<v1::Task> MakeTasks(const std::vector<std::string>& ids) {
  std::vector<v1::Task> tasks;
  tasks.reserve(ids.size());
  for (const std::string& id : ids) tasks.push_back(MakeTask(id, "p"));
  return tasks;
}

std::string RunSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string last;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
      SQLITE_OK) {
    const int code = sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int, char** values, char**) {
          *static_cast<std::string*>(out) = values[0] ? values[0] : "";
          return 0;
        },
        &last, nullptr);
    if (code != SQLITE_OK) last = sqlite3_errmsg(db);
  } else {
    last = sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return last;
}

void MakeDatabase(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

JournalFileTest::JournalFileTest() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  dir_ = absl::StrCat(testing::TempDir(), "/", info->test_suite_name(), "_",
                      info->name(), "_", getpid());
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

JournalFileTest::~JournalFileTest() { std::filesystem::remove_all(dir_); }

std::unique_ptr<SqliteJournal> JournalFileTest::OpenJournal() {
  absl::StatusOr<std::unique_ptr<SqliteJournal>> journal =
      SqliteJournal::Open(path());
  EXPECT_TRUE(journal.ok()) << journal.status();
  return journal.ok() ? *std::move(journal) : nullptr;
}

std::unique_ptr<SqliteJournal> JournalFileTest::OpenRecovered() {
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  if (journal != nullptr) RecoverState(*journal);
  return journal;
}

JournalState JournalFileTest::Restart() {
  std::unique_ptr<SqliteJournal> journal = OpenJournal();
  return journal != nullptr ? RecoverState(*journal) : JournalState();
}

JournalState JournalFileTest::RecoverState(SqliteJournal& journal) {
  absl::StatusOr<JournalState> state = journal.Recover("test job");
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : JournalState();
}

}  // namespace distributo::server
