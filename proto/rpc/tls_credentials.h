#ifndef DISTRIBUTO_PROTO_RPC_TLS_CREDENTIALS_H_
#define DISTRIBUTO_PROTO_RPC_TLS_CREDENTIALS_H_

#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace distributo {

// PEM files for TLS. Plain data; empty paths mean "none".
struct TlsFiles {
  std::string cert;  // this side's certificate (chain)
  std::string key;   // its private key
  std::string ca;    // the CA that signs the other side's certificates
  // Master only: refuse workers without a certificate signed by `ca`.
  bool require_client_cert = false;

  bool enabled() const { return !cert.empty() || !ca.empty(); }
};

// Returns the master's credentials: TLS with `files.cert` and `files.key`
// (and client certificates checked against `files.ca` when given; required
// with require_client_cert), or plaintext when `files` is empty.
// InvalidArgument for a half-given pair or require_client_cert without a
// CA; NotFound or PermissionDenied, naming the file, if one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MasterCredentials(
    const TlsFiles& files);

// Returns a worker's (or client's) credentials: TLS trusting `files.ca` (the
// system's roots when empty but `cert` is given), presenting `files.cert`
// and `files.key` when given; plaintext when `files` is empty. Errors as
// MasterCredentials().
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> WorkerCredentials(
    const TlsFiles& files);

// Sends `token`, unless empty, with the call as "authorization: Bearer
// TOKEN" metadata, which the master's tokens check reads. Metadata rather
// than call credentials: those need TLS, and a token over plaintext on
// loopback is still worth checking.
void AddBearerToken(absl::string_view token, grpc::ClientContext& context);

// Returns `flag` (a --token value), or the DISTRIBUTO_TOKEN environment
// variable when the flag is empty, as the worker and the CLI take it.
std::string TokenOrEnvironment(std::string flag);

// Returns whether `address` (a --listen value) is loopback only, where
// plaintext cannot be overheard.
bool IsLoopback(absl::string_view address);

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_TLS_CREDENTIALS_H_
