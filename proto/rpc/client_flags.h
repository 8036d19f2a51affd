#ifndef DISTRIBUTO_PROTO_RPC_CLIENT_FLAGS_H_
#define DISTRIBUTO_PROTO_RPC_CLIENT_FLAGS_H_

#include <string>

#include "rpc/tls_credentials.h"

namespace distributo {

// How a client reaches a master: TLS and a bearer token.
struct ClientSecurity {
  // `tls.ca` checks the master's certificate (the system's roots if only a
  // client certificate is given); `tls.cert` and `tls.key` are presented to
  // a master that asks for one. Empty: plaintext.
  TlsFiles tls;
  // The name the master's certificate must carry; empty: the host dialled.
  std::string tls_server_name;
  std::string token;  // empty: none
};

// Returns the security of --tls_ca, --tls_cert, --tls_key,
// --tls_server_name and --token (or DISTRIBUTO_TOKEN), the flags
// distributo-worker and the distributo CLI share.
ClientSecurity ClientSecurityFromFlags();

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_CLIENT_FLAGS_H_
