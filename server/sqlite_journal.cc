#include "server/sqlite_journal.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/random_id.h"
#include "server/sqlite_journal_templates.h"

namespace distributo::server {
namespace {

// The layout this master writes. It reads this one and version 1, which it
// migrates at open (sqlite_journal_migration.cc); another is refused.
constexpr int64_t kSchemaVersion = 2;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value NOT NULL  -- an integer, or text for 'job'
) WITHOUT ROWID;
-- One row per task, in enqueue order, as appended: never updated.
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  task BLOB NOT NULL
);
-- One row per call that changed tasks, in order: the serialized
-- distributo.server.journal.RoundSummary and RoundOutcomes (NULL: none).
-- The summary comes first, so that replaying it skips the outcomes' pages.
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY,
  summary BLOB NOT NULL,
  outcomes BLOB
);
)sql";

// Rows of (seq, id, task), the task NULL for a finished one: its payload is
// not needed, and SQLite then does not read it (nor its overflow pages, for
// a large one), which matters when the queue pages past many finished rows
// after a restart. distributo_finished() is SqliteJournal::SqlFinished().
constexpr char kReadTasks[] =
    "SELECT seq, id, CASE WHEN distributo_finished(seq) THEN NULL ELSE task "
    "END FROM tasks WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";
constexpr char kFindTask[] =
    "SELECT seq, id, CASE WHEN distributo_finished(seq) THEN NULL ELSE task "
    "END FROM tasks WHERE id = ?1";

