#include "tests/worker/fake_master.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo::worker {

FakeMaster::FakeMaster(std::vector<v1::Task> tasks, Options options)
    : options_(options), total_(tasks.size()) {
  {
    absl::MutexLock lock(&mu_);
    undispatched_.assign(tasks.begin(), tasks.end());
  }
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  CHECK(server_ != nullptr && port != 0) << "cannot start the fake master";
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeMaster::~FakeMaster() {
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

std::vector<v1::WorkerHello> FakeMaster::hellos() const {
  absl::MutexLock lock(&mu_);
  return hellos_;
}

std::map<std::string, v1::Outcome> FakeMaster::outcomes() const {
  absl::MutexLock lock(&mu_);
  return outcomes_;
}

int64_t FakeMaster::max_unacked_leases() const {
  absl::MutexLock lock(&mu_);
  return max_unacked_leases_;
}

grpc::Status FakeMaster::RequestBatch(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::TaskBatch, v1::BatchRequest>* stream) {
  v1::BatchRequest request;
  if (!stream->Read(&request) || !request.has_hello()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "no hello"};
  }
  v1::TaskBatch start;
  {
    absl::MutexLock lock(&mu_);
    hellos_.push_back(request.hello());
    const std::string& resume = request.hello().resume_session_id();
    if (!resume.empty() && options_.forget_sessions) {
      return {grpc::StatusCode::NOT_FOUND, "unknown session"};
    }
    start = SessionStartLocked(resume);
  }
  if (options_.before_session_start) options_.before_session_start();
  stream->Write(start);
  if (!LeaseAll(request.hello().initial_credit(), *stream) ||
      !AwaitDone(context)) {
    return {grpc::StatusCode::CANCELLED, ""};
  }
  v1::TaskBatch complete;
  complete.mutable_complete()->set_done(total_);
  stream->Write(complete);
  return grpc::Status::OK;
}

bool FakeMaster::LeaseAll(
    uint64_t credit,
    grpc::ServerReaderWriter<v1::TaskBatch, v1::BatchRequest>& stream) {
  while (true) {
    v1::TaskBatch leased;
    {
      absl::MutexLock lock(&mu_);
      if (undispatched_.empty()) return true;
      leased =
          LeaseLocked(std::min<uint64_t>(credit, options_.max_batch_tasks));
    }
    credit -= leased.tasks().tasks_size();
    if (leased.tasks().tasks_size() > 0) stream.Write(leased);
    v1::BatchRequest request;
    if (credit == 0) {
      if (!stream.Read(&request)) return false;
      credit += request.credit().tasks();
    }
  }
}

v1::TaskBatch FakeMaster::SessionStartLocked(const std::string& resume) {
  v1::TaskBatch start;
  v1::SessionStart* session = start.mutable_session();
  session->set_session_id(resume.empty() ? absl::StrCat("session-", ++sessions_)
                                         : resume);
  session->set_resumed(!resume.empty());
  session->mutable_lease_duration()->set_seconds(60);
  session->set_max_batch_tasks(options_.max_batch_tasks);
  session->set_max_result_bytes(1 << 20);
  return start;
}

v1::TaskBatch FakeMaster::LeaseLocked(uint64_t max) {
  v1::TaskBatch batch;
  v1::LeasedTasks* leased = batch.mutable_tasks();
  while (!undispatched_.empty() &&
         static_cast<uint64_t>(leased->tasks_size()) < max) {
    *leased->add_tasks() = std::move(undispatched_.front());
    undispatched_.pop_front();
  }
  leased_ += leased->tasks_size();
  max_unacked_leases_ = std::max(max_unacked_leases_, leased_ - acked_);
  return batch;
}

bool FakeMaster::DoneLocked() const { return outcomes_.size() >= total_; }

bool FakeMaster::AwaitDone(grpc::ServerContext* context) {
  absl::MutexLock lock(&mu_);
  // The sync API has no cancellation callback: check now and then.
  while (!mu_.AwaitWithTimeout(absl::Condition(this, &FakeMaster::DoneLocked),
                               absl::Milliseconds(50))) {
    if (context->IsCancelled()) return false;
  }
  return true;
}

grpc::Status FakeMaster::SubmitResults(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<v1::ResultAck, v1::ResultBatch>* stream) {
  v1::ResultBatch batch;
  bool first = true;
  while (stream->Read(&batch)) {
    if (first && batch.session_id().empty()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "no session id"};
    }
    first = false;
    absl::SleepFor(options_.ack_delay);
    v1::ResultAck ack;
    {
      absl::MutexLock lock(&mu_);
      if (broken_ < options_.break_results_streams) {
        ++broken_;
        return {grpc::StatusCode::UNAVAILABLE, "injected failure"};
      }
      ack = RecordLocked(batch);
    }
    stream->Write(ack);
  }
  return grpc::Status::OK;
}

v1::ResultAck FakeMaster::RecordLocked(const v1::ResultBatch& batch) {
  v1::ResultAck ack;
  ack.set_batch_id(batch.batch_id());
  for (const v1::Outcome& outcome : batch.outcomes()) {
    v1::ItemVerdict* verdict = ack.add_outcomes();
    verdict->set_task_id(outcome.lease().task_id());
    const bool fresh =
        outcomes_.emplace(outcome.lease().task_id(), outcome).second;
    verdict->set_verdict(fresh ? v1::VERDICT_ACCEPTED : v1::VERDICT_DUPLICATE);
  }
  acked_ += batch.outcomes_size();
  for (const v1::LeaseRef& lease : batch.extensions()) {
    v1::ItemVerdict* verdict = ack.add_extensions();
    verdict->set_task_id(lease.task_id());
    verdict->set_verdict(v1::VERDICT_ACCEPTED);
  }
  return ack;
}

}  // namespace distributo::worker
