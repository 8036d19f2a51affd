#include "distributo/distributor_core.h"

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "discovery/master_advertisement.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "sdk/src/callback_result_sink.h"
#include "sdk/src/scoped_log_sink.h"
#include "sdk/src/type_url.h"
#include "server/journal.h"
#include "server/master.h"
#include "server/sqlite_journal.h"
#include "server/status_server.h"
#include "server/task_feeder.h"

namespace distributo::internal {
namespace {

// How long workers get to hear that the job is complete before the master
// stops serving.
constexpr absl::Duration kCompleteGrace = absl::Seconds(5);
// How often Wait() checks for Shutdown() while the job runs.
constexpr absl::Duration kShutdownCheck = absl::Milliseconds(100);

server::QueueOptions QueueOptionsFrom(const DistributorCoreOptions& options) {
  server::QueueOptions queue;
  queue.max_batch_tasks = options.batch_size;
  queue.lease_duration = options.lease.lease_timeout;
  queue.requeue_grace = options.lease.requeue_grace;
  queue.max_attempts = options.lease.max_attempts;
  queue.max_worker_deaths = options.lease.max_worker_deaths;
  queue.retry_backoff = options.lease.retry_backoff;
  queue.max_retry_backoff = options.lease.max_retry_backoff;
  return queue;
}

// Accepts only results that parse as the job's result type, which must be
// linked into this binary (it is: the template named it).
absl::StatusOr<server::QueueOptions::ResultCheck> ResultTypeCheck(
    const std::string& result_type) {
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          result_type);
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("result type ", result_type, " is not linked in"));
  }
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          descriptor);
  return [prototype, url = TypeUrl(result_type)](
             const google::protobuf::Any& result) -> absl::Status {
    if (result.type_url() != url) {
      return absl::InvalidArgumentError(absl::StrCat(
          "result type ", result.type_url(), " is not the job's ", url));
    }
    std::unique_ptr<google::protobuf::Message> parsed(prototype->New());
    if (!parsed->ParseFromString(result.value())) {
      return absl::InvalidArgumentError(
          absl::StrCat("result does not parse as ", url));
    }
    return absl::OkStatus();
  };
}

