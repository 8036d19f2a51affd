#ifndef DISTRIBUTO_SERVER_WORKER_TOKENS_H_
#define DISTRIBUTO_SERVER_WORKER_TOKENS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace distributo::server {

// Bearer tokens, each naming a worker: token -> name.
using WorkerTokens = absl::flat_hash_map<std::string, std::string>;

// Reads a tokens file: a "TOKEN NAME" line per worker; blank lines and
// lines starting with '#' are skipped. Returns NotFound if it cannot be
// read, InvalidArgument (with the line number) for a line without both
// parts, a token shorter than 16 characters, or a token given twice.
absl::StatusOr<WorkerTokens> ReadWorkerTokens(const std::string& path);

// Returns the name of the worker whose token the call carries in its
// "authorization: Bearer TOKEN" metadata; "" when `tokens` is empty (no
// tokens asked for). Unauthenticated, saying what was wrong, otherwise.
absl::StatusOr<std::string> AuthenticateWorker(
    const WorkerTokens& tokens, const grpc::ServerContextBase& context);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_WORKER_TOKENS_H_
