#include "bench/raw_distributor.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_task.h"
#include "google/protobuf/util/time_util.h"

namespace distributo::bench {

using google::protobuf::util::TimeUtil;

namespace {
constexpr int64_t kLeaseSeconds = 60;
}  // namespace

// A worker's RequestBatch stream: SessionStart, then minted batches within
// the credit, then JobComplete. One write at a time, as BatchStream does.
class RawBatchStream final
    : public grpc::ServerBidiReactor<v1::BatchRequest, v1::TaskBatch> {
 public:
  RawBatchStream(RawDistributor* service, int session)
      : service_(service), session_(session) {
    service_->AddStream(this);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Stop();  // the worker left
    bool opened = false;
    {
      absl::MutexLock lock(&mu_);
      if (request_.has_hello()) {
        credit_ += request_.hello().initial_credit();
        v1::SessionStart* start = out_.mutable_session();
        start->set_session_id(absl::StrCat("raw-", session_));
        start->mutable_lease_duration()->set_seconds(kLeaseSeconds);
        start->set_max_batch_tasks(service_->batch_size());
        WriteLocked();
        opened = true;
      } else {
        credit_ += request_.credit().tasks();
      }
    }
    if (opened) service_->SessionOpened();
    Pump();
    StartRead(&request_);
  }

  // Writes the next batch, or JobComplete, if no write is in flight.
  void Pump() {
    absl::MutexLock lock(&mu_);
    if (writing_ || stop_wanted_ || complete_sent_) return;
    out_.Clear();
    if (service_->all_acked()) {
      out_.mutable_complete();
      complete_sent_ = true;
      WriteLocked();
      return;
    }
    const size_t minted =
        service_->Mint(std::min<uint64_t>(credit_, service_->batch_size()),
                       out_.mutable_tasks());
    if (minted == 0) return;
    credit_ -= minted;
    WriteLocked();
  }

  void OnWriteDone(bool ok) override {
    bool over;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      over = complete_sent_ || stop_wanted_ || !ok;
    }
    if (over) return Stop();
    Pump();
  }

  void OnDone() override {
    service_->RemoveStream(this);
    delete this;
  }

 private:
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    StartWrite(&out_);
  }

  // Ends the stream once, when the worker left or the job is over.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_wanted_ = true;
      if (stopped_ || writing_) return;  // OnWriteDone() comes back here
      stopped_ = true;
    }
    Finish(grpc::Status::OK);
  }

  RawDistributor* const service_;
  const int session_;
  v1::BatchRequest request_;  // touched only by the read callbacks
  absl::Mutex mu_;
  v1::TaskBatch out_ ABSL_GUARDED_BY(mu_);
  uint64_t credit_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool complete_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// A worker's SubmitResults stream: one ack per batch, every outcome
// ACCEPTED.
class RawResultStream final
    : public grpc::ServerBidiReactor<v1::ResultBatch, v1::ResultAck> {
 public:
  explicit RawResultStream(RawDistributor* service) : service_(service) {
    StartRead(&batch_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    ack_.Clear();
    ack_.set_batch_id(batch_.batch_id());
    for (const v1::Outcome& outcome : batch_.outcomes()) {
      v1::ItemVerdict* verdict = ack_.add_outcomes();
      verdict->set_task_id(outcome.lease().task_id());
      verdict->set_verdict(v1::VERDICT_ACCEPTED);
    }
    StartWrite(&ack_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    service_->Acked(ack_.outcomes_size());
    StartRead(&batch_);
  }

  void OnDone() override { delete this; }

 private:
  RawDistributor* const service_;
  v1::ResultBatch batch_;
  v1::ResultAck ack_;
};

RawDistributor::RawDistributor(uint64_t tasks, size_t batch_size, int workers)
    : tasks_(tasks),
      batch_size_(std::max<size_t>(batch_size, 1)),
      workers_(workers) {}

grpc::ServerBidiReactor<v1::BatchRequest, v1::TaskBatch>*
RawDistributor::RequestBatch(grpc::CallbackServerContext*) {
  return new RawBatchStream(this, ++sessions_);
}

grpc::ServerBidiReactor<v1::ResultBatch, v1::ResultAck>*
RawDistributor::SubmitResults(grpc::CallbackServerContext*) {
  return new RawResultStream(this);
}

size_t RawDistributor::Mint(size_t max, v1::LeasedTasks* out) {
  if (opened_.load() < workers_) return 0;
  const uint64_t first = minted_.fetch_add(max);
  if (first >= tasks_) return 0;
  const size_t count = std::min<uint64_t>(max, tasks_ - first);
  const int64_t now = MonotonicNanos();
  const auto deadline =
      TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(kLeaseSeconds);
  for (size_t i = 0; i < count; ++i) {
    v1::Task* task = out->add_tasks();
    task->set_id(absl::StrCat(first + i));
    MakePayload(now, task->mutable_payload());
    task->set_attempt(1);
    task->set_epoch(1);
    *task->mutable_lease_deadline() = deadline;
  }
  out->mutable_lease_duration()->set_seconds(kLeaseSeconds);
  return count;
}

void RawDistributor::SessionOpened() {
  if (++opened_ != workers_) return;
  absl::MutexLock lock(&mu_);
  for (RawBatchStream* stream : streams_) stream->Pump();
}

void RawDistributor::Acked(size_t outcomes) {
  const uint64_t before = acked_.fetch_add(outcomes);
  // Exactly one call crosses the line.
  if (before >= tasks_ || before + outcomes < tasks_) return;
  all_acked_.Notify();
  absl::MutexLock lock(&mu_);
  for (RawBatchStream* stream : streams_) stream->Pump();
}

bool RawDistributor::AwaitAllAcked(absl::Duration timeout) {
  return all_acked_.WaitForNotificationWithTimeout(timeout);
}

void RawDistributor::AddStream(RawBatchStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
}

void RawDistributor::RemoveStream(RawBatchStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

}  // namespace distributo::bench
