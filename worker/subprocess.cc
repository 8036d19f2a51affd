#include "worker/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace distributo::worker {
namespace {

// Owns the posix_spawn attribute objects for one spawn.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

// Returns the worker's environment with `env` added or overridden.
std::vector<std::string> MergeEnv(const Subprocess::Env& env) {
  absl::flat_hash_map<std::string, std::string> vars;
  std::vector<std::string> order;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    const std::string key(entry.substr(0, entry.find('=')));
    if (vars.emplace(key, std::string(entry)).second) order.push_back(key);
  }
  for (const auto& [key, value] : env) {
    if (vars.find(key) == vars.end()) order.push_back(key);
    vars[key] = absl::StrCat(key, "=", value);
  }
  std::vector<std::string> merged;
  merged.reserve(order.size());
  for (const std::string& key : order) merged.push_back(vars[key]);
  return merged;
}

// Resets what the child must not inherit: our ignored SIGPIPE, the signals
// main() blocks, and our process group (so Kill() reaches grandchildren).
void ConfigureAttr(posix_spawnattr_t* attr) {
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(attr, &defaults);
  posix_spawnattr_setsigmask(attr, &empty);
  posix_spawnattr_setpgroup(attr, 0);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF |
                                     POSIX_SPAWN_SETSIGMASK |
                                     POSIX_SPAWN_SETPGROUP);
}

// Writes like write(2) but never raises SIGPIPE, whatever the process's
// disposition (an SDK user may not ignore it): SIGPIPE is blocked for this
// thread during the write, and one raised by it is consumed.
ssize_t WriteWithoutSigpipe(int fd, absl::string_view data) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  const ssize_t n = write(fd, data.data(), data.size());
  const int write_errno = errno;
  if (n < 0 && write_errno == EPIPE && !sigismember(&old_set, SIGPIPE)) {
    const timespec no_wait = {0, 0};
    sigtimedwait(&pipe_set, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = write_errno;
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    absl::string_view command, const Env& env) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return ErrnoStatus("pipe");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return ErrnoStatus("pipe");
  }
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  ConfigureAttr(&setup.attr);
  std::string cmd(command);
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                  cmd.data(), nullptr};
  std::vector<std::string> env_strings = MergeEnv(env);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv,
                             envp.data());
  close(in[0]), close(out[1]), close(err[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]), close(err[0]);
    errno = rc;
    return ErrnoStatus("posix_spawn /bin/sh");
  }
  return std::unique_ptr<Subprocess>(
      new Subprocess(pid, in[1], out[0], err[0]));
}

Subprocess::Subprocess(pid_t pid, int in_fd, int out_fd, int err_fd)
    : pid_(pid), in_fd_(in_fd), out_fd_(out_fd), err_fd_(err_fd) {
  for (int fd : {in_fd_, out_fd_, err_fd_}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
}

Subprocess::~Subprocess() {
  CloseFd(in_fd_);
  CloseFd(out_fd_);
  CloseFd(err_fd_);
  if (!reaped_) {
    Kill();
    Wait().IgnoreError();  // Nothing to report to; the child is gone.
  }
}

absl::Status Subprocess::Pump(absl::string_view input, bool close_stdin,
                              bool until_line) {
  size_t written = 0;
  while (true) {
    if (written == input.size() && close_stdin) CloseStdin();
    if (until_line && out_buf_.find('\n') != std::string::npos) {
      return absl::OkStatus();
    }
    if (until_line && out_fd_ < 0) {
      return absl::UnavailableError("the process closed its stdout");
    }
    if (out_fd_ < 0 && err_fd_ < 0) return absl::OkStatus();
    if (out_buf_.size() > kMaxStdoutBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("stdout exceeds ", kMaxStdoutBytes, " bytes"));
    }
    const bool want_write = in_fd_ >= 0 && written < input.size();
    pollfd fds[3] = {{want_write ? in_fd_ : -1, POLLOUT, 0},
                     {out_fd_, POLLIN, 0},
                     {err_fd_, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll");
    }
    if (fds[0].revents != 0) written += WriteSome(input.substr(written));
    if (fds[1].revents != 0) ReadStdout();
    if (fds[2].revents != 0) ReadStderr();
  }
}

// Returns how much of `rest` is consumed: all of it when the child stopped
// reading stdin (EPIPE), since the rest is moot and its output decides.
size_t Subprocess::WriteSome(absl::string_view rest) {
  const ssize_t n = WriteWithoutSigpipe(in_fd_, rest);
  if (n >= 0) return static_cast<size_t>(n);
  if (errno == EAGAIN || errno == EINTR) return 0;
  CloseStdin();
  return rest.size();
}

void Subprocess::ReadStdout() {
  char buf[65536];
  const ssize_t n = read(out_fd_, buf, sizeof(buf));
  if (n > 0) {
    out_buf_.append(buf, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    CloseFd(out_fd_);
  }
}

void Subprocess::ReadStderr() {
  char buf[65536];
  const ssize_t n = read(err_fd_, buf, sizeof(buf));
  if (n > 0) {
    err_buf_.append(buf, static_cast<size_t>(n));
    // Trim lazily so that a chatty child costs O(1) amortized per byte.
    if (err_buf_.size() > 2 * kStderrTailBytes) {
      err_buf_.erase(0, err_buf_.size() - kStderrTailBytes);
    }
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    CloseFd(err_fd_);
  }
}

void Subprocess::CloseStdin() { CloseFd(in_fd_); }

std::string Subprocess::TakeStdout() { return std::exchange(out_buf_, ""); }

std::optional<std::string> Subprocess::TakeLine() {
  const size_t end = out_buf_.find('\n');
  if (end == std::string::npos) return std::nullopt;
  std::string line = out_buf_.substr(0, end);
  out_buf_.erase(0, end + 1);
  return line;
}

std::string Subprocess::StderrTail() const {
  if (err_buf_.size() <= kStderrTailBytes) return err_buf_;
  return err_buf_.substr(err_buf_.size() - kStderrTailBytes);
}

void Subprocess::Kill() { kill(-pid_, SIGKILL); }

absl::StatusOr<int> Subprocess::Wait() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus("waitpid");
  }
  reaped_ = true;
  return status;
}

absl::Status PumpCancellable(Subprocess& child, TaskContext& context,
                             absl::string_view input, bool close_stdin,
                             bool until_line) {
  context.SetCancelHook([&child] { child.Kill(); });
  absl::Status pumped = child.Pump(input, close_stdin, until_line);
  if (!pumped.ok()) child.Kill();
  context.SetCancelHook(nullptr);
  return pumped;
}

std::string WaitStatusCode(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal_", WTERMSIG(wait_status));
  }
  return absl::StrCat("exit_status_", WEXITSTATUS(wait_status));
}

}  // namespace distributo::worker
