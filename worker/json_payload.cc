#include "worker/json_payload.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace distributo::worker {

absl::StatusOr<std::string> PayloadToJson(
    const google::protobuf::Any& payload) {
  google::protobuf::Value value;
  if (!payload.Is<google::protobuf::Value>() || !payload.UnpackTo(&value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payload type \"", payload.type_url(), "\" is not a JSON value"));
  }
  std::string json;
  // The default options print compact JSON, one line, as the lines mode needs.
  auto status = google::protobuf::util::MessageToJsonString(value, &json);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot print payload as JSON: ", status.ToString()));
  }
  return json;
}

absl::StatusOr<google::protobuf::Any> JsonToResult(absl::string_view json) {
  const absl::string_view text = absl::StripAsciiWhitespace(json);
  if (text.empty()) return absl::InvalidArgumentError("empty output");
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output is not JSON: ", status.message().ToString()));
  }
  google::protobuf::Any any;
  any.PackFrom(value);
  return any;
}

v1::Outcome ResultOutcome(google::protobuf::Any result) {
  v1::Outcome outcome;
  *outcome.mutable_result() = std::move(result);
  return outcome;
}

v1::Outcome FailureOutcome(absl::string_view code, absl::string_view message,
                           bool retryable) {
  v1::Outcome outcome;
  v1::Failure* failure = outcome.mutable_failure();
  failure->set_code(std::string(code));
  failure->set_message(std::string(message));
  failure->set_retryable(retryable);
  return outcome;
}

}  // namespace distributo::worker
