#include "server/jsonl_result_sink.h"

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

PackedTask IdOnly(const std::string& id) {
  v1::Task task;
  task.set_id(id);
  return PackedTask(task);
}

FinishedTask Done(const std::string& id, const std::string& json) {
  FinishedTask task;
  task.task = IdOnly(id);
  task.result = *JsonToAny(json);
  task.attempts = 1;
  return task;
}

// Returns a fresh path under the test's temporary directory.
std::string TempPath(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::remove(path.c_str());
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Returns the line the sink writes for `task`, newline included.
std::string Line(const FinishedTask& task) {
  return JsonlResultSink::FormatLine(task) + "\n";
}

// Lowers the largest file this process may write to `bytes` and ignores
// SIGXFSZ, so that a write past it fails with EFBIG; restores both after.
class ScopedFileSizeLimit {
 public:
  explicit ScopedFileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
    saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
  }
  ~ScopedFileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, saved_handler_);
  }

 private:
  rlimit saved_;
  void (*saved_handler_)(int);
};

TEST(JsonlResultSinkTest, FormatsResultsAndErrorsAsJsonLines) {
  EXPECT_EQ(JsonlResultSink::FormatLine(Done("a\"b", "{\"n\": 3}")),
            "{\"id\":\"a\\\"b\",\"result\":{\"n\":3},\"attempts\":1}");
  FinishedTask dead;
  dead.task = IdOnly("x");
  dead.dead = true;
  dead.failure.emplace().set_code("exit_status_1");
  dead.failure->set_message("bad\nword");
  dead.attempts = 5;
  EXPECT_EQ(JsonlResultSink::FormatLine(dead),
            "{\"id\":\"x\",\"error\":{\"code\":\"exit_status_1\",\"message\":"
            "\"bad\\nword\"},\"attempts\":5}");
}

TEST(JsonlResultSinkTest, AppendsWholeLinesToTheFile) {
  const std::string path = TempPath("jsonl_result_sink_test.jsonl");
  {
    auto sink = JsonlResultSink::Create(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Write({Done("1", "1"), Done("2", "2")}).ok());
    ASSERT_TRUE((*sink)->Write({Done("3", "3")}).ok());
  }
  EXPECT_EQ(ReadFile(path),
            "{\"id\":\"1\",\"result\":1,\"attempts\":1}\n"
            "{\"id\":\"2\",\"result\":2,\"attempts\":1}\n"
            "{\"id\":\"3\",\"result\":3,\"attempts\":1}\n");
}

TEST(JsonlResultSinkTest, PositionIsTheSizeAtOpenPlusWhatWasWritten) {
  const std::string path = TempPath("jsonl_position_test.jsonl");
  WriteFile(path, "earlier\n");
  auto sink = JsonlResultSink::Create(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->Position(), 8u);
  ASSERT_TRUE((*sink)->Write({Done("1", "1"), Done("2", "2")}).ok());
  const std::string lines = Line(Done("1", "1")) + Line(Done("2", "2"));
  EXPECT_EQ((*sink)->Position(), 8 + lines.size());
  EXPECT_EQ(ReadFile(path), "earlier\n" + lines);
}

TEST(JsonlResultSinkTest, RewindToDropsATornTailAndWritesContinueThere) {
  const std::string path = TempPath("jsonl_rewind_test.jsonl");
  const std::string kept = Line(Done("1", "1"));
  WriteFile(path, kept + "{\"id\":\"2\",\"res");
  auto sink = JsonlResultSink::Create(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->RewindTo(kept.size()).ok());
  EXPECT_EQ((*sink)->Position(), kept.size());
  EXPECT_EQ(ReadFile(path), kept);
  ASSERT_TRUE((*sink)->Write({Done("2", "2")}).ok());
  EXPECT_EQ(ReadFile(path), kept + Line(Done("2", "2")));
  EXPECT_EQ((*sink)->Position(), ReadFile(path).size());
}

TEST(JsonlResultSinkTest, RewindToDropsLinesWrittenInThisRun) {
  const std::string path = TempPath("jsonl_rewind_own_test.jsonl");
  auto sink = JsonlResultSink::Create(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Write({Done("1", "1")}).ok());
  const uint64_t mark = (*sink)->Position();
  ASSERT_TRUE((*sink)->Write({Done("2", "2")}).ok());
  ASSERT_TRUE((*sink)->RewindTo(mark).ok());
  ASSERT_TRUE((*sink)->Write({Done("3", "3")}).ok());
  EXPECT_EQ(ReadFile(path), Line(Done("1", "1")) + Line(Done("3", "3")));
}

TEST(JsonlResultSinkTest, RewindToPastTheEndIsDataLossAndChangesNothing) {
  const std::string path = TempPath("jsonl_rewind_past_test.jsonl");
  WriteFile(path, "abc\n");
  auto sink = JsonlResultSink::Create(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->RewindTo(5).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*sink)->Position(), 4u);
  EXPECT_EQ(ReadFile(path), "abc\n");
  ASSERT_TRUE((*sink)->Write({Done("1", "1")}).ok());
  EXPECT_EQ(ReadFile(path), "abc\n" + Line(Done("1", "1")));
}

TEST(JsonlResultSinkTest, RewindToOnStandardOutputIsIgnored) {
  auto sink = JsonlResultSink::Create("-");
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_TRUE((*sink)->RewindTo(100).ok());
  EXPECT_EQ((*sink)->Position(), 0u);
}

TEST(JsonlResultSinkTest, DeviceTakesSyncedWritesAndIgnoresRewindTo) {
  // /dev/null can be neither synced nor truncated: it must still take
  // results when a journal asks for synced writes.
  auto sink = JsonlResultSink::Create("/dev/null", /*sync=*/true);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_TRUE((*sink)->Write({Done("1", "1")}).ok());
  EXPECT_TRUE((*sink)->RewindTo(0).ok());
  EXPECT_EQ((*sink)->Position(), 0u);
}

TEST(JsonlResultSinkTest, FailedWriteIsCutOffAndTheNextWriteStartsClean) {
  const std::string path = TempPath("jsonl_failed_write_test.jsonl");
  auto sink = JsonlResultSink::Create(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Write({Done("1", "1")}).ok());
  const std::string kept = ReadFile(path);
  {
    ScopedFileSizeLimit limit(kept.size() + 10);
    EXPECT_EQ((*sink)->Write({Done("2", "2"), Done("3", "3")}).code(),
              absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ((*sink)->Position(), kept.size());
  EXPECT_EQ(ReadFile(path), kept);
  ASSERT_TRUE((*sink)->Write({Done("4", "4")}).ok());
  EXPECT_EQ(ReadFile(path), kept + Line(Done("4", "4")));
}

TEST(JsonlResultSinkTest, UnwritableDirectoryIsFailedPrecondition) {
  EXPECT_EQ(
      JsonlResultSink::Create("/nonexistent-dir/results.jsonl").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace distributo::server
