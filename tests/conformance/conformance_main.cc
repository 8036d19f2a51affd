// distributo-conformance: runs each case of the worker protocol
// (docs/protocol.md) against a worker command, with a scripted master in
// place of a real one, and reports pass or fail per case:
//
//   distributo-conformance --worker='python3 worker.py --master={master}'
//
// {master} becomes the scripted master's HOST:PORT. The worker is started
// afresh for every case, in a process group of its own, which is killed
// when the case ends. --expect_failing=CASE:WHY,... names cases that must
// fail, with WHY in their message (for a deliberately broken worker): the
// run passes if exactly those fail, for those reasons.
// Exits 0 if the run passes, 1 if not, 2 on a usage error.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/conformance/protocol_cases.h"
#include "tests/integration/child_process.h"

ABSL_FLAG(std::string, worker, "",
          "The worker command, run by /bin/sh; {master} is the master");
ABSL_FLAG(std::vector<std::string>, cases, {},
          "Only these cases (default: all)");
ABSL_FLAG(std::vector<std::string>, expect_failing, {},
          "CASE:WHY, ...: cases that must fail with WHY in their message; the "
          "others must pass");

namespace distributo::conformance {
namespace {

// The worker command of one case, run by /bin/sh in a process group of its
// own (killed when the case ends), its output in a log file.
class WorkerProcess final : public WorkerUnderTest {
 public:
  WorkerProcess(const std::string& command, const std::string& log_path)
      : process_({"/bin/sh", "-c", absl::StrCat("exec ", command)}, log_path,
                 /*own_group=*/true) {}

  std::optional<int> WaitForExit(absl::Duration timeout) override {
    return process_.WaitForExit(timeout);
  }

  // The last lines of its output, for a failed case.
  std::string Tail() const {
    const std::string all = testing::ReadFile(process_.log_path());
    return all.size() <= 2000 ? all : all.substr(all.size() - 2000);
  }

 private:
  testing::ChildProcess process_;
};

// Runs one case against a fresh worker; returns OK or why it failed.
absl::Status RunCase(const ProtocolCase& protocol_case,
                     const std::string& command, std::string* output) {
  ScriptedMaster master;
  const std::string address = absl::StrCat("127.0.0.1:", master.port());
  char log_template[] = "/tmp/distributo-conformance-XXXXXX";
  const int log = mkstemp(log_template);
  if (log < 0) return absl::InternalError("cannot make a log file");
  close(log);
  absl::Status status;
  {
    WorkerProcess worker(absl::StrReplaceAll(command, {{"{master}", address}}),
                         log_template);
    status = protocol_case.run(master, worker);
    *output = worker.Tail();
  }
  unlink(log_template);
  return status;
}

int Run() {
  const std::string command = absl::GetFlag(FLAGS_worker);
  if (command.empty()) {
    std::fprintf(stderr, "distributo-conformance: --worker=COMMAND needed\n");
    return 2;
  }
  const std::vector<std::string> only = absl::GetFlag(FLAGS_cases);
  // Case name -> what its failure must say.
  std::map<std::string, std::string> must_fail;
  for (const std::string& expected : absl::GetFlag(FLAGS_expect_failing)) {
    const std::pair<std::string, std::string> split =
        absl::StrSplit(expected, absl::MaxSplits(':', 1));
    must_fail[split.first] = split.second;
  }
  int mismatches = 0;
  int run = 0;
  for (const ProtocolCase& protocol_case : AllCases()) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(), protocol_case.name) == only.end()) {
      continue;
    }
    ++run;
    const absl::Time start = absl::Now();
    std::string output;
    const absl::Status status = RunCase(protocol_case, command, &output);
    const auto expectation = must_fail.find(protocol_case.name);
    const bool expected_to_fail = expectation != must_fail.end();
    std::printf("%s %-20s %5.1f s  %s%s\n", status.ok() ? "PASS" : "FAIL",
                protocol_case.name.c_str(),
                absl::ToDoubleSeconds(absl::Now() - start),
                status.ok() ? protocol_case.what.c_str()
                            : std::string(status.message()).c_str(),
                expected_to_fail ? "  (expected to fail)" : "");
    const bool as_expected =
        expected_to_fail
            ? !status.ok() &&
                  absl::StrContains(status.message(), expectation->second)
            : status.ok();
    if (!as_expected) {
      ++mismatches;
      if (!status.ok()) std::printf("  worker's output:\n%s\n", output.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("%d of %d cases as expected\n", run - mismatches, run);
  return mismatches == 0 && run > 0 ? 0 : 1;
}

}  // namespace
}  // namespace distributo::conformance

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return distributo::conformance::Run();
}
