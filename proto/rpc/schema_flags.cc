#include "rpc/schema_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, schema, "",
          "Descriptor set (protoc --descriptor_set_out=FILE --include_imports) "
          "holding --task_type and --result_type: task payloads and results "
          "are those messages, JSON in the tasks and results files and to "
          "distributo-worker's command. Empty: they are JSON values");
ABSL_FLAG(std::string, task_type, "",
          "With --schema: the full name of the tasks' message type");
ABSL_FLAG(std::string, result_type, "",
          "With --schema: the full name of the results' message type");

namespace distributo {

absl::StatusOr<std::shared_ptr<const PayloadSchema>> SchemaFromFlags() {
  return PayloadSchema::FromFlags(absl::GetFlag(FLAGS_schema),
                                  absl::GetFlag(FLAGS_task_type),
                                  absl::GetFlag(FLAGS_result_type));
}

}  // namespace distributo
