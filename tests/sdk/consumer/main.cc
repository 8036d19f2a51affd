// Runs a job of a few tasks through the installed SDK, in one process.
// Exits 0 if every task came back with the right result.

#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "consumer.pb.h"
#include "distributo/task_distributor.h"
#include "distributo/worker_client.h"

namespace {

using Distributor =
    distributo::TaskDistributor<consumer::Task, consumer::Result>;
using Worker = distributo::WorkerClient<consumer::Task, consumer::Result>;

constexpr int kTasks = 5;

// Runs the job; `squares[n]` receives n's result.
absl::Status RunJob(std::vector<int>& squares) {
  Distributor::Options options;
  options.port = 0;
  options.get_tasks = [] {
    std::vector<consumer::Task> tasks(kTasks);
    for (int n = 0; n < kTasks; ++n) tasks[n].set_n(n);
    return tasks;
  };
  // Called one batch at a time, and Wait() returns only after the last.
  options.handle_results = [&squares](auto completed) {
    for (const auto& done : completed) {
      squares[done.task.n()] = done.result.square();
    }
  };
  auto distributor = Distributor::Create(std::move(options));
  if (!distributor.ok()) return distributor.status();
  if (absl::Status status = (*distributor)->Start(); !status.ok()) {
    return status;
  }

  Worker::Options worker_options;
  worker_options.master = absl::StrCat("127.0.0.1:", (*distributor)->port());
  worker_options.process_task =
      [](const consumer::Task& task) -> absl::StatusOr<consumer::Result> {
    consumer::Result result;
    result.set_square(task.n() * task.n());
    return result;
  };
  auto worker = Worker::Create(std::move(worker_options));
  if (!worker.ok()) return worker.status();
  if (absl::Status status = (*worker)->Start(); !status.ok()) return status;
  if (absl::Status status = (*distributor)->Wait(); !status.ok()) {
    return status;
  }
  return (*worker)->Wait();
}

}  // namespace

int main() {
  std::vector<int> squares(kTasks, -1);
  if (absl::Status status = RunJob(squares); !status.ok()) {
    std::cerr << "job failed: " << status << "\n";
    return 1;
  }
  for (int n = 0; n < kTasks; ++n) {
    if (squares[n] != n * n) {
      std::cerr << "task " << n << ": got " << squares[n] << "\n";
      return 1;
    }
  }
  std::cout << "all " << kTasks << " results came back\n";
  return 0;
}
