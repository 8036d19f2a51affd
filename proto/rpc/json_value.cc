#include "rpc/json_value.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace distributo {

absl::StatusOr<google::protobuf::Value> ParseJsonValue(absl::string_view json) {
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", status.message().as_string()));
  }
  return value;
}

std::string PrintJsonValue(const google::protobuf::Value& value) {
  std::string json;
  // Printing a well-formed Value cannot fail; an unset kind prints as null.
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
    return "null";
  }
  return json;
}

absl::StatusOr<google::protobuf::Any> JsonToAny(absl::string_view json) {
  auto value = ParseJsonValue(json);
  if (!value.ok()) return value.status();
  google::protobuf::Any any;
  any.PackFrom(*value);
  return any;
}

std::string AnyToJson(const google::protobuf::Any& any) {
  google::protobuf::Value value;
  if (any.type_url() == kJsonValueTypeUrl && any.UnpackTo(&value)) {
    return PrintJsonValue(value);
  }
  std::string json;
  if (google::protobuf::util::MessageToJsonString(any, &json).ok()) {
    return json;
  }
  return absl::StrCat("{\"@type\":", JsonQuote(any.type_url()),
                      ",\"base64\":\"", absl::Base64Escape(any.value()), "\"}");
}

std::string JsonQuote(absl::string_view text) {
  google::protobuf::Value value;
  value.set_string_value(std::string(text));
  return PrintJsonValue(value);
}

}  // namespace distributo
