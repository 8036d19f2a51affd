#include "rpc/client_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate to check the master's TLS certificate with "
          "(TLS is on when this or --tls_cert is given)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate to present to a master that asks for one (mutual "
          "TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "The name the master's certificate must carry (default: the host "
          "dialled, or the host name a discovered master was published as)");
ABSL_FLAG(std::string, token, "",
          "Bearer token for a master started with --tokens (default: the "
          "DISTRIBUTO_TOKEN environment variable)");

namespace distributo {

ClientSecurity ClientSecurityFromFlags() {
  ClientSecurity security;
  security.tls.ca = absl::GetFlag(FLAGS_tls_ca);
  security.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  security.tls.key = absl::GetFlag(FLAGS_tls_key);
  security.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  security.token = TokenOrEnvironment(absl::GetFlag(FLAGS_token));
  return security;
}

}  // namespace distributo
