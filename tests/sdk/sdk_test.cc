// The SDK end to end in one process: a TaskDistributor on 127.0.0.1:0 and
// WorkerClients connected to it over real gRPC.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "distributo/task_distributor.h"
#include "distributo/worker_client.h"
#include "gtest/gtest.h"
#include "sdk_test.pb.h"

namespace distributo {
namespace {

using test::Number;
using test::Square;
using Distributor = TaskDistributor<Number, Square>;
using Worker = WorkerClient<Number, Square>;

// Everything the distributor handed over, by task id.
class Ledger {
 public:
  void Add(std::vector<CompletedTask<Number, Square>> done) {
    absl::MutexLock lock(&mu_);
    for (auto& task : done) {
      ++times_[task.id];
      completed_[task.task.n()] = std::move(task);
    }
  }
  void AddDead(std::vector<DeadTask<Number>> dead) {
    absl::MutexLock lock(&mu_);
    for (auto& task : dead) {
      ++times_[task.id];
      dead_[task.task.n()] = std::move(task);
    }
  }
  int HandledTwice() {
    absl::MutexLock lock(&mu_);
    int twice = 0;
    for (const auto& [id, times] : times_) twice += times > 1;
    return twice;
  }
  absl::flat_hash_map<int64_t, CompletedTask<Number, Square>> completed() {
    absl::MutexLock lock(&mu_);
    return completed_;
  }
  absl::flat_hash_map<int64_t, DeadTask<Number>> dead() {
    absl::MutexLock lock(&mu_);
    return dead_;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> times_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, CompletedTask<Number, Square>> completed_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, DeadTask<Number>> dead_ ABSL_GUARDED_BY(mu_);
};

Number MakeNumber(int64_t n) {
  Number number;
  number.set_n(n);
  return number;
}

absl::StatusOr<Square> SquareOf(const Number& number) {
  Square square;
  square.set_n(number.n());
  square.set_square(number.n() * number.n());
  return square;
}

class SdkTest : public ::testing::Test {
 protected:
  Distributor::Options DistributorOptions(int count) {
    Distributor::Options options;
    options.port = 0;
    options.batch_size = 16;
    options.lease.retry_backoff = absl::Milliseconds(10);
    options.lease.max_attempts = 2;
    options.next_task = [this, count]() -> std::optional<Number> {
      if (pulled_ == count) return std::nullopt;
      return MakeNumber(pulled_++);
    };
    options.handle_results = [this](auto done) {
      ledger_.Add(std::move(done));
    };
    options.handle_dead = [this](auto dead) {
      ledger_.AddDead(std::move(dead));
    };
    options.journal_path = journal_path_;
    return options;
  }

  Worker::Options WorkerOptions(int port) {
    Worker::Options options;
    options.master = absl::StrCat("127.0.0.1:", port);
    options.reconnect_initial = absl::Milliseconds(50);
    return options;
  }

  // Runs a job of `count` numbers over `workers` workers made by `make`.
  void RunJob(int count, int workers,
              const std::function<Worker::Options(int port)>& make) {
    auto distributor = Distributor::Create(DistributorOptions(count));
    ASSERT_TRUE(distributor.ok()) << distributor.status();
    ASSERT_TRUE((*distributor)->Start().ok());
    std::vector<std::unique_ptr<Worker>> clients;
    for (int i = 0; i < workers; ++i) {
      auto worker = Worker::Create(make((*distributor)->port()));
      ASSERT_TRUE(worker.ok()) << worker.status();
      ASSERT_TRUE((*worker)->Start().ok());
      clients.push_back(*std::move(worker));
    }
    EXPECT_TRUE((*distributor)->Wait().ok());
    for (auto& client : clients) EXPECT_TRUE(client->Wait().ok());
  }

