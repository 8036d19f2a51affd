#ifndef DISTRIBUTO_SERVER_SQLITE_JOURNAL_TEMPLATES_H_
#define DISTRIBUTO_SERVER_SQLITE_JOURNAL_TEMPLATES_H_

// The templates of SqliteJournal's private members, which its several .cc
// files share: how its calls write (in a transaction, a round for those that
// change tasks, under the connection's lock, synced after it) and its meta
// table's values. For the journal's own files only.
#include <optional>
#include <utility>

#include "google/protobuf/arena.h"
#include "server/sqlite_journal.h"

namespace distributo::server {

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

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_SQLITE_JOURNAL_TEMPLATES_H_
