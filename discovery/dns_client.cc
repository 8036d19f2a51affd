#include "discovery/dns_client.h"

#include <poll.h>

#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace distributo::discovery {
namespace {

// c-ares needs one global init per process; it is never undone, since
// channels may be created at any time.
absl::Status InitAresOnce() {
  static absl::once_flag once;
  static int result = ARES_SUCCESS;
  absl::call_once(once, [] { result = ares_library_init(ARES_LIB_INIT_ALL); });
  if (result != ARES_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("c-ares init failed: ", ares_strerror(result)));
  }
  return absl::OkStatus();
}

// What the query callback reports back to Query().
struct QueryState {
  bool done = false;
  int status = ARES_SUCCESS;
  std::string reply;
};

void OnReply(void* arg, int status, int /*timeouts*/, unsigned char* reply,
             int reply_length) {
  auto* state = static_cast<QueryState*>(arg);
  state->done = true;
  state->status = status;
  if (reply != nullptr && reply_length > 0) {
    state->reply.assign(reinterpret_cast<const char*>(reply), reply_length);
  }
}

// Maps a c-ares result to a canonical code, saying what came back.
absl::Status AresError(int status, absl::string_view query) {
  const std::string message = absl::StrCat(query, ": ", ares_strerror(status));
  switch (status) {
    case ARES_ENOTFOUND:
      return absl::NotFoundError(absl::StrCat(message, " (NXDOMAIN)"));
    case ARES_ENODATA:
      return absl::NotFoundError(absl::StrCat(message, " (no such records)"));
    case ARES_ETIMEOUT:
      return absl::DeadlineExceededError(absl::StrCat(message, " (no answer)"));
    case ARES_EBADRESP:
    case ARES_EFORMERR:
      return absl::DataLossError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsClient>> DnsClient::Create(
    absl::string_view server, absl::Duration timeout) {
  if (absl::Status status = InitAresOnce(); !status.ok()) return status;
  ares_options options = {};
  options.timeout = static_cast<int>(absl::ToInt64Milliseconds(timeout) / 2);
  options.tries = 2;
  ares_channel channel = nullptr;
  int status = ares_init_options(&channel, &options,
                                 ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (status != ARES_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("c-ares channel: ", ares_strerror(status)));
  }
  if (!server.empty()) {
    // Not ares_set_servers_csv: it silently drops the port.
    status = ares_set_servers_ports_csv(channel, std::string(server).c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel);
      return absl::InvalidArgumentError(
          absl::StrCat("bad DNS server \"", server,
                       "\" (expected IP:PORT): ", ares_strerror(status)));
    }
  }
  return std::unique_ptr<DnsClient>(new DnsClient(
      channel, server.empty() ? "system resolver" : std::string(server),
      timeout));
}

DnsClient::~DnsClient() { ares_destroy(channel_); }

absl::StatusOr<DnsMessage> DnsClient::Query(absl::string_view name,
                                            RecordType type) {
  const std::string query = absl::StrCat(
      RecordTypeName(static_cast<uint16_t>(type)), " ", name, " at ", server_);
  QueryState state;
  ares_search(channel_, std::string(name).c_str(), kClassIn,
              static_cast<int>(type), OnReply, &state);
  Drive(state.done, absl::Now() + timeout_);
  if (!state.done) {
    // Fires OnReply with ARES_ECANCELLED while `state` is still alive.
    ares_cancel(channel_);
    return absl::DeadlineExceededError(absl::StrCat(
        query, ": no answer within ", absl::FormatDuration(timeout_)));
  }
  if (state.status != ARES_SUCCESS) return AresError(state.status, query);
  absl::StatusOr<DnsMessage> reply = ParseDnsMessage(state.reply);
  if (!reply.ok()) {
    return absl::DataLossError(
        absl::StrCat(query, ": ", reply.status().message()));
  }
  return reply;
}

void DnsClient::Drive(const bool& done, absl::Time deadline) {
  while (!done && absl::Now() < deadline) {
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    const int mask = ares_getsock(channel_, sockets, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(mask, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(mask, i)) events |= POLLOUT;
      if (events != 0) fds.push_back({sockets[i], events, 0});
    }
    // Wake for c-ares' own retry timer as well as the overall deadline.
    timeval cap = absl::ToTimeval(deadline - absl::Now());
    timeval storage;
    // Returns `&cap` itself when no retry of c-ares' comes sooner.
    const timeval* wait = ares_timeout(channel_, &cap, &storage);
    const int ready =
        poll(fds.data(), fds.size(),
             static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000) + 1);
    if (ready <= 0) {
      // Lets c-ares fire its retries and timeouts.
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (const pollfd& fd : fds) {
      ares_process_fd(
          channel_,
          fd.revents & (POLLIN | POLLERR | POLLHUP) ? fd.fd : ARES_SOCKET_BAD,
          fd.revents & POLLOUT ? fd.fd : ARES_SOCKET_BAD);
    }
  }
}

}  // namespace distributo::discovery
