#include "server/sqlite_journal.h"

#include <array>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "google/protobuf/arena.h"
#include "server/move_append.h"
#include "server/random_id.h"

namespace distributo::server {
namespace {

// Tasks appended in one transaction, at most.
constexpr size_t kAppendChunk = 10'000;
// Rows per INSERT statement, largest first: one run of a statement for
// many rows costs much less than a run per row (bench/count_instructions.sh);
// the smaller ones take what is left, down to one.
constexpr std::array<size_t, 3> kRowsPerInsert = {64, 8, 1};

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
// The seq of the task with id ?1 (LookUpSeq()).
constexpr char kSeqOfId[] = "SELECT seq FROM tasks WHERE id = ?1";
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

// Adds a finished task, the one with `seq`, to a round.
void AddOutcome(const FinishedTask& task, uint64_t seq,
                journal::RoundSummary* summary,
                journal::RoundOutcomes* outcomes) {
  (task.dead ? summary->mutable_dead() : summary->mutable_done())->Add(seq);
  journal::TaskOutcome& outcome = *outcomes->add_outcomes();
  outcome.set_seq(seq);
  outcome.set_attempts(task.attempts);
  if (task.dead) {
    *outcome.mutable_failure() = task.failure;
  } else {
    *outcome.mutable_result() = task.result;
  }
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

template <typename Call>
auto SqliteJournal::Durably(Call call) {
  uint64_t commit = 0;
  auto result = [&]() -> decltype(call()) {
    absl::MutexLock lock(&mu_);
    auto called = call();
    commit = log_->Written();
    return called;
  }();
  if (!result.ok()) return result;
  if (absl::Status synced = log_->Sync(commit); !synced.ok()) {
    return decltype(result)(synced);
  }
  return result;
}

template <typename Body>
absl::Status SqliteJournal::InTransaction(Body body) {
  // Nothing is written once a sync has failed (LogSyncer).
  if (absl::Status failed = log_->Check(); !failed.ok()) return failed;
  // A ROLLBACK that failed earlier leaves its transaction open: end it now,
  // or no BEGIN would ever succeed again.
  if (!sqlite3_get_autocommit(db_)) Run("ROLLBACK").IgnoreError();
  if (absl::Status status = Run("BEGIN IMMEDIATE"); !status.ok()) {
    return status;
  }
  absl::Status status = body();
  if (status.ok()) status = Run("COMMIT");
  if (!status.ok() && !sqlite3_get_autocommit(db_)) {
    // A failed COMMIT may leave the transaction open; end it so that the
    // next call starts clean. Its own error adds nothing to `status`.
    Run("ROLLBACK").IgnoreError();
  }
  return status;
}

template <typename T>
absl::Status SqliteJournal::SetMeta(absl::string_view key, T value) {
  SqliteStatement set(statements_,
                      "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (set.code() != SQLITE_OK) return Error("prepare meta", set.code());
  set.Bind(1, key);
  set.Bind(2, value);
  const int code = set.Step();
  return code == SQLITE_DONE ? absl::OkStatus() : Error("set meta", code);
}

template <typename T>
absl::StatusOr<std::optional<T>> SqliteJournal::GetMeta(absl::string_view key) {
  SqliteStatement get(db_, "SELECT value FROM meta WHERE key = ?1");
  if (get.code() != SQLITE_OK) return Error("prepare meta", get.code());
  get.Bind(1, key);
  const int code = get.Step();
  if (code == SQLITE_DONE) return std::optional<T>();
  if (code != SQLITE_ROW) return Error("read meta", code);
  T value;
  get.Read(0, &value);
  get.Step();  // Completes the statement.
  return std::optional<T>(std::move(value));
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

absl::StatusOr<uint64_t> SqliteJournal::LookUpSeq(SqliteStatement& by_id,
                                                  absl::string_view id) {
  by_id.Bind(1, id);
  const int code = by_id.Step();
  if (code == SQLITE_DONE) return 0;
  if (code != SQLITE_ROW) return Error("find task", code);
  const auto seq = static_cast<uint64_t>(by_id.Int(0));
  by_id.Step();  // Completes the statement.
  return seq;
}

template <typename Body>
absl::Status SqliteJournal::InRound(Body body) {
  // A round holds a copy of each outcome in it: on an arena, they cost no
  // malloc and free each.
  google::protobuf::Arena arena;
  journal::RoundSummary& summary =
      *google::protobuf::Arena::CreateMessage<journal::RoundSummary>(&arena);
  journal::RoundOutcomes& outcomes =
      *google::protobuf::Arena::CreateMessage<journal::RoundOutcomes>(&arena);
  std::optional<int64_t> round;
  const absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        if (absl::Status filled = body(&summary, &outcomes); !filled.ok()) {
          return filled;
        }
        absl::StatusOr<std::optional<int64_t>> inserted =
            InsertRound(summary, outcomes);
        if (!inserted.ok()) return inserted.status();
        round = *inserted;
        return absl::OkStatus();
      });
  // SQLite may report an error for a commit that did happen: then the round
  // is on disk, and states_ must say so too.
  if (status.ok() || (round.has_value() && RoundCommitted(*round))) {
    states_.Apply(summary);
  }
  return status;
}

absl::StatusOr<std::optional<int64_t>> SqliteJournal::InsertRound(
    const journal::RoundSummary& summary,
    const journal::RoundOutcomes& outcomes) {
  if (summary.done().empty() && summary.dead().empty() &&
      summary.handled().empty() && summary.redriven().empty()) {
    return std::nullopt;
  }
  SqliteStatement insert(
      statements_, "INSERT INTO rounds(summary, outcomes) VALUES (?1, ?2)");
  if (insert.code() != SQLITE_OK) return Error("prepare round", insert.code());
  insert.BindBlob(1, summary.SerializeAsString());
  if (outcomes.outcomes().empty()) {
    insert.BindNull(2);
  } else {
    insert.BindBlob(2, outcomes.SerializeAsString());
  }
  if (const int code = insert.Step(); code != SQLITE_DONE) {
    return Error("write round", code);
  }
  return sqlite3_last_insert_rowid(db_);
}

bool SqliteJournal::RoundCommitted(int64_t round) {
  // Inside a transaction left open, the row may be its own, uncommitted.
  if (!sqlite3_get_autocommit(db_)) return false;
  SqliteStatement select(db_, "SELECT 1 FROM rounds WHERE round = ?1");
  select.Bind(1, round);
  const int code = select.Step();
  if (code == SQLITE_ROW) select.Step();  // Completes the statement.
  return code == SQLITE_ROW;
}

absl::StatusOr<uint64_t> SqliteJournal::SeqOf(
    std::optional<SqliteStatement>& by_id, uint64_t seq, absl::string_view id) {
  // A seq of no task would leave the journal naming a row it lacks. The
  // row's id is not checked: that lookup would cost a third of a commit.
  if (seq > task_count_) {
    return absl::InternalError(absl::StrCat(
        "journal ", path_, ": task ", id, " has seq ", seq, " past the last, ",
        task_count_, "; nothing was committed (a bug: please report it)"));
  }
  if (seq != 0) return seq;
  if (!by_id.has_value()) {
    by_id.emplace(statements_, kSeqOfId);
    if (by_id->code() != SQLITE_OK) return Error("prepare find", by_id->code());
  }
  return LookUpSeq(*by_id, id);
}

absl::Status SqliteJournal::CommitOutcomes(
    const std::vector<FinishedTask>& finished) {
  if (finished.empty()) return absl::OkStatus();
  return Durably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return CommitOutcomesLocked(finished);
  });
}

absl::Status SqliteJournal::CommitOutcomesLocked(
    const std::vector<FinishedTask>& finished) {
  return InRound(
      [&](journal::RoundSummary* summary, journal::RoundOutcomes* outcomes)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
            std::optional<SqliteStatement> by_id;
            // A task named twice ends as its last outcome says, not both
            // done and dead.
            absl::flat_hash_map<uint64_t, const FinishedTask*> last;
            last.reserve(finished.size());
            std::vector<uint64_t> seqs;
            for (const FinishedTask& task : finished) {
              absl::StatusOr<uint64_t> seq =
                  SeqOf(by_id, task.seq, task.task.id());
              if (!seq.ok()) return seq.status();
              if (*seq == 0) continue;  // Not journaled: nothing to record.
              if (last.insert_or_assign(*seq, &task).second) {
                seqs.push_back(*seq);
              }
            }
            for (uint64_t seq : seqs) {
              AddOutcome(*last[seq], seq, summary, outcomes);
            }
            return absl::OkStatus();
          });
}

absl::Status SqliteJournal::MarkHandled(const std::vector<TaskRef>& tasks,
                                        uint64_t sink_position) {
  absl::MutexLock lock(&mu_);
  // Not synced: see the class comment.
  auto mark = [&](journal::RoundSummary* summary, journal::RoundOutcomes*)
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    std::optional<SqliteStatement> by_id;
    for (const TaskRef& task : tasks) {
      absl::StatusOr<uint64_t> seq = SeqOf(by_id, task.seq, task.id);
      if (!seq.ok()) return seq.status();
      if (*seq != 0) summary->add_handled(*seq);
    }
    return SetMeta("sink_position", static_cast<int64_t>(sink_position));
  };
  return InRound(mark);
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
