#include "tests/integration/job_fixture.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rpc/json_value.h"
#include "server/journal_round.pb.h"

namespace distributo::testing {
namespace {

std::string TaskScriptCommand() {
  return absl::StrCat("python3 ", DISTRIBUTO_TEST_SCRIPT);
}

// Returns the id of a result line, or nullopt if the line is torn or bad.
std::optional<std::string> LineId(const google::protobuf::Value& line) {
  if (!line.has_struct_value()) return std::nullopt;
  const auto& fields = line.struct_value().fields();
  const auto id = fields.find("id");
  if (id == fields.end() || !id->second.has_string_value()) return std::nullopt;
  return id->second.string_value();
}

}  // namespace

ResultsLedger ReadResultsLedger(const std::string& path,
                                const std::vector<std::string>& expected_ids) {
  ResultsLedger ledger;
  for (absl::string_view text :
       absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    auto value = ParseJsonValue(text);
    std::optional<std::string> id = value.ok() ? LineId(*value) : std::nullopt;
    if (!id.has_value()) {
      ++ledger.torn;
      ADD_FAILURE() << "torn or bad line in " << path << ": " << text;
      continue;
    }
    ++ledger.times_written[*id];
    ledger.released += Field(*value, "attempts") >= 2;
    ledger.lines[*id] = *std::move(value);
  }
  absl::flat_hash_map<std::string, bool> expected;
  for (const std::string& id : expected_ids) {
    expected[id] = true;
    if (!ledger.times_written.contains(id)) ++ledger.lost;
  }
  for (const auto& [id, times] : ledger.times_written) {
    if (times > 1) ++ledger.twice;
    if (!expected.contains(id)) ++ledger.unexpected;
  }
  return ledger;
}

namespace {

// Runs `on_row` on each row `sql` selects from the SQLite file at `path`;
// nothing if it cannot be opened or read.
template <typename OnRow>
void ForEachRow(const std::string& path, const std::string& sql, OnRow on_row) {
  sqlite3* db = nullptr;
  // Read-only: a read-write connection would fold the write-ahead log of a
  // killed master into the file on close, sparing the restarted master the
  // recovery the test means it to do.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) on_row(stmt);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
}

std::string TextOf(sqlite3_stmt* row, int column) {
  const unsigned char* text = sqlite3_column_text(row, column);
  return text == nullptr ? "" : reinterpret_cast<const char*>(text);
}

// Returns the ids of the tasks the journal at `path` holds an outcome of, in
// its rounds (server/journal_round.proto), read apart from the master's own
// code. Tests that use it redrive no task.
absl::flat_hash_set<std::string> FinishedIds(const std::string& path) {
  absl::flat_hash_set<uint64_t> seqs;
  server::journal::RoundSummary summary;
  server::journal::RoundOutcomes outcomes;
  ForEachRow(path, "SELECT summary, outcomes FROM rounds",
             [&](sqlite3_stmt* row) {
               if (!summary.ParseFromArray(sqlite3_column_blob(row, 0),
                                           sqlite3_column_bytes(row, 0)) ||
                   !outcomes.ParseFromArray(sqlite3_column_blob(row, 1),
                                            sqlite3_column_bytes(row, 1))) {
                 ADD_FAILURE() << "a round of " << path << " does not parse";
                 return;
               }
               EXPECT_EQ(summary.redriven_size(), 0) << "not counted here";
               for (const auto& outcome : outcomes.outcomes()) {
                 seqs.insert(outcome.seq());
               }
             });
  absl::flat_hash_set<std::string> ids;
  ForEachRow(path, "SELECT seq, id FROM tasks", [&](sqlite3_stmt* row) {
    if (seqs.contains(static_cast<uint64_t>(sqlite3_column_int64(row, 0)))) {
      ids.insert(TextOf(row, 1));
    }
  });
  return ids;
}

}  // namespace

std::vector<std::string> QuerySqlite(const std::string& path,
                                     const std::string& sql) {
  std::vector<std::string> column;
  ForEachRow(path, sql,
             [&](sqlite3_stmt* row) { column.push_back(TextOf(row, 0)); });
  return column;
}

std::string IntegrityCheck(const std::string& path) {
  const std::vector<std::string> answer =
      QuerySqlite(path, "PRAGMA integrity_check");
  return answer.empty() ? "cannot open" : answer[0];
}

absl::flat_hash_set<std::string> AckedIds(const std::string& worker_log) {
  absl::flat_hash_set<std::string> ids;
  // Whole lines only: the worker may be writing the last one.
  const absl::string_view whole =
      absl::string_view(worker_log).substr(0, worker_log.rfind('\n') + 1);
  for (absl::string_view line : absl::StrSplit(whole, '\n')) {
    constexpr absl::string_view kAccepted = "outcome accepted: ";
    const size_t at = line.find(kAccepted);
    if (at != absl::string_view::npos) {
      ids.insert(std::string(line.substr(at + kAccepted.size())));
    }
  }
  return ids;
}

int RefusedOutcomes(const std::string& worker_log) {
  const size_t at = worker_log.rfind("outcomes accepted");
  if (at == std::string::npos) return -1;
  int accepted = 0, refused = 0;
  if (std::sscanf(worker_log.c_str() + worker_log.rfind(';', at) + 1,
                  " %d outcomes accepted, %d refused", &accepted,
                  &refused) != 2) {
    return -1;
  }
  return refused;
}

bool RetriedWith(const ChildProcess& process, const std::string& text) {
  return WaitUntil(
      [&] {
        const std::string log = ReadFile(process.log_path());
        const size_t first = log.find(text);
        return first != std::string::npos &&
               log.find(text, first + 1) != std::string::npos;
      },
      absl::Seconds(30));
}

double Field(const google::protobuf::Value& object, const std::string& name) {
  const auto& fields = object.struct_value().fields();
  const auto it = fields.find(name);
  return it == fields.end() ? 0 : it->second.number_value();
}

std::string FreshTestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/", info->test_suite_name(), "_",
                   info->name(), "_", getpid());
  EXPECT_EQ(
      system(
          absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'").c_str()),
      0);
  return dir;
}

