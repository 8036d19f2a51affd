#ifndef DISTRIBUTO_WORKER_JSON_PAYLOAD_H_
#define DISTRIBUTO_WORKER_JSON_PAYLOAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "distributo/v1/distributor.pb.h"
#include "google/protobuf/any.pb.h"
#include "rpc/json_value.h"
#include "rpc/payload_schema.h"

// Conversions between JSON text and the payloads and results that tasks
// travel as: google.protobuf.Value, or, given a schema, its task and result
// messages (by the protobuf JSON mapping). Plus outcome builders for
// processors.
namespace distributo::worker {

// Returns the payload type a processor takes: the schema's task type, or
// google.protobuf.Value without one.
std::string AcceptedPayloadType(const PayloadSchema* schema);

// Returns the payload as one line of compact JSON. InvalidArgument if it is
// not of the accepted type.
absl::StatusOr<std::string> PayloadToJson(
    const google::protobuf::Any& payload,
    const PayloadSchema* schema = nullptr);

// Parses JSON text (surrounding whitespace allowed) into a packed Value, or
// the schema's result type. InvalidArgument if it is not valid JSON, or does
// not fit the type (naming the field at fault).
absl::StatusOr<google::protobuf::Any> JsonToResult(
    absl::string_view json, const PayloadSchema* schema = nullptr);

// Returns an outcome carrying `result`.
v1::Outcome ResultOutcome(google::protobuf::Any result);

// Returns an outcome carrying a failure.
v1::Outcome FailureOutcome(absl::string_view code, absl::string_view message,
                           bool retryable);

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_JSON_PAYLOAD_H_
