#ifndef DISTRIBUTO_TESTS_CONFORMANCE_PROTOCOL_CASES_H_
#define DISTRIBUTO_TESTS_CONFORMANCE_PROTOCOL_CASES_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/conformance/scripted_master.h"

namespace distributo::conformance {

// The worker process a case runs against.
class WorkerUnderTest {
 public:
  virtual ~WorkerUnderTest() = default;
  // Waits up to `timeout` for the worker to exit; its exit code, or nullopt
  // if it is still running.
  virtual std::optional<int> WaitForExit(absl::Duration timeout) = 0;
};

// One protocol case: it plays the master's part against a worker that has
// just been started pointed at `master`, and returns OK if the worker did
// what docs/protocol.md asks, or why not.
struct ProtocolCase {
  std::string name;
  std::string what;  // one line, for the report
  std::function<absl::Status(ScriptedMaster& master, WorkerUnderTest& worker)>
      run;
};

// Every case, in the order they are run. Tasks are the syllables tasks,
// {"word": "..."}, some with "sleep_ms": N, which a worker under test must
// take at least that long over (examples/syllables/count_syllables.py does);
// results must be {"word": ..., "syllables": N} as CountSyllables counts.
std::vector<ProtocolCase> AllCases();

}  // namespace distributo::conformance

#endif  // DISTRIBUTO_TESTS_CONFORMANCE_PROTOCOL_CASES_H_
