#ifndef DISTRIBUTO_TESTS_SERVER_JOURNAL_FILES_H_
#define DISTRIBUTO_TESTS_SERVER_JOURNAL_FILES_H_

#include <memory>
#include <string>
#include <vector>

#include "distributo/v1/task.pb.h"
#include "gtest/gtest.h"
#include "server/sqlite_journal.h"

namespace distributo::server {

// A task with a google.protobuf.StringValue payload and one label.
v1::Task MakeTask(const std::string& id, const std::string& payload);
// Returns one MakeTask(id, "p") per id, in order.
std::vector<v1::Task> MakeTasks(const std::vector<std::string>& ids);

// Runs `sql` on its own connection, as another tool would, and returns the
// first column of the last row (empty if none), or the error message.
std::string RunSql(const std::string& path, const std::string& sql);

// Creates an SQLite database at `path` holding what `sql` makes, as another
// program (or another version of the master) would have left it.
void MakeDatabase(const std::string& path, const std::string& sql);

// Gives each test its own empty directory for a journal, so runs never see
// each other's files, even when several test binaries run at once.
class JournalFileTest : public testing::Test {
 protected:
  JournalFileTest();
  ~JournalFileTest() override;

  const std::string& dir() const { return dir_; }
  std::string path() const { return dir_ + "/journal.db"; }

  std::unique_ptr<SqliteJournal> OpenJournal();
  // Opens the journal and recovers it as the job "test job", as a master
  // does before serving.
  std::unique_ptr<SqliteJournal> OpenRecovered();
  // Returns what a restarted master finds: a fresh connection, so nothing
  // can come from the writer's memory.
  JournalState Restart();

 private:
  // Returns the state `journal` recovers, or an empty one (and a failure).
  static JournalState RecoverState(SqliteJournal& journal);

  std::string dir_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_TESTS_SERVER_JOURNAL_FILES_H_
