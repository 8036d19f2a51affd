#include "server/sqlite_statement.h"

#include <sqlite3.h>

#include <cstdint>
#include <utility>

#include "gtest/gtest.h"

namespace distributo::server {
namespace {

constexpr char kInsert[] = "INSERT INTO t(v) VALUES (?1)";
constexpr char kCount[] = "SELECT count(*), count(v) FROM t";

class SqliteStatementCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE t(v)", nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  void TearDown() override { sqlite3_close(db_); }

  // Rows in t, and how many of them have a value.
  std::pair<int64_t, int64_t> Count(SqliteStatementCache& cache) {
    SqliteStatement count(cache, kCount);
    EXPECT_EQ(count.Step(), SQLITE_ROW);
    const std::pair<int64_t, int64_t> counts = {count.Int(0), count.Int(1)};
    EXPECT_EQ(count.Step(), SQLITE_DONE);
    return counts;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(SqliteStatementCacheTest, EachUseStartsWithNoBindings) {
  SqliteStatementCache cache(db_);
  {
    SqliteStatement insert(cache, kInsert);
    ASSERT_EQ(insert.code(), SQLITE_OK);
    insert.Bind(1, int64_t{7});
    EXPECT_EQ(insert.Step(), SQLITE_DONE);
  }
  {
    SqliteStatement insert(cache, kInsert);
    EXPECT_EQ(insert.Step(), SQLITE_DONE);  // the 7 is gone: NULL
  }
  EXPECT_EQ(Count(cache), std::make_pair(int64_t{2}, int64_t{1}));
}

TEST_F(SqliteStatementCacheTest, ANestedUseGetsAStatementOfItsOwn) {
  SqliteStatementCache cache(db_);
  SqliteStatement outer(cache, kCount);
  ASSERT_EQ(outer.Step(), SQLITE_ROW);
  {
    // Would reset the outer one mid-row if it were the same statement.
    SqliteStatement inner(cache, kCount);
    ASSERT_EQ(inner.code(), SQLITE_OK);
    EXPECT_EQ(inner.Step(), SQLITE_ROW);
  }
  EXPECT_EQ(outer.Int(0), 0);
  EXPECT_EQ(outer.Step(), SQLITE_DONE);
}

TEST_F(SqliteStatementCacheTest, SqlThatDoesNotPrepareIsTriedAgain) {
  SqliteStatementCache cache(db_);
  constexpr char kLater[] = "SELECT count(*) FROM later";
  EXPECT_EQ(SqliteStatement(cache, kLater).code(), SQLITE_ERROR);
  ASSERT_EQ(
      sqlite3_exec(db_, "CREATE TABLE later(v)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(SqliteStatement(cache, kLater).code(), SQLITE_OK);
}

TEST_F(SqliteStatementCacheTest, ClearLetsTheConnectionClose) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  SqliteStatementCache cache(db);
  EXPECT_EQ(SqliteStatement(cache, "SELECT 1").Step(), SQLITE_ROW);
  EXPECT_EQ(sqlite3_close(db), SQLITE_BUSY) << "a statement is still open";
  cache.Clear();
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
}

}  // namespace
}  // namespace distributo::server
