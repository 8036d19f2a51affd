#include "tests/integration/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "glog/logging.h"

extern char** environ;

namespace distributo::testing {
namespace {

// What the child sends back through its pipe when it cannot start.
struct StartError {
  // What it was doing: a string literal, at the same address in the parent,
  // whose copy of the program the fork made.
  const char* step;
  int error;  // errno
};

// Sends the parent `step` and errno, and exits.
[[noreturn]] void FailToStart(int error_fd, const char* step) {
  const StartError failure = {step, errno};
  (void)!write(error_fd, &failure, sizeof(failure));
  _exit(127);
}

// Returns `fd`, moved above the standard descriptors (close-on-exec) if it
// is one of them, which the dup2()s onto them would overwrite: a test
// binary may run with some of them closed.
int AboveStandardFds(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  close(fd);
  return moved;
}

// In the child between fork() and exec: only async-signal-safe calls, since
// another thread of the test may have held a lock (malloc's) at the fork.
[[noreturn]] void ExecChild(char* const* args, const char* log_path,
                            bool own_group, pid_t parent, int error_fd) {
  // Killed when the test binary ends, however it ends (a crash, a
  // timeout's SIGKILL), when no destructor runs to kill it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // it ended before the line above
  error_fd = AboveStandardFds(error_fd);
  if (own_group && setpgid(0, 0) != 0) {
    FailToStart(error_fd, "set its process group");
  }
  const int in = AboveStandardFds(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (in < 0) FailToStart(error_fd, "open /dev/null");
  const int out = AboveStandardFds(
      open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (out < 0) FailToStart(error_fd, "open its log");
  if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
      dup2(out, STDERR_FILENO) < 0) {
    FailToStart(error_fd, "redirect its output");
  }
  execve(args[0], args, environ);
  FailToStart(error_fd, "exec it");
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::string& log_path, bool own_group)
    : own_group_(own_group), log_path_(log_path) {
  std::vector<char*> args;  // made before the fork, as nothing after can
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // Closed unread by a successful exec (close-on-exec); else it carries
  // the child's StartError.
  int exec_error[2];
  PCHECK(pipe2(exec_error, O_CLOEXEC) == 0) << "cannot start " << argv[0];
  const pid_t parent = getpid();
  pid_ = fork();
  PCHECK(pid_ >= 0) << "cannot start " << argv[0];
  if (pid_ == 0) {
    ExecChild(args.data(), log_path.c_str(), own_group, parent, exec_error[1]);
  }
  close(exec_error[1]);
  StartError failure = {};
  ssize_t read_bytes;
  do {
    read_bytes = read(exec_error[0], &failure, sizeof(failure));
  } while (read_bytes < 0 && errno == EINTR);
  close(exec_error[0]);
  if (read_bytes > 0) {
    waitpid(pid_, nullptr, 0);
    LOG(FATAL) << "cannot start " << argv[0] << ": cannot " << failure.step
               << ": " << std::strerror(failure.error);
  }
}

ChildProcess::~ChildProcess() {
  if (exit_code_.has_value()) return;  // its group was ended when it was
  // Its group holds only it and what it started in the group.
  if (own_group_) kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void ChildProcess::Signal(int signal) {
  if (!exit_code_.has_value()) kill(pid_, signal);
}

std::optional<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  // Reaped already: waitpid() would fail until the timeout.
  if (exit_code_.has_value()) return exit_code_;
  WaitUntil(
      [this] {
        // Its group is ended before it is reaped, while its PID (the
        // group's id) cannot have been reused.
        siginfo_t exited = {};
        if (own_group_ &&
            waitid(P_PID, pid_, &exited, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            exited.si_pid == pid_) {
          kill(-pid_, SIGKILL);
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
        exit_code_ =
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      },
      timeout);
  return exit_code_;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

int64_t ProcStatus(pid_t pid, const std::string& key) {
  for (absl::string_view line :
       absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/status")), '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    int64_t value = -1;
    return absl::SimpleAtoi(
               absl::StripSuffix(absl::StripAsciiWhitespace(line), " kB"),
               &value)
               ? value
               : -1;
  }
  return -1;
}

void RaiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace distributo::testing
