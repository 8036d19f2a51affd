// The journal on a real, small filesystem (a tmpfs this test mounts, so that
// SQLite meets a real ENOSPC) that fills up mid-job: the master stops acking
// and leasing, says why, and once the test grows the filesystem it resumes
// and finishes with nothing lost and nothing written twice; a master killed
// while the disk is full has acked only what its journal holds. Needs root,
// as CI has, to mount.

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

// Room for the tasks and a few batches of outcomes, not for the whole job:
// every commit grows the journal's write-ahead log by a few pages.
constexpr char kSmallFs[] = "size=1m";
constexpr char kLargeFs[] = "size=64m";

class JournalDiskFullTest : public JobFixture {
 protected:
  void SetUp() override {
    JobFixture::SetUp();
    fs_ = Path("fs");
    ASSERT_EQ(system(absl::StrCat("mkdir -p '", fs_, "'").c_str()), 0);
    // In a mount namespace of this test's own, which the processes it starts
    // share, and private, so that the tmpfs is nobody else's and goes with
    // the test however it ends (a crash leaves no mount behind).
    ASSERT_EQ(unshare(CLONE_NEWNS), 0)
        << "cannot make a mount namespace (this test needs root): "
        << std::strerror(errno);
    ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
        << std::strerror(errno);
    ASSERT_EQ(mount("tmpfs", fs_.c_str(), "tmpfs", 0, kSmallFs), 0)
        << "cannot mount a tmpfs at " << fs_
        << " (this test needs root): " << std::strerror(errno);
    mounted_ = true;
  }

  void TearDown() override {
    // The processes hold the journal open: end them first.
    master_.reset();
    workers_.clear();
    if (mounted_) {
      EXPECT_EQ(umount(fs_.c_str()), 0) << std::strerror(errno);
    }
  }

  bool MasterLogHas(const std::string& text) {
    return ReadFile(master_->log_path()).find(text) != std::string::npos;
  }

  std::string fs_;
  bool mounted_ = false;
};

TEST_F(JournalDiskFullTest, FullDiskPausesTheJobAndGrowingItResumesIt) {
  WriteTasks(3'000);
  const std::string journal = fs_ + "/journal";
  StartMaster({"--journal=" + journal, "--batch_size=20"});
  for (int i = 0; i < 2; ++i) StartWorker("lines", 2);
  ASSERT_TRUE(WaitUntil([&] { return MasterLogHas("journal failed:"); },
                        absl::Seconds(60)))
      << "the journal never filled up:\n"
      << ReadFile(master_->log_path());
  EXPECT_TRUE(MasterLogHas("No space left") || MasterLogHas("full"))
      << ReadFile(master_->log_path());
  EXPECT_LT(ResultLines(), 3'000u) << "the journal filled only at the end";
  ASSERT_EQ(mount("tmpfs", fs_.c_str(), "tmpfs", MS_REMOUNT, kLargeFs), 0)
      << std::strerror(errno);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  EXPECT_TRUE(MasterLogHas("works again")) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  EXPECT_EQ(IntegrityCheck(journal), "ok");
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
}

TEST_F(JournalDiskFullTest,
       AMasterKilledWhileTheDiskIsFullAckedOnlyWhatIsOnDisk) {
  // The workers log every accepted outcome, for AckedButMissing().
  setenv("GLOG_vmodule", "outcome_book=2", /*overwrite=*/1);
  WriteTasks(3'000);
  const std::string journal = fs_ + "/journal";
  const std::vector<std::string> flags = {"--journal=" + journal,
                                          "--batch_size=20"};
  StartMaster(flags);
  for (int i = 0; i < 2; ++i) StartWorker("lines", 2);
  ASSERT_TRUE(WaitUntil([&] { return MasterLogHas("journal failed:"); },
                        absl::Seconds(60)))
      << "the journal never filled up:\n"
      << ReadFile(master_->log_path());
  master_->Signal(SIGKILL);
  ASSERT_EQ(master_->WaitForExit(absl::Seconds(10)), 128 + SIGKILL);
  EXPECT_GT(AckedOutcomes(), 0u)
      << "no ack before the disk filled: nothing to check";
  // Room first: opening a journal its master left mid-write takes some.
  ASSERT_EQ(mount("tmpfs", fs_.c_str(), "tmpfs", MS_REMOUNT, kLargeFs), 0)
      << std::strerror(errno);
  EXPECT_EQ(AckedButMissing(journal), 0);
  EXPECT_EQ(IntegrityCheck(journal), "ok");
  StartMaster(flags);
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(30)), 0)
        << ReadFile(worker->log_path());
  }
}

}  // namespace
}  // namespace distributo::testing
