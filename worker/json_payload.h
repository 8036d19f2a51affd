#ifndef DISTRIBUTO_WORKER_JSON_PAYLOAD_H_
#define DISTRIBUTO_WORKER_JSON_PAYLOAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/distributor.pb.h"
#include "google/protobuf/any.pb.h"
#include "rpc/json_value.h"

// Conversions between JSON text and the google.protobuf.Value payloads and
// results that JSON tasks travel as, plus outcome builders for processors.
namespace distributo::worker {

// Returns the payload as one line of compact JSON. InvalidArgument if the
// payload is not a google.protobuf.Value.
absl::StatusOr<std::string> PayloadToJson(const google::protobuf::Any& payload);

// Parses JSON text (surrounding whitespace allowed) into a packed Value.
// InvalidArgument if it is not valid JSON.
absl::StatusOr<google::protobuf::Any> JsonToResult(absl::string_view json);

// Returns an outcome carrying `result`.
v1::Outcome ResultOutcome(google::protobuf::Any result);

// Returns an outcome carrying a failure.
v1::Outcome FailureOutcome(absl::string_view code, absl::string_view message,
                           bool retryable);

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_JSON_PAYLOAD_H_
