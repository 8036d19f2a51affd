#ifndef DISTRIBUTO_PROTO_RPC_JSON_VALUE_H_
#define DISTRIBUTO_PROTO_RPC_JSON_VALUE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/struct.pb.h"

namespace distributo {

// The type URL of google.protobuf.Value, which carries JSON payloads.
inline constexpr absl::string_view kJsonValueTypeUrl =
    "type.googleapis.com/google.protobuf.Value";

// Parses one JSON document (object, array, string, number, bool or null),
// surrounding whitespace allowed. Returns InvalidArgument, with the parser's
// reason, for anything else, including empty text.
absl::StatusOr<google::protobuf::Value> ParseJsonValue(absl::string_view json);

// Prints `value` as compact JSON on one line, object keys sorted, numbers in
// the shortest form that reads back exactly.
std::string PrintJsonValue(const google::protobuf::Value& value);

// Packs JSON text into an Any holding a google.protobuf.Value.
absl::StatusOr<google::protobuf::Any> JsonToAny(absl::string_view json);

// Prints an Any as JSON: the bare JSON for a google.protobuf.Value; the
// protobuf JSON mapping (with "@type") for a message type linked into this
// binary; otherwise {"@type": ..., "base64": ...}.
std::string AnyToJson(const google::protobuf::Any& any);

// Quotes and escapes `text` as a JSON string.
std::string JsonQuote(absl::string_view text);

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_JSON_VALUE_H_
