// SqliteJournal's appends: tasks in chunks of a transaction each, many rows
// per INSERT, and which of them the journal did not have yet.
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "server/move_append.h"
#include "server/sqlite_journal.h"
#include "server/sqlite_journal_templates.h"

namespace distributo::server {
namespace {

// Tasks appended in one transaction, at most.
constexpr size_t kAppendChunk = 10'000;
// Rows per INSERT statement, largest first: one run of a statement for
// many rows costs much less than a run per row (bench/count_instructions.sh);
// the smaller ones take what is left, down to one.
constexpr std::array<size_t, 3> kRowsPerInsert = {64, 8, 1};

}  // namespace

absl::StatusOr<uint64_t> SqliteJournal::AppendTasks(
    const std::vector<PackedTask>& tasks, std::vector<TaskRef>* added) {
  return Durably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return AppendTasksLocked(tasks, added);
  });
}

absl::StatusOr<uint64_t> SqliteJournal::AppendTasksLocked(
    const std::vector<PackedTask>& tasks, std::vector<TaskRef>* added) {
  // A transaction per chunk keeps the write-ahead log small for a file of
  // millions of tasks. A crash between chunks leaves a prefix journaled;
  // the tasks read again at restart fill in the rest.
  for (size_t start = 0; start < tasks.size(); start += kAppendChunk) {
    const absl::Span<const PackedTask> chunk =
        absl::MakeConstSpan(tasks).subspan(start, kAppendChunk);
    if (absl::Status status = AppendChunk(chunk, added); !status.ok()) {
      return status;
    }
  }
  return TaskCountLocked();
}

absl::Status SqliteJournal::AppendChunk(absl::Span<const PackedTask> tasks,
                                        std::vector<TaskRef>* added) {
  // Built once and never moved: statements_ keeps a statement by the
  // address of its SQL.
  static const auto* const inserts = [] {
    auto* sql = new std::array<std::string, kRowsPerInsert.size()>();
    for (size_t i = 0; i < sql->size(); ++i) {
      (*sql)[i] = InsertTasksSql(kRowsPerInsert[i]);
    }
    return sql;
  }();
  std::vector<TaskRef> chunk_added;
  absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        std::vector<std::string> rows(kRowsPerInsert[0]);  // the tasks' bytes
        for (size_t start = 0; start < tasks.size();) {
          size_t size = 0;  // the largest statement the tasks left fill
          while (kRowsPerInsert[size] > tasks.size() - start) ++size;
          absl::Status inserted = InsertTasks(
              (*inserts)[size].c_str(),
              tasks.subspan(start, kRowsPerInsert[size]), rows, &chunk_added);
          if (!inserted.ok()) return inserted;
          start += kRowsPerInsert[size];
        }
        return absl::OkStatus();
      });
  if (status.ok() && added != nullptr) {
    MoveAppend(chunk_added, *added);
  }
  return status;
}

std::string SqliteJournal::InsertTasksSql(size_t rows) {
  std::string sql = "INSERT INTO tasks(id, task) VALUES ";
  for (size_t row = 0; row < rows; ++row) {
    absl::StrAppend(&sql, row == 0 ? "" : ", ", "(?", 2 * row + 1, ", ?",
                    2 * row + 2, ")");
  }
  // Not RETURNING the rows it adds: that doubled the statement's cost.
  absl::StrAppend(&sql, " ON CONFLICT(id) DO NOTHING");
  return sql;
}

absl::Status SqliteJournal::InsertTasks(const char* sql,
                                        absl::Span<const PackedTask> tasks,
                                        std::vector<std::string>& rows,
                                        std::vector<TaskRef>* added) {
  SqliteStatement insert(statements_, sql);
  if (insert.code() != SQLITE_OK) {
    return Error("prepare append", insert.code());
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].SerializeTo(&rows[i]);
    // Both outlive the run: SQLite need not copy them.
    const int first = static_cast<int>(2 * i + 1);
    insert.Bind(first, tasks[i].id(), SqliteStatement::Keep::kBorrow);
    insert.BindBlob(first + 1, rows[i], SqliteStatement::Keep::kBorrow);
  }
  if (const int code = insert.Step(); code != SQLITE_DONE) {
    return Error("append tasks", code);
  }
  const auto inserted = static_cast<uint64_t>(sqlite3_changes(db_));
  if (inserted == 0) return absl::OkStatus();  // all known: a resumed job
  // The rows added took the seqs after the last one, in the tasks' order.
  const uint64_t first_seq =
      static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)) - inserted + 1;
  if (inserted < tasks.size()) return FindAdded(tasks, first_seq, added);
  for (size_t i = 0; i < tasks.size(); ++i) {
    added->push_back({std::string(tasks[i].id()), first_seq + i});
  }
  return absl::OkStatus();
}

absl::Status SqliteJournal::FindAdded(absl::Span<const PackedTask> tasks,
                                      uint64_t first_seq,
                                      std::vector<TaskRef>* added) {
  SqliteStatement by_id(statements_, kSeqOfId);
  if (by_id.code() != SQLITE_OK) return Error("prepare find", by_id.code());
  uint64_t last_added = first_seq - 1;
  for (const PackedTask& task : tasks) {
    absl::StatusOr<uint64_t> seq = LookUpSeq(by_id, task.id());
    if (!seq.ok()) return seq.status();
    if (*seq == 0) {
      return absl::InternalError(absl::StrCat("journal ", path_, ": task ",
                                              task.id(),
                                              " is not in it just after "
                                              "its append"));
    }
    // Below first_seq: journaled before. At most last_added: a second copy
    // of an id added just now.
    if (*seq > last_added) {
      added->push_back({std::string(task.id()), *seq});
      last_added = *seq;
    }
  }
  return absl::OkStatus();
}

}  // namespace distributo::server
