#ifndef DISTRIBUTO_PROTO_RPC_STATUS_UTIL_H_
#define DISTRIBUTO_PROTO_RPC_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace distributo {

// Converts between absl and gRPC statuses. The canonical codes have the same
// numeric values in both, so the code and message carry over unchanged.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_STATUS_UTIL_H_
