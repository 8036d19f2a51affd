#include "worker/json_payload.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"

namespace distributo::worker {

std::string AcceptedPayloadType(const PayloadSchema* schema) {
  return schema != nullptr ? schema->task_type_url()
                           : std::string(kJsonValueTypeUrl);
}

absl::StatusOr<std::string> PayloadToJson(const google::protobuf::Any& payload,
                                          const PayloadSchema* schema) {
  if (schema != nullptr) {
    if (payload.type_url() != schema->task_type_url()) {
      return absl::InvalidArgumentError(
          absl::StrCat("payload type \"", payload.type_url(), "\" is not ",
                       schema->task_type_url()));
    }
    return schema->ToJson(payload);
  }
  google::protobuf::Value value;
  if (payload.type_url() != kJsonValueTypeUrl || !payload.UnpackTo(&value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payload type \"", payload.type_url(), "\" is not a JSON value"));
  }
  // Compact JSON on one line, as the lines mode needs.
  return PrintJsonValue(value);
}

absl::StatusOr<google::protobuf::Any> JsonToResult(
    absl::string_view json, const PayloadSchema* schema) {
  auto result = JsonToAny(json);
  if (!result.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output is ", result.status().message()));
  }
  if (schema == nullptr) return result;
  result = schema->ResultFromJson(json);
  if (!result.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output ", result.status().message()));
  }
  return result;
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
