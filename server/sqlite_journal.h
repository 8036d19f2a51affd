#ifndef DISTRIBUTO_SERVER_SQLITE_JOURNAL_H_
#define DISTRIBUTO_SERVER_SQLITE_JOURNAL_H_

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/journal.h"
#include "server/journal_round.pb.h"
#include "server/journal_state_bits.h"
#include "server/log_syncer.h"
#include "server/sqlite_statement.h"

namespace distributo::server {

// Turns off SQLite's count of its allocations, for the whole process.
// Debian's SQLite, built without its lookaside allocator, makes several
// allocations per row and counts each under one process-wide mutex: about a
// tenth of a journal's append. Programs call it first thing (SQLite ignores
// it once started); a library must not, since its host may read the counts.
void TurnOffSqliteMemoryStatistics();

// The durable journal of DESIGN.md §4: one SQLite database in WAL mode,
// whose log is synced before a call that wrote returns, so a committed call
// survives a crash of the process or the machine. Every call is one
// transaction, whatever the batch's size: a commit costs ~0.2 ms here while
// a row costs microseconds.
//
// The sync is the journal's own, not SQLite's (synchronous=NORMAL, then
// LogSyncer's fdatasync() of the log once the connection is released): with
// synchronous=FULL, SQLite synced inside COMMIT, holding the connection, so
// that a task's append waited for a round of outcomes to be written and
// synced before it could even write. Now the next commit writes while the
// last one's sync runs, and one sync may cover both; a call still returns
// only once its commit is on disk, as with FULL.
//
// A task's row is written once, when it is appended. What becomes of tasks
// is one row per call in the `rounds` table (journal_round.proto): which
// tasks it finished, marked handled or redrove, and their outcomes. A
// restart replays the rounds into the bits of JournalStateBits, which the
// journal keeps up to date in memory from then on (docs/durability.md,
// "Layout").
//
// Except MarkHandled(), which does not wait for the disk (no sync of its
// own; the next call's sync takes it along): a crash of the process cannot
// lose it, but a crash of the machine can lose the marks since the last
// synced commit. Those results are then handed over again, as they would be
// after a crash just before their mark, and a JSONL sink, cut back to the
// recorded position, still holds each once. Waiting for the disk a second time
// per round of results cost about a quarter of the journaled throughput.
//
// Errors: ResourceExhausted when the disk is full, Unavailable for I/O and
// locking errors (retrying may succeed), DataLoss for a corrupt file and,
// from then on, once a sync of the log has failed (LogSyncer: the journal
// must be opened again), FailedPrecondition for a file that is not a journal
// of this version. A failed call is rolled back, but SQLite may report an
// error for a commit that did happen (a failed checkpoint after the WAL was
// written), so every call is idempotent: repeating one that failed is always
// safe. One master at a time: a journal in use by another process is
// Unavailable.
//
// Recover() comes first: ReadTasks(), FindTask() and Redrive() are
// FailedPrecondition until it has succeeded. Thread-safe: calls are
// serialised on one connection.
class SqliteJournal final : public Journal, public TaskPages {
 public:
  // Opens the journal at `path`, creating it if it does not exist.
  static absl::StatusOr<std::unique_ptr<SqliteJournal>> Open(
      const std::string& path);
  ~SqliteJournal() override;

  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  absl::StatusOr<JournalState> Recover(absl::string_view job) override;
  absl::StatusOr<uint64_t> AppendTasks(const std::vector<PackedTask>& tasks,
                                       std::vector<TaskRef>* added) override;
  absl::Status CommitOutcomes(
      const std::vector<FinishedTask>& finished) override;
  absl::Status MarkHandled(const std::vector<TaskRef>& tasks,
                           uint64_t sink_position) override;
  absl::StatusOr<std::vector<JournaledTask>> Redrive(
      const std::vector<std::string>& task_ids) override;
  bool durable() const override { return true; }
  TaskPages* pages() override { return this; }

  absl::StatusOr<std::vector<JournaledTask>> ReadTasks(
      uint64_t after_seq, uint64_t up_to_seq, size_t max_tasks) override;
  absl::StatusOr<std::optional<JournaledTask>> FindTask(
      absl::string_view task_id) override;

  const std::string& path() const { return path_; }

 private:
  // Reaches the connection, to make SQLite fail as a disk would.
  friend class SqliteJournalPeer;

  SqliteJournal(std::string path, sqlite3* db);

