#ifndef DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CORE_H_
#define DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "glog/logging.h"

namespace distributo::internal {

// What the untyped worker core needs; WorkerClient<Task, Result> fills it in.
// Tasks go in and results come out serialized.
struct WorkerCoreOptions {
  std::string master;
  std::string service_type;
  std::string dns_server;
  std::string cluster;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string token;
  std::string worker_name;
  int concurrency = 1;
  absl::Duration reconnect_initial;
  absl::Duration reconnect_max;
  google::LogSink* log_sink = nullptr;
  // Full protobuf names of the task and result messages.
  std::string task_type;
  std::string result_type;
  // Exactly one is set. The batch form returns an outcome per task, in
  // order (missing ones fail with "no result"); errors fail the attempt.
  std::function<std::vector<absl::StatusOr<std::string>>(
      const std::vector<std::string>& tasks)>
      process_batch;
  std::function<absl::StatusOr<std::string>(const std::string& task)>
      process_one;
};

// The non-template worker behind WorkerClient. Use WorkerClient; this class
// is its implementation. Thread-safe.
class WorkerCore {
 public:
  static absl::StatusOr<std::unique_ptr<WorkerCore>> Create(
      WorkerCoreOptions options);
  ~WorkerCore();

  absl::Status Start();
  absl::Status Wait();
  void Shutdown();

 private:
  struct State;
  explicit WorkerCore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CORE_H_
