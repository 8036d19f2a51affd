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

}  // namespace

absl::StatusOr<WorkerTokens> ReadWorkerTokens(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot read --tokens ", path));
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
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header == metadata.end()) {
    return absl::UnauthenticatedError(
        "this master needs a token: give the worker --token (or "
        "DISTRIBUTO_TOKEN)");
  }
  absl::string_view value(header->second.data(), header->second.size());
  if (!absl::ConsumePrefix(&value, kBearer)) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not \"Bearer TOKEN\"");
  }
  const auto found = tokens.find(value);
  if (found == tokens.end()) {
    return absl::UnauthenticatedError("unknown token");
  }
  return found->second;
}

}  // namespace distributo::server
