#include "server/log_syncer.h"

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace distributo::server {
namespace {

TEST(LogSyncerTest, EveryCommitOfManyThreadsIsSynced) {
  const std::string path = absl::StrCat(testing::TempDir(), "/log_", getpid());
  std::ofstream(path) << "frames";
  {
    LogSyncer log(path);
    std::vector<std::thread> threads;
    std::vector<absl::Status> statuses(8);
    for (absl::Status& status : statuses) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50 && status.ok(); ++i) {
          status = log.Sync(log.Written());
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::Status& status : statuses) EXPECT_TRUE(status.ok());
  }
  std::remove(path.c_str());
}

TEST(LogSyncerTest, AFailedSyncFailsEverySyncAfterIt) {
  LogSyncer log("/dev/null");
  const absl::Status failed = log.Sync(log.Written());
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss) << failed;
  EXPECT_NE(failed.message().find("/dev/null"), std::string::npos) << failed;
  EXPECT_EQ(log.Check(), failed);
  EXPECT_EQ(log.Sync(0), failed) << "even with nothing left to sync";
}

TEST(LogSyncerTest, ALogThatCannotBeOpenedIsUnavailableUntilItCan) {
  const std::string path = absl::StrCat(testing::TempDir(), "/late_", getpid());
  LogSyncer log(path);
  const uint64_t commit = log.Written();
  EXPECT_EQ(log.Sync(commit).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(log.Check().ok()) << "nothing is lost yet";
  std::ofstream(path) << "frames";
  EXPECT_TRUE(log.Sync(commit).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace distributo::server
