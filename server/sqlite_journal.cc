#include "server/sqlite_journal.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "server/random_id.h"

namespace distributo::server {
namespace {

// Tasks appended in one transaction, at most.
constexpr size_t kAppendChunk = 10'000;

// The layout this master reads and writes; another value is refused.
constexpr int64_t kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value NOT NULL  -- an integer, or text for 'job'
) WITHOUT ROWID;
-- One row per task, in enqueue order. state: 0 unfinished, 1 done, 2 dead.
-- outcome: the serialized google.protobuf.Any result (done) or
-- distributo.v1.Failure (dead).
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  task BLOB NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome BLOB,
  handled INTEGER NOT NULL DEFAULT 0
);
)sql";

// Values of tasks.state besides 0, unfinished.
constexpr int kDone = 1;
constexpr int kDead = 2;

// A prepared statement, finalized when it goes out of scope. Borrows the
// connection, whose lock the caller holds.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql)
      : code_(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr)) {}
  ~Statement() { sqlite3_finalize(stmt_); }

  // SQLITE_OK once prepared; else the error that prevented it.
  int code() const { return code_; }

  void Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
  }
  void Bind(int index, absl::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void BindBlob(int index, absl::string_view bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.data(),
                      static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }

  // Runs the statement once more with its bindings; returns SQLITE_DONE,
  // SQLITE_ROW or an error code, and resets it after a completed run.
  int Step() {
    const int code = sqlite3_step(stmt_);
    if (code != SQLITE_ROW) sqlite3_reset(stmt_);
    return code;
  }

  int64_t Int(int column) { return sqlite3_column_int64(stmt_, column); }
  void Read(int column, int64_t* value) { *value = Int(column); }
  void Read(int column, std::string* value) {
    *value = std::string(Bytes(column));
  }
  absl::string_view Bytes(int column) {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? absl::string_view()
                           : absl::string_view(static_cast<const char*>(data),
                                               static_cast<size_t>(size));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int code_;
};

// One statement run against a task's row: through its seq, the row's key,
// when known, a third cheaper than through the index of ids. `sql` ends in
// "WHERE" and binds its values from ?2 to ?8; SqliteJournal::RowUpdated()
// checks the step.
class TaskRowStatement {
 public:
  // By seq, the id too: a wrong seq must not change another task's row.
  TaskRowStatement(sqlite3* db, absl::string_view sql)
      : by_seq_(db, absl::StrCat(sql, " seq = ?1 AND id = ?9").c_str()),
        by_id_(db, absl::StrCat(sql, " id = ?9").c_str()) {}

  // SQLITE_OK once both are prepared; else the error.
  int code() const {
    return by_seq_.code() != SQLITE_OK ? by_seq_.code() : by_id_.code();
  }

  // Returns the statement for the row of the task with `seq` (0: unknown)
  // and `id`, those bound.
  Statement& For(uint64_t seq, absl::string_view id) {
    Statement& statement = seq == 0 ? by_id_ : by_seq_;
    if (seq != 0) statement.Bind(1, static_cast<int64_t>(seq));
    statement.Bind(kIdParameter, id);
    return statement;
  }

 private:
  static constexpr int kIdParameter = 9;

  Statement by_seq_;
  Statement by_id_;
};

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

// Fills the outcome columns' meaning into `stored`: only unhandled finished
// tasks need theirs, to be handed to the sink again.
bool ParseOutcome(absl::string_view bytes, StoredTask* stored) {
  if (stored->state == TaskState::kDone) {
    return stored->result.ParseFromArray(bytes.data(),
                                         static_cast<int>(bytes.size()));
  }
  return stored->failure.ParseFromArray(bytes.data(),
                                        static_cast<int>(bytes.size()));
}

bool ParseTask(absl::string_view bytes, v1::Task* task) {
  return task->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// Reads a row of (seq, id, state, task or NULL) into `task`.
void ReadRow(Statement& row, JournaledTask* task) {
  task->seq = static_cast<uint64_t>(row.Int(0));
  task->finished = row.Int(2) != 0;
  if (!task->finished && !ParseTask(row.Bytes(3), &task->task)) {
    task->unreadable = true;
    task->task.Clear();
  }
  task->task.set_id(std::string(row.Bytes(1)));
}

TaskState StateOf(int64_t column) {
  return column == kDone   ? TaskState::kDone
         : column == kDead ? TaskState::kDead
                           : TaskState::kPending;
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
  return journal;
}

SqliteJournal::SqliteJournal(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

SqliteJournal::~SqliteJournal() {
  absl::MutexLock lock(&mu_);
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

absl::Status SqliteJournal::SetUp() {
  // One master per journal: the first read takes a lock that is held until
  // the connection closes, so a second master cannot interleave its writes.
  for (const char* pragma :
       {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA busy_timeout=1000"}) {
    if (absl::Status status = Exec(pragma); !status.ok()) return status;
  }
  absl::StatusOr<bool> is_new = CheckLayout();
  if (!is_new.ok()) return is_new.status();
  // WAL: a commit appends to one file, readers never block the writer.
  // FULL: the WAL is synced at every commit, so a commit survives power loss.
  if (absl::Status status = EnterWal(); !status.ok()) return status;
  if (absl::Status status = SetSync(Sync::kFull); !status.ok()) return status;
  if (!*is_new) return absl::OkStatus();
  return InTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        if (absl::Status status = Exec(kSchema); !status.ok()) return status;
        return SetMeta("schema", kSchemaVersion);
      });
}

absl::Status SqliteJournal::EnterWal() {
  Statement wal(db_, "PRAGMA journal_mode=WAL");
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

absl::StatusOr<bool> SqliteJournal::CheckLayout() {
  Statement tables(db_,
                   "SELECT count(*), count(name = 'meta' OR NULL) "
                   "FROM sqlite_master WHERE type = 'table'");
  if (tables.code() != SQLITE_OK) return Error("read layout", tables.code());
  if (const int code = tables.Step(); code != SQLITE_ROW) {
    return Error("read layout", code);
  }
  const int64_t count = tables.Int(0);
  const bool has_meta = tables.Int(1) > 0;
  tables.Step();  // Completes the statement.
  if (count == 0) return true;
  absl::StatusOr<std::optional<int64_t>> schema =
      has_meta ? GetMeta<int64_t>("schema") : std::optional<int64_t>();
  if (!schema.ok()) return schema.status();
  if (!schema->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_,
                     " is an SQLite database but not a Distributo journal; "
                     "name another file"));
  }
  if (**schema != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal ", path_, " has layout version ", **schema,
                     "; this master reads version ", kSchemaVersion));
  }
  return false;
}

