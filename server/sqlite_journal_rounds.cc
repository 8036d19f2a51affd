// SqliteJournal's rounds: the outcomes a commit writes and the handled
// marks, each one row of the rounds table (see the schema in
// sqlite_journal.cc, which writes a redrive's round too: it reads task rows
// as the journal's other reads do).
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/sqlite_journal.h"
#include "server/sqlite_journal_templates.h"

namespace distributo::server {
namespace {

// Adds a finished task, the one with `seq`, to a round.
void AddOutcome(const FinishedTask& task, uint64_t seq,
                journal::RoundSummary* summary,
                journal::RoundOutcomes* outcomes) {
  (task.dead ? summary->mutable_dead() : summary->mutable_done())->Add(seq);
  journal::TaskOutcome& outcome = *outcomes->add_outcomes();
  outcome.set_seq(seq);
  outcome.set_attempts(task.attempts);
  if (task.dead) {
    *outcome.mutable_failure() = FailureOf(task);
  } else {
    *outcome.mutable_result() = task.result;
  }
}

}  // namespace

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

}  // namespace distributo::server
