#ifndef DISTRIBUTO_SERVER_SQLITE_STATEMENT_H_
#define DISTRIBUTO_SERVER_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"

namespace distributo::server {

class SqliteStatementCache;

// A prepared statement for one scope. Borrows the connection; not
// thread-safe: its caller serialises the connection's use.
class SqliteStatement {
 public:
  // Prepares `sql`, and finalizes it at the end of the scope.
  SqliteStatement(sqlite3* db, const char* sql)
      : code_(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr)) {}
  // Borrows `sql` from `cache` (which must outlive it), prepared on its
  // first use; at the end of the scope it is reset and its bindings
  // cleared, for the next use.
  SqliteStatement(SqliteStatementCache& cache, const char* sql);
  ~SqliteStatement();

  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // SQLITE_OK once prepared; else the error that prevented it.
  int code() const { return code_; }

  void Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
  }
  // Whether SQLite copies bound bytes, or borrows them: borrowed bytes must
  // stay as they are until the statement has run and been bound anew.
  enum class Keep { kCopy, kBorrow };
  void Bind(int index, absl::string_view text, Keep keep = Keep::kCopy) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                      Destructor(keep));
  }
  void BindBlob(int index, absl::string_view bytes, Keep keep = Keep::kCopy) {
    sqlite3_bind_blob(stmt_, index, bytes.data(),
                      static_cast<int>(bytes.size()), Destructor(keep));
  }
  void BindNull(int index) { sqlite3_bind_null(stmt_, index); }

  // Runs the statement once more with its bindings; returns SQLITE_DONE,
  // SQLITE_ROW or an error code, and resets it after a completed run.
  int Step() {
    const int code = sqlite3_step(stmt_);
    if (code == SQLITE_ROW) return code;
    // After a failed run, reset() tells the more specific error: a COMMIT
    // whose write failed reports only SQLITE_ERROR from step().
    const int reset = sqlite3_reset(stmt_);
    return code == SQLITE_DONE || reset == SQLITE_OK ? code : reset;
  }

  int64_t Int(int column) { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
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
  static sqlite3_destructor_type Destructor(Keep keep) {
    return keep == Keep::kCopy ? SQLITE_TRANSIENT : SQLITE_STATIC;
  }

  sqlite3_stmt* stmt_ = nullptr;
  int code_;
  bool* borrowed_ = nullptr;  // the cache's mark, when borrowed from one
};

// The statements a connection runs over and over, each prepared once for
// the connection's life: preparing one (parsing and planning its SQL) costs
// more than running most of them, and a journal's round runs several.
// Keyed by the SQL's address: give it string constants. Not thread-safe,
// like the connection. Clear() it before the connection closes.
class SqliteStatementCache {
 public:
  explicit SqliteStatementCache(sqlite3* db) : db_(db) {}
  ~SqliteStatementCache() { Clear(); }

  SqliteStatementCache(const SqliteStatementCache&) = delete;
  SqliteStatementCache& operator=(const SqliteStatementCache&) = delete;

  // Finalizes every statement; none may be borrowed.
  void Clear();

 private:
  friend class SqliteStatement;
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool borrowed = false;
  };

  sqlite3* const db_;
  // Node-based: a borrower keeps a pointer to its entry's mark.
  absl::node_hash_map<const char*, Entry> entries_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_SQLITE_STATEMENT_H_
