// distributo: the operator's command line.
//
//   distributo status [--json|--watch]  counts, rate and workers
//   distributo enqueue FILE|-           add JSONL tasks (idempotent by id)
//   distributo drain                    no new leases; the master then exits
//   distributo ready                    exit 0 if the master serves, else 1
//   distributo cancel ID [--reason=..]  end a task; its worker stops it
//   distributo dead list                dead tasks and why
//   distributo dead redrive [ID...]     run dead tasks again (no ID: all)
//   distributo certs init DIR           a private CA and certificates
//
// All but certs talk to --master (default 127.0.0.1:4000),
// with the worker's TLS and token flags. Exits 0 on success, 2 on a usage
// error, 1 when the command failed.

#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "cli/admin_commands.h"
#include "cli/certificates.h"
#include "rpc/client_flags.h"

ABSL_FLAG(std::string, master, "127.0.0.1:4000", "The master, HOST:PORT");
ABSL_FLAG(bool, json, false, "status: print JSON instead of a table");
ABSL_FLAG(bool, watch, false,
          "status: print a line every second until the job is complete");
ABSL_FLAG(std::string, reason, "", "cancel: why, recorded with the task");
ABSL_FLAG(std::vector<std::string>, master_hosts, {},
          "certs init: more names and addresses the master's certificate is "
          "good for (besides localhost, 127.0.0.1, ::1 and this host's name)");
ABSL_FLAG(int, days, 825,
          "certs init: days the master and worker certificates are valid");

namespace distributo::cli {
namespace {

constexpr int kUsageError = 2;

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "distributo: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

int CertsInit(const std::string& dir) {
  CertificateRequest request;
  request.dir = dir;
  request.master_hosts = absl::GetFlag(FLAGS_master_hosts);
  request.days = absl::GetFlag(FLAGS_days);
  if (int code = Report(InitCertificates(request)); code != 0) return code;
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

AdminTarget TargetFromFlags() {
  return {absl::GetFlag(FLAGS_master), ClientSecurityFromFlags()};
}

// Runs an admin command; returns -1 if `args` is none of them.
int RunAdmin(const std::vector<std::string>& args) {
  using Arguments = std::vector<std::string>;
  // A command's words after its name, between `min` and `max` of them.
  struct Command {
    size_t min = 0;
    size_t max = 0;
    std::function<absl::Status(AdminCommands&, const Arguments&)> run;
  };
  const absl::flat_hash_map<std::string, Command> commands = {
      {"status",
       {0, 0,
        [](AdminCommands& c, const Arguments&) {
          return absl::GetFlag(FLAGS_watch)
                     ? c.Watch(stdout)
                     : c.Status(absl::GetFlag(FLAGS_json), stdout);
        }}},
      {"enqueue",
       {1, 1,
        [](AdminCommands& c, const Arguments& rest) {
          return c.Enqueue(rest[0], stdout);
        }}},
      {"cancel",
       {1, 1,
        [](AdminCommands& c, const Arguments& rest) {
          return c.Cancel(rest[0], absl::GetFlag(FLAGS_reason), stdout);
        }}},
      {"dead list",
       {0, 0,
        [](AdminCommands& c, const Arguments&) { return c.ListDead(stdout); }}},
      {"dead redrive",
       {0, std::numeric_limits<size_t>::max(),
        [](AdminCommands& c, const Arguments& rest) {
          return c.Redrive(rest, stdout);
        }}},
      {"drain",
       {0, 0,
        [](AdminCommands& c, const Arguments&) { return c.Drain(stdout); }}},
      {"ready", {0, 0, [](AdminCommands& c, const Arguments&) {
                   return c.Ready(stdout);
                 }}}};
  // A command is named by its first word, or its first two ("dead list").
  for (size_t words : {2, 1}) {
    if (args.size() < words) continue;
    const auto found = commands.find(absl::StrJoin(
        std::vector<std::string>(args.begin(), args.begin() + words), " "));
    if (found == commands.end()) continue;
    const Arguments rest(args.begin() + words, args.end());
    const Command& command = found->second;
    if (rest.size() < command.min || rest.size() > command.max) return -1;
    auto admin = AdminCommands::Create(TargetFromFlags());
    if (!admin.ok()) return Report(admin.status());
    return Report(command.run(**admin, rest));
  }
  return -1;
}

int Run(const std::vector<char*>& argv) {
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (args.size() == 3 && args[0] == "certs" && args[1] == "init") {
    return CertsInit(args[2]);
  }
  if (const int code = RunAdmin(args); code >= 0) return code;
  std::fprintf(
      stderr,
      "distributo: unknown command \"%s\"; try status, enqueue "
      "FILE, cancel ID, dead list, dead redrive [ID...], drain, ready or "
      "certs init DIR (see --help)\n",
      absl::StrJoin(args, " ").c_str());
  return kUsageError;
}

}  // namespace
}  // namespace distributo::cli

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The Distributo operator's tool.\n"
      "  distributo status [--json|--watch]  counts, rate and workers\n"
      "  distributo enqueue FILE|-       add JSONL tasks (idempotent by id)\n"
      "  distributo drain                no new leases; the master then exits\n"
      "  distributo ready                exit 0 if the master serves, else 1\n"
      "  distributo cancel ID            end a task; its worker stops it\n"
      "  distributo dead list            dead tasks and why\n"
      "  distributo dead redrive [ID...] run dead tasks again (no ID: all)\n"
      "  distributo certs init DIR       a private CA and certificates\n"
      "All but certs talk to --master (127.0.0.1:4000).");
  return distributo::cli::Run(absl::ParseCommandLine(argc, argv));
}
