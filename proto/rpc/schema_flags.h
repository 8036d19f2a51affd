#ifndef DISTRIBUTO_PROTO_RPC_SCHEMA_FLAGS_H_
#define DISTRIBUTO_PROTO_RPC_SCHEMA_FLAGS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rpc/payload_schema.h"

namespace distributo {

// Returns the schema of --schema, --task_type and --result_type, the flags
// distributo-master and distributo-worker share (PayloadSchema::FromFlags()).
absl::StatusOr<std::shared_ptr<const PayloadSchema>> SchemaFromFlags();

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_SCHEMA_FLAGS_H_
