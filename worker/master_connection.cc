#include "worker/master_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/status_util.h"

namespace distributo::worker {

absl::StatusOr<std::unique_ptr<MasterConnection>> MasterConnection::Open(
    v1::Distributor::StubInterface& stub, const v1::WorkerHello& hello) {
  std::unique_ptr<MasterConnection> conn(new MasterConnection());
  absl::MutexLock tasks_lock(&conn->tasks_mu_);
  conn->tasks_ = stub.RequestBatch(&conn->tasks_context_);
  v1::BatchRequest request;
  *request.mutable_hello() = hello;
  v1::TaskBatch first;
  // A failed write shows up as a failed read, with the call's status.
  conn->tasks_->Write(request);
  if (!conn->tasks_->Read(&first)) {
    conn->tasks_finished_ = true;
    return FromGrpcStatus(conn->tasks_->Finish());
  }
  if (!first.has_session()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the master answered the hello with message kind ",
                     first.kind_case(), " instead of a SessionStart"));
  }
  conn->session_ = std::move(*first.mutable_session());
  absl::MutexLock results_lock(&conn->results_mu_);
  conn->results_ = stub.SubmitResults(&conn->results_context_);
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
  // Reads run concurrently with writes, so they take no lock; only the
  // reading thread touches a stream after Finish*() or in the destructor.
  TaskStream* stream;
  {
    absl::MutexLock lock(&tasks_mu_);
    if (tasks_finished_ || tasks_ == nullptr) return std::nullopt;
    stream = tasks_.get();
  }
  v1::TaskBatch batch;
  if (!stream->Read(&batch)) return std::nullopt;
  return batch;
}

absl::Status MasterConnection::FinishTasks() {
  absl::MutexLock lock(&tasks_mu_);
  if (tasks_finished_ || tasks_ == nullptr) return absl::OkStatus();
  tasks_finished_ = true;
  return FromGrpcStatus(tasks_->Finish());
}

bool MasterConnection::WriteCredit(uint32_t tasks) {
  absl::MutexLock lock(&tasks_mu_);
  if (tasks_finished_ || tasks_ == nullptr) return false;
  v1::BatchRequest request;
  request.mutable_credit()->set_tasks(tasks);
  return tasks_->Write(request);
}

bool MasterConnection::WriteResults(const v1::ResultBatch& batch) {
  absl::MutexLock lock(&results_mu_);
  if (results_finished_ || results_ == nullptr) return false;
  return results_->Write(batch);
}

bool MasterConnection::CloseResults() {
  absl::MutexLock lock(&results_mu_);
  if (results_finished_ || results_ == nullptr) return false;
  return results_->WritesDone();
}

std::optional<v1::ResultAck> MasterConnection::ReadAck() {
  ResultStream* stream;
  {
    absl::MutexLock lock(&results_mu_);
    if (results_finished_ || results_ == nullptr) return std::nullopt;
    stream = results_.get();
  }
  v1::ResultAck ack;
  if (!stream->Read(&ack)) return std::nullopt;
  return ack;
}

absl::Status MasterConnection::FinishResults() {
  absl::MutexLock lock(&results_mu_);
  if (results_finished_ || results_ == nullptr) return absl::OkStatus();
  results_finished_ = true;
  return FromGrpcStatus(results_->Finish());
}

void MasterConnection::Cancel() {
  tasks_context_.TryCancel();
  results_context_.TryCancel();
}

}  // namespace distributo::worker
