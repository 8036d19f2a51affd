#include "server/worker_tokens.h"

#include <grpcpp/server_context.h>

#include <fstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace distributo::server {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr absl::string_view kBearer = "Bearer ";

// Returns the "authorization" metadata of a call, if it has one.
std::optional<absl::string_view> Authorization(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header == metadata.end()) return std::nullopt;
  return absl::string_view(header->second.data(), header->second.size());
}

// Returns the token of an "authorization: Bearer TOKEN" header.
absl::StatusOr<absl::string_view> BearerToken(
    std::optional<absl::string_view> authorization) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "this master needs a token: give --token (or DISTRIBUTO_TOKEN)");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, kBearer)) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not \"Bearer TOKEN\"");
  }
  return value;
}

}  // namespace

absl::StatusOr<WorkerTokens> ReadTokens(const std::string& path,
                                        absl::string_view flag) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot read ", flag, " ", path));
  }
  WorkerTokens tokens;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || absl::StartsWith(text, "#")) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat(path, ":", number, ": ");
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "expected \"TOKEN NAME\""));
    }
    if (parts[0].size() < kMinTokenLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "token shorter than ", kMinTokenLength, " characters"));
    }
    if (!tokens.emplace(parts[0], parts[1]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "token given twice"));
    }
  }
  return tokens;
}

absl::StatusOr<std::string> AuthenticateWorker(
    const WorkerTokens& tokens, const grpc::ServerContextBase& context) {
  if (tokens.empty()) return "";
  absl::StatusOr<absl::string_view> token = BearerToken(Authorization(context));
  if (!token.ok()) return token.status();
  const auto found = tokens.find(*token);
  if (found == tokens.end()) {
    return absl::UnauthenticatedError("unknown token");
  }
  return found->second;
}

absl::StatusOr<std::string> AuthenticateOperator(
    const WorkerTokens& operators, const WorkerTokens& workers,
    const grpc::ServerContextBase& context) {
  return AuthenticateOperator(operators, workers, Authorization(context));
}

absl::StatusOr<std::string> AuthenticateOperator(
    const WorkerTokens& operators, const WorkerTokens& workers,
    std::optional<absl::string_view> authorization) {
  if (operators.empty() && workers.empty()) return "";
  absl::StatusOr<absl::string_view> token = BearerToken(authorization);
  if (!token.ok()) return token.status();
  if (const auto found = operators.find(*token); found != operators.end()) {
    return found->second;
  }
  if (workers.contains(*token)) {
    return absl::PermissionDeniedError(
        operators.empty()
            ? "this master has no operator tokens (--operator_tokens), so "
              "its admin service is closed to worker tokens"
            : "a worker's token does not open the admin service: give an "
              "operator's (--operator_tokens)");
  }
  return absl::UnauthenticatedError("unknown token");
}

}  // namespace distributo::server