  int pulled_ = 0;            // only the feeder thread touches it
  std::string journal_path_;  // empty: in memory
  Ledger ledger_;
};

TEST_F(SdkTest, EveryTaskIsHandledOnceWithItsResult) {
  RunJob(2'000, 3, [this](int port) {
    Worker::Options options = WorkerOptions(port);
    options.process_task = SquareOf;
    options.concurrency = 2;
    return options;
  });
  const auto completed = ledger_.completed();
  ASSERT_EQ(completed.size(), 2'000u);
  for (const auto& [n, task] : completed) {
    EXPECT_EQ(task.result.square(), n * n);
    EXPECT_EQ(task.id, absl::StrCat(n + 1)) << "ids follow the source order";
    EXPECT_EQ(task.attempts, 1);
  }
  EXPECT_EQ(ledger_.HandledTwice(), 0);
  EXPECT_TRUE(ledger_.dead().empty());
}

TEST_F(SdkTest, BatchWithMissingOutcomesRetriesThemThenTheyAreDead) {
  RunJob(300, 2, [this](int port) {
    Worker::Options options = WorkerOptions(port);
    // Leaves out every multiple of 7: a shorter vector, as the original's
    // users did by skipping a task.
    options.process_tasks = [](const std::vector<Number>& tasks) {
      std::vector<absl::StatusOr<Square>> results;
      for (const Number& task : tasks) {
        if (task.n() % 7 == 0) break;
        results.push_back(SquareOf(task));
      }
      return results;
    };
    return options;
  });
  for (const auto& [n, task] : ledger_.dead()) {
    EXPECT_EQ(task.message, "no result") << n;
    EXPECT_EQ(task.attempts, 2) << n;
  }
  EXPECT_EQ(ledger_.completed().size() + ledger_.dead().size(), 300u);
  EXPECT_TRUE(ledger_.dead().contains(0));
  EXPECT_EQ(ledger_.HandledTwice(), 0);
}

TEST_F(SdkTest, InvalidArgumentFailsAtOnceOtherErrorsAreRetried) {
  RunJob(40, 1, [this](int port) {
    Worker::Options options = WorkerOptions(port);
    options.process_task = [](const Number& task) -> absl::StatusOr<Square> {
      if (task.n() % 2 == 0) return absl::InvalidArgumentError("even");
      return absl::UnavailableError("try elsewhere");
    };
    return options;
  });
  const auto dead = ledger_.dead();
  ASSERT_EQ(dead.size(), 40u);
  EXPECT_EQ(dead.at(2).code, "INVALID_ARGUMENT");
  EXPECT_EQ(dead.at(2).attempts, 1);
  EXPECT_EQ(dead.at(3).code, "UNAVAILABLE");
  EXPECT_EQ(dead.at(3).message, "try elsewhere");
  EXPECT_EQ(dead.at(3).attempts, 2);
}

TEST_F(SdkTest, GetTasksHandsOutEveryTaskInOrder) {
  Distributor::Options options = DistributorOptions(0);
  options.next_task = nullptr;
  options.get_tasks = [] {
    return std::vector<Number>{MakeNumber(5), MakeNumber(6), MakeNumber(7)};
  };
  auto distributor = Distributor::Create(std::move(options));
  ASSERT_TRUE(distributor.ok()) << distributor.status();
  ASSERT_TRUE((*distributor)->Start().ok());
  Worker::Options worker_options = WorkerOptions((*distributor)->port());
  worker_options.process_task = SquareOf;
  auto worker = Worker::Create(std::move(worker_options));
  ASSERT_TRUE(worker.ok());
  EXPECT_TRUE((*worker)->Run().ok());
  EXPECT_TRUE((*distributor)->Wait().ok());
  const auto completed = ledger_.completed();
  ASSERT_EQ(completed.size(), 3u);
  EXPECT_EQ(completed.at(5).id, "1");
  EXPECT_EQ(completed.at(7).id, "3");
}

TEST_F(SdkTest, JournalPathResumesAFinishedJobWithoutHandlingItAgain) {
  journal_path_ =
      absl::StrCat(::testing::TempDir(), "/sdk_test_", getpid(), ".journal");
  std::remove(journal_path_.c_str());
  auto square = [this](int port) {
    Worker::Options options = WorkerOptions(port);
    options.process_task = SquareOf;
    return options;
  };
  RunJob(50, 1, square);
  ASSERT_EQ(ledger_.completed().size(), 50u);
  pulled_ = 0;  // The source starts again from its first task.
  // No worker: a job already complete needs none, and ends at once.
  RunJob(50, 0, square);
  EXPECT_EQ(ledger_.completed().size(), 50u);
  EXPECT_EQ(ledger_.HandledTwice(), 0) << "the journal had them all handled";
  std::remove(journal_path_.c_str());
}

TEST_F(SdkTest, CreateRefusesOptionsThatCannotWork) {
  Distributor::Options both = DistributorOptions(1);
  both.get_tasks = [] { return std::vector<Number>(); };
  EXPECT_EQ(Distributor::Create(std::move(both)).status().code(),
            absl::StatusCode::kInvalidArgument);
  Distributor::Options no_handler = DistributorOptions(1);
  no_handler.handle_results = nullptr;
  EXPECT_EQ(Distributor::Create(std::move(no_handler)).status().code(),
            absl::StatusCode::kInvalidArgument);
  Distributor::Options bad_port = DistributorOptions(1);
  bad_port.port = 70'000;
  EXPECT_EQ(Distributor::Create(std::move(bad_port)).status().code(),
            absl::StatusCode::kInvalidArgument);

  Worker::Options neither = WorkerOptions(1);
  EXPECT_EQ(Worker::Create(neither).status().code(),
            absl::StatusCode::kInvalidArgument);
  Worker::Options bad_type = WorkerOptions(1);
  bad_type.master.clear();  // mDNS for service_type
  bad_type.service_type = "render";
  bad_type.process_task = SquareOf;
  EXPECT_EQ(Worker::Create(bad_type).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SdkTest, WaitBeforeStartIsFailedPrecondition) {
  auto distributor = Distributor::Create(DistributorOptions(1));
  ASSERT_TRUE(distributor.ok());
  EXPECT_EQ((*distributor)->Wait().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Collects the messages glog hands it.
class CollectingLogSink : public google::LogSink {
 public:
  void send(google::LogSeverity, const char*, const char*, int,
            const struct ::tm*, const char* message, size_t length) override {
    absl::MutexLock lock(&mu_);
    messages_.emplace_back(message, length);
  }
  bool Saw(absl::string_view text) {
    absl::MutexLock lock(&mu_);
    for (const std::string& message : messages_) {
      if (absl::StrContains(message, text)) return true;
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SdkTest, LogsGoToTheCallersSink) {
  CollectingLogSink sink;
  Distributor::Options options = DistributorOptions(1);
  options.log_sink = &sink;
  auto distributor = Distributor::Create(std::move(options));
  ASSERT_TRUE(distributor.ok());
  ASSERT_TRUE((*distributor)->Start().ok());
  EXPECT_TRUE(sink.Saw("TaskDistributor serving distributo.test.Number"));
  (*distributor)->Shutdown();
  EXPECT_EQ((*distributor)->Wait().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace distributo
