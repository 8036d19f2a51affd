#ifndef DISTRIBUTO_SERVER_WORKER_TOKENS_H_
#define DISTRIBUTO_SERVER_WORKER_TOKENS_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace distributo::server {

// Bearer tokens, each naming a worker (or an operator): token -> name.
using WorkerTokens = absl::flat_hash_map<std::string, std::string>;

// Reads a tokens file, named in errors by its `flag`: a "TOKEN NAME" line
// each; blank lines and lines starting with '#' are skipped. Returns
// NotFound if it cannot be read, InvalidArgument (with the line number) for
// a line without both parts, a token shorter than 16 characters, or a token
// given twice.
absl::StatusOr<WorkerTokens> ReadTokens(const std::string& path,
                                        absl::string_view flag);

// Returns the name of the worker whose token the call carries in its
// "authorization: Bearer TOKEN" metadata; "" when `tokens` is empty (no
// tokens asked for). Unauthenticated, saying what was wrong, otherwise.
absl::StatusOr<std::string> AuthenticateWorker(
    const WorkerTokens& tokens, const grpc::ServerContextBase& context);

// Returns the name of the operator whose token the call carries; "" when
// there are no tokens at all. Once there are tokens, only an operator's
// opens the admin service: a worker's is PermissionDenied (and so is every
// call while there are worker tokens but no operator ones), an unknown or
// missing one Unauthenticated.
absl::StatusOr<std::string> AuthenticateOperator(
    const WorkerTokens& operators, const WorkerTokens& workers,
    const grpc::ServerContextBase& context);
// The same for an HTTP request's Authorization header (nullopt: none).
absl::StatusOr<std::string> AuthenticateOperator(
    const WorkerTokens& operators, const WorkerTokens& workers,
    std::optional<absl::string_view> authorization);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_WORKER_TOKENS_H_
