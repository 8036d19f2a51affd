#ifndef DISTRIBUTO_TESTS_SERVER_FAKE_JOURNAL_H_
#define DISTRIBUTO_TESTS_SERVER_FAKE_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/journal.h"

namespace distributo::server {

// Records what it was told and fails CommitOutcomes or MarkHandled with
// ResourceExhausted (a full disk) while told to; can hold its first commit
// until released. Thread-safe.
class FakeJournal final : public Journal {
 public:
  absl::StatusOr<JournalState> Recover(absl::string_view) override {
    return JournalState();
  }
  absl::Status CommitOutcomes(
      const std::vector<FinishedTask>& finished) override;
  absl::Status MarkHandled(const std::vector<TaskRef>& tasks,
                           uint64_t sink_position) override;
  absl::StatusOr<std::vector<JournaledTask>> Redrive(
      const std::vector<std::string>&) override {
    return std::vector<JournaledTask>();
  }
  bool durable() const override { return true; }

  void set_fail_commits(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_commits_ = fail;
  }
  void set_fail_marks(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_marks_ = fail;
  }
  // Makes the next commit wait for `gate`; holding() is notified then.
  void HoldNextCommitUntil(absl::Notification* gate) {
    absl::MutexLock lock(&mu_);
    gate_ = gate;
  }
  absl::Notification& holding() { return holding_; }
  // The ids of the outcomes committed and marked handled, in call order,
  // and those of each commit.
  std::vector<std::string> committed() {
    absl::MutexLock lock(&mu_);
    return committed_;
  }
  std::vector<std::string> marked() {
    absl::MutexLock lock(&mu_);
    return marked_;
  }
  std::vector<std::vector<std::string>> rounds() {
    absl::MutexLock lock(&mu_);
    return rounds_;
  }
  // The sink position of each successful MarkHandled call.
  std::vector<uint64_t> positions() {
    absl::MutexLock lock(&mu_);
    return positions_;
  }

 private:
  absl::Mutex mu_;
  bool fail_commits_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_marks_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification* gate_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Notification holding_;
  std::vector<std::string> committed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> marked_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> rounds_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> positions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_TESTS_SERVER_FAKE_JOURNAL_H_
