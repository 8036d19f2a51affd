#include "rpc/payload_schema.h"

#include <fstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"

namespace distributo {
namespace {

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

}  // namespace

absl::StatusOr<std::unique_ptr<PayloadSchema>> PayloadSchema::Load(
    const std::string& path, absl::string_view task_type,
    absl::string_view result_type) {
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    return absl::NotFoundError(absl::StrCat("cannot read schema ", path));
  }
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromIstream(&input) || set.file_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema ", path,
                     " is not a descriptor set (make one with protoc "
                     "--descriptor_set_out=FILE --include_imports)"));
  }
  std::unique_ptr<PayloadSchema> schema(new PayloadSchema());
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    if (schema->pool_.BuildFile(file) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "schema ", path, ": cannot load ", file.name(),
          " (made without --include_imports, or its imports missing?)"));
    }
  }
  schema->factory_ =
      std::make_unique<google::protobuf::DynamicMessageFactory>(&schema->pool_);
  for (auto [name, type] : {std::pair{task_type, &schema->task_},
                            std::pair{result_type, &schema->result_}}) {
    *type = schema->pool_.FindMessageTypeByName(std::string(name));
    if (*type == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("schema ", path, " has no message type \"", name,
                       "\" (give its full name, with the package)"));
    }
  }
  schema->task_type_url_ = absl::StrCat(kTypeUrlPrefix, task_type);
  schema->result_type_url_ = absl::StrCat(kTypeUrlPrefix, result_type);
  return schema;
}

absl::StatusOr<std::shared_ptr<const PayloadSchema>> PayloadSchema::FromFlags(
    const std::string& path, absl::string_view task_type,
    absl::string_view result_type) {
  if (path.empty()) {
    if (task_type.empty() && result_type.empty()) return nullptr;
    return absl::InvalidArgumentError(
        "--task_type and --result_type name types of a --schema: give one");
  }
  if (task_type.empty() || result_type.empty()) {
    return absl::InvalidArgumentError(
        "--schema needs --task_type and --result_type (full message names)");
  }
  return Load(path, task_type, result_type);
}

absl::StatusOr<google::protobuf::Any> PayloadSchema::TaskFromJson(
    absl::string_view json) const {
  return FromJson(*task_, json);
}

absl::StatusOr<google::protobuf::Any> PayloadSchema::ResultFromJson(
    absl::string_view json) const {
  return FromJson(*result_, json);
}

absl::StatusOr<google::protobuf::Any> PayloadSchema::FromJson(
    const google::protobuf::Descriptor& type, absl::string_view json) const {
  std::unique_ptr<google::protobuf::Message> message(
      factory_->GetPrototype(&type)->New());
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message.get());
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("does not fit ", type.full_name(), ": ",
                     std::string(status.message())));
  }
  google::protobuf::Any any;
  any.set_type_url(absl::StrCat(kTypeUrlPrefix, type.full_name()));
  message->SerializeToString(any.mutable_value());
  return any;
}

absl::Status PayloadSchema::CheckResult(
    const google::protobuf::Any& result) const {
  if (result.type_url() != result_type_url_) {
    return absl::InvalidArgumentError(
        absl::StrCat("a result of type \"", result.type_url(),
                     "\"; the job's results are ", result_->full_name()));
  }
  return ToJson(result).status();
}

absl::StatusOr<std::string> PayloadSchema::ToJson(
    const google::protobuf::Any& any) const {
  const google::protobuf::Descriptor* type =
      any.type_url() == task_type_url_     ? task_
      : any.type_url() == result_type_url_ ? result_
                                           : nullptr;
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("a payload of type \"", any.type_url(), "\", not ",
                     task_->full_name(), " or ", result_->full_name()));
  }
  std::unique_ptr<google::protobuf::Message> message(
      factory_->GetPrototype(type)->New());
  // Every field, by its name in the .proto: what a command reading JSON
  // lines expects (the canonical mapping would drop zeros and empty strings
  // and rename snake_case fields to lowerCamelCase).
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  print.preserve_proto_field_names = true;
  std::string json;
  if (!message->ParseFromString(any.value()) ||
      !google::protobuf::util::MessageToJsonString(*message, &json, print)
           .ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bytes that are no ", type->full_name()));
  }
  return json;
}

}  // namespace distributo
