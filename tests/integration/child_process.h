#ifndef DISTRIBUTO_TESTS_INTEGRATION_CHILD_PROCESS_H_
#define DISTRIBUTO_TESTS_INTEGRATION_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace distributo::testing {

// A program started by a test, with stdout and stderr sent to a log file.
// The destructor kills it (by its own PID, never by name) and reaps it, so a
// failed test leaves nothing behind; and should the test binary end with no
// destructor run (a crash, a timeout's SIGKILL), the kernel kills it then
// (PR_SET_PDEATHSIG). That signal comes when the thread that started it
// ends, so start it from a thread that outlives it (the test's own); and
// the kernel forgets it if the program execs a set-user-ID or set-group-ID
// one, or changes its credentials (none of ours does).
// Thread-compatible.
class ChildProcess {
 public:
  // Starts `argv[0]` (a path) with `argv`; aborts the test binary if it
  // cannot. In a process group of its own if `own_group`: then that group
  // is killed when it exits or is killed, so that what it started in the
  // group ends with it (commands it puts in groups of their own are its
  // business; so is its group should the test binary die first).
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_path, bool own_group = false);
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  void Signal(int signal);

  // Waits up to `timeout` for the process to exit. Returns its exit code, or
  // 128 + the signal that ended it; nullopt if it is still running.
  std::optional<int> WaitForExit(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  bool own_group_ = false;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// Polls `condition` every 10 ms until it holds or `timeout` passes. Returns
// whether it held.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// Returns the contents of a file, or "" if it cannot be read.
std::string ReadFile(const std::string& path);

// Returns the number of a /proc/PID/status line of process `pid` ("Threads:",
// "VmRSS:" in KiB), or -1.
int64_t ProcStatus(pid_t pid, const std::string& key);

// Raises this process's limit of open files to its hard limit: thousands of
// streams need thousands of descriptors.
void RaiseFileLimit();

}  // namespace distributo::testing

#endif  // DISTRIBUTO_TESTS_INTEGRATION_CHILD_PROCESS_H_
