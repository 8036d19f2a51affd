#ifndef DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_DISTRIBUTOR_CORE_H_
#define DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_DISTRIBUTOR_CORE_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "distributo/lease_options.h"
#include "glog/logging.h"

namespace distributo::internal {

// A finished task as the untyped core hands it over: serialized messages.
struct RawFinishedTask {
  std::string id;
  std::string task;  // the serialized Task
  bool dead = false;
  std::string result;  // the serialized Result, when !dead
  std::string code;    // why it is dead
  std::string message;
  int attempts = 0;
};

// What the untyped core needs; TaskDistributor<Task, Result> fills it in.
struct DistributorCoreOptions {
  std::string listen_address;
  int port = 0;
  int http_port = -1;
  std::string http_listen_address;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool require_client_cert = false;
  bool insecure = false;
  std::map<std::string, std::string> tokens;  // token -> worker name
  std::string service_type;
  size_t batch_size = 0;
  bool enable_discovery = false;
  std::string cluster;
  LeaseOptions lease;
  std::string journal_path;
  google::LogSink* log_sink = nullptr;
  // Full protobuf names of the task and result messages.
  std::string task_type;
  std::string result_type;
  // Returns up to `max` more serialized tasks; an empty vector means there
  // are no more. Called from one thread at a time.
  std::function<std::vector<std::string>(size_t max)> next_tasks;
  // Receives finished tasks in batches, one call at a time.
  std::function<void(std::vector<RawFinishedTask>)> on_finished;
};

// The non-template master behind TaskDistributor: serves a queue fed lazily
// from `next_tasks` and reports every finished task once. Use
// TaskDistributor; this class is its implementation. Thread-safe.
class DistributorCore {
 public:
  static absl::StatusOr<std::unique_ptr<DistributorCore>> Create(
      DistributorCoreOptions options);
  ~DistributorCore();

  absl::Status Start();
  int port() const;
  int http_port() const;
  absl::Status Wait();
  void Shutdown();

 private:
  struct State;
  explicit DistributorCore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_DISTRIBUTOR_CORE_H_
