#ifndef DISTRIBUTO_SERVER_MASTER_H_
#define DISTRIBUTO_SERVER_MASTER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "rpc/payload_schema.h"
#include "rpc/tls_credentials.h"
#include "server/admin_service.h"
#include "server/commit_queue.h"
#include "server/distributor_service.h"
#include "server/journal.h"
#include "server/queue_options.h"
#include "server/result_router.h"
#include "server/result_sink.h"
#include "server/task_queue.h"
#include "server/worker_tokens.h"

namespace distributo::server {

struct MasterOptions {
  // Address to listen on; loopback unless the LAN should reach the master.
  std::string listen_address = "127.0.0.1";
  // 0 picks a free port; port() tells which.
  int port = 0;
  // TLS for every call; none: plaintext, which a non-loopback
  // listen_address refuses unless `insecure`.
  TlsFiles tls;
  bool insecure = false;
  // When not empty, every Distributor call must carry one of these bearer
  // tokens; the worker is then known by its token's name.
  WorkerTokens tokens;
  // Tokens of operators, the only ones that open the Admin service once
  // there are any tokens; a token may not be both.
  WorkerTokens operator_tokens;
  // Workers (RequestBatch streams) served at once; more are answered with
  // RESOURCE_EXHAUSTED and retry later. 0: no cap.
  size_t max_workers = 10'000;
  // Streams one connection may have open at once (HTTP/2's
  // SETTINGS_MAX_CONCURRENT_STREAMS): a client past it waits for one to end.
  // A worker needs two, and now and then a unary call.
  int max_streams_per_connection = 16;
  // Bytes of headers (metadata) a call may carry, gRPC 1.51's own default
  // made explicit: a call past it ends with RESOURCE_EXHAUSTED before any
  // handler runs.
  int max_metadata_bytes = 8 * 1024;
  // Whether Admin.Enqueue may add tasks (a service master); a job's tasks
  // come from its own source only.
  bool admin_enqueue = false;
  // A connection that has not finished its (TLS) handshake by then is closed.
  absl::Duration handshake_timeout = absl::Seconds(10);
  QueueOptions queue;
  // The types tasks and results must have (--schema); none: JSON values.
  std::shared_ptr<const PayloadSchema> schema;
  // Names the job to the journal (its task source and result sink), which
  // refuses to resume a journal kept for another job.
  std::string job;
  // How often leases, disconnected sessions and retries are checked.

  absl::Duration reaper_interval = absl::Seconds(1);
};

// What the master found in its journal when it started.
struct Recovery {
  bool resumed = false;  // false: a new journal, or none
  uint64_t generation = 0;
  QueueCounts counts;      // the queue as restored
  size_t redelivered = 0;  // finished tasks handed to the sink again
};

// The master: a task queue served over gRPC, with a reaper that expires
// leases, and finished tasks routed to a journal and a result sink.
//
// (MasterStatus, below, is what it reports for observability.)
//
// Thread-safe. Create() starts serving; the destructor shuts down.
// Everything the status page and /metrics show of a master.
struct MasterStatus {
  QueueStatus queue;
  StreamCounts streams;
  Histogram commit_latency;  // journal commits, one per round
  bool serving = false;      // what the health service says
  bool draining = false;
  bool durable = false;
  uint64_t outages = 0;  // times the journal or sink began failing
};

class Master {
 public:
  // Returns InvalidArgument, saying which, for options that cannot work.
  static absl::Status Validate(const MasterOptions& options);

  // Restores the queue from `journal` (rewinding `sink` to where the journal
  // says it was, and handing it the results it never had), then starts
  // serving on the options' address. Returns Unavailable if the port cannot
  // be bound, InvalidArgument for bad options, and the journal's or sink's
  // error if recovery fails.
  static absl::StatusOr<std::unique_ptr<Master>> Create(
      MasterOptions options, std::unique_ptr<Journal> journal,
      std::unique_ptr<ResultSink> sink);
  ~Master();

  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  int port() const { return port_; }
  const MasterOptions& options() const { return options_; }
  TaskQueue& queue() { return queue_; }

  const Recovery& recovery() const { return recovery_; }
  // Returns true if the queue survives this process (a durable journal).
  bool durable() const { return journal_->durable(); }

  MasterStatus Status();
  // What the health service says: SERVING (true) or not.
  bool serving();

  // Enqueues tasks after journaling them, skipping those whose ids the queue
  // already knows (a job resumed from its journal reads its tasks again).
  // Returns how many were new.
  // The ids of the new ones go to `added_ids` when given. The tasks are
  // moved out of `tasks`; when the journal cannot take them (its error, e.g.
  // Unavailable or ResourceExhausted) they stay, so that the caller may try
  // again without a copy.
  absl::StatusOr<size_t> Enqueue(std::vector<PackedTask>* tasks,
                                 std::vector<std::string>* added_ids = nullptr);

  // Stops leasing tasks, for good, while results are still taken, so that
  // workers can hand in what they hold before Shutdown(); the health service
  // says NOT_SERVING at once. Idempotent. Call it after Create() returned.
  void Drain();

  // Who ran a cancelled task, and whether they were told.
  struct CancelOutcome {
    std::string worker_name;   // "" if the task was not running
    bool worker_told = false;  // false: its session is disconnected
  };
  // Cancels a task (TaskQueue::Cancel()), journals it as dead and hands it
  // to the sink, and tells the worker holding it, if connected. Returns
  // TaskQueue's errors or the journal's.
  absl::StatusOr<CancelOutcome> Cancel(absl::string_view task_id,
                                       absl::string_view reason);

  // Gives dead tasks another run (TaskQueue::PlanRedrive() and Redrive()),
  // journaled before the queue changes. Returns FailedPrecondition once
  // draining or complete, or the journal's error (nothing redriven then).
  absl::StatusOr<TaskQueue::RedrivePlan> Redrive(
      std::vector<std::string> task_ids, size_t max_dead);

  // Returns true once Drain() was called (by a signal or the admin API).
  bool draining() const { return service_.draining(); }

  // Stops serving: open calls get until `grace` to finish, then are cancelled.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Master(MasterOptions options, std::unique_ptr<Journal> journal,
         std::unique_ptr<ResultSink> sink);
  absl::Status Recover();
  absl::Status Start();
  void ReapUntilStopped();
  // Sets the health service's status from the router's: NOT_SERVING while
  // outcomes cannot be stored, and once draining.
  void ReportHealth();
  void SetServingLocked(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_mu_);

  const MasterOptions options_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<ResultSink> sink_;
  TaskQueue queue_;
  ResultRouter router_;
  CommitQueue commits_;
  DistributorService service_;
  AdminService admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  Recovery recovery_;
  // Enqueues and redrives, one at a time.
  absl::Mutex enqueue_mu_;
  absl::Mutex health_mu_;
  std::optional<bool> serving_ ABSL_GUARDED_BY(health_mu_);  // as reported
  uint64_t outages_seen_ = 0;  // the router's count; only the reaper's
  absl::Notification stop_reaper_;
  std::thread reaper_;
  absl::once_flag shutdown_once_;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_MASTER_H_