absl::StatusCode CodeFor(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
      return absl::StatusCode::kDataLoss;
    case SQLITE_NOTADB:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

// Reads a row of (seq, id, task) into `task`, the task NULL for a finished
// one (kReadTasks), whose id alone it keeps.
void ReadRow(SqliteStatement& row, JournaledTask* task) {
  task->seq = static_cast<uint64_t>(row.Int(0));
  task->finished = row.IsNull(2);
  const absl::string_view id = row.Bytes(1);
  v1::Task parsed;
  if (!task->finished) {
    const absl::string_view bytes = row.Bytes(2);
    task->unreadable =
        !parsed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
  if (task->finished || task->unreadable) {
    task->task = PackedTask(id);
    return;
  }
  parsed.set_id(std::string(id));
  task->task = PackedTask(std::move(parsed));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteJournal>> SqliteJournal::Open(
    const std::string& path) {
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (code != SQLITE_OK) {
    const std::string reason = db != nullptr ? sqlite3_errmsg(db) : "no memory";
    sqlite3_close(db);
    return absl::Status(CodeFor(code), absl::StrCat("cannot open journal ",
                                                    path, ": ", reason));
  }
  std::unique_ptr<SqliteJournal> journal(new SqliteJournal(path, db));
  absl::MutexLock lock(&journal->mu_);
  if (absl::Status status = journal->SetUp(); !status.ok()) return status;
  if (const int code = sqlite3_create_function_v2(
          db, "distributo_finished", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
          journal.get(), &SqlFinished, nullptr, nullptr, nullptr);
      code != SQLITE_OK) {
    return journal->Error("register distributo_finished", code);
  }
  if (auto count = journal->TaskCountLocked(); !count.ok()) {
    return count.status();
  }
  return journal;
}

void TurnOffSqliteMemoryStatistics() {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

SqliteJournal::SqliteJournal(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), statements_(db) {}

SqliteJournal::~SqliteJournal() {
  absl::MutexLock lock(&mu_);
  statements_.Clear();  // an unfinalized statement keeps the file open
  sqlite3_close(db_);
}

absl::Status SqliteJournal::Error(absl::string_view what, int code) {
  const int primary = code & 0xff;
  // busy_timeout has passed: only another process holds the file this long.
  const char* hint = primary == SQLITE_BUSY || primary == SQLITE_LOCKED
                         ? "; in use by another master?"
                         : "";
  return absl::Status(
      CodeFor(code),
      absl::StrCat("journal ", path_, ": ", what, ": ", sqlite3_errstr(code),
                   " (", sqlite3_errmsg(db_), ")", hint));
}

absl::Status SqliteJournal::Exec(const char* sql) {
  const int code = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return code == SQLITE_OK ? absl::OkStatus() : Error(sql, code);
}

absl::Status SqliteJournal::Run(const char* sql) {
  SqliteStatement statement(statements_, sql);
  if (statement.code() != SQLITE_OK) return Error(sql, statement.code());
  const int code = statement.Step();
  return code == SQLITE_DONE ? absl::OkStatus() : Error(sql, code);
}

absl::Status SqliteJournal::SetUp() {
  // One master per journal: the first read takes a lock that is held until
  // the connection closes, so a second master cannot interleave its writes.
  for (const char* pragma :
       {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA busy_timeout=1000"}) {
    if (absl::Status status = Exec(pragma); !status.ok()) return status;
  }
  absl::StatusOr<int64_t> version = CheckLayout();
  if (!version.ok()) return version.status();
  // WAL: a commit appends to one file, readers never block the writer.
  // NORMAL: a commit does not wait for the disk while it holds the
  // connection; Durably() syncs the log after it (see the class comment).
  if (absl::Status status = EnterWal(); !status.ok()) return status;
  if (absl::Status status = Exec("PRAGMA synchronous=NORMAL"); !status.ok()) {
    return status;
  }
  if (absl::Status status = OpenLog(); !status.ok()) return status;
  if (*version == kSchemaVersion) return absl::OkStatus();
  // A new journal, or one of version 1, whose tables the new ones join.
  return InTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        if (absl::Status status = Exec(kSchema); !status.ok()) return status;
        if (*version == 1) {
          if (absl::Status status = MigrateFromVersion1(); !status.ok()) {
            return status;
          }
        }
        return SetMeta("schema", kSchemaVersion);
      });
}

absl::Status SqliteJournal::OpenLog() {
  // Moves everything in the log into the database file, synced, and empties
  // the log: a process that ran before may have left commits there that
  // never reached the disk (a failed write-back the kernel then counts as
  // written), after which new commits would be lost with them in a power
  // cut. It also leaves the log in place, for LogSyncer to open.
  if (const int code = sqlite3_wal_checkpoint_v2(
          db_, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
      code != SQLITE_OK) {
    return Error("checkpoint the log", code);
  }
  // As SQLite names it (symbolic links resolved, for one).
  absl::StatusOr<std::unique_ptr<LogSyncer>> log =
      LogSyncer::Open(sqlite3_filename_wal(sqlite3_db_filename(db_, "main")));
  if (!log.ok()) return log.status();
  log_ = *std::move(log);
  return absl::OkStatus();
}

absl::Status SqliteJournal::EnterWal() {
  SqliteStatement wal(db_, "PRAGMA journal_mode=WAL");
  if (wal.code() != SQLITE_OK) return Error("enter WAL mode", wal.code());
  if (const int code = wal.Step(); code != SQLITE_ROW) {
    return Error("enter WAL mode", code);
  }
  // SQLite answers with the mode it is in, which stays the old one when it
  // cannot switch (e.g. a file system without shared memory).
  const std::string mode(wal.Bytes(0));
  wal.Step();  // Completes the statement.
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "journal ", path_, ": cannot enter WAL mode (stays in ", mode, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteJournal::CheckLayout() {
  SqliteStatement tables(db_,
                         "SELECT count(*), count(name = 'meta' OR NULL) "
                         "FROM sqlite_master WHERE type = 'table'");
  if (tables.code() != SQLITE_OK) return Error("read layout", tables.code());
  if (const int code = tables.Step(); code != SQLITE_ROW) {
    return Error("read layout", code);
  }
  const int64_t count = tables.Int(0);
  const bool has_meta = tables.Int(1) > 0;
  tables.Step();  // Completes the statement.
  if (count == 0) return 0;
  absl::StatusOr<std::optional<int64_t>> schema =
      has_meta ? GetMeta<int64_t>("schema") : std::optional<int64_t>();
  if (!schema.ok()) return schema.status();
  if (!schema->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_,
                     " is an SQLite database but not a Distributo journal; "
                     "name another file"));
  }
  if (**schema != 1 && **schema != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal ", path_, " has layout version ", **schema,
                     "; this master reads versions 1 and ", kSchemaVersion));
  }
  return **schema;
}

absl::Status SqliteJournal::ClaimJob(absl::string_view job) {
  absl::StatusOr<std::optional<std::string>> kept = GetMeta<std::string>("job");
  if (!kept.ok()) return kept.status();
  if (!kept->has_value()) return SetMeta("job", job);
  if (**kept == job) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "journal ", path_, " belongs to another job (", **kept,
      "), not to this one (", job,
      "): start with the same tasks and results to resume it, or name "
      "another journal"));
}

absl::StatusOr<JournalState> SqliteJournal::Recover(absl::string_view job) {
  return Durably(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return RecoverLocked(job); });
}

absl::StatusOr<JournalState> SqliteJournal::RecoverLocked(
    absl::string_view job) {
  JournalState state;
  absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        if (absl::Status claimed = ClaimJob(job); !claimed.ok()) {
          return claimed;
        }
        absl::StatusOr<std::optional<int64_t>> generation =
            GetMeta<int64_t>("generation");
        if (!generation.ok()) return generation.status();
        state.generation = static_cast<uint64_t>(generation->value_or(0)) + 1;
        absl::StatusOr<std::optional<std::string>> job_id =
            GetMeta<std::string>("job_id");
        if (!job_id.ok()) return job_id.status();
        absl::BitGen random;
        state.job_id = job_id->value_or(RandomHexId(random));
        if (!job_id->has_value()) {
          if (absl::Status set = SetMeta("job_id", state.job_id); !set.ok()) {
            return set;
          }
        }
        absl::StatusOr<std::optional<int64_t>> sink =
            GetMeta<int64_t>("sink_position");
        if (!sink.ok()) return sink.status();
        if (sink->has_value()) state.sink_position = **sink;
        if (absl::Status loaded = LoadTasks(&state); !loaded.ok()) {
          return loaded;
        }
        return SetMeta("generation", static_cast<int64_t>(state.generation));
      });
  if (!status.ok()) return status;
  recovered_ = true;
  return state;
}

