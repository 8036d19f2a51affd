#include "worker/master_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/tls_credentials.h"

namespace distributo::worker {

absl::StatusOr<std::unique_ptr<MasterConnection>> MasterConnection::Open(
    v1::Distributor::StubInterface& stub, const v1::WorkerHello& hello,
    absl::string_view token) {
  std::unique_ptr<MasterConnection> conn(new MasterConnection());
  AddBearerToken(token, conn->tasks_context_);
  AddBearerToken(token, conn->results_context_);
  conn->tasks_.Reset(stub.RequestBatch(&conn->tasks_context_));
  v1::BatchRequest request;
  *request.mutable_hello() = hello;
  // A failed write shows up as a failed read, with the call's status.
  conn->tasks_.Write(request);
  std::optional<v1::TaskBatch> first = conn->tasks_.Read();
  if (!first.has_value()) {
    absl::Status status = conn->tasks_.Finish();
    if (status.ok()) {
      return absl::UnavailableError(
          "the master ended the task stream before a SessionStart");
    }
    return status;
  }
  if (!first->has_session()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the master answered the hello with message kind ",
                     first->kind_case(), " instead of a SessionStart"));
  }
  conn->session_ = std::move(*first->mutable_session());
  conn->results_.Reset(stub.SubmitResults(&conn->results_context_));
  return conn;
}

MasterConnection::~MasterConnection() {
  Cancel();
  // Drain what is left so that Finish() has nothing to wait for.
  while (ReadTasks().has_value()) {
  }
  FinishTasks().IgnoreError();  // The caller already has what it needs.
  while (ReadAck().has_value()) {
  }
  FinishResults().IgnoreError();  // Likewise.
}

std::optional<v1::TaskBatch> MasterConnection::ReadTasks() {
  return tasks_.Read();
}

absl::Status MasterConnection::FinishTasks() { return tasks_.Finish(); }

bool MasterConnection::WriteCredit(uint32_t tasks) {
  v1::BatchRequest request;
  request.mutable_credit()->set_tasks(tasks);
  return tasks_.Write(request);
}

bool MasterConnection::WriteResults(const v1::ResultBatch& batch) {
  return results_.Write(batch);
}

bool MasterConnection::CloseResults() { return results_.WritesDone(); }

std::optional<v1::ResultAck> MasterConnection::ReadAck() {
  return results_.Read();
}

absl::Status MasterConnection::FinishResults() { return results_.Finish(); }

void MasterConnection::Cancel() {
  tasks_context_.TryCancel();
  results_context_.TryCancel();
}

}  // namespace distributo::worker
