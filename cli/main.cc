// distributo: the operator's command line.
//
//   distributo certs init DIR [--master_hosts=NAME,ADDRESS,...] [--days=N]
//
// Exits 0 on success, 2 on a usage error, 1 when the command failed.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/certificates.h"

ABSL_FLAG(std::vector<std::string>, master_hosts, {},
          "certs init: more names and addresses the master's certificate is "
          "good for (besides localhost, 127.0.0.1, ::1 and this host's name)");
ABSL_FLAG(int, days, 825,
          "certs init: days the master and worker certificates are valid");

namespace distributo::cli {
namespace {

constexpr int kUsageError = 2;

int CertsInit(const std::string& dir) {
  CertificateRequest request;
  request.dir = dir;
  request.master_hosts = absl::GetFlag(FLAGS_master_hosts);
  request.days = absl::GetFlag(FLAGS_days);
  if (absl::Status status = InitCertificates(request); !status.ok()) {
    std::fprintf(stderr, "distributo: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  std::printf(
      "Made a private CA and certificates in %s:\n"
      "  ca.pem ca.key          the CA (keep ca.key offline)\n"
      "  master.pem master.key  for distributo-master\n"
      "  worker.pem worker.key  for workers (mutual TLS)\n"
      "Serve:   distributo-master --tls_cert=%s/master.pem "
      "--tls_key=%s/master.key --tls_ca=%s/ca.pem --require_client_cert ...\n"
      "Connect: distributo-worker --tls_ca=%s/ca.pem --tls_cert=%s/worker.pem "
      "--tls_key=%s/worker.key ...\n",
      dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str(),
      dir.c_str(), dir.c_str());
  return 0;
}

int Run(const std::vector<char*>& args) {
  if (args.size() == 4 && std::string(args[1]) == "certs" &&
      std::string(args[2]) == "init") {
    return CertsInit(args[3]);
  }
  std::fprintf(stderr, "distributo: unknown command \"%s\" (see --help)\n",
               absl::StrJoin(args.begin() + 1, args.end(), " ").c_str());
  return kUsageError;
}

}  // namespace
}  // namespace distributo::cli

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The Distributo operator's tool.\n"
      "  distributo certs init DIR [--master_hosts=NAME,...] [--days=N]\n"
      "      makes a private CA and master and worker certificates");
  return distributo::cli::Run(absl::ParseCommandLine(argc, argv));
}
