#ifndef DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_TASK_DISTRIBUTOR_H_
#define DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_TASK_DISTRIBUTOR_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "distributo/distributor_core.h"
#include "distributo/lease_options.h"
#include "glog/logging.h"
#include "google/protobuf/message.h"

namespace distributo {

// A task that a worker completed, with the result it returned.
template <typename Task, typename Result>
struct CompletedTask {
  std::string id;  // assigned by the distributor: "1", "2", ... in source order
  Task task;
  Result result;
  int attempts = 0;  // leases it took, 1 when the first worker succeeded
};

// A task that failed too often, or lost too many workers, to go on.
template <typename Task>
struct DeadTask {
  std::string id;
  Task task;
  std::string code;     // the last failure's code, e.g. "INVALID_ARGUMENT"
  std::string message;  // and its message
  int attempts = 0;
};

// The master side of Distributo, typed by protobuf messages: serves tasks to
// WorkerClients (or any worker speaking distributo.v1) and hands back their
// results. Task and Result must be protobuf message types.
//
//   TaskDistributor<WordTask, SyllableResult>::Options options;
//   options.next_task = ReadNextWord;
//   options.handle_results = PrintResults;
//   auto distributor = TaskDistributor<WordTask, SyllableResult>::Create(
//       std::move(options));
//   absl::Status status =
//       distributor.ok() ? (*distributor)->Run() : distributor.status();
//
// Threads: Start() serves on gRPC's threads plus threads of its own: one
// pulls tasks, others commit outcomes, deliver results and reap leases.
// Result handlers are called one at a time, never concurrently, from the
// delivery thread or the reaper (and from Start()'s caller for results
// recovered from a journal). All methods are thread-safe.
template <typename Task, typename Result>
class TaskDistributor {
  static_assert(std::is_base_of_v<google::protobuf::Message, Task>,
                "TaskDistributor<Task, Result>: Task must be a protobuf "
                "message type");
  static_assert(std::is_base_of_v<google::protobuf::Message, Result>,
                "TaskDistributor<Task, Result>: Result must be a protobuf "
                "message type");

 public:
  struct Options {
    // Where to listen. Loopback by default; "0.0.0.0" serves the LAN.
    std::string listen_address = "127.0.0.1";
    // 0 picks a free port; port() tells which.
    int port = 4000;
    // Serve /metrics (Prometheus text), /healthz, /readyz and a live status
    // page at / on this port of `http_listen_address` from Start() on; 0
    // picks a free port (http_port() tells which); -1: no HTTP port. It has
    // no TLS or tokens: loopback unless the network is trusted.
    int http_port = -1;
    std::string http_listen_address = "127.0.0.1";
    // TLS: this master's PEM certificate and key (both, or neither for
    // plaintext), and the CA whose certificates workers must present (with
    // require_client_cert: mutual TLS). `distributo certs init` makes them.
    std::string tls_cert;
    std::string tls_key;
    std::string tls_ca;
    bool require_client_cert = false;
    // Plaintext on a listen_address other hosts can reach is refused by
    // Start() (FailedPrecondition) unless this is set.
    bool insecure = false;
    // Bearer tokens workers must send, each with the name the worker is
    // then known by; empty: none needed.
    std::map<std::string, std::string> tokens;
    // The DNS-SD service type the master is advertised as.
    std::string service_type = "_distributo._tcp";
    // Most tasks sent to a worker in one batch.
    size_t batch_size = 100;
    // The tasks, all at once. Set this or `next_task`, not both.
    std::function<std::vector<Task>()> get_tasks;
    // Or: the next task, nullopt when there are no more. Pulled lazily as
    // workers need tasks, so a huge source never sits in memory.
    std::function<std::optional<Task>()> next_task;
    // Called with batches of completed tasks. Required.
    std::function<void(std::vector<CompletedTask<Task, Result>>)>
        handle_results;
    // Called with batches of dead tasks. Optional: without it they are
    // logged.
    std::function<void(std::vector<DeadTask<Task>>)> handle_dead;
    // Advertise over mDNS (the original's enableBonjour) as `service_type`,
    // so that workers on the LAN find this master with no address: Start()
    // announces it, Wait() and Shutdown() send the goodbye. Start() returns
    // Unavailable if the mDNS port cannot be shared, InvalidArgument if
    // `listen_address` is not IPv4.
    bool enable_discovery = false;
    // With enable_discovery, the cluster advertised: workers that name a
    // cluster take only masters of theirs. Empty: none.
    std::string cluster;
    LeaseOptions lease;
    // An SQLite file that keeps the job across a crash of this process:
    // Start() on the same file resumes it, skipping the tasks the source
    // gives again (their ids follow the source's order, so it must give
    // them in the same order) and handing handle_results the results it
    // may not have had, at least once, from within Start() (so a handler
    // must not call Shutdown() then). Empty: the queue lives in memory.
    std::string journal_path;
    // If set, receives the process's glog messages while this exists (not
    // owned; must outlive the distributor).
    google::LogSink* log_sink = nullptr;
  };

