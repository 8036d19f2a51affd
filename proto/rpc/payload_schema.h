#ifndef DISTRIBUTO_PROTO_RPC_PAYLOAD_SCHEMA_H_
#define DISTRIBUTO_PROTO_RPC_PAYLOAD_SCHEMA_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"

namespace distributo {

// Typed tasks and results: the message types of a descriptor set (from
// `protoc --descriptor_set_out=FILE --include_imports`), which JSON task
// payloads and results are turned into, and printed back from, by the
// protobuf JSON mapping. Without one, payloads and results travel as
// google.protobuf.Value (rpc/json_value.h). Thread-safe once loaded.
class PayloadSchema {
 public:
  // Loads the descriptor set at `path` and finds the two message types by
  // their full names (e.g. "shop.Order"). NotFound if the file cannot be
  // read; InvalidArgument if it is not a descriptor set, lacks a file it
  // imports, or holds no such message.
  static absl::StatusOr<std::unique_ptr<PayloadSchema>> Load(
      const std::string& path, absl::string_view task_type,
      absl::string_view result_type);

  // The same for the --schema, --task_type and --result_type flags of the
  // binaries: none (nullptr) if all three are empty; InvalidArgument saying
  // what is missing if only some are given.
  static absl::StatusOr<std::shared_ptr<const PayloadSchema>> FromFlags(
      const std::string& path, absl::string_view task_type,
      absl::string_view result_type);

  PayloadSchema(const PayloadSchema&) = delete;
  PayloadSchema& operator=(const PayloadSchema&) = delete;

  const std::string& task_type_url() const { return task_type_url_; }
  const std::string& result_type_url() const { return result_type_url_; }

  // Turns JSON text into the task (result) type, packed. InvalidArgument
  // naming the field at fault if it does not fit.
  absl::StatusOr<google::protobuf::Any> TaskFromJson(
      absl::string_view json) const;
  absl::StatusOr<google::protobuf::Any> ResultFromJson(
      absl::string_view json) const;

  // Returns OK for a result of the result type whose bytes parse as it,
  // InvalidArgument saying what is wrong otherwise.
  absl::Status CheckResult(const google::protobuf::Any& result) const;

  // Prints a packed task or result as JSON on one line, every field by its
  // name in the .proto, zeros and empty strings too. InvalidArgument if
  // it is of neither type, or its bytes do not parse as its type.
  absl::StatusOr<std::string> ToJson(const google::protobuf::Any& any) const;

 private:
  PayloadSchema() = default;
  absl::StatusOr<google::protobuf::Any> FromJson(
      const google::protobuf::Descriptor& type, absl::string_view json) const;

  google::protobuf::DescriptorPool pool_;
  // Made after pool_, which it reads; destroyed before it.
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  const google::protobuf::Descriptor* task_ = nullptr;
  const google::protobuf::Descriptor* result_ = nullptr;
  std::string task_type_url_;
  std::string result_type_url_;
};

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_PAYLOAD_SCHEMA_H_
