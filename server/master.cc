#include "server/master.h"

#include <utility>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace distributo::server {

absl::Status Master::Validate(const MasterOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", options.port, " is out of range 0-65535"));
  }
  if (options.queue.max_batch_tasks == 0 || options.queue.max_attempts < 1 ||
      options.queue.max_worker_deaths < 1 || options.queue.max_unhandled == 0) {
    return absl::InvalidArgumentError(
        "batch size, max attempts, max worker deaths and max unhandled "
        "results must be at least 1");
  }
  if (options.queue.lease_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the lease timeout must be positive");
  }
  if (!options.tls.enabled() && !options.insecure &&
      !IsLoopback(options.listen_address)) {
    // Anyone on that network could read the tasks and results, and forge
    // them: plaintext there is a choice to make explicitly.
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve plaintext on ", options.listen_address,
        ", which other hosts can reach: give --tls_cert and --tls_key "
        "(`distributo certs init DIR` makes them), or --insecure on a "
        "network you trust"));
  }
  if (options.admin_enqueue && !options.tokens.empty() &&
      options.operator_tokens.empty()) {
    return absl::InvalidArgumentError(
        "a master without --tasks is fed by the admin service, which its "
        "--tokens close to all but operators: give --operator_tokens too");
  }
  for (const auto& [token, name] : options.operator_tokens) {
    if (options.tokens.contains(token)) {
      return absl::InvalidArgumentError(
          absl::StrCat("operator ", name,
                       "'s token is a worker's token too: give each "
                       "its own, or a worker could run the admin service"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Master>> Master::Create(
    MasterOptions options, std::unique_ptr<Journal> journal,
    std::unique_ptr<ResultSink> sink) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  std::unique_ptr<Master> master(
      new Master(std::move(options), std::move(journal), std::move(sink)));
  if (absl::Status status = master->Recover(); !status.ok()) return status;
  if (absl::Status status = master->Start(); !status.ok()) return status;
  return master;
}

Master::Master(MasterOptions options, std::unique_ptr<Journal> journal,
               std::unique_ptr<ResultSink> sink)
    : options_(std::move(options)),
      journal_(std::move(journal)),
      sink_(std::move(sink)),
      queue_(
          options_.queue, [] { return absl::Now(); }, journal_->pages()),
      router_(&queue_, journal_.get(), sink_.get()),
      commits_(&router_, journal_->durable()
                             ? CommitQueue::RunOn::kCommitThread
                             : CommitQueue::RunOn::kCallerThread),
      service_(&queue_, &router_, &commits_, options_.tokens,
               options_.max_workers),
      admin_(this, &options_.operator_tokens, &options_.tokens) {
  queue_.SetChangeListener([this](absl::string_view session_id) {
    service_.WakeStreams(session_id);
  });
}

absl::Status Master::Recover() {
  absl::StatusOr<JournalState> state = journal_->Recover(options_.job);
  if (!state.ok()) return state.status();
  // A new journal records where the sink starts, so that even a crash
  // before the first handled mark rewinds it to there.
  absl::Status status = state->sink_position.has_value()
                            ? sink_->RewindTo(*state->sink_position)
                            : journal_->MarkHandled({}, sink_->Position());
  if (!status.ok()) return status;
  service_.set_job_id(state->job_id);
  recovery_.resumed = state->sink_position.has_value();
  recovery_.generation = state->generation;
  std::vector<FinishedTask> unhandled;
  queue_.Restore(*std::move(state), &unhandled);
  recovery_.counts = queue_.Counts();
  recovery_.redelivered = unhandled.size();
  router_.Deliver(std::move(unhandled));
  return absl::OkStatus();
}

absl::Status Master::Start() {
  // grpc.health.v1.Health, so that generic tools and orchestrators see when
  // the master cannot take outcomes, and server reflection, so that tools
  // such as grpcurl can call the master without its proto files.
  grpc::EnableDefaultHealthCheckService(true);
  // Both before the builder, which picks up its plugins when made.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address =
      absl::StrCat(options_.listen_address, ":", options_.port);
  auto credentials = MasterCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  builder.AddListeningPort(address, *credentials, &port_);
  // Keepalive as in notes/reliability.md: the master pings idle workers every
  // 30 s and drops them after 10 s without an answer; workers may ping it as
  // often as every 10 s, with or without calls in flight.
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.handshake_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options_.max_streams_per_connection);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             options_.max_metadata_bytes);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(options_.queue.max_message_bytes));
  builder.RegisterService(&service_);
  const QueueCounts counts = queue_.Counts();
  admin_.Start(counts.done + counts.dead);
  builder.RegisterService(&admin_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, " (address in use or not local?)"));
  }
  ReportHealth();
  reaper_ = std::thread([this] { ReapUntilStopped(); });
  return absl::OkStatus();
}