  // Runs `body` between BEGIN IMMEDIATE and COMMIT, rolling back on error;
  // DataLoss without running it once a sync of the log has failed.
  // The commit is written to the operating system (which a crash of the
  // process cannot lose), not yet synced: see Durably().
  template <typename Body>
  absl::Status InTransaction(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` (given the round's summary and outcomes to fill) in a
  // transaction that ends by inserting the round, if it names any task, and
  // applies the round to states_ once committed.
  template <typename Body>
  absl::Status InRound(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `call` under mu_ and, if it succeeds, syncs the log before
  // returning its result: what it committed is then on disk.
  template <typename Call>
  auto Durably(Call call) ABSL_LOCKS_EXCLUDED(mu_);
  // Recover(), AppendTasks(), CommitOutcomes() and Redrive() as they commit,
  // before Durably() syncs what they wrote.
  absl::StatusOr<JournalState> RecoverLocked(absl::string_view job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<uint64_t> AppendTasksLocked(
      const std::vector<PackedTask>& tasks, std::vector<TaskRef>* added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CommitOutcomesLocked(const std::vector<FinishedTask>& finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<JournaledTask>> RedriveLocked(
      const std::vector<std::string>& task_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the new round's number, or nullopt if it names no task (and is
  // not written).
  absl::StatusOr<std::optional<int64_t>> InsertRound(
      const journal::RoundSummary& summary,
      const journal::RoundOutcomes& outcomes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns true if `round` is on disk, after a failed transaction.
  bool RoundCommitted(int64_t round) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the layout version of a journal this master reads (0: an empty
  // database), and FailedPrecondition for anything else, touching nothing.
  absl::StatusOr<int64_t> CheckLayout() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rewrites a journal of layout version 1, which kept each task's state in
  // its row, into the rounds of version 2, in one transaction
  // (sqlite_journal_migration.cc).
  absl::Status MigrateFromVersion1() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checkpoints the log, then opens it for LogSyncer (log_).
  absl::Status OpenLog() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Switches to WAL mode; FailedPrecondition if SQLite stays in another.
  absl::Status EnterWal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `sql`, any number of statements, prepared anew: for setting up.
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the one statement `sql` (no rows), prepared once (statements_);
  // not for pragmas SQLite applies as it prepares them.
  absl::Status Run(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Meta values are int64_t, or std::string (absl::string_view to set).
  template <typename T>
  absl::Status SetMeta(absl::string_view key, T value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename T>
  absl::StatusOr<std::optional<T>> GetMeta(absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps `job` as the journal's job, or checks it is the one kept.
  absl::Status ClaimJob(absl::string_view job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AppendChunk(absl::Span<const PackedTask> tasks,
                           std::vector<TaskRef>* added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The INSERT of `rows` tasks, of which it adds those whose ids are new.
  static std::string InsertTasksSql(size_t rows);
  // Runs `sql` (of InsertTasksSql(tasks.size())) on `tasks`, serializing
  // them into `rows` (one string each, reused); appends what it added to
  // `added`, in the order of `tasks`.
  absl::Status InsertTasks(const char* sql, absl::Span<const PackedTask> tasks,
                           std::vector<std::string>& rows,
                           std::vector<TaskRef>* added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends to `added` those of `tasks` an INSERT just added, some of them
  // known already, the first of them at `first_seq`: found by id.
  absl::Status FindAdded(absl::Span<const PackedTask> tasks, uint64_t first_seq,
                         std::vector<TaskRef>* added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The seq of the task with id ?1, for LookUpSeq().
  static constexpr char kSeqOfId[] = "SELECT seq FROM tasks WHERE id = ?1";
  // Returns the seq of the task with `id`, or 0 if there is none, through
  // `by_id`, a statement of kSeqOfId.
  absl::StatusOr<uint64_t> LookUpSeq(SqliteStatement& by_id,
                                     absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the last seq, and keeps it in task_count_.
  absl::StatusOr<uint64_t> TaskCountLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a query of one integer; `what` names it in errors.
  absl::StatusOr<int64_t> QueryInt(const char* sql, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills the state's task_count, finished and handled_done, and states_
  // (this and the next three: sqlite_journal_recovery.cc).
  absl::Status LoadTasks(JournalState* state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replays every round into states_, noting for each kept task (see
  // JournalStateBits::kept) the round of its outcome.
  absl::Status ReplayRounds(absl::flat_hash_map<uint64_t, int64_t>* rounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the outcomes of the tasks of `rounds`, by seq, each from its
  // round.
  absl::StatusOr<absl::flat_hash_map<uint64_t, journal::TaskOutcome>>
  ReadOutcomes(const absl::flat_hash_map<uint64_t, int64_t>& rounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends the kept tasks to state->finished, in seq order, with their
  // `outcomes`.
  absl::Status LoadKept(
      absl::flat_hash_map<uint64_t, journal::TaskOutcome> outcomes,
      JournalState* state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns `seq` if known (not 0), else the seq of the task with `id`, or
  // 0 if there is none, looked up through `by_id`, which it prepares on
  // first use (most calls know every seq); Internal for a seq past the
  // last task.
  absl::StatusOr<uint64_t> SeqOf(std::optional<SqliteStatement>& by_id,
                                 uint64_t seq, absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The SQL function distributo_finished(seq): 1 if states_ has the task
  // finished, else 0.
  static void SqlFinished(sqlite3_context* context, int argc,
                          sqlite3_value** args);
  // FailedPrecondition until Recover() has succeeded: only then does
  // states_ know which tasks are finished.
  absl::Status CheckRecovered() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // DataLoss, saying what in the journal does not parse or is missing.
  absl::Status Corrupt(absl::string_view what) const;
  // Returns the status for the connection's last error, saying `what` failed.
  absl::Status Error(absl::string_view what, int code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
  // What every round and append runs, prepared once.
  SqliteStatementCache statements_ ABSL_GUARDED_BY(mu_);
  // The last seq, as TaskCountLocked() last found it.
  uint64_t task_count_ ABSL_GUARDED_BY(mu_) = 0;
  // The state of every task, as the committed rounds left it, once
  // Recover() has replayed them (recovered_).
  JournalStateBits states_ ABSL_GUARDED_BY(mu_);
  bool recovered_ ABSL_GUARDED_BY(mu_) = false;
  // Syncs the write-ahead log; set by SetUp(), before any other call.
  std::unique_ptr<LogSyncer> log_;
};

// Returns the SQLite journal at `path`, or an in-memory one (InMemoryJournal)
// for an empty path; SqliteJournal::Open()'s errors.
absl::StatusOr<std::unique_ptr<Journal>> OpenJournalAt(const std::string& path);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_SQLITE_JOURNAL_H_
