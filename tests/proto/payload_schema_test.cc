#include "rpc/payload_schema.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace distributo {
namespace {

constexpr char kTask[] = "distributo.testing.SquareTask";
constexpr char kResult[] = "distributo.testing.SquareResult";

std::unique_ptr<PayloadSchema> Squares() {
  auto schema = PayloadSchema::Load(DISTRIBUTO_SQUARES_SCHEMA, kTask, kResult);
  EXPECT_TRUE(schema.ok()) << schema.status();
  return schema.ok() ? *std::move(schema) : nullptr;
}

TEST(PayloadSchemaTest, JsonBecomesTheTaskTypeAndPrintsBack) {
  auto schema = Squares();
  ASSERT_NE(schema, nullptr);
  auto task = schema->TaskFromJson(
      R"({"n": 7, "fail": "first", "askedAt": "2026-12-01T00:00:00Z"})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->type_url(),
            "type.googleapis.com/distributo.testing.SquareTask");
  auto json = schema->ToJson(*task);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(
      *json,
      R"({"n":7,"fail":"first","sleep":0,"asked_at":"2026-12-01T00:00:00Z"})")
      << "every field, named as in the .proto";
}

TEST(PayloadSchemaTest, JsonThatDoesNotFitNamesTheFieldAtFault) {
  auto schema = Squares();
  ASSERT_NE(schema, nullptr);
  auto unknown = schema->TaskFromJson(R"({"n": 1, "colour": "red"})");
  ASSERT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), "colour"))
      << unknown.status();
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), kTask));
  auto mistyped = schema->ResultFromJson(R"({"n": "seven"})");
  ASSERT_EQ(mistyped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mistyped.status().message(), "n"))
      << mistyped.status();
}

TEST(PayloadSchemaTest, CheckResultTakesOnlyTheResultType) {
  auto schema = Squares();
  ASSERT_NE(schema, nullptr);
  auto result = schema->ResultFromJson(R"({"n": 3, "square": "9"})");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(schema->CheckResult(*result).ok());
  auto task = schema->TaskFromJson(R"({"n": 3})");
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(schema->CheckResult(*task).code(),
            absl::StatusCode::kInvalidArgument);
  google::protobuf::Any garbage = *result;
  garbage.set_value("\xff\xff\xff");
  EXPECT_EQ(schema->CheckResult(garbage).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PayloadSchemaTest, LoadSaysWhatIsWrong) {
  EXPECT_EQ(
      PayloadSchema::Load("/nonexistent.desc", kTask, kResult).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(
      PayloadSchema::Load(DISTRIBUTO_SQUARES_SCHEMA, "SquareTask", kResult)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument)
      << "a name without its package is not found";
  const std::string text = ::testing::TempDir() + "/not_a_descriptor_set";
  std::ofstream(text) << "hello";
  EXPECT_EQ(PayloadSchema::Load(text, kTask, kResult).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PayloadSchema::FromFlags("", kTask, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto none = PayloadSchema::FromFlags("", "", "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

}  // namespace
}  // namespace distributo
