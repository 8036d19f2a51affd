#include "tests/integration/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

TEST(ChildProcessTest, EndsWithTheTestBinaryThatStartedIt) {
  // Orphans of this process's children become its own, to reap: so the test
  // sees how the program ended. Until the test ends: later tests in this
  // binary would adopt orphans nobody reaps.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  absl::Cleanup no_longer_subreaper = [] { prctl(PR_SET_CHILD_SUBREAPER, 0); };
  const std::string log = FreshTestDir() + "/sleeper.log";
  int pid_pipe[2];
  ASSERT_EQ(pipe2(pid_pipe, O_CLOEXEC), 0);
  const pid_t test_binary = fork();
  ASSERT_GE(test_binary, 0);
  if (test_binary == 0) {
    // Stands for a test binary that dies while its program runs: killed, no
    // destructor runs.
    ChildProcess sleeper({"/bin/sleep", "60"}, log);
    const pid_t pid = sleeper.pid();
    (void)!write(pid_pipe[1], &pid, sizeof(pid));
    raise(SIGKILL);
  }
  close(pid_pipe[1]);
  pollfd ready = {pid_pipe[0], POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, /*timeout_ms=*/10'000), 1);
  pid_t sleeper = -1;
  ASSERT_EQ(read(pid_pipe[0], &sleeper, sizeof(sleeper)), sizeof(sleeper));
  close(pid_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(test_binary, &status, 0), test_binary);  // it kills itself
  ASSERT_TRUE(WIFSIGNALED(status));

  const bool ended =
      WaitUntil([&] { return waitpid(sleeper, &status, WNOHANG) == sleeper; },
                absl::Seconds(10));
  if (!ended) {  // left running: end it here, by its PID
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
  }
  ASSERT_TRUE(ended) << "the program outlived the test binary";
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ChildProcessDeathTest, SaysWhyAProgramCannotStart) {
  const std::string log = FreshTestDir() + "/missing.log";
  EXPECT_DEATH(ChildProcess({"/nonexistent/program"}, log),
               "cannot start /nonexistent/program: cannot exec it: No such "
               "file or directory");
}

}  // namespace
}  // namespace distributo::testing