  // Checks the options. Returns InvalidArgument for missing callbacks, both
  // task sources or a bad port or batch size.
  // Does not listen yet.
  static absl::StatusOr<std::unique_ptr<TaskDistributor>> Create(
      Options options) {
    auto core = internal::DistributorCore::Create(ToCore(std::move(options)));
    if (!core.ok()) return core.status();
    return std::unique_ptr<TaskDistributor>(
        new TaskDistributor(*std::move(core)));
  }

  // Start()s, then Wait()s.
  absl::Status Run() {
    absl::Status status = Start();
    return status.ok() ? Wait() : status;
  }

  // Starts serving, after restoring the job from journal_path if it holds
  // one. Returns Unavailable if the address cannot be bound or the journal
  // cannot be opened, FailedPrecondition if already started or the journal
  // file is not a journal, DataLoss if it is corrupt.
  absl::Status Start() { return core_->Start(); }

  // The port served on, once started.
  int port() const { return core_->port(); }
  // The HTTP port, once started; -1 without one.
  int http_port() const { return core_->http_port(); }

  // Blocks until every task is done or dead and handled, then tells the
  // workers the job is complete and stops serving. Returns OK then, or
  // Cancelled if Shutdown() came first, FailedPrecondition if not started.
  absl::Status Wait() { return core_->Wait(); }

  // Stops serving now; workers keep what they did not finish. Idempotent.
  void Shutdown() { core_->Shutdown(); }

 private:
  explicit TaskDistributor(std::unique_ptr<internal::DistributorCore> core)
      : core_(std::move(core)) {}

  static internal::DistributorCoreOptions ToCore(Options options);
  static std::function<std::vector<std::string>(size_t)> Puller(
      Options& options);
  static std::function<void(std::vector<internal::RawFinishedTask>)> Deliverer(
      Options& options);

  std::unique_ptr<internal::DistributorCore> core_;
};

template <typename Task, typename Result>
internal::DistributorCoreOptions TaskDistributor<Task, Result>::ToCore(
    Options options) {
  internal::DistributorCoreOptions core;
  core.listen_address = options.listen_address;
  core.port = options.port;
  core.http_port = options.http_port;
  core.http_listen_address = options.http_listen_address;
  core.tls_cert = options.tls_cert;
  core.tls_key = options.tls_key;
  core.tls_ca = options.tls_ca;
  core.require_client_cert = options.require_client_cert;
  core.insecure = options.insecure;
  core.tokens = options.tokens;
  core.service_type = options.service_type;
  core.batch_size = options.batch_size;
  core.enable_discovery = options.enable_discovery;
  core.cluster = options.cluster;
  core.lease = options.lease;
  core.journal_path = options.journal_path;
  core.log_sink = options.log_sink;
  core.task_type = Task::descriptor()->full_name();
  core.result_type = Result::descriptor()->full_name();
  if (options.get_tasks && options.next_task) return core;  // Create refuses
  if (options.handle_results) core.on_finished = Deliverer(options);
  core.next_tasks = Puller(options);
  return core;
}

template <typename Task, typename Result>
std::function<std::vector<std::string>(size_t)>
TaskDistributor<Task, Result>::Puller(Options& options) {
  if (options.next_task) {
    return [next = std::move(options.next_task)](size_t max) {
      std::vector<std::string> tasks;
      for (std::optional<Task> task; tasks.size() < max && (task = next());) {
        tasks.push_back(task->SerializeAsString());
      }
      return tasks;
    };
  }
  if (!options.get_tasks) return nullptr;
  // Fetched on the first pull, then handed out in order.
  struct Fetched {
    bool done = false;
    std::vector<Task> tasks;
    size_t next = 0;
  };
  auto fetched = std::make_shared<Fetched>();
  return [get = std::move(options.get_tasks), fetched](size_t max) {
    if (!fetched->done) fetched->tasks = get(), fetched->done = true;
    std::vector<std::string> tasks;
    while (tasks.size() < max && fetched->next < fetched->tasks.size()) {
      tasks.push_back(fetched->tasks[fetched->next++].SerializeAsString());
    }
    if (fetched->next == fetched->tasks.size()) fetched->tasks.clear();
    return tasks;
  };
}

template <typename Task, typename Result>
std::function<void(std::vector<internal::RawFinishedTask>)>
TaskDistributor<Task, Result>::Deliverer(Options& options) {
  return [results = std::move(options.handle_results),
          dead = std::move(options.handle_dead)](
             std::vector<internal::RawFinishedTask> finished) {
    std::vector<CompletedTask<Task, Result>> completed;
    std::vector<DeadTask<Task>> died;
    for (internal::RawFinishedTask& raw : finished) {
      Task task;
      // The core checked both messages parse before accepting them.
      task.ParseFromString(raw.task);
      if (raw.dead) {
        died.push_back({std::move(raw.id), std::move(task), std::move(raw.code),
                        std::move(raw.message), raw.attempts});
        continue;
      }
      CompletedTask<Task, Result>& done = completed.emplace_back();
      done.id = std::move(raw.id);
      done.task = std::move(task);
      done.result.ParseFromString(raw.result);
      done.attempts = raw.attempts;
    }
    if (!completed.empty()) results(std::move(completed));
    if (!died.empty() && dead) dead(std::move(died));
  };
}

}  // namespace distributo

#endif  // DISTRIBUTO_SDK_INCLUDE_DISTRIBUTO_TASK_DISTRIBUTOR_H_
