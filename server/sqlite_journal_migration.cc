// SqliteJournal::MigrateFromVersion1(), apart from the journal's calls.
#include "absl/strings/str_cat.h"
#include "server/sqlite_journal.h"

namespace distributo::server {
namespace {

// Version 1's tasks.state values: 0 unfinished, 1 done, 2 dead.
constexpr int kDead = 2;

// Finished tasks rewritten into one round, at most.
constexpr int kTasksPerRound = 1000;

// Leaves the rows only what version 2 keeps in them: the table is copied
// once, where dropping each column would rewrite it four times.
constexpr const char* kCopyTasks[] = {
    ("CREATE TABLE tasks_v2 (seq INTEGER PRIMARY KEY, "
     "id TEXT NOT NULL UNIQUE, task BLOB NOT NULL)"),
    "INSERT INTO tasks_v2 SELECT seq, id, task FROM tasks",
    "DROP TABLE tasks",
    "ALTER TABLE tasks_v2 RENAME TO tasks",
};

// Adds the version 1 row (seq, state, attempts, outcome, handled) of a
// finished task to a round. Returns false if its outcome does not parse.
bool AddToRound(SqliteStatement& row, journal::RoundSummary* summary,
                journal::RoundOutcomes* outcomes) {
  const uint64_t seq = static_cast<uint64_t>(row.Int(0));
  const bool dead = row.Int(1) == kDead;
  const bool handled = row.Int(4) != 0;
  (dead ? summary->mutable_dead() : summary->mutable_done())->Add(seq);
  // Applied after its outcome (RoundSummary's order).
  if (handled) summary->add_handled(seq);
  // Only counted from now on: its result is the sink's.
  if (handled && !dead) return true;
  journal::TaskOutcome& outcome = *outcomes->add_outcomes();
  outcome.set_seq(seq);
  outcome.set_attempts(static_cast<uint32_t>(row.Int(2)));
  const absl::string_view bytes = row.Bytes(3);
  google::protobuf::MessageLite* message =
      dead ? static_cast<google::protobuf::MessageLite*>(
                 outcome.mutable_failure())
           : outcome.mutable_result();
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

absl::Status SqliteJournal::MigrateFromVersion1() {
  SqliteStatement select(db_,
                         "SELECT seq, state, attempts, outcome, handled "
                         "FROM tasks WHERE state != 0 ORDER BY seq");
  if (select.code() != SQLITE_OK) {
    return Error("prepare migration", select.code());
  }
  journal::RoundSummary summary;
  journal::RoundOutcomes outcomes;
  int in_round = 0;
  int code;
  while ((code = select.Step()) == SQLITE_ROW) {
    if (!AddToRound(select, &summary, &outcomes)) {
      return Corrupt(absl::StrCat("the outcome of task ", select.Int(0),
                                  " does not parse"));
    }
    if (++in_round < kTasksPerRound) continue;
    in_round = 0;
    if (auto round = InsertRound(summary, outcomes); !round.ok()) {
      return round.status();
    }
    summary.Clear();
    outcomes.Clear();
  }
  if (code != SQLITE_DONE) return Error("read version 1 tasks", code);
  if (auto round = InsertRound(summary, outcomes); !round.ok()) {
    return round.status();
  }
  for (const char* sql : kCopyTasks) {
    if (absl::Status status = Exec(sql); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace distributo::server
