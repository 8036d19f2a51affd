#include "cli/admin_commands.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "rpc/status_util.h"
#include "server/task_reader.h"

namespace distributo::cli {
namespace {

constexpr size_t kTasksPerRequest = 1000;
// Half the master's 4 MiB message limit.
constexpr size_t kBytesPerRequest = size_t{2} << 20;
constexpr absl::Duration kCallTimeout = absl::Seconds(30);

// Why a task was not redriven, for the operator.
const char* RedriveRefusal(v1::RedriveOutcome outcome) {
  switch (outcome) {
    case v1::REDRIVE_OUTCOME_UNKNOWN:
      return "no such task";
    case v1::REDRIVE_OUTCOME_NOT_DEAD:
      return "not dead (pending, running or done)";
    case v1::REDRIVE_OUTCOME_NOT_YET_HANDLED:
      return "dead, but not yet handed to the sink; try again shortly";
    default:
      return "not redriven";
  }
}

// Returns InvalidArgument for the first line without an "id": the master's
// --tasks names such lines "line-<N>", but two files fed to one service
// would then share ids, and the second would be taken as already known.
absl::Status CheckIds(std::istream& input, absl::string_view source) {
  std::string line;
  for (size_t number = 1; std::getline(input, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    google::protobuf::Struct object;
    if (!google::protobuf::util::JsonStringToMessage(line, &object).ok()) {
      continue;  // ReadTasks says what is wrong with it
    }
    if (!object.fields().contains("id")) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", number,
          ": no \"id\"; enqueue needs ids, which keep it idempotent"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Task>> ReadTaskFile(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream file(path);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    text << file.rdbuf();
  }
  const std::string source = path == "-" ? "stdin" : path;
  std::istringstream ids(text.str());
  if (absl::Status status = CheckIds(ids, source); !status.ok()) return status;
  return server::ReadTasks(text, source, server::TaskLimits());
}

// Moves the next tasks from `tasks`, starting at `*next`, into a request of
// at most kTasksPerRequest tasks and about kBytesPerRequest bytes.
v1::EnqueueRequest NextRequest(std::vector<v1::Task>& tasks, size_t* next) {
  v1::EnqueueRequest request;
  size_t bytes = 0;
  while (*next < tasks.size() &&
         request.tasks_size() < static_cast<int>(kTasksPerRequest)) {
    bytes += tasks[*next].ByteSizeLong();
    if (request.tasks_size() > 0 && bytes > kBytesPerRequest) break;
    *request.add_tasks() = std::move(tasks[(*next)++]);
  }
  return request;
}

void PrintStatusLine(const v1::GetStatusResponse& s, std::FILE* out) {
  const uint64_t finished = s.done() + s.dead();
  absl::FPrintF(out,
                "%s: %d/%d finished (%d done, %d dead) | %d pending | %d in "
                "flight | %d backing off | %d failed attempts\n",
                s.complete()   ? "complete"
                : s.draining() ? "draining"
                : s.serving()  ? "serving"
                               : "NOT serving",
                finished, s.total(), s.done(), s.dead(), s.pending(),
                s.leased(), s.backoff(), s.failed_attempts());
}

void PrintStatusTable(const v1::GetStatusResponse& s, std::FILE* out) {
  PrintStatusLine(s, out);
  absl::FPrintF(out, "%.1f tasks/s, ETA %s\n", s.tasks_per_second(),
                s.eta_seconds() > 0
                    ? absl::FormatDuration(absl::Seconds(
                          static_cast<int64_t>(s.eta_seconds() + 0.5)))
                    : "-");
  absl::FPrintF(out, "%-28s %-24s %5s %9s %8s %7s\n", "WORKER", "ADDRESS",
                "SLOTS", "IN FLIGHT", "DONE", "FAILED");
  for (const v1::WorkerStatus& w : s.workers()) {
    absl::FPrintF(out, "%-28s %-24s %5d %9d %8d %7d\n", w.name(), w.address(),
                  w.slots(), w.in_flight(), w.done(), w.failed());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminCommands>> AdminCommands::Create(
    const AdminTarget& target) {
  auto credentials = WorkerCredentials(target.security.tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  if (!target.security.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(target.security.tls_server_name);
  }
  auto channel = grpc::CreateCustomChannel(target.master, *credentials, args);
  return std::unique_ptr<AdminCommands>(new AdminCommands(
      target.master, target.security.token, v1::Admin::NewStub(channel)));
}

void AdminCommands::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  AddBearerToken(token_, context);
}

template <typename Request, typename Response>
absl::StatusOr<Response> AdminCommands::Call(
    grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                            const Request&, Response*),
    const Request& request) const {
  grpc::ClientContext context;
  Prepare(context);
  Response response;
  const grpc::Status status =
      (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) return CallError(status);
  return response;
}

absl::Status AdminCommands::CallError(const grpc::Status& status) const {
  absl::Status error = FromGrpcStatus(status);
  // Not every UNAVAILABLE is the network: the master's journal may fail too.
  if (error.code() == absl::StatusCode::kUnavailable &&
      absl::StrContains(error.message(), "failed to connect")) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the master at ", master_,
                     " (--master): ", error.message()));
  }
  return error;
}

absl::Status AdminCommands::Status(bool json, std::FILE* out) {
  auto response = Call(&v1::Admin::Stub::GetStatus, v1::GetStatusRequest());
  if (!response.ok()) return response.status();
  if (!json) {
    PrintStatusTable(*response, out);
    return absl::OkStatus();
  }
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  if (auto written = google::protobuf::util::MessageToJsonString(
          *response, &text, options);
      !written.ok()) {
    return absl::InternalError(std::string(written.message()));
  }
  absl::FPrintF(out, "%s\n", text);
  return absl::OkStatus();
}

absl::Status AdminCommands::Watch(std::FILE* out) {
  grpc::ClientContext context;  // no deadline: it lasts as long as the job
  AddBearerToken(token_, context);
  auto reader = stub_->WatchStatus(&context, v1::WatchStatusRequest());
  v1::WatchStatusResponse update;
  while (reader->Read(&update)) {
    PrintStatusLine(update.status(), out);
    std::fflush(out);
  }
  const grpc::Status ended = reader->Finish();
  return ended.ok() ? absl::OkStatus() : CallError(ended);
}

absl::Status AdminCommands::Enqueue(const std::string& path, std::FILE* out) {
  absl::StatusOr<std::vector<v1::Task>> tasks = ReadTaskFile(path);
  if (!tasks.ok()) return tasks.status();
  uint64_t added = 0, known = 0, invalid = 0;
  for (size_t next = 0; next < tasks->size();) {
    auto response = Call(&v1::Admin::Stub::Enqueue, NextRequest(*tasks, &next));
    if (!response.ok()) {
      absl::FPrintF(out, "%d added before the error\n", added);
      return response.status();
    }
    for (const v1::EnqueueVerdict& verdict : response->verdicts()) {
      if (verdict.outcome() == v1::ENQUEUE_OUTCOME_ALREADY_KNOWN) ++known;
      if (verdict.outcome() != v1::ENQUEUE_OUTCOME_INVALID) continue;
      ++invalid;
      absl::FPrintF(out, "invalid: %s: %s\n", verdict.task_id(),
                    verdict.message());
    }
    added += response->added();
  }
  absl::FPrintF(out, "%d tasks: %d added, %d already known, %d invalid\n",
                tasks->size(), added, known, invalid);
  return absl::OkStatus();
}

absl::Status AdminCommands::Ready(std::FILE* out) {
  auto response = Call(&v1::Admin::Stub::GetStatus, v1::GetStatusRequest());
  if (!response.ok()) return response.status();
  if (!response->serving()) {
    return absl::UnavailableError(
        response->draining() ? "the master drains"
                             : "the master cannot store outcomes right now");
  }
  absl::FPrintF(out, "serving\n");
  return absl::OkStatus();
}

absl::Status AdminCommands::Cancel(const std::string& task_id,
                                   const std::string& reason, std::FILE* out) {
  v1::CancelTaskRequest request;
  request.set_task_id(task_id);
  request.set_reason(reason);
  auto response = Call(&v1::Admin::Stub::CancelTask, request);
  if (!response.ok()) return response.status();
  std::string detail = " (it was not running)";
  if (!response->worker_name().empty()) {
    detail = absl::StrCat(" (", response->worker_name(),
                          response->worker_told()
                              ? " was told to stop it)"
                              : " is disconnected; its result will not count)");
  }
  absl::FPrintF(out, "cancelled %s%s\n", task_id, detail);
  return absl::OkStatus();
}

absl::Status AdminCommands::ForEachDead(
    const std::function<void(const v1::DeadTask&)>& visit) {
  v1::ListDeadRequest request;
  do {
    auto response = Call(&v1::Admin::Stub::ListDead, request);
    if (!response.ok()) return response.status();
    for (const v1::DeadTask& task : response->tasks()) visit(task);
    request.set_page_token(response->next_page_token());
  } while (!request.page_token().empty());
  return absl::OkStatus();
}

absl::Status AdminCommands::ListDead(std::FILE* out) {
  size_t count = 0;
  absl::Status listed = ForEachDead([&](const v1::DeadTask& task) {
    absl::FPrintF(out, "%s\t%s\t%d attempts\t%s\n", task.task_id(), task.code(),
                  task.attempts(), task.message());
    ++count;
  });
  if (!listed.ok()) return listed;
  absl::FPrintF(out, "%d dead tasks\n", count);
  return absl::OkStatus();
}

absl::Status AdminCommands::Redrive(std::vector<std::string> task_ids,
                                    std::FILE* out) {
  // No ids: the tasks dead now, each once, even if one dies again meanwhile.
  if (task_ids.empty()) {
    absl::Status listed = ForEachDead(
        [&](const v1::DeadTask& task) { task_ids.push_back(task.task_id()); });
    if (!listed.ok()) return listed;
  }
  size_t redriven = 0;
  size_t refused = 0;
  for (size_t next = 0; next < task_ids.size();) {
    v1::RedriveDeadRequest request;
    for (; next < task_ids.size() &&
           request.task_ids_size() < static_cast<int>(kTasksPerRequest);
         ++next) {
      request.add_task_ids(task_ids[next]);
    }
    auto response = Call(&v1::Admin::Stub::RedriveDead, request);
    if (!response.ok()) return response.status();
    for (const v1::RedriveVerdict& verdict : response->verdicts()) {
      if (verdict.outcome() == v1::REDRIVE_OUTCOME_REDRIVEN) continue;
      ++refused;
      absl::FPrintF(out, "%s: %s\n", verdict.task_id(),
                    RedriveRefusal(verdict.outcome()));
    }
    redriven += response->redriven();
  }
  absl::FPrintF(out, "redrove %d dead tasks\n", redriven);
  if (refused > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(refused, " of the ", task_ids.size(),
                     " tasks were not redriven (see above)"));
  }
  return absl::OkStatus();
}

absl::Status AdminCommands::Drain(std::FILE* out) {
  auto response = Call(&v1::Admin::Stub::Drain, v1::DrainRequest());
  if (!response.ok()) return response.status();
  absl::FPrintF(out,
                "draining: no new leases; the master exits once the %d "
                "leased tasks are handed in\n",
                response->leased());
  return absl::OkStatus();
}

}  // namespace distributo::cli
