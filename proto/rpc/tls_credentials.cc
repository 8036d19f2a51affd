#include "rpc/tls_credentials.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace distributo {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what) {
  std::ifstream file(path);
  if (!file) {
    const std::string reason = std::strerror(errno);
    const std::string message =
        absl::StrCat("cannot read the ", what, " ", path, ": ", reason);
    return errno == EACCES ? absl::PermissionDeniedError(message)
                           : absl::NotFoundError(message);
  }
  std::stringstream text;
  text << file.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " ", path, " is not a PEM file"));
  }
  return text.str();
}

absl::Status CheckPair(const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(
        "give a TLS certificate and its key together (--tls_cert and "
        "--tls_key)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MasterCredentials(
    const TlsFiles& files) {
  if (!files.enabled() && !files.require_client_cert) {
    return grpc::InsecureServerCredentials();
  }
  if (absl::Status status = CheckPair(files); !status.ok()) return status;
  if (files.cert.empty()) {
    return absl::InvalidArgumentError(
        "TLS on the master needs --tls_cert and --tls_key");
  }
  if (files.require_client_cert && files.ca.empty()) {
    return absl::InvalidArgumentError(
        "--require_client_cert needs --tls_ca, the CA of the workers' "
        "certificates");
  }
  auto cert = ReadPem(files.cert, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(files.key, "private key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      files.require_client_cert
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!files.ca.empty()) {
    auto ca = ReadPem(files.ca, "CA certificate");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
    if (!files.require_client_cert) {
      options.client_certificate_request =
          GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    }
  }
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> WorkerCredentials(
    const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  if (absl::Status status = CheckPair(files); !status.ok()) return status;
  grpc::SslCredentialsOptions options;
  if (!files.ca.empty()) {
    auto ca = ReadPem(files.ca, "CA certificate");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  if (!files.cert.empty()) {
    auto cert = ReadPem(files.cert, "certificate");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem(files.key, "private key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(options);
}

void AddBearerToken(absl::string_view token, grpc::ClientContext& context) {
  if (!token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
}

std::string TokenOrEnvironment(std::string flag) {
  const char* variable = std::getenv("DISTRIBUTO_TOKEN");
  return flag.empty() && variable != nullptr ? variable : flag;
}

bool IsLoopback(absl::string_view address) {
  return absl::StartsWith(address, "127.") || address == "localhost" ||
         address == "::1" || address == "[::1]";
}

}  // namespace distributo