absl::Status SqliteJournal::SetSync(Sync sync) {
  if (sync_ == sync) return absl::OkStatus();
  absl::Status status = Exec(sync == Sync::kFull ? "PRAGMA synchronous=FULL"
                                                 : "PRAGMA synchronous=NORMAL");
  // Unknown after a failure: the next call tries again.
  sync_ = status.ok() ? std::optional<Sync>(sync) : std::nullopt;
  return status;
}

template <typename Body>
absl::Status SqliteJournal::InTransaction(Body body, Sync sync) {
  // A ROLLBACK that failed earlier leaves its transaction open: end it now,
  // or no BEGIN would ever succeed again.
  if (!sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  // Outside any transaction: SQLite refuses to change it inside one.
  if (absl::Status status = SetSync(sync); !status.ok()) return status;
  if (absl::Status status = Exec("BEGIN IMMEDIATE"); !status.ok()) {
    return status;
  }
  absl::Status status = body();
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok() && !sqlite3_get_autocommit(db_)) {
    // A failed COMMIT may leave the transaction open; end it so that the
    // next call starts clean. Its own error adds nothing to `status`.
    Exec("ROLLBACK").IgnoreError();
  }
  return status;
}

template <typename T>
absl::Status SqliteJournal::SetMeta(absl::string_view key, T value) {
  Statement set(db_,
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
  Statement get(db_, "SELECT value FROM meta WHERE key = ?1");
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
  absl::MutexLock lock(&mu_);
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
  return state;
}

absl::Status SqliteJournal::LoadTasks(JournalState* state) {
  absl::StatusOr<uint64_t> count = TaskCountLocked();
  if (!count.ok()) return count.status();
  state->task_count = *count;
  absl::StatusOr<int64_t> handled_done =
      QueryInt("SELECT count(*) FROM tasks WHERE state = 1 AND handled = 1",
               "count handled tasks");
  if (!handled_done.ok()) return handled_done.status();
  state->handled_done = static_cast<uint64_t>(*handled_done);
  Statement select(db_,
                   "SELECT id, task, state, attempts, outcome, handled, seq "
                   "FROM tasks WHERE state != 0 AND (handled = 0 OR state = 2) "
                   "ORDER BY seq");
  if (select.code() != SQLITE_OK) return Error("prepare load", select.code());
  int code;
  while ((code = select.Step()) == SQLITE_ROW) {
    StoredTask& stored = state->finished.emplace_back();
    stored.seq = static_cast<uint64_t>(select.Int(6));
    stored.state = StateOf(select.Int(2));
    stored.attempts = static_cast<uint32_t>(select.Int(3));
    stored.handled = select.Int(5) != 0;
    if (stored.handled) {
      stored.task.set_id(std::string(select.Bytes(0)));
      continue;
    }
    if (!ParseTask(select.Bytes(1), &stored.task) ||
        !ParseOutcome(select.Bytes(4), &stored)) {
      return Unparsable(select.Bytes(0));
    }
  }
  return code == SQLITE_DONE ? absl::OkStatus() : Error("load tasks", code);
}

absl::StatusOr<uint64_t> SqliteJournal::TaskCountLocked() {
  // No row is ever deleted, so the last seq counts them all.
  absl::StatusOr<int64_t> last =
      QueryInt("SELECT ifnull(max(seq), 0) FROM tasks", "count tasks");
  if (!last.ok()) return last.status();
  return static_cast<uint64_t>(*last);
}

absl::StatusOr<int64_t> SqliteJournal::QueryInt(const char* sql,
                                                absl::string_view what) {
  Statement query(db_, sql);
  if (query.code() != SQLITE_OK) return Error(what, query.code());
  if (const int code = query.Step(); code != SQLITE_ROW) {
    return Error(what, code);
  }
  const int64_t value = query.Int(0);
  query.Step();  // Completes the statement.
  return value;
}

absl::StatusOr<uint64_t> SqliteJournal::AppendTasks(
    const std::vector<v1::Task>& tasks, std::vector<std::string>* added_ids) {
  absl::MutexLock lock(&mu_);
  // A transaction per chunk keeps the write-ahead log small for a file of
  // millions of tasks. A crash between chunks leaves a prefix journaled;
  // the tasks read again at restart fill in the rest.
  for (size_t start = 0; start < tasks.size(); start += kAppendChunk) {
    const absl::Span<const v1::Task> chunk =
        absl::MakeConstSpan(tasks).subspan(start, kAppendChunk);
    if (absl::Status status = AppendChunk(chunk, added_ids); !status.ok()) {
      return status;
    }
  }
  return TaskCountLocked();
}

absl::Status SqliteJournal::AppendChunk(absl::Span<const v1::Task> tasks,
                                        std::vector<std::string>* added_ids) {
  std::vector<std::string> added;
  absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        Statement insert(db_,
                         "INSERT INTO tasks(id, task) VALUES (?1, ?2) "
                         "ON CONFLICT(id) DO NOTHING");
        if (insert.code() != SQLITE_OK) {
          return Error("prepare append", insert.code());
        }
        std::string bytes;
        for (const v1::Task& task : tasks) {
          task.SerializeToString(&bytes);
          insert.Bind(1, task.id());
          insert.BindBlob(2, bytes);
          if (const int code = insert.Step(); code != SQLITE_DONE) {
            return Error("append tasks", code);
          }
          if (sqlite3_changes(db_) == 1) added.push_back(task.id());
        }
        return absl::OkStatus();
      });
  if (status.ok() && added_ids != nullptr) {
    added_ids->insert(added_ids->end(), std::make_move_iterator(added.begin()),
                      std::make_move_iterator(added.end()));
  }
  return status;
}

