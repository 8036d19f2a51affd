#ifndef DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CLIENT_H_
#define DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "distributo/worker_core.h"
#include "glog/logging.h"
#include "google/protobuf/message.h"

namespace distributo {

// The worker side of Distributo, typed by protobuf messages: connects to a
// master, processes the tasks it leases and sends the results back until the
// master says the job is complete. Task and Result must be protobuf message
// types, the same as the TaskDistributor's.
//
//   WorkerClient<WordTask, SyllableResult>::Options options;
//   options.master = "127.0.0.1:4000";
//   options.process_task = CountSyllables;
//   auto worker =
//       WorkerClient<WordTask, SyllableResult>::Create(std::move(options));
//   absl::Status status = worker.ok() ? (*worker)->Run() : worker.status();
//
// A process function returns a Result, or an error status for a failed
// attempt: the task is retried (on any worker) up to the master's attempt
// limit, except for InvalidArgument, FailedPrecondition, Unimplemented and
// PermissionDenied, which mean trying again cannot help: the task is dead at
// once. Process functions run on `concurrency` threads at once and must be
// thread-safe. All methods are thread-safe.
template <typename Task, typename Result>
class WorkerClient {
  static_assert(std::is_base_of_v<google::protobuf::Message, Task>,
                "WorkerClient<Task, Result>: Task must be a protobuf message "
                "type");
  static_assert(std::is_base_of_v<google::protobuf::Message, Result>,
                "WorkerClient<Task, Result>: Result must be a protobuf message "
                "type");

 public:
  struct Options {
    // Where the master is: "host:port", "dns-sd:_distributo._tcp.DOMAIN"
    // (unicast DNS-SD), "srv:NAME" (an SRV record, as Kubernetes
    // publishes) or "mdns" (the LAN). Empty: mDNS for `service_type`.
    // Discovery looks again whenever the connection is lost, trying each
    // master found in SRV priority order.
    std::string master;
    // The DNS-SD service type to find the master by when `master` is empty.
    std::string service_type = "_distributo._tcp";
    // The DNS server for dns-sd: and srv:, "IP:PORT". Empty: the system's.
    std::string dns_server;
    // With discovery, only masters advertising this cluster. Empty: any.
    std::string cluster;
    // TLS: the PEM CA to check the master's certificate with (TLS is on when
    // this or tls_cert is set), and a certificate and key to present to a
    // master that requires one. A discovered master is checked against the
    // host name it was published as.
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    // A bearer token for a master that asks for one; empty: none.
    std::string token;
    // Processes a batch of tasks and returns one outcome per task, in the
    // same order. Tasks left without an outcome (a shorter vector) count as
    // failed attempts with the message "no result". Set this or
    // `process_task`, not both.
    std::function<std::vector<absl::StatusOr<Result>>(const std::vector<Task>&)>
        process_tasks;
    // Or: processes one task.
    std::function<absl::StatusOr<Result>(const Task&)> process_task;
    // Batches (or tasks) processed at once, each on its own thread.
    int concurrency = 1;
    // Shown in the master's logs. Empty: "<hostname>/<pid>".
    std::string worker_name;
    // Reconnect backoff: grows 1.6x per failed attempt, with jitter.
    absl::Duration reconnect_initial = absl::Seconds(1);
    absl::Duration reconnect_max = absl::Seconds(30);
    // If set, receives the process's glog messages while this exists (not
    // owned; must outlive the worker).
    google::LogSink* log_sink = nullptr;
  };

  // Checks the options. Returns InvalidArgument without a master address,
  // with no or both process functions, or with concurrency < 1. Does not
  // connect yet.
  static absl::StatusOr<std::unique_ptr<WorkerClient>> Create(Options options) {
    auto core = internal::WorkerCore::Create(ToCore(std::move(options)));
    if (!core.ok()) return core.status();
    return std::unique_ptr<WorkerClient>(new WorkerClient(*std::move(core)));
  }

  // Start()s, then Wait()s.
  absl::Status Run() {
    absl::Status status = Start();
    return status.ok() ? Wait() : status;
  }

  // Connects (retrying with backoff while the master is unreachable) and
  // works on a background thread. FailedPrecondition if already started.
  absl::Status Start() { return core_->Start(); }

  // Blocks until the master says the job is complete and every result is
  // acknowledged (OK), Shutdown() (Cancelled), or an error the master will
  // keep giving (e.g. InvalidArgument).
  absl::Status Wait() { return core_->Wait(); }

  // Stops working; the master gives unfinished tasks to other workers.
  void Shutdown() { core_->Shutdown(); }

 private:
  explicit WorkerClient(std::unique_ptr<internal::WorkerCore> core)
      : core_(std::move(core)) {}

  static internal::WorkerCoreOptions ToCore(Options options);
  static absl::StatusOr<std::string> Serialize(absl::StatusOr<Result> result) {
    if (!result.ok()) return result.status();
    return result->SerializeAsString();
  }

  std::unique_ptr<internal::WorkerCore> core_;
};

template <typename Task, typename Result>
internal::WorkerCoreOptions WorkerClient<Task, Result>::ToCore(
    Options options) {
  internal::WorkerCoreOptions core;
  core.master = std::move(options.master);
  core.service_type = std::move(options.service_type);
  core.dns_server = std::move(options.dns_server);
  core.cluster = std::move(options.cluster);
  core.tls_ca = std::move(options.tls_ca);
  core.tls_cert = std::move(options.tls_cert);
  core.tls_key = std::move(options.tls_key);
  core.token = std::move(options.token);
  core.worker_name = std::move(options.worker_name);
  core.concurrency = options.concurrency;
  core.reconnect_initial = options.reconnect_initial;
  core.reconnect_max = options.reconnect_max;
  core.log_sink = options.log_sink;
  core.task_type = Task::descriptor()->full_name();
  core.result_type = Result::descriptor()->full_name();
  if (options.process_tasks) {
    core.process_batch = [process = std::move(options.process_tasks)](
                             const std::vector<std::string>& raw) {
      std::vector<Task> tasks(raw.size());
      for (size_t i = 0; i < raw.size(); ++i) tasks[i].ParseFromString(raw[i]);
      std::vector<absl::StatusOr<std::string>> outcomes;
      for (auto& result : process(tasks)) {
        outcomes.push_back(Serialize(std::move(result)));
      }
      return outcomes;
    };
  }
  if (options.process_task) {
    core.process_one =
        [process = std::move(options.process_task)](const std::string& raw) {
          Task task;
          task.ParseFromString(raw);
          return Serialize(process(task));
        };
  }
  return core;
}

}  // namespace distributo

#endif  // DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_WORKER_CLIENT_H_
