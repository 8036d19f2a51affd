#include "server/jsonl_result_sink.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

FinishedTask Done(const std::string& id, const std::string& json) {
  FinishedTask task;
  task.task.set_id(id);
  task.result = *JsonToAny(json);
  task.attempts = 1;
  return task;
}

TEST(JsonlResultSinkTest, FormatsResultsAndErrorsAsJsonLines) {
  EXPECT_EQ(JsonlResultSink::FormatLine(Done("a\"b", "{\"n\": 3}")),
            "{\"id\":\"a\\\"b\",\"result\":{\"n\":3},\"attempts\":1}");
  FinishedTask dead;
  dead.task.set_id("x");
  dead.dead = true;
  dead.failure.set_code("exit_status_1");
  dead.failure.set_message("bad\nword");
  dead.attempts = 5;
  EXPECT_EQ(JsonlResultSink::FormatLine(dead),
            "{\"id\":\"x\",\"error\":{\"code\":\"exit_status_1\",\"message\":"
            "\"bad\\nword\"},\"attempts\":5}");
}

TEST(JsonlResultSinkTest, AppendsWholeLinesToTheFile) {
  const std::string path =
      ::testing::TempDir() + "/jsonl_result_sink_test.jsonl";
  std::remove(path.c_str());
  {
    auto sink = JsonlResultSink::Create(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Write({Done("1", "1"), Done("2", "2")}).ok());
    ASSERT_TRUE((*sink)->Write({Done("3", "3")}).ok());
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(),
            "{\"id\":\"1\",\"result\":1,\"attempts\":1}\n"
            "{\"id\":\"2\",\"result\":2,\"attempts\":1}\n"
            "{\"id\":\"3\",\"result\":3,\"attempts\":1}\n");
}

TEST(JsonlResultSinkTest, UnwritableDirectoryIsFailedPrecondition) {
  EXPECT_EQ(
      JsonlResultSink::Create("/nonexistent-dir/results.jsonl").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace distributo::server
