#include "server/log_syncer.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace distributo::server {
namespace {

// Opens the log at `path`, failing the test if it cannot.
std::unique_ptr<LogSyncer> OpenLog(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LogSyncer>> log = LogSyncer::Open(path);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

TEST(LogSyncerTest, ThreadsSyncingAtOnceAllSucceed) {
  const std::string path = absl::StrCat(testing::TempDir(), "/log_", getpid());
  std::ofstream(path) << "frames";
  const absl::Cleanup remove = [&] { std::remove(path.c_str()); };
  std::unique_ptr<LogSyncer> log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  std::vector<absl::Status> statuses(8);
  for (absl::Status& status : statuses) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50 && status.ok(); ++i) {
        status = log->Sync(log->Written());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : statuses) EXPECT_TRUE(status.ok());
}

TEST(LogSyncerTest, AFailedSyncFailsEverySyncAfterIt) {
  // /dev/null cannot be synced (EINVAL), as a failing disk's file cannot.
  std::unique_ptr<LogSyncer> log = OpenLog("/dev/null");
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->Check().ok());
  const absl::Status failed = log->Sync(log->Written());
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss) << failed;
  EXPECT_NE(failed.message().find("/dev/null"), std::string::npos) << failed;
  EXPECT_EQ(log->Check(), failed);
  EXPECT_EQ(log->Sync(0), failed) << "even with nothing left to sync";
}

TEST(LogSyncerTest, ALogThatDoesNotExistCannotBeOpened) {
  const absl::StatusOr<std::unique_ptr<LogSyncer>> log =
      LogSyncer::Open(absl::StrCat(testing::TempDir(), "/none_", getpid()));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace distributo::server