absl::Status SqliteJournal::CommitOutcomes(
    const std::vector<FinishedTask>& finished) {
  if (finished.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return InTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        TaskRowStatement updates(db_,
                                 "UPDATE tasks SET state = ?2, attempts = ?3, "
                                 "outcome = ?4 WHERE");
        if (updates.code() != SQLITE_OK) {
          return Error("prepare outcomes", updates.code());
        }
        std::string bytes;
        for (const FinishedTask& task : finished) {
          if (task.dead) {
            task.failure.SerializeToString(&bytes);
          } else {
            task.result.SerializeToString(&bytes);
          }
          Statement& update = updates.For(task.seq, task.task.id());
          update.Bind(2, task.dead ? kDead : kDone);
          update.Bind(3, task.attempts);
          update.BindBlob(4, bytes);
          if (absl::Status status = RowUpdated(update.Step(), "commit outcomes",
                                               task.seq, task.task.id());
              !status.ok()) {
            return status;
          }
        }
        return absl::OkStatus();
      });
}

absl::Status SqliteJournal::MarkHandled(const std::vector<TaskRef>& tasks,
                                        uint64_t sink_position) {
  absl::MutexLock lock(&mu_);
  return InTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        TaskRowStatement marks(db_, "UPDATE tasks SET handled = 1 WHERE");
        if (marks.code() != SQLITE_OK) {
          return Error("prepare handled", marks.code());
        }
        for (const TaskRef& task : tasks) {
          if (absl::Status status =
                  RowUpdated(marks.For(task.seq, task.id).Step(),
                             "mark handled", task.seq, task.id);
              !status.ok()) {
            return status;
          }
        }
        return SetMeta("sink_position", static_cast<int64_t>(sink_position));
      },
      Sync::kNormal);
}

