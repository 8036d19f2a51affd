#ifndef DISTRIBUTO_PROTO_RPC_LOGGING_H_
#define DISTRIBUTO_PROTO_RPC_LOGGING_H_

#include <string>

#include "absl/status/status.h"

namespace distributo {

// Starts glog for a binary of ours, after absl::ParseCommandLine(): logs go
// to stderr and, when --log_dir=DIR is given, also to files in DIR (made if
// missing; glog's names, <program>.<host>.<user>.log.<SEVERITY>.<time>.<pid>,
// and a <program>.<SEVERITY> link to the latest). Returns Unavailable,
// logging to stderr only, if DIR cannot be made.
absl::Status InitLogging(const char* argv0);

namespace internal {
// The value of --log_dir. The flag is defined in a file that does not see
// glog's own gflags-based FLAGS_log_dir, whose name it would clash with.
std::string LogDirFlag();
}  // namespace internal

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_LOGGING_H_
