// Row 11 of the fault table (notes/reliability.md): thousands of worker
// streams at once (2,000, as CI runs), from worker_swarm, against a real
// master: every task done once, the master's threads and memory bounded,
// the workers past --max_workers answered RESOURCE_EXHAUSTED.
#include <signal.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

// The master's memory with every stream open: ~100 MiB here, five times that
// under AddressSanitizer, whose shadow memory and quarantine grow it.
constexpr int64_t kMaxRssKib = (kUnderAddressSanitizer ? 2048 : 512) * 1024;

using WorkerSwarmTest = JobFixture;

TEST_F(WorkerSwarmTest,
       TwoThousandWorkersAtOnceDoEveryTaskOnceInBoundedThreads) {
  WriteTasks(6000);
  StartMaster({"--max_workers=2000", "--batch_size=10"});
  ChildProcess swarm(
      {DISTRIBUTO_SWARM_BIN, absl::StrCat("--master=127.0.0.1:", port_),
       "--workers=2010", "--per_channel=8"},
      Path("swarm.log"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return ReadFile(swarm.log_path()).find("swarm ready") !=
               std::string::npos;
      },
      absl::Seconds(120)))
      << ReadFile(swarm.log_path());
  EXPECT_NE(
      ReadFile(swarm.log_path()).find("swarm ready: 2000 sessions, 10 refused"),
      std::string::npos)
      << ReadFile(swarm.log_path());
  // Every stream is open now: a thread per stream would show here.
  const int64_t threads = ProcStatus(master_->pid(), "Threads:");
  const int64_t rss_kib = ProcStatus(master_->pid(), "VmRSS:");
  LOG(INFO) << "master with 2000 workers: " << threads << " threads, "
            << rss_kib / 1024 << " MiB";
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 64);
  EXPECT_LT(rss_kib, kMaxRssKib);
  swarm.Signal(SIGUSR1);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  EXPECT_EQ(swarm.WaitForExit(absl::Seconds(60)), 0)
      << ReadFile(swarm.log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
}

}  // namespace
}  // namespace distributo::testing