void JobFixture::SetUp() { dir_ = FreshTestDir(); }

std::string TestJob::Path(const std::string& name) const {
  return absl::StrCat(dir_, "/", name);
}

void TestJob::WriteTasks(int count,
                         const std::function<std::string(int)>& extra) {
  std::ofstream file(Path("tasks.jsonl"));
  for (int i = 0; i < count; ++i) {
    file << "{\"id\": \"t" << i << "\", \"payload\": {\"n\": " << i
         << (extra ? extra(i) : "") << "}}\n";
    expected_ids_.push_back(absl::StrCat("t", i));
  }
}

void TestJob::StartMaster(std::vector<std::string> extra_flags) {
  const std::string port_file = Path(absl::StrCat("port-", master_starts_));
  std::vector<std::string> argv = {DISTRIBUTO_MASTER_BIN,
                                   absl::StrCat("--port=", port_),
                                   "--port_file=" + port_file,
                                   "--tasks=" + Path("tasks.jsonl"),
                                   "--results=" + Path("results.jsonl"),
                                   "--reaper_interval=100ms",
                                   "--requeue_grace=500ms",
                                   "--progress_interval=1s"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  master_ = std::make_unique<ChildProcess>(
      argv, Path(absl::StrCat("master-", master_starts_++, ".log")));
  ASSERT_TRUE(WaitUntil([&] { return !ReadFile(port_file).empty(); },
                        absl::Seconds(30)))
      << ReadFile(master_->log_path());
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)),
                               &port_));
}

ChildProcess* TestJob::StartWorker(const std::string& mode, int concurrency,
                                   std::vector<std::string> extra_flags,
                                   std::vector<std::string> prefix) {
  const int index = static_cast<int>(workers_.size());
  std::vector<std::string> argv = std::move(prefix);
  argv.insert(
      argv.end(),
      {DISTRIBUTO_WORKER_BIN, absl::StrCat("--master=127.0.0.1:", port_),
       "--exec=" + TaskScriptCommand(), "--exec_mode=" + mode,
       absl::StrCat("--concurrency=", concurrency),
       absl::StrCat("--name=worker-", index), "--reconnect_initial=100ms",
       "--reconnect_max=1s"});
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  workers_.push_back(std::make_unique<ChildProcess>(
      argv, Path(absl::StrCat("worker-", index, ".log"))));
  return workers_.back().get();
}

int TestJob::WaitForMaster() {
  std::optional<int> code = master_->WaitForExit(kJobTimeout);
  EXPECT_TRUE(code.has_value()) << "the master did not finish in time";
  return code.value_or(-1);
}

size_t TestJob::ResultLines() {
  const std::string text = ReadFile(Path("results.jsonl"));
  return std::count(text.begin(), text.end(), '\n');
}

int TestJob::AckedButMissing(const std::string& journal) {
  const absl::flat_hash_set<std::string> on_disk = FinishedIds(journal);
  int missing = 0;
  for (auto& worker : workers_) {
    for (const std::string& id : AckedIds(ReadFile(worker->log_path()))) {
      missing += !on_disk.contains(id);
    }
  }
  return missing;
}

size_t TestJob::AckedOutcomes() {
  size_t acked = 0;
  for (auto& worker : workers_) {
    acked += AckedIds(ReadFile(worker->log_path())).size();
  }
  return acked;
}

int TestJob::Cli(const std::vector<std::string>& args, std::string* output) {
  std::vector<std::string> argv = {DISTRIBUTO_CLI_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(absl::StrCat("--master=127.0.0.1:", port_));
  const std::string log = Path(absl::StrCat("cli-", cli_runs_++, ".log"));
  ChildProcess cli(argv, log);
  const int code = cli.WaitForExit(absl::Seconds(30)).value_or(-1);
  *output = ReadFile(log);
  return code;
}

void ExpectEachResultOnce(const ResultsLedger& ledger) {
  EXPECT_EQ(ledger.lost, 0);
  EXPECT_EQ(ledger.twice, 0);
  EXPECT_EQ(ledger.unexpected, 0);
  EXPECT_EQ(ledger.torn, 0);
}

void TestJob::ExpectEveryResultOnceAndCorrect(const ResultsLedger& ledger) {
  ExpectEachResultOnce(ledger);
  for (const auto& [id, line] : ledger.lines) {
    const auto& fields = line.struct_value().fields();
    ASSERT_TRUE(fields.contains("result"))
        << id << ": " << PrintJsonValue(line);
    const double n = Field(fields.at("result"), "n");
    EXPECT_EQ(absl::StrCat("t", n), id);
    EXPECT_EQ(Field(fields.at("result"), "square"), n * n) << id;
  }
}

}  // namespace distributo::testing