Master::~Master() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<size_t> Master::Enqueue(std::vector<PackedTask>* to_enqueue,
                                       std::vector<std::string>* added_ids) {
  std::vector<PackedTask>& tasks = *to_enqueue;
  if (!queue_.paged()) {
    // The journal keeps no tasks: the queue alone knows which ids are new.
    absl::StatusOr<size_t> count = queue_.Enqueue(std::move(tasks), added_ids);
    tasks.clear();
    return count;
  }
  if (absl::Status status = CheckIds(tasks); !status.ok()) return status;
  // One at a time: two calls with the same id must not both find it new.
  absl::MutexLock lock(&enqueue_mu_);
  std::vector<TaskRef> added;
  // The journal knows every id, and numbers the tasks it adds.
  absl::StatusOr<uint64_t> total =
      journal_->pages()->AppendTasks(tasks, &added);
  if (!total.ok()) return total.status();
  queue_.AddJournaled(*total, std::move(tasks), added);
  tasks.clear();
  if (added_ids != nullptr) {
    for (TaskRef& ref : added) added_ids->push_back(std::move(ref.id));
  }
  return added.size();
}

void Master::Drain() {
  service_.Drain();
  absl::MutexLock lock(&health_mu_);
  SetServingLocked(false);
}

absl::StatusOr<Master::CancelOutcome> Master::Cancel(absl::string_view task_id,
                                                     absl::string_view reason) {
  absl::StatusOr<TaskQueue::Cancelled> cancelled =
      absl::NotFoundError("not applied");
  std::vector<FinishedTask> finished;
  absl::Status committed = router_.ApplyAndCommit(
      [&](std::vector<FinishedTask>* out) {
        cancelled = queue_.Cancel(task_id, reason, out);
      },
      &finished);
  if (!cancelled.ok()) return cancelled.status();
  // Told even if the commit failed: the task is dead in memory already, and
  // the router commits it with its next success.
  CancelOutcome outcome{cancelled->worker_name, false};
  if (!cancelled->session_id.empty()) {
    outcome.worker_told =
        service_.CancelLease(cancelled->session_id, cancelled->lease, reason);
  }
  if (!committed.ok()) return committed;
  router_.Deliver(std::move(finished));
  return outcome;
}

absl::StatusOr<TaskQueue::RedrivePlan> Master::Redrive(
    std::vector<std::string> task_ids, size_t max_dead) {
  absl::MutexLock lock(&enqueue_mu_);
  if (draining()) {
    return absl::FailedPreconditionError(
        "the master drains: it leases no task any more");
  }
  absl::StatusOr<TaskQueue::RedrivePlan> plan =
      queue_.PlanRedrive(std::move(task_ids), max_dead);
  if (!plan.ok() || plan->task_ids.empty()) return plan;
  absl::StatusOr<std::vector<JournaledTask>> rows =
      journal_->Redrive(plan->task_ids);
  const absl::Status journaled = rows.status();
  queue_.Redrive(plan->task_ids, std::move(rows));
  if (!journaled.ok()) return journaled;
  return plan;
}

MasterStatus Master::Status() {
  MasterStatus status;
  status.queue = queue_.Status();
  status.streams = service_.stream_counts();
  status.commit_latency = router_.commit_latency();
  status.draining = service_.draining();
  status.durable = durable();
  status.outages = router_.outages();
  status.serving = serving();
  return status;
}

bool Master::serving() {
  absl::MutexLock lock(&health_mu_);
  return serving_.value_or(false);
}

void Master::ReportHealth() {
  absl::MutexLock lock(&health_mu_);
  SetServingLocked(router_.healthy() && !service_.draining());
}

void Master::SetServingLocked(bool serving) {
  if (serving == serving_) return;
  serving_ = serving;
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void Master::ReapUntilStopped() {
  while (
      !stop_reaper_.WaitForNotificationWithTimeout(options_.reaper_interval)) {
    ReportHealth();
    if (!router_.healthy()) {
      router_.RetryBacklog();
      // Leases must not run out while workers cannot extend them.
      if (!router_.healthy()) continue;
    }
    if (const uint64_t outages = router_.outages(); outages != outages_seen_) {
      // Every batch was refused during the outage, extensions included:
      // expiring those leases now would count healthy tasks as poison.
      outages_seen_ = outages;
      queue_.RenewLeases();
      service_.WakeStreams();
    }
    std::vector<FinishedTask> finished;
    // On failure the router keeps them, to commit with its next success.
    if (router_
            .ApplyAndCommit([this](auto* out) { queue_.Tick(out); }, &finished)
            .ok()) {
      router_.Deliver(std::move(finished));
    }
  }
}

void Master::Shutdown(absl::Duration grace) {
  absl::call_once(shutdown_once_, [&] {
    // The reaper first, so that it cannot report SERVING again.
    stop_reaper_.Notify();
    admin_.Stop();
    if (reaper_.joinable()) reaper_.join();
    {
      // What Status() reports from now on, e.g. to /readyz during --linger.
      absl::MutexLock lock(&health_mu_);
      serving_ = false;
    }
    if (server_ == nullptr) return;
    // NOT_SERVING for good, also to health watchers (whose streams keep the
    // server until the deadline).
    server_->GetHealthCheckService()->Shutdown();
    // Result streams wait for their commits: stop the queue only once the
    // server has ended every call.
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    commits_.Stop();
  });
}

}  // namespace distributo::server
