#include "worker/master_dialer.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo::worker {
namespace {

std::string DefaultWorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "worker", "/", getpid());
}

v1::WorkerHello MakeHello(const WorkerOptions& options,
                          std::vector<std::string> accepted_types) {
  v1::WorkerHello hello;
  hello.set_worker_name(options.worker_name.empty() ? DefaultWorkerName()
                                                    : options.worker_name);
  hello.set_slots(options.concurrency);
  for (std::string& type : accepted_types) {
    hello.add_accepted_types(std::move(type));
  }
  hello.set_sdk_version(options.sdk_version);
  // The window depends on SessionStart.max_batch_tasks, so the runtime
  // grants it in a CreditGrant once the session starts.
  hello.set_initial_credit(0);
  return hello;
}

std::shared_ptr<grpc::Channel> MakeChannel(
    const WorkerOptions& options, const discovery::MasterEndpoint& endpoint,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments args;
  if (options.tls.enabled() && !options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  } else if (options.tls.enabled() && !endpoint.host.empty()) {
    // A discovered master is checked exactly as a static one: against the
    // host name it was published as, not the address it resolved to.
    args.SetSslTargetNameOverride(endpoint.host);
  }
  // Task batches may reach the master's 4 MiB hard cap plus framing.
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (options.keepalive_time > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                absl::ToInt64Milliseconds(options.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                absl::ToInt64Milliseconds(options.keepalive_timeout));
  }
  // Keep the channel's own reconnect backoff within ours, or our retries
  // would fail fast while the channel still waits out a longer one.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_initial));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_initial));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              absl::ToInt64Milliseconds(options.reconnect_max));
  return grpc::CreateCustomChannel(endpoint.target, credentials, args);
}

discovery::DiscoveryOptions DiscoveryOptionsFrom(const WorkerOptions& options) {
  discovery::DiscoveryOptions discovery;
  discovery.master = options.master;
  discovery.dns_server = options.dns_server;
  discovery.cluster = options.cluster;
  return discovery;
}

// Whether no master answered at all (rather than answering with an error).
bool Unreachable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MasterDialer>> MasterDialer::Create(
    const WorkerOptions& options, std::vector<std::string> accepted_types) {
  auto credentials = WorkerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<discovery::MasterLocator> locator;
  if (options.channel == nullptr) {
    absl::StatusOr<std::unique_ptr<discovery::MasterLocator>> created =
        discovery::MasterLocator::Create(DiscoveryOptionsFrom(options));
    if (!created.ok()) return created.status();
    locator = *std::move(created);
  }
  return std::unique_ptr<MasterDialer>(
      new MasterDialer(options, MakeHello(options, std::move(accepted_types)),
                       std::move(locator), *std::move(credentials)));
}

MasterDialer::MasterDialer(
    const WorkerOptions& options, v1::WorkerHello hello,
    std::unique_ptr<discovery::MasterLocator> locator,
    std::shared_ptr<grpc::ChannelCredentials> credentials)
    : options_(options),
      hello_(std::move(hello)),
      locator_(std::move(locator)),
      credentials_(std::move(credentials)),
      channel_(options.channel),
      stub_(channel_ != nullptr ? v1::Distributor::NewStub(channel_)
                                : nullptr) {}

std::string MasterDialer::Describe() const {
  return locator_ != nullptr ? locator_->Describe() : "(given channel)";
}

absl::StatusOr<std::unique_ptr<MasterConnection>> MasterDialer::Open(
    absl::string_view resume_session_id) {
  if (locator_ == nullptr || (channel_ != nullptr && Connected())) {
    return OpenSession(resume_session_id);
  }
  absl::StatusOr<std::vector<discovery::MasterEndpoint>> endpoints =
      locator_->Locate();
  if (!endpoints.ok()) return endpoints.status();
  // Every endpoint gets its chance: a stale record may point at a server
  // that is not our master at all. What a reachable one said outranks
  // "unreachable".
  absl::Status answer;
  for (const discovery::MasterEndpoint& endpoint : *endpoints) {
    UseEndpoint(endpoint);
    auto conn = OpenSession(resume_session_id);
    if (conn.ok()) return conn;
    if (answer.ok() || Unreachable(answer)) answer = conn.status();
    if (endpoints->size() > 1) {
      LOG(WARNING) << "master at " << endpoint.target << " (" << endpoint.origin
                   << "): " << conn.status() << "; trying the next one";
    }
  }
  return answer;
}

void MasterDialer::UseEndpoint(const discovery::MasterEndpoint& endpoint) {
  if (endpoint.target == target_) return;
  LOG(INFO) << "master: trying " << endpoint.target << " (" << endpoint.origin
            << ")";
  target_ = endpoint.target;
  channel_ = MakeChannel(options_, endpoint, credentials_);
  stub_ = v1::Distributor::NewStub(channel_);
}

absl::StatusOr<std::unique_ptr<MasterConnection>> MasterDialer::OpenSession(
    absl::string_view resume_session_id) {
  v1::WorkerHello hello = hello_;
  hello.set_resume_session_id(std::string(resume_session_id));
  auto conn = MasterConnection::Open(*stub_, hello, options_.token);
  if (conn.status().code() == absl::StatusCode::kNotFound &&
      !resume_session_id.empty()) {
    // The master forgot the session (restart, or past the requeue grace):
    // start afresh; outcomes of lost leases are still worth submitting.
    LOG(WARNING) << "master no longer knows session " << resume_session_id
                 << "; starting a new one";
    hello.clear_resume_session_id();
    conn = MasterConnection::Open(*stub_, hello, options_.token);
  }
  return conn;
}

bool MasterDialer::Connected() {
  return channel_ != nullptr &&
         channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
}

bool MasterDialer::WaitForConnected(absl::Time deadline) {
  if (channel_ == nullptr) {
    // Nothing found yet: only the next lookup can help.
    absl::SleepFor(deadline - absl::Now());
    return false;
  }
  return channel_->WaitForConnected(absl::ToChronoTime(deadline));
}

}  // namespace distributo::worker
