#include "rpc/json_value.h"

#include <string>

#include "google/protobuf/duration.pb.h"
#include "gtest/gtest.h"

namespace distributo {
namespace {

std::string RoundTrip(const std::string& json) {
  auto value = ParseJsonValue(json);
  EXPECT_TRUE(value.ok()) << json << ": " << value.status();
  return value.ok() ? PrintJsonValue(*value) : "";
}

TEST(JsonValueTest, PrintSortsObjectKeysSoOutputIsStable) {
  EXPECT_EQ(
      RoundTrip(R"({"word": "b", "syllables": 1, "a": {"z": 1, "y": 2}})"),
      R"({"a":{"y":2,"z":1},"syllables":1,"word":"b"})");
}

TEST(JsonValueTest, NumbersPrintInTheShortestExactForm) {
  EXPECT_EQ(RoundTrip("[1, -3, 0.1, 2.5e-8, 1e21, 123456789012]"),
            "[1,-3,0.1,2.5e-08,1e+21,123456789012]");
  EXPECT_EQ(RoundTrip("0.30000000000000004"), "0.30000000000000004");
}

TEST(JsonValueTest, StringsAreEscapedAndUtf8KeptAsIs) {
  EXPECT_EQ(RoundTrip(R"(["a\"b\\c\n\u0001", "Ångström"])"),
            "[\"a\\\"b\\\\c\\n\\u0001\",\"Ångström\"]");
  EXPECT_EQ(JsonQuote("tab\there"), "\"tab\\there\"");
}

TEST(JsonValueTest, LiteralsAndEmptyContainersRoundTrip) {
  EXPECT_EQ(RoundTrip(" [true, false, null, {}, []] \n"),
            "[true,false,null,{},[]]");
}

TEST(JsonValueTest, InvalidOrEmptyTextIsInvalidArgument) {
  for (const std::string text : {"", "  ", "{", "[1 2]", "nope"}) {
    EXPECT_EQ(ParseJsonValue(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

TEST(JsonValueTest, AnyToJsonPrintsValuesBareAndOtherTypesTagged) {
  EXPECT_EQ(AnyToJson(*JsonToAny(R"({"n": 2})")), R"({"n":2})");
  google::protobuf::Duration duration;
  duration.set_seconds(3);
  google::protobuf::Any any;
  any.PackFrom(duration);
  EXPECT_EQ(
      AnyToJson(any),
      R"({"@type":"type.googleapis.com/google.protobuf.Duration","value":"3s"})");
  any.set_type_url("type.googleapis.com/example.Unknown");
  any.set_value("\x01\x02");
  EXPECT_EQ(
      AnyToJson(any),
      R"({"@type":"type.googleapis.com/example.Unknown","base64":"AQI="})");
}

}  // namespace
}  // namespace distributo
