#ifndef DISTRIBUTO_CLI_CERTIFICATES_H_
#define DISTRIBUTO_CLI_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace distributo::cli {

// What `distributo certs init` makes. Plain data.
struct CertificateRequest {
  std::string dir;  // made if missing; must not hold the files yet
  // Names and addresses the master's certificate is good for, besides
  // localhost, 127.0.0.1, ::1 and this host's name.
  std::vector<std::string> master_hosts;
  int days = 825;  // validity of the master and worker certificates
};

// Makes a private CA and, signed by it, a master certificate (server auth,
// the names above) and a worker certificate (client auth), all ECDSA P-256:
// ca.pem, ca.key, master.pem, master.key, worker.pem, worker.key (keys
// readable by the owner only). Returns InvalidArgument for days out of
// 1..3650 or a master host that is no address or DNS name, AlreadyExists,
// naming the file, if one is there (nothing is overwritten),
// PermissionDenied or Internal if writing or OpenSSL fails; on any error it
// leaves none of the files behind.
absl::Status InitCertificates(const CertificateRequest& request);

}  // namespace distributo::cli

#endif  // DISTRIBUTO_CLI_CERTIFICATES_H_
