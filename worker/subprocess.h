#ifndef DISTRIBUTO_WORKER_SUBPROCESS_H_
#define DISTRIBUTO_WORKER_SUBPROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/task_context.h"

namespace distributo::worker {

// A child running `/bin/sh -c COMMAND` in its own process group, with pipes
// on its stdin, stdout and stderr. The parent's pipe ends are non-blocking
// and close-on-exec, and the child gets default signal handling and no
// inherited fds beyond 0-2, whatever the worker itself does.
//
// Thread contract: thread-compatible (one slot thread drives it), except that
// Kill() may be called from any thread until Wait() starts; the caller
// ensures that ordering (see TaskContext::SetCancelHook), so a reaped pid is
// never signalled.
class Subprocess {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;

  // The most stdout bytes buffered before Pump() gives up.
  static constexpr size_t kMaxStdoutBytes = size_t{64} << 20;
  // How much of the end of stderr is kept for failure messages.
  static constexpr size_t kStderrTailBytes = 4096;

  // Starts `command`; `env` adds to or overrides the worker's environment.
  // Returns Internal if the pipes or the spawn fail.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      absl::string_view command, const Env& env);

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // Kills the process group and reaps the child unless Wait() did.
  ~Subprocess();

  // Writes `input`, then closes stdin if `close_stdin`, while collecting
  // stdout and stderr (reading while writing, so a chatty child cannot
  // deadlock us). Returns OK once stdout holds a full line if `until_line`,
  // else once stdout and stderr are both closed. Unavailable if stdout closes
  // before a line; ResourceExhausted past kMaxStdoutBytes; Internal on a
  // poll error.
  absl::Status Pump(absl::string_view input, bool close_stdin, bool until_line);

  // Removes and returns everything buffered from stdout.
  std::string TakeStdout();
  // Removes and returns the first buffered stdout line, without its '\n'.
  std::optional<std::string> TakeLine();
  // Returns the last kStderrTailBytes of stderr read so far.
  std::string StderrTail() const;

  // Sends SIGKILL to the child's process group.
  void Kill();
  // Reaps the child and returns its wait status (see waitpid(2)).
  absl::StatusOr<int> Wait();

  pid_t pid() const { return pid_; }

 private:
  Subprocess(pid_t pid, int in_fd, int out_fd, int err_fd);

  size_t WriteSome(absl::string_view rest);
  void ReadStdout();
  void ReadStderr();
  void CloseStdin();

  const pid_t pid_;
  int in_fd_;
  int out_fd_;
  int err_fd_;
  bool reaped_ = false;
  std::string out_buf_;
  std::string err_buf_;
};

// Runs child.Pump() so that cancelling `context` kills the child, and kills
// it too if the pump fails. Clears the cancel hook before returning, so the
// caller may then reap the child without cancellation ever signalling a pid
// the kernel reused. Returns Pump()'s status.
absl::Status PumpCancellable(Subprocess& child, TaskContext& context,
                             absl::string_view input, bool close_stdin,
                             bool until_line);

// Returns "exit_status_N" or "signal_N" for a wait status.
std::string WaitStatusCode(int wait_status);

}  // namespace distributo::worker

#endif  // DISTRIBUTO_WORKER_SUBPROCESS_H_