absl::Status Validate(const DistributorCoreOptions& options) {
  if (!options.next_tasks) {
    return absl::InvalidArgumentError(
        "set exactly one of get_tasks and next_task");
  }
  if (!options.on_finished) {
    return absl::InvalidArgumentError("handle_results is required");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<discovery::MdnsResponder>> Advertise(
    const DistributorCoreOptions& options, int port) {
  discovery::AdvertiseOptions advertise;
  advertise.service_type = options.service_type;
  advertise.cluster = options.cluster;
  advertise.tls = !options.tls_cert.empty();
  return discovery::AdvertiseMaster(advertise, options.listen_address, port);
}

// What a started master may serve beside the Distributor service.
struct Extras {
  std::unique_ptr<discovery::MdnsResponder> advertisement;
  std::unique_ptr<server::StatusServer> status_server;
};

// Starts the mDNS advertisement and the HTTP port if `options` ask.
absl::StatusOr<Extras> StartExtras(server::Master* master,
                                   const DistributorCoreOptions& options) {
  Extras extras;
  if (options.enable_discovery) {
    auto advertised = Advertise(options, master->port());
    if (!advertised.ok()) return advertised.status();
    extras.advertisement = *std::move(advertised);
  }
  if (options.http_port >= 0) {
    auto status_server = server::StatusServer::Start(
        master, options.http_listen_address, options.http_port);
    if (!status_server.ok()) return status_server.status();
    extras.status_server = *std::move(status_server);
  }
  return extras;
}

// Pulls serialized tasks from `next_tasks` as tasks of `type_url`, packed
// as the queue keeps them. Ids follow the source's order: the same source
// gives the same ids.
server::TaskFeeder::Pull Puller(
    const std::function<std::vector<std::string>(size_t)>* next_tasks,
    std::atomic<uint64_t>* next_id, std::string type_url) {
  return [next_tasks, next_id, type_url = std::move(type_url)](size_t max) {
    std::vector<server::PackedTask> tasks;
    for (const std::string& bytes : (*next_tasks)(max)) {
      tasks.emplace_back(absl::StrCat(++*next_id), type_url, bytes);
    }
    return tasks;
  };
}

std::unique_ptr<server::TaskFeeder> MakeFeeder(server::Master* master,
                                               size_t batch,
                                               server::TaskFeeder::Pull pull) {
  const size_t low_water = server::TaskFeeder::LowWaterFor(batch);
  return std::make_unique<server::TaskFeeder>(master, std::move(pull),
                                              low_water, low_water);
}

}  // namespace

struct DistributorCore::State {
  DistributorCoreOptions options;
  server::MasterOptions master_options;
  std::unique_ptr<ScopedLogSink> log_sink;
  absl::Mutex mu;
  std::unique_ptr<server::Master> master ABSL_GUARDED_BY(mu);
  std::unique_ptr<server::TaskFeeder> feeder ABSL_GUARDED_BY(mu);
  std::unique_ptr<discovery::MdnsResponder> advertisement ABSL_GUARDED_BY(mu);
  std::unique_ptr<server::StatusServer> status_server ABSL_GUARDED_BY(mu);
  std::atomic<int> http_port{-1};
  absl::Notification shutdown;
  std::atomic<int> port{0};
  std::atomic<uint64_t> next_id{0};
};

absl::StatusOr<std::unique_ptr<DistributorCore>> DistributorCore::Create(
    DistributorCoreOptions options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  auto state = std::make_unique<State>();
  state->master_options.listen_address = options.listen_address;
  state->master_options.port = options.port;
  state->master_options.tls = {options.tls_cert, options.tls_key,
                               options.tls_ca, options.require_client_cert};
  state->master_options.insecure = options.insecure;
  state->master_options.tokens.insert(options.tokens.begin(),
                                      options.tokens.end());
  state->master_options.queue = QueueOptionsFrom(options);
  state->master_options.job = absl::StrCat(
      "TaskDistributor<", options.task_type, ", ", options.result_type, ">");
  auto check = ResultTypeCheck(options.result_type);
  if (!check.ok()) return check.status();
  state->master_options.queue.check_result = *std::move(check);
  if (absl::Status status = server::Master::Validate(state->master_options);
      !status.ok()) {
    return status;
  }
  state->options = std::move(options);
  return std::unique_ptr<DistributorCore>(
      new DistributorCore(std::move(state)));
}

DistributorCore::DistributorCore(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

DistributorCore::~DistributorCore() { Shutdown(); }

absl::Status DistributorCore::Start() {
  absl::MutexLock lock(&state_->mu);
  if (state_->master != nullptr) {
    return absl::FailedPreconditionError("already started");
  }
  state_->log_sink = std::make_unique<ScopedLogSink>(state_->options.log_sink);
  auto journal = server::OpenJournalAt(state_->options.journal_path);
  if (!journal.ok()) return journal.status();
  auto master = server::Master::Create(
      state_->master_options, *std::move(journal),
      std::make_unique<CallbackResultSink>(state_->options.on_finished));
  if (!master.ok()) return master.status();
  auto extras = StartExtras(master->get(), state_->options);
  if (!extras.ok()) {
    (*master)->Shutdown(absl::ZeroDuration());
    return extras.status();
  }
  state_->master = *std::move(master);
  state_->port = state_->master->port();
  state_->advertisement = std::move(extras->advertisement);
  state_->status_server = std::move(extras->status_server);
  if (state_->status_server != nullptr) {
    state_->http_port = state_->status_server->port();
  }
  state_->feeder =
      MakeFeeder(state_->master.get(), state_->options.batch_size,
                 Puller(&state_->options.next_tasks, &state_->next_id,
                        TypeUrl(state_->options.task_type)));
  LOG(INFO) << "TaskDistributor serving " << state_->options.task_type
            << " tasks on " << state_->options.listen_address << ":"
            << state_->port;
  return absl::OkStatus();
}

int DistributorCore::port() const { return state_->port; }

int DistributorCore::http_port() const { return state_->http_port; }

absl::Status DistributorCore::Wait() {
  server::Master* master;
  server::TaskFeeder* feeder;
  {
    absl::MutexLock lock(&state_->mu);
    master = state_->master.get();
    feeder = state_->feeder.get();
  }
  if (master == nullptr) return absl::FailedPreconditionError("not started");
  while (!master->queue().WaitForCompletion(kShutdownCheck)) {
    if (state_->shutdown.HasBeenNotified()) {
      return absl::CancelledError("the distributor was shut down");
    }
    if (absl::Status status = feeder->status(); !status.ok()) return status;
  }
  {
    absl::MutexLock lock(&state_->mu);
    state_->advertisement.reset();  // the goodbye
  }
  master->Shutdown(kCompleteGrace);
  LOG(INFO) << "TaskDistributor: job complete";
  return absl::OkStatus();
}

void DistributorCore::Shutdown() {
  if (!state_->shutdown.HasBeenNotified()) state_->shutdown.Notify();
  absl::MutexLock lock(&state_->mu);
  if (state_->feeder != nullptr) state_->feeder->Stop();
  state_->advertisement.reset();
  state_->status_server.reset();
  if (state_->master != nullptr) state_->master->Shutdown(absl::ZeroDuration());
}

}  // namespace distributo::internal
