#include "server/status_server.h"

#include <httplib.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "server/prometheus_text.h"
#include "server/status_page.h"
#include "server/worker_tokens.h"

namespace distributo::server {
namespace {

constexpr absl::Duration kSampleEvery = absl::Seconds(1);
// Every route is a GET: a request body is only a way to fill our memory.
constexpr size_t kMaxRequestBody = 4096;
constexpr size_t kSamplesKept = 600;  // 10 minutes

// Serves HTTPS with the master's certificate when it has one.
absl::StatusOr<std::unique_ptr<httplib::Server>> MakeHttpServer(
    const TlsFiles& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  auto https =
      std::make_unique<httplib::SSLServer>(tls.cert.c_str(), tls.key.c_str());
  if (!https->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve HTTPS with ", tls.cert, " and ", tls.key));
  }
  return https;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(
    Master* master, absl::string_view address, int port) {
  absl::StatusOr<std::unique_ptr<httplib::Server>> http =
      MakeHttpServer(master->options().tls);
  if (!http.ok()) return http.status();
  auto server =
      std::unique_ptr<StatusServer>(new StatusServer(master, *std::move(http)));
  server->AddRoutes();
  const std::string host(address);
  server->port_ = port == 0
                      ? server->http_->bind_to_any_port(host)
                      : (server->http_->bind_to_port(host, port) ? port : -1);
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve HTTP on ", host, ":", port, " (in use, or not ours?)"));
  }
  server->serving_ = std::thread([s = server.get()] {
    if (!s->http_->listen_after_bind()) LOG(ERROR) << "HTTP server failed";
    s->listen_ended_.Notify();
  });
  // httplib's stop() does nothing before the loop runs: wait for it, so
  // that destroying the server at once cannot hang.
  while (!server->http_->is_running() &&
         !server->listen_ended_.WaitForNotificationWithTimeout(
             absl::Milliseconds(1))) {
  }
  server->sampling_ = std::thread([s = server.get()] { s->Sample(); });
  return server;
}

StatusServer::StatusServer(Master* master,
                           std::unique_ptr<httplib::Server> http)
    : master_(master), http_(std::move(http)) {
  http_->set_payload_max_length(kMaxRequestBody);
}

StatusServer::~StatusServer() {
  stop_.Notify();
  http_->stop();
  if (serving_.joinable()) serving_.join();
  if (sampling_.joinable()) sampling_.join();
}

bool StatusServer::Refused(const httplib::Request& request,
                           httplib::Response& response) const {
  // Probes and the page itself (which holds no data) need no token.
  if (request.path == "/healthz" || request.path == "/readyz" ||
      request.path == "/") {
    return false;
  }
  const std::string header = request.get_header_value("Authorization");
  std::optional<absl::string_view> authorization;
  if (request.has_header("Authorization")) authorization = header;
  absl::StatusOr<std::string> name =
      AuthenticateOperator(master_->options().operator_tokens,
                           master_->options().tokens, authorization);
  if (name.ok()) return false;
  const bool unknown =
      name.status().code() == absl::StatusCode::kUnauthenticated;
  response.status = unknown ? 401 : 403;
  if (unknown) response.set_header("WWW-Authenticate", "Bearer");
  response.set_content(absl::StrCat(name.status().message(), "\n"),
                       "text/plain");
  return true;
}

void StatusServer::AddRoutes() {
  http_->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        return Refused(request, response)
                   ? httplib::Server::HandlerResponse::Handled
                   : httplib::Server::HandlerResponse::Unhandled;
      });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
    r.set_content(PrometheusText(master_->Status()),
                  "text/plain; version=0.0.4; charset=utf-8");
  });
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& r) {
    r.set_content("ok\n", "text/plain");
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& r) {
    const bool serving = master_->serving();
    r.status = serving ? 200 : 503;
    r.set_content(serving ? "serving\n" : "not serving\n", "text/plain");
  });
  http_->Get("/api/status",
             [this](const httplib::Request&, httplib::Response& r) {
               r.set_content(StatusJson(master_->Status(), Throughput()),
                             "application/json");
             });
  http_->Get("/", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(std::string(StatusPageHtml()), "text/html; charset=utf-8");
  });
}

void StatusServer::Sample() {
  do {
    const QueueCounts counts = master_->queue().Counts();
    absl::MutexLock lock(&mu_);
    samples_.push_back({absl::Now(), counts.done + counts.dead});
    if (samples_.size() > kSamplesKept) samples_.pop_front();
  } while (!stop_.WaitForNotificationWithTimeout(kSampleEvery));
}

std::vector<ThroughputSample> StatusServer::Throughput() {
  absl::MutexLock lock(&mu_);
  return {samples_.begin(), samples_.end()};
}

}  // namespace distributo::server
