#ifndef DISTRIBUTO_PROTO_RPC_ATOMIC_FILE_H_
#define DISTRIBUTO_PROTO_RPC_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace distributo {

// Writes `contents` to `path` through a temporary file renamed over it, so
// that a reader (a test or script waiting for a port file) sees nothing or
// the whole file, never a part. Returns Unavailable if it cannot.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_ATOMIC_FILE_H_
