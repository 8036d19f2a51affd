#include "server/result_stream.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rpc/status_util.h"
#include "server/wire.h"

namespace distributo::server {
namespace {

// Once the batches parsed into one message come to this many bytes on the
// wire, the message is dropped after its ack and a new one starts: a reused
// message keeps every outcome any batch had and each string's largest
// capacity (results that are not accepted stay in it, as do failures), so
// that a stream would otherwise hold ever more memory for as long as it
// lives. Batches of a hundred small outcomes reuse one for hundreds.
constexpr size_t kReusedWireBytes = 1 << 20;

}  // namespace

ResultStream::ResultStream(TaskQueue* queue, ResultRouter* router,
                           CommitQueue* commits, std::atomic<uint64_t>* open,
                           std::string identity)
    : queue_(queue),
      router_(router),
      commits_(commits),
      open_(open),
      identity_(std::move(identity)) {
  ++*open_;
  StartRead(&batch_bytes_);
}

void ResultStream::OnReadDone(bool ok) {
  if (!ok) {
    // The worker closed its side (it has every ack it waits for) or left.
    Finish(grpc::Status::OK);
    return;
  }
  reused_wire_bytes_ += batch_bytes_.Length();
  if (!ParseWire(&batch_bytes_, &batch_)) {
    Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "cannot parse a ResultBatch"));
    return;
  }
  if (grpc::Status status = CheckSession(batch_.session_id()); !status.ok()) {
    Finish(status);
    return;
  }
  // While earlier outcomes wait for the journal, new ones could not be acked
  // either: the worker keeps them and resubmits on a new stream.
  if (!router_->healthy()) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the master cannot store outcomes right now (its "
                        "journal or result sink is failing); retry later"));
    return;
  }
  // An ack promises the outcomes are durable: without the commit, no ack.
  // The callbacks run on the commit thread, or on this one (in memory, or
  // if it stopped); this reactor waits for them (no read or write is
  // outstanding), and gRPC keeps it until Finish().
  // Checked here, before the commit queue: it applies batches one at a
  // time.
  bad_results_ = queue_->CheckResults(batch_);
  ack_.Clear();
  commits_->Add(
      [this](std::vector<FinishedTask>* out) {
        queue_->Submit(session_id_, &batch_, bad_results_, &ack_, out);
      },
      [this](absl::Status status) { AckOrEnd(status); });
}

void ResultStream::AckOrEnd(const absl::Status& committed) {
  if (!committed.ok()) {
    Finish(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("cannot commit outcomes: ", committed.message())));
    return;
  }
  ToWire(ack_, &ack_bytes_);
  StartWrite(&ack_bytes_);
}

void ResultStream::OnWriteDone(bool ok) {
  if (!ok) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the stream broke while writing an ack"));
    return;
  }
  if (reused_wire_bytes_ > kReusedWireBytes) {
    batch_ = v1::ResultBatch();
    ack_ = v1::ResultAck();
    reused_wire_bytes_ = 0;
  }
  StartRead(&batch_bytes_);
}

grpc::Status ResultStream::CheckSession(const std::string& session_id) {
  if (session_id_.empty()) {
    if (session_id.empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "the first ResultBatch must carry a session_id");
    }
    if (absl::Status status = queue_->CheckSession(session_id, identity_);
        !status.ok()) {
      return ToGrpcStatus(status);
    }
    session_id_ = session_id;
  } else if (!session_id.empty() && session_id != session_id_) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a SubmitResults stream cannot change its session");
  }
  return grpc::Status::OK;
}

}  // namespace distributo::server
