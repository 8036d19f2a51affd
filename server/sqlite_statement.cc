#include "server/sqlite_statement.h"

#include "glog/logging.h"

namespace distributo::server {

SqliteStatement::SqliteStatement(SqliteStatementCache& cache, const char* sql) {
  SqliteStatementCache::Entry& entry = cache.entries_[sql];
  if (entry.borrowed) {
    // Used twice at once: the second use gets a statement of its own.
    code_ = sqlite3_prepare_v2(cache.db_, sql, -1, &stmt_, nullptr);
    return;
  }
  if (entry.stmt == nullptr) {
    code_ = sqlite3_prepare_v3(cache.db_, sql, -1, SQLITE_PREPARE_PERSISTENT,
                               &entry.stmt, nullptr);
    if (code_ != SQLITE_OK) {
      cache.entries_.erase(sql);  // tried again at the next use
      return;
    }
  } else {
    code_ = SQLITE_OK;
  }
  stmt_ = entry.stmt;
  borrowed_ = &entry.borrowed;
  *borrowed_ = true;
}

SqliteStatement::~SqliteStatement() {
  if (borrowed_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  // Reset: a statement left mid-run would hold its read transaction open.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *borrowed_ = false;
}

void SqliteStatementCache::Clear() {
  for (auto& [sql, entry] : entries_) {
    DCHECK(!entry.borrowed) << sql;
    sqlite3_finalize(entry.stmt);
  }
  entries_.clear();
}

}  // namespace distributo::server
