#include "server/batch_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rpc/proto_time.h"
#include "rpc/status_util.h"
#include "server/distributor_service.h"
#include "server/wire.h"

namespace distributo::server {
namespace {

// More credit than this is meaningless and would only risk overflow.
constexpr uint64_t kMaxCredit = uint64_t{1} << 32;

}  // namespace

BatchStream::BatchStream(DistributorService* service, TaskQueue* queue,
                         std::string peer, std::string identity)
    : service_(service),
      queue_(queue),
      peer_(std::move(peer)),
      identity_(std::move(identity)) {
  service_->AddStream(this);
  StartRead(&request_bytes_);
}

v1::TaskBatch& BatchStream::NewOutLocked() {
  // The last message is on the wire already (in out_bytes_).
  out_.Clear();
  return out_;
}

BatchStream::Next BatchStream::SerializeOutLocked() {
  ToWire(out_, &out_bytes_);
  return Next::kWrite;
}

void BatchStream::OnReadDone(bool ok) {
  if (!ok) {
    // The worker closed its side or the call broke: either way it is gone.
    FinishWhenIdle(grpc::Status::OK);
    return;
  }
  if (!ParseWire(&request_bytes_, &request_)) {
    FinishWhenIdle(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "cannot parse a BatchRequest"));
    return;
  }
  bool started;
  {
    absl::MutexLock lock(&mu_);
    started = started_;
  }
  if (!started && request_.has_hello()) {
    HandleHello(request_.hello());
  } else if (started && request_.has_credit()) {
    HandleCredit(request_.credit());
  } else {
    FinishWhenIdle(grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        started ? "expected a CreditGrant; the hello was already sent"
                : "the first BatchRequest must be a WorkerHello"));
    return;
  }
  StartRead(&request_bytes_);
}

void BatchStream::HandleHello(const v1::WorkerHello& received) {
  v1::WorkerHello hello = received;
  // The token says who it is; the hello's name tells its processes apart.
  if (!identity_.empty()) {
    hello.set_worker_name(absl::StrCat(identity_, "/", received.worker_name()));
  }
  std::string session_id = hello.resume_session_id();
  bool resumed = !session_id.empty();
  if (resumed) {
    if (absl::Status status = queue_->ResumeSession(session_id, identity_);
        !status.ok()) {
      FinishWhenIdle(ToGrpcStatus(status));
      return;
    }
  } else {
    session_id = queue_->OpenSession(hello, peer_, identity_);
  }
  LOG(INFO) << "Worker " << hello.worker_name() << " (" << peer_ << ") "
            << (resumed ? "resumed" : "opened") << " session " << session_id
            << " with " << hello.slots() << " slots";
  // Before taking mu_: the service locks its streams' mutexes under its own.
  service_->BindSession(this, session_id);
  absl::MutexLock lock(&mu_);
  session_id_ = session_id;
  started_ = true;
  credit_ = hello.initial_credit();
  const QueueOptions& options = queue_->options();
  v1::SessionStart* start = NewOutLocked().mutable_session();
  start->set_session_id(session_id);
  *start->mutable_lease_duration() = ToProtoDuration(options.lease_duration);
  *start->mutable_requeue_grace() = ToProtoDuration(options.requeue_grace);
  start->set_max_batch_tasks(options.max_batch_tasks);
  start->set_max_result_bytes(options.max_result_bytes);
  start->set_max_message_bytes(options.max_message_bytes);
  start->set_resumed(resumed);
  start->set_job_id(service_->job_id());
  SerializeOutLocked();
  WriteOutLocked();
}

void BatchStream::HandleCredit(const v1::CreditGrant& credit) {
  {
    absl::MutexLock lock(&mu_);
    credit_ = std::min(credit_ + credit.tasks(), kMaxCredit);
  }
  Pump();
}

void BatchStream::Pump() {
  if (pump_calls_.fetch_add(1) > 0) return;
  uint32_t served = 1;
  while (true) {
    PumpOnce();
    // Calls that came during the round: one more round serves them all.
    const uint32_t left = pump_calls_.fetch_sub(served) - served;
    if (left == 0) return;
    served = left;
  }
}

void BatchStream::PumpOnce() {
  absl::MutexLock lock(&mu_);
  if (!started_ || writing_ || finished_ || finish_status_.has_value()) return;
  if (PrepareNextLocked() == Next::kWrite) WriteOutLocked();
}

void BatchStream::WriteOutLocked() {
  writing_ = true;
  StartWrite(&out_bytes_);
}

bool BatchStream::Cancel(absl::string_view session_id,
                         const v1::LeaseRef& lease, absl::string_view reason) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || finished_ || finish_status_.has_value() ||
        session_id_ != session_id) {
      return false;
    }
    *cancels_.add_leases() = lease;
    cancels_.set_reason(std::string(reason));
  }
  Pump();
  return true;
}

BatchStream::Next BatchStream::PrepareNextLocked() {
  if (cancels_.leases_size() > 0) {
    NewOutLocked().mutable_cancel()->Swap(&cancels_);
    return SerializeOutLocked();
  }
  if (credit_ > 0 && service_->Accepting()) {
    const size_t leased = queue_->Lease(session_id_, credit_, &leases_);
    if (leased > 0) {
      credit_ -= leased;
      drained_sent_ = false;
      leases_.MoveTo(&out_bytes_);
      return Next::kWrite;
    }
  }
  if (queue_->IsComplete()) {
    QueueCounts counts = queue_->Counts();
    v1::JobComplete* complete = NewOutLocked().mutable_complete();
    complete->set_done(counts.done);
    complete->set_dead(counts.dead);
    complete_sent_ = true;
    return SerializeOutLocked();
  }
  if (credit_ > 0 && !drained_sent_) {
    NewOutLocked().mutable_drained();
    drained_sent_ = true;
    return SerializeOutLocked();
  }
  return Next::kNothing;
}

void BatchStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the stream broke while writing");
    } else if (complete_sent_) {
      finish_status_ = grpc::Status::OK;
    }
    if (finish_status_.has_value()) {
      FinishLocked();
      return;
    }
  }
  Pump();
}

void BatchStream::FinishWhenIdle(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!finish_status_.has_value()) finish_status_ = status;
  if (!writing_) FinishLocked();
}

void BatchStream::FinishLocked() {
  if (finished_) return;
  finished_ = true;
  Finish(*finish_status_);
}

void BatchStream::OnDone() {
  std::string session_id;
  {
    absl::MutexLock lock(&mu_);
    session_id = session_id_;
  }
  service_->RemoveStream(this, session_id);
  if (!session_id.empty()) {
    LOG(INFO) << "Worker session " << session_id << " (" << peer_
              << ") disconnected";
    queue_->DisconnectSession(session_id);
  }
  delete this;
}

}  // namespace distributo::server