absl::StatusOr<uint64_t> SqliteJournal::TaskCountLocked() {
  // No row is ever deleted, so the last seq counts them all.
  absl::StatusOr<int64_t> last =
      QueryInt("SELECT ifnull(max(seq), 0) FROM tasks", "count tasks");
  if (!last.ok()) return last.status();
  task_count_ = static_cast<uint64_t>(*last);
  return task_count_;
}

absl::StatusOr<int64_t> SqliteJournal::QueryInt(const char* sql,
                                                absl::string_view what) {
  SqliteStatement query(db_, sql);
  if (query.code() != SQLITE_OK) return Error(what, query.code());
  if (const int code = query.Step(); code != SQLITE_ROW) {
    return Error(what, code);
  }
  const int64_t value = query.Int(0);
  query.Step();  // Completes the statement.
  return value;
}

absl::StatusOr<std::vector<JournaledTask>> SqliteJournal::Redrive(
    const std::vector<std::string>& task_ids) {
  return Durably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return RedriveLocked(task_ids);
  });
}

absl::StatusOr<std::vector<JournaledTask>> SqliteJournal::RedriveLocked(
    const std::vector<std::string>& task_ids) {
  if (absl::Status status = CheckRecovered(); !status.ok()) return status;
  std::vector<JournaledTask> tasks;
  auto redrive = [&](journal::RoundSummary* summary, journal::RoundOutcomes*)
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    SqliteStatement select(db_,
                           "SELECT seq, id, task FROM tasks WHERE id = ?1");
    if (select.code() != SQLITE_OK) {
      return Error("prepare redrive", select.code());
    }
    for (const std::string& id : task_ids) {
      select.Bind(1, id);
      const int code = select.Step();
      if (code == SQLITE_DONE) continue;
      if (code != SQLITE_ROW) return Error("redrive", code);
      const uint64_t seq = static_cast<uint64_t>(select.Int(0));
      // Done tasks stay done; unfinished ones are returned again.
      if (!states_.finished(seq) || states_.dead(seq)) {
        ReadRow(select, &tasks.emplace_back());
        summary->add_redriven(seq);
      }
      select.Step();  // Completes the statement.
    }
    return absl::OkStatus();
  };
  const absl::Status status = InRound(redrive);
  if (!status.ok()) return status;
  return tasks;
}

absl::StatusOr<std::vector<JournaledTask>> SqliteJournal::ReadTasks(
    uint64_t after_seq, uint64_t up_to_seq, size_t max_tasks) {
  absl::MutexLock lock(&mu_);
  if (absl::Status status = CheckRecovered(); !status.ok()) return status;
  SqliteStatement select(statements_, kReadTasks);
  if (select.code() != SQLITE_OK) return Error("prepare read", select.code());
  select.Bind(1, static_cast<int64_t>(after_seq));
  select.Bind(2, static_cast<int64_t>(up_to_seq));
  select.Bind(3, static_cast<int64_t>(max_tasks));
  std::vector<JournaledTask> tasks;
  int code;
  while ((code = select.Step()) == SQLITE_ROW) {
    ReadRow(select, &tasks.emplace_back());
  }
  if (code != SQLITE_DONE) return Error("read tasks", code);
  return tasks;
}

absl::StatusOr<std::optional<JournaledTask>> SqliteJournal::FindTask(
    absl::string_view task_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status status = CheckRecovered(); !status.ok()) return status;
  SqliteStatement select(statements_, kFindTask);
  if (select.code() != SQLITE_OK) return Error("prepare find", select.code());
  select.Bind(1, task_id);
  const int code = select.Step();
  if (code == SQLITE_DONE) return std::nullopt;
  if (code != SQLITE_ROW) return Error("find task", code);
  JournaledTask task;
  ReadRow(select, &task);
  select.Step();  // Completes the statement.
  return task;
}

void SqliteJournal::SqlFinished(sqlite3_context* context, int,
                                sqlite3_value** args) {
  auto* journal = static_cast<SqliteJournal*>(sqlite3_user_data(context));
  // Called from within a statement, which runs under mu_.
  journal->mu_.AssertHeld();
  const sqlite3_int64 seq = sqlite3_value_int64(args[0]);
  sqlite3_result_int(context, seq > 0 && journal->states_.finished(
                                             static_cast<uint64_t>(seq)));
}

absl::Status SqliteJournal::CheckRecovered() const {
  if (recovered_) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "journal ", path_, ": read before Recover() (a bug: please report it)"));
}

absl::Status SqliteJournal::Corrupt(absl::string_view what) const {
  return absl::DataLossError(absl::StrCat("journal ", path_, ": ", what));
}

absl::StatusOr<std::unique_ptr<Journal>> OpenJournalAt(
    const std::string& path) {
  if (path.empty()) return std::make_unique<InMemoryJournal>();
  auto journal = SqliteJournal::Open(path);
  if (!journal.ok()) return journal.status();
  return std::unique_ptr<Journal>(*std::move(journal));
}

}  // namespace distributo::server
