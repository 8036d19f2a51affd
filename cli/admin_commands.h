#ifndef DISTRIBUTO_CLI_ADMIN_COMMANDS_H_
#define DISTRIBUTO_CLI_ADMIN_COMMANDS_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "distributo/v1/admin.grpc.pb.h"
#include "rpc/client_flags.h"
#include "rpc/tls_credentials.h"

namespace distributo::cli {

// Where the master is and how to reach it. Plain data.
struct AdminTarget {
  std::string master;  // HOST:PORT
  ClientSecurity security;
};

// The operator's commands over distributo.v1.Admin. Each prints what it did
// to `out` and returns the call's error, with a hint when the master cannot
// be reached. Thread-compatible.
class AdminCommands {
 public:
  // Returns the TLS files' errors (see WorkerCredentials()).
  static absl::StatusOr<std::unique_ptr<AdminCommands>> Create(
      const AdminTarget& target);

  // Prints the counts and workers as a table, or as JSON.
  absl::Status Status(bool json, std::FILE* out);
  // Prints a status line every second until the job is complete.
  absl::Status Watch(std::FILE* out);
  // Reads JSONL tasks from `path` ("-": stdin) and enqueues them in
  // requests of up to 1,000; prints how many were added, already known or
  // invalid (and why). InvalidArgument for a bad line, as the master's
  // --tasks would be.
  absl::Status Enqueue(const std::string& path, std::FILE* out);
  absl::Status Drain(std::FILE* out);
  // Prints every dead task: id, code, attempts and message.
  absl::Status ListDead(std::FILE* out);
  absl::Status Cancel(const std::string& task_id, const std::string& reason,
                      std::FILE* out);
  // Redrives the dead tasks `task_ids`, or every task dead now if none;
  // prints the ids that were not, and why. FailedPrecondition if any was
  // not redriven.
  absl::Status Redrive(std::vector<std::string> task_ids, std::FILE* out);
  // Returns OK if the master serves (can store outcomes, not draining),
  // Unavailable otherwise: for health checks.
  absl::Status Ready(std::FILE* out);

 private:
  AdminCommands(std::string master, std::string token,
                std::unique_ptr<v1::Admin::Stub> stub)
      : master_(std::move(master)),
        token_(std::move(token)),
        stub_(std::move(stub)) {}

  // Calls `visit` with every dead task, through ListDead's pages.
  absl::Status ForEachDead(
      const std::function<void(const v1::DeadTask&)>& visit);
  // Prepares a call's context: deadline and token.
  void Prepare(grpc::ClientContext& context) const;
  absl::Status CallError(const grpc::Status& status) const;
  // Makes one unary call with Prepare()'s context; errors via CallError().
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                              const Request&, Response*),
      const Request& request) const;

  const std::string master_;
  const std::string token_;
  const std::unique_ptr<v1::Admin::Stub> stub_;
};

}  // namespace distributo::cli

#endif  // DISTRIBUTO_CLI_ADMIN_COMMANDS_H_
