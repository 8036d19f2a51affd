// SqliteJournal's recovery: replaying the rounds at Recover(), apart from
// the journal's other calls.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/sqlite_journal.h"

namespace distributo::server {
namespace {

// Moves a round's outcome into the task kept from it.
void TakeOutcome(journal::TaskOutcome outcome, StoredTask* stored) {
  stored->attempts = outcome.attempts();
  if (stored->state == TaskState::kDead) {
    stored->failure = std::move(*outcome.mutable_failure());
  } else {
    stored->result = std::move(*outcome.mutable_result());
  }
}

}  // namespace

absl::Status SqliteJournal::LoadTasks(JournalState* state) {
  absl::StatusOr<uint64_t> count = TaskCountLocked();
  if (!count.ok()) return count.status();
  state->task_count = *count;
  states_ = JournalStateBits();
  absl::flat_hash_map<uint64_t, int64_t> rounds;
  if (absl::Status status = ReplayRounds(&rounds); !status.ok()) return status;
  state->handled_done = states_.handled_done();
  auto outcomes = ReadOutcomes(rounds);
  if (!outcomes.ok()) return outcomes.status();
  return LoadKept(*std::move(outcomes), state);
}

absl::Status SqliteJournal::ReplayRounds(
    absl::flat_hash_map<uint64_t, int64_t>* rounds) {
  SqliteStatement select(db_,
                         "SELECT round, summary FROM rounds ORDER BY round");
  if (select.code() != SQLITE_OK) return Error("prepare replay", select.code());
  journal::RoundSummary summary;
  int code;
  while ((code = select.Step()) == SQLITE_ROW) {
    const int64_t round = select.Int(0);
    const absl::string_view bytes = select.Bytes(1);
    if (!summary.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Corrupt(absl::StrCat("round ", round, " does not parse"));
    }
    // Apply() ignores an outcome for a handled task, and so does this.
    for (const auto* seqs : {&summary.done(), &summary.dead()}) {
      for (uint64_t seq : *seqs) {
        if (!states_.handled(seq)) (*rounds)[seq] = round;
      }
    }
    states_.Apply(summary);
    for (const auto* seqs : {&summary.handled(), &summary.redriven()}) {
      for (uint64_t seq : *seqs) {
        if (!states_.kept(seq)) rounds->erase(seq);
      }
    }
  }
  return code == SQLITE_DONE ? absl::OkStatus() : Error("replay rounds", code);
}

absl::StatusOr<absl::flat_hash_map<uint64_t, journal::TaskOutcome>>
SqliteJournal::ReadOutcomes(
    const absl::flat_hash_map<uint64_t, int64_t>& rounds) {
  std::vector<int64_t> needed;
  for (const auto& [seq, round] : rounds) needed.push_back(round);
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
  SqliteStatement select(db_, "SELECT outcomes FROM rounds WHERE round = ?1");
  if (select.code() != SQLITE_OK)
    return Error("prepare outcomes", select.code());
  absl::flat_hash_map<uint64_t, journal::TaskOutcome> outcomes;
  journal::RoundOutcomes round_outcomes;
  for (const int64_t round : needed) {
    select.Bind(1, round);
    if (const int code = select.Step(); code != SQLITE_ROW) {
      return code == SQLITE_DONE
                 ? Corrupt(absl::StrCat("round ", round, " is missing"))
                 : Error("read outcomes", code);
    }
    const absl::string_view bytes = select.Bytes(0);
    const bool parsed = round_outcomes.ParseFromArray(
        bytes.data(), static_cast<int>(bytes.size()));
    select.Step();  // Completes the statement.
    if (!parsed) {
      return Corrupt(
          absl::StrCat("the outcomes of round ", round, " do not parse"));
    }
    for (journal::TaskOutcome& outcome : *round_outcomes.mutable_outcomes()) {
      const auto it = rounds.find(outcome.seq());
      if (it != rounds.end() && it->second == round) {
        outcomes[outcome.seq()] = std::move(outcome);
      }
    }
  }
  return outcomes;
}

absl::Status SqliteJournal::LoadKept(
    absl::flat_hash_map<uint64_t, journal::TaskOutcome> outcomes,
    JournalState* state) {
  SqliteStatement select(db_, "SELECT id, task FROM tasks WHERE seq = ?1");
  if (select.code() != SQLITE_OK) return Error("prepare load", select.code());
  for (uint64_t seq = 1; seq < states_.end(); ++seq) {
    if (!states_.kept(seq)) continue;
    const auto outcome = outcomes.find(seq);
    if (outcome == outcomes.end()) {
      return Corrupt(absl::StrCat("the outcome of task ", seq, " is missing"));
    }
    select.Bind(1, static_cast<int64_t>(seq));
    if (const int code = select.Step(); code != SQLITE_ROW) {
      return code == SQLITE_DONE
                 ? Corrupt(absl::StrCat("finished task ", seq, " has no row"))
                 : Error("load tasks", code);
    }
    StoredTask& stored = state->finished.emplace_back();
    stored.seq = seq;
    stored.state = states_.dead(seq) ? TaskState::kDead : TaskState::kDone;
    stored.handled = states_.handled(seq);
    TakeOutcome(std::move(outcome->second), &stored);
    // A handled task is kept for ListDead(), which needs no payload.
    const absl::string_view task = select.Bytes(1);
    const bool parsed =
        stored.handled ||
        stored.task.ParseFromArray(task.data(), static_cast<int>(task.size()));
    stored.task.set_id(std::string(select.Bytes(0)));
    select.Step();  // Completes the statement.
    if (!parsed) {
      return Corrupt(
          absl::StrCat("task ", stored.task.id(), " does not parse"));
    }
  }
  return absl::OkStatus();
}

}  // namespace distributo::server
