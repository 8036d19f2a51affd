#include "server/task_reader.h"

#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"

namespace distributo::server {
namespace {

absl::StatusOr<std::vector<v1::Task>> Read(const std::string& text) {
  std::istringstream input(text);
  return ReadTasks(input, "tasks.jsonl", TaskLimits());
}

TEST(TaskReaderTest, ReadsIdPayloadAndLabelsSkippingBlankLines) {
  auto tasks = Read(
      "{\"id\": \"a\", \"payload\": {\"word\": \"apple\"}, "
      "\"labels\": {\"lang\": \"en\"}}\n\n   \n{\"id\": \"b\", \"payload\": "
      "7}\n");
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].id(), "a");
  EXPECT_EQ(AnyToJson((*tasks)[0].payload()), "{\"word\":\"apple\"}");
  EXPECT_EQ((*tasks)[0].labels().at("lang"), "en");
  EXPECT_EQ((*tasks)[1].payload().type_url(), kJsonValueTypeUrl);
}

TEST(TaskReaderTest, LineWithoutIdGetsAStableIdFromItsLineNumber) {
  auto tasks = Read("\n{\"payload\": null}\n");
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  EXPECT_EQ((*tasks)[0].id(), "line-2");
}

TEST(TaskReaderTest, MalformedLineIsRejectedWithItsLineNumber) {
  auto tasks = Read("{\"id\": \"a\", \"payload\": 1}\n{\"id\": \"b\", \n");
  ASSERT_EQ(tasks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(
      tasks.status().message().find("tasks.jsonl: line 2: not valid JSON"),
      std::string::npos)
      << tasks.status();
}

TEST(TaskReaderTest, EachKindOfBadTaskNamesTheFieldAtFault) {
  const std::pair<std::string, std::string> cases[] = {
      {"[1, 2]", "must be a JSON object"},
      {"{\"id\": \"a\"}", "missing \"payload\""},
      {"{\"id\": 5, \"payload\": 1}", "\"id\" must be a non-empty string"},
      {"{\"id\": \"\", \"payload\": 1}", "\"id\" must be a non-empty string"},
      {"{\"payload\": 1, \"labels\": [1]}", "\"labels\" must be an object"},
      {"{\"payload\": 1, \"labels\": {\"k\": 1}}", "label \"k\" must be"},
      {"{\"payload\": 1, \"paylod\": 2}", "unknown field \"paylod\""},
      {absl::StrCat("{\"id\": \"", std::string(300, 'i'),
                    "\", \"payload\": 1}"),
       "longer than 256 bytes"},
  };
  for (const auto& [line, reason] : cases) {
    auto tasks = Read(line);
    EXPECT_EQ(tasks.status().code(), absl::StatusCode::kInvalidArgument)
        << line;
    EXPECT_NE(tasks.status().message().find(reason), std::string::npos)
        << line << " -> " << tasks.status();
  }
}

TEST(TaskReaderTest, RepeatedIdIsRejectedNamingBothLines) {
  auto tasks = Read(
      "{\"id\": \"a\", \"payload\": 1}\n{\"id\": \"a\", "
      "\"payload\": 2}\n");
  EXPECT_EQ(tasks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tasks.status().message().find("line 2: id \"a\" repeats line 1"),
            std::string::npos)
      << tasks.status();
}

TEST(TaskReaderTest, OversizedTaskIsRejected) {
  TaskLimits limits;
  limits.max_task_bytes = 100;
  auto task = ParseTaskLine(
      absl::StrCat("{\"payload\": \"", std::string(200, 'x'), "\"}"), 1,
      limits);
  EXPECT_EQ(task.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace distributo::server
