#include "server/task_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
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

// Writes `text` to a file of this test and returns its path.
std::string WriteFile(const std::string& text) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::string path = absl::StrCat(testing::TempDir(), "/", info->name(),
                                        "_", getpid(), ".jsonl");
  std::ofstream(path) << text;
  return path;
}

TEST(TaskFileTest, ReadsTheCheckedFileChunkByChunk) {
  std::string text;
  for (int i = 0; i < 25; ++i) {
    absl::StrAppend(&text, "{\"id\": \"t", i, "\", \"payload\": ", i, "}\n\n");
  }
  const std::string path = WriteFile(text);
  auto file = TaskFile::Open(path, TaskLimits());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->size(), 25u);
  std::vector<std::string> ids;
  for (int chunk = 0; chunk < 10; ++chunk) {
    auto tasks = (*file)->Read(10);
    ASSERT_TRUE(tasks.ok()) << tasks.status();
    if (tasks->empty()) break;
    EXPECT_LE(tasks->size(), 10u);
    for (const v1::Task& task : *tasks) ids.push_back(task.id());
  }
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_EQ(ids.front(), "t0");
  EXPECT_EQ(ids.back(), "t24");
  std::filesystem::remove(path);
}

TEST(TaskFileTest, RepeatedIdRefusesTheFileNamingBothLines) {
  const std::string path = WriteFile(
      "{\"id\": \"a\", \"payload\": 1}\n{\"id\": \"b\", \"payload\": 2}\n"
      "{\"payload\": 3}\n{\"id\": \"b\", \"payload\": 4}\n");
  auto file = TaskFile::Open(path, TaskLimits());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(file.status().message().find("line 4: id \"b\" repeats line 2"),
            std::string::npos)
      << file.status();
  std::filesystem::remove(path);
}

TEST(TaskFileTest, BadLineAnywhereRefusesTheFileBeforeAnyIsRead) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&text, "{\"payload\": ", i, "}\n");
  }
  const std::string path = WriteFile(text + "{\"payload\": oops}\n");
  auto file = TaskFile::Open(path, TaskLimits());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(file.status().message().find("line 101"), std::string::npos)
      << file.status();
  std::filesystem::remove(path);
}

TEST(TaskFileTest, AFileThatChangesBetweenTheReadsIsDataLoss) {
  const std::string path = WriteFile("{\"payload\": 1}\n");
  auto file = TaskFile::Open(path, TaskLimits());
  ASSERT_TRUE(file.ok()) << file.status();
  std::ofstream(path, std::ios::app) << "{\"payload\": 2}\n";
  absl::StatusOr<std::vector<v1::Task>> tasks = (*file)->Read(10);
  for (int read = 0; read < 3 && tasks.ok() && !tasks->empty(); ++read) {
    tasks = (*file)->Read(10);
  }
  EXPECT_EQ(tasks.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(tasks.status().message().find("changed while it was read"),
            std::string::npos)
      << tasks.status();
  std::filesystem::remove(path);
}

TEST(TaskFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(
      TaskFile::Open("/nonexistent/tasks.jsonl", TaskLimits()).status().code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace distributo::server