absl::StatusOr<std::vector<JournaledTask>> SqliteJournal::Redrive(
    const std::vector<std::string>& task_ids) {
  absl::MutexLock lock(&mu_);
  std::vector<JournaledTask> tasks;
  const absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        Statement update(
            db_,
            "UPDATE tasks SET state = 0, attempts = 0, outcome = NULL, "
            "handled = 0 WHERE id = ?1 AND state != 1 "
            "RETURNING seq, id, state, task");
        if (update.code() != SQLITE_OK) {
          return Error("prepare redrive", update.code());
        }
        for (const std::string& id : task_ids) {
          update.Bind(1, id);
          int code;
          while ((code = update.Step()) == SQLITE_ROW) {
            ReadRow(update, &tasks.emplace_back());
          }
          if (code != SQLITE_DONE) return Error("redrive", code);
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return tasks;
}

absl::StatusOr<std::vector<JournaledTask>> SqliteJournal::ReadTasks(
    uint64_t after_seq, uint64_t up_to_seq, size_t max_tasks) {
  absl::MutexLock lock(&mu_);
  // The bodies of finished tasks are not needed, and not read.
  Statement select(db_,
                   "SELECT seq, id, state, CASE state WHEN 0 THEN task END "
                   "FROM tasks WHERE seq > ?1 AND seq <= ?2 ORDER BY seq "
                   "LIMIT ?3");
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
  Statement select(db_,
                   "SELECT seq, id, state, CASE state WHEN 0 THEN task END "
                   "FROM tasks WHERE id = ?1");
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

absl::Status SqliteJournal::RowUpdated(int code, absl::string_view what,
                                       uint64_t seq,
                                       absl::string_view task_id) {
  if (code != SQLITE_DONE) return Error(what, code);
  if (seq != 0 && sqlite3_changes(db_) != 1) {
    return absl::InternalError(
        absl::StrCat("journal ", path_, ": row ", seq, " is not task ", task_id,
                     "'s; nothing was committed (a bug: please report it)"));
  }
  return absl::OkStatus();
}

absl::Status SqliteJournal::Unparsable(absl::string_view task_id) const {
  return absl::DataLossError(
      absl::StrCat("journal ", path_, ": task ", task_id, " does not parse"));
}

absl::StatusOr<std::unique_ptr<Journal>> OpenJournalAt(
    const std::string& path) {
  if (path.empty()) return std::make_unique<InMemoryJournal>();
  auto journal = SqliteJournal::Open(path);
  if (!journal.ok()) return journal.status();
  return std::unique_ptr<Journal>(*std::move(journal));
}

}  // namespace distributo::server
